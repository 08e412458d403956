#Requires -Version 7.4
# Screenplay 10: sockets. A stream keeps no message boundaries and a datagram socket keeps every one; a UNIX socket
# carries open files to another process; a TCP server on loopback takes the port the kernel picks and serves a client
# in another process (bash's /dev/tcp), as ss sees it; getaddrinfo turns host and service names into addresses; and
# /proc/net/tcp shows the address in network byte order.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'Sockets: streams and datagrams, passing descriptors, TCP on loopback' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:opened = [System.Collections.Generic.List[object]]::new()
        $script:started = [System.Collections.Generic.List[object]]::new()
        function Add-Demo($Object) {
            $script:opened.Add($Object)
            $Object
        }
        $script:hasSs = [bool](Get-Command ss -CommandType Application -ErrorAction Ignore)
        function Start-Demo {
            $child = Start-ChildProcess @args
            $script:started.Add($child)
            $child
        }
    }

    AfterAll {
        Stop-DemoChild $script:started
        foreach ($object in $script:opened) {
            if ($object -is [System.IO.Stream]) { $object.Dispose() }
            elseif ($object -is [Sysprog.Pipe]) { Close-Pipe $object }
            else { Close-Socket $object }
        }
    }

    It 'keeps no message boundaries on a stream: three sends, one receive' {
        $stream = Add-Demo (New-SocketPair Stream)
        'one', 'two', 'three' | ForEach-Object { Send-SocketMessage $stream.First $_ }

        $received = Receive-SocketMessage $stream.Second -TimeoutSeconds 5
        $received.Text | Should -Be 'onetwothree'
        Write-Narration "Three send(2)s of 3, 3 and 5 bytes; one recv(2) took all $($received.Length): a stream is bytes, and where one message ends is the program's business (a newline, a length prefix)."
    }

    It 'keeps each datagram whole and apart, with the sender''s credentials' {
        $datagrams = Add-Demo (New-SocketPair Datagram)
        'one', 'two', 'three' | ForEach-Object { Send-SocketMessage $datagrams.First $_ }

        $received = @(Receive-SocketMessage $datagrams.Second -Count 3 -TimeoutSeconds 5)
        $received.Text | Should -Be 'one', 'two', 'three'
        $received[0].Credentials.ProcessId | Should -Be $PID
        Write-Narration "Three sends, three receives of $(($received.Length) -join ', ') bytes: each datagram came whole, and SO_PASSCRED told who sent it (pid $($received[0].Credentials.ProcessId))."
    }

    It 'passes an open file to another process, which reads it through the descriptor after its name is gone' {
        $path = Join-Path $TestDrive 'secret.txt'
        Set-Content -LiteralPath $path -Value 'only a descriptor reaches me now' -NoNewline
        $file = Add-Demo ([System.IO.File]::OpenRead($path))
        Remove-Item -LiteralPath $path
        $socketPath = Join-Path $TestDrive 'courier.sock'
        $listener = Add-Demo (New-Socket -Path $socketPath)
        $output = Add-Demo (New-Pipe)
        # Unrolled: a pwsh executable comes back as a list of one, which would bind to -FilePath as a list.
        $pwsh, $pwshArguments = Get-PwshCommand | ForEach-Object { $_ }
        $receiverScript = "Import-Module '$SysprogModulePath'; `$s = Connect-Socket '$socketPath' -TimeoutSeconds 60; `$m = Receive-SocketMessage `$s -TimeoutSeconds 60; " +
            "`$f = `$m.Descriptors[0]; ""`$(`$f.GetType().Name) `$(`$f.Kind) `$(`$f.Target)""; Read-FileDescriptor `$f -Wait -TimeoutSeconds 60; Close-Socket `$s"
        $receiver = Start-Demo $pwsh -ArgumentList (@($pwshArguments) + '-NoProfile', '-NonInteractive', '-Command', $receiverScript | Where-Object { $_ }) -Descriptor @{ 1 = $output.WriteEnd }
        Close-Pipe $output.WriteEnd

        $connection = Add-Demo (Receive-SocketConnection $listener -TimeoutSeconds 60)
        $connection.PeerCredentials.ProcessId | Should -Be $receiver.ProcessId
        Send-SocketMessage $connection 'f' -Descriptor $file
        $said = (Read-FileDescriptor $output.ReadEnd -Wait -TimeoutSeconds 60) -join ''
        (Wait-ChildProcess $receiver -TimeoutSeconds 60).ExitCode | Should -Be 0

        $lines = @($said -split "`n" | Where-Object { $_ })
        $lines[0] | Should -Be "FileDescriptor regular file $path (deleted)"
        $lines[1] | Should -Be 'only a descriptor reaches me now'
        Write-Narration "sendmsg(2) with SCM_RIGHTS gave pid $($receiver.ProcessId) its own descriptor of this open file (fd $($file.SafeFileHandle.DangerousGetHandle()) here)."
        Write-Narration "It received a $($lines[0]) and read from it: $($lines[1])"
        Write-Narration 'The file had no name left to open: what crossed was the open file itself, as the kernel holds it.'
    }

    It 'serves TCP on loopback at the port the kernel picks, to a client in another process' {
        $script:server = Add-Demo (New-Socket -Address 127.0.0.1 -Port 0)
        $script:port = $script:server.LocalEndpoint.Port
        $script:port | Should -BeGreaterThan 0
        $reply = Add-Demo (New-Pipe)
        $client = Start-Demo bash -ArgumentList '-c', "exec 3<>/dev/tcp/127.0.0.1/$($script:port) && echo ping >&3 && read answer <&3 && echo `"`$answer`"" -Descriptor @{ 1 = $reply.WriteEnd }
        Close-Pipe $reply.WriteEnd

        $connection = Add-Demo (Receive-SocketConnection $script:server -TimeoutSeconds 30)
        Read-FileDescriptor $connection -Delimiter "`n" -TimeoutSeconds 30 | Should -Be "ping`n"
        Wait-Until { @(Get-BlockedThread -ProcessId $client.ProcessId -Syscall read).Count -gt 0 } | Should -BeTrue -Because 'bash waits for the answer'
        $clientPort = $connection.RemoteEndpoint.Port
        Write-Narration "bind to port 0 made the kernel pick $($script:port); bash (pid $($client.ProcessId)) connected from port $clientPort, sent ping and sleeps in read(2) for the answer."

        # ss, which reads the same sock_diag tables, sees the connection from both ends (where iproute2 is installed).
        if ($script:hasSs) {
            $ss = @(& ss -tnH state established "( sport = :$($script:port) or dport = :$($script:port) )")
            $ss -join "`n" | Should -Match "127\.0\.0\.1:$($script:port)\s+127\.0\.0\.1:$clientPort"
            $ss -join "`n" | Should -Match "127\.0\.0\.1:$clientPort\s+127\.0\.0\.1:$($script:port)"
        }
        $mine = @(Get-Socket -Protocol Tcp -Port $script:port | Where-Object State -EQ 'ESTAB')
        $mine.PeerAddress | Should -Contain "127.0.0.1:$clientPort"
        $mine.PeerAddress | Should -Contain "127.0.0.1:$($script:port)"
        Write-Narration "$(if ($script:hasSs) { 'ss -tn lists' } else { 'ss is not installed here; Get-Socket lists' }) both ends, 127.0.0.1:$($script:port) <-> 127.0.0.1:$clientPort$(if ($script:hasSs) { ', as Get-Socket does' })."

        Write-FileDescriptor $connection 'pong'
        (Read-FileDescriptor $reply.ReadEnd -Wait -TimeoutSeconds 30) -join '' | Should -Be "pong`n"
        (Wait-ChildProcess $client -TimeoutSeconds 30).ExitCode | Should -Be 0
        Write-Narration 'The server answered pong; bash read it, printed it and exited 0.'
    }

    It 'lists the listener where ss -l does, and /proc/net/tcp shows its address in network byte order' {
        if ($script:hasSs) {
            $listening = @(& ss -tlnH "( sport = :$($script:port) )")
            $listening -join "`n" | Should -Match "127\.0\.0\.1:$($script:port)\b"
        }
        (Get-Socket -Protocol Tcp -Port $script:port -Listening).LocalAddress | Should -Be "127.0.0.1:$($script:port)"

        # 127.0.0.1 is the bytes 7F 00 00 01 in network (big-endian) order; /proc/net/tcp prints those four bytes
        # as one 32-bit number read in this machine's order, and the port after ntohs.
        $bytes = [System.Net.IPAddress]::Parse('127.0.0.1').GetAddressBytes()
        $asHostWord = [BitConverter]::ToUInt32($bytes, 0)
        $local = '{0:X8}:{1:X4}' -f $asHostWord, $script:port
        $row = Get-Content /proc/net/tcp | Where-Object { ($_.Trim() -split '\s+')[1] -eq $local }
        ($row.Trim() -split '\s+')[3] | Should -Be '0A' -Because '0A is TCP_LISTEN'
        Write-Narration "Get-Socket -Listening lists 127.0.0.1:$($script:port)$(if ($script:hasSs) { ', as ss -tl does' })."
        Write-Narration "/proc/net/tcp has it as $local (state 0A, LISTEN):"
        Write-Narration "the address bytes $(($bytes | ForEach-Object { '{0:X2}' -f $_ }) -join ' ') read as a $(if ([BitConverter]::IsLittleEndian) { 'little' } else { 'big' })-endian word, and port $($script:port) as 0x$('{0:X4}' -f $script:port)."
    }

    It 'resolves host and service names with getaddrinfo, as getent does' {
        $resolved = [Sysprog.SocketEndpoint]::Resolve('localhost', 'http')
        $resolved.Port | Sort-Object -Unique | Should -Be 80
        $services = (& getent services http/tcp) -split '\s+'
        $services[1] | Should -Be '80/tcp'
        $addresses = @($resolved.Address.IPAddressToString)
        $getent = @(& getent ahosts localhost | ForEach-Object { ($_ -split '\s+')[0] } | Select-Object -Unique)
        # getent asks with AI_ADDRCONFIG, which may leave a family out but never adds one.
        $getent | Should -Not -BeNullOrEmpty
        $getent | ForEach-Object { $addresses | Should -Contain $_ }
        $resolved.Address | ForEach-Object { [System.Net.IPAddress]::IsLoopback($_) | Should -BeTrue }
        Write-Narration "getaddrinfo(""localhost"", ""http"") gave $($resolved -join ', '): the service from /etc/services ($($services[0]) $($services[1])), the host as getent ahosts has it ($($getent -join ', '))."

        $client = Add-Demo (Connect-Socket -Address localhost -AddressFamily IPv4 -Port $script:port -TimeoutSeconds 10)
        $client.RemoteEndpoint.Port | Should -Be $script:port
        $accepted = Add-Demo (Receive-SocketConnection $script:server -TimeoutSeconds 10)
        $accepted.RemoteEndpoint.Port | Should -Be $client.LocalEndpoint.Port
        Write-Narration "Connect-Socket -Address localhost resolves the same way: connected to $($client.RemoteEndpoint) from $($client.LocalEndpoint)."
    }
}
