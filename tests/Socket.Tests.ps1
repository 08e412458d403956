#Requires -Version 7.4
Describe 'Sockets and anonymous shared memory' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        function New-AbstractName { "sysprog-pester-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 12))" }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'New-Socket, Connect-Socket, Receive-SocketConnection' {
        It 'serves at a path of mode 0600, narrates its calls, carries a stream, and removes its file on close' {
            $path = Join-Path $TestDrive 'server.sock'
            $server = New-Socket -Path $path -Verbose 4>&1 | Tee-Object -Variable narration | Where-Object { $_ -is [Sysprog.Socket] }
            try {
                # The folder is reached first (the planted-path rule: open, and its real path read back); the mode is
                # given before bind and checked through a descriptor of the file in that folder after it; only a umask
                # that took bits of 0600 away needs the chmod (through that descriptor). Each descriptor's status is
                # read (statx) as it is opened: the socket's inode, the folder, the file checked.
                $umask = [Convert]::ToInt32(((Get-Content /proc/self/status) -match '^Umask:' -replace '^Umask:\s*', ''), 8)
                $mode = if ($umask -band 0x180) { 'fchmod', 'bind', 'openat', 'statx', 'geteuid', 'chmod', 'close' } else { 'fchmod', 'bind', 'openat', 'statx', 'geteuid', 'close' }
                @($narration | Select-SyscallLine | ForEach-Object { $_ -replace '\(.*', '' }) | Should -Be @('socket', 'statx', 'getsockname', 'getpeername', 'setsockopt', 'open', 'readlink', 'statx', $mode, 'close', 'listen', 'fcntl', 'fcntl' | ForEach-Object { $_ })
                (Get-Item $path).UnixMode | Should -Be 'srw-------'
                $server.IsListening | Should -BeTrue
                $client = Connect-Socket $path -TimeoutSeconds 5
                $connection = $server | Receive-SocketConnection -TimeoutSeconds 5
                $connection.PeerCredentials.ProcessId | Should -Be $PID
                $client.RemoteEndpoint.Path | Should -Be $path
                'over the socket' | Write-FileDescriptor $client
                Read-FileDescriptor $connection -Delimiter "`n" -TimeoutSeconds 5 | Should -Be "over the socket`n"
                ($server, $client, $connection | Format-Table | Out-String) | Should -Match 'listening[\s\S]*connected'
            }
            finally {
                Close-Socket $server, $client, $connection
            }
            Test-Path -LiteralPath $path | Should -BeFalse
        }

        It 'reports a stale socket file as such, replaces it only with -Force, and never replaces anything else' {
            $path = Join-Path $TestDrive 'stale.sock'
            $left = New-Socket -Path $path
            $left.RemovesPathOnClose = $false
            Close-Socket $left
            New-Socket -Path $path -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'Bind.EADDRINUSE,Sysprog.PowerShell.Commands.NewSocketCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $err[0].Exception.Message | Should -Match 'stale socket file'
            $replaced = New-Socket -Path $path -Force
            try {
                $replaced.IsListening | Should -BeTrue
            }
            finally {
                Close-Socket $replaced
            }
            $file = Join-Path $TestDrive 'plain.txt'
            Set-Content $file 'keep'
            New-Socket -Path $file -Force -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            Get-Content $file | Should -Be 'keep'
        }

        It 'completes the paths and names of listening sockets for Connect-Socket' {
            $path = Join-Path $TestDrive 'complete-me.sock'
            $name = New-AbstractName
            $file = New-Socket -Path $path
            $abstract = New-Socket -Name $name
            try {
                $line = 'Connect-Socket -Path complete-m'
                (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be $path
                $line = "Connect-Socket -Name $($name.Substring(0, 20))"
                (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be $name
            }
            finally {
                Close-Socket $file, $abstract
            }
        }

        It 'names what is missing when nothing listens' {
            Connect-Socket -Path (Join-Path $TestDrive 'none.sock') -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'Connect.ENOENT,Sysprog.PowerShell.Commands.ConnectSocketCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be (Join-Path $TestDrive 'none.sock')
        }

        It 'is a timeout error when no connection comes, and an accept stops promptly on Ctrl+C' {
            $server = New-Socket -Name (New-AbstractName)
            try {
                Receive-SocketConnection $server -TimeoutSeconds 0.05 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
                $err[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.ReceiveSocketConnectionCommand'
                $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            }
            finally {
                Close-Socket $server
            }
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$s = New-Socket -Name "sysprog-pester-stop-$PID" -Verbose; try { Receive-SocketConnection $s -Verbose } finally { Close-Socket $s }') } `
                -BlockedIn poll, ppoll
        }

        It 'speaks TCP on loopback, with errors named by errno' {
            $server = New-Socket -Address 127.0.0.1 -Port 0 -ReuseAddress
            try {
                $port = $server.LocalEndpoint.Port
                $client = Connect-Socket -Address 127.0.0.1 -Port $port -TimeoutSeconds 5
                $connection = Receive-SocketConnection $server -TimeoutSeconds 5
                "$($connection.RemoteEndpoint)" | Should -Be "$($client.LocalEndpoint)"
                Send-SocketMessage $client 'tcp'
                (Receive-SocketMessage $connection -TimeoutSeconds 5).Text | Should -Be 'tcp'
                New-Socket -Address 127.0.0.1 -Port $port -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].FullyQualifiedErrorId | Should -Be 'Bind.EADDRINUSE,Sysprog.PowerShell.Commands.NewSocketCommand'
            }
            finally {
                Close-Socket $server, $client, $connection
            }
            Connect-Socket -Address 127.0.0.1 -Port $port -TimeoutSeconds 5 -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'Connect.ECONNREFUSED,Sysprog.PowerShell.Commands.ConnectSocketCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        }
    }

    Context 'Send-SocketMessage, Receive-SocketMessage' {
        It 'passes descriptors that arrive as usable objects, with the sender''s credentials' {
            $pair = New-SocketPair
            $memory = New-SharedMemory -Anonymous -Name passed -Size 4KB
            $map = New-MemoryMap -InputObject $memory
            $null = $map.WriteString(0, 'shared through a socket')
            Close-MemoryMap $map
            $memory | Add-SharedMemorySeal -Seal Shrink, Grow, Write -Confirm:$false
            $pipe = New-Pipe
            try {
                Send-SocketMessage $pair.First 'objects' -Descriptor $memory, $pipe -Verbose 4>&1 | Select-SyscallLine | Should -Match 'SCM_RIGHTS, cmsg_data=\[\d+, \d+, \d+\]'
                $message = Receive-SocketMessage $pair.Second -TimeoutSeconds 5
                $message.Text | Should -Be 'objects'
                $message.Credentials.ProcessId | Should -Be $PID
                $message.Descriptors.Count | Should -Be 3
                $received = $message.Descriptors[0]
                $received | Should -BeOfType ([Sysprog.SharedMemory])
                $received.Seals | Should -Be 'Shrink, Grow, Write'
                $map = New-MemoryMap -InputObject $received
                $map.Protection | Should -Be 'Read'
                $map.ReadString(0, 23) | Should -Be 'shared through a socket'
                Close-MemoryMap $map
                $message.Descriptors[2] | Should -BeOfType ([Sysprog.PipeEnd])
                Write-FileDescriptor $message.Descriptors[2] 'via the passed end'
                Read-FileDescriptor $pipe -TimeoutSeconds 5 | Should -Be "via the passed end`n"
                ($message | Format-Table | Out-String) | Should -Match "\s7\s+$PID\s+\S+\s+SharedMemory, Pip.*objects"
            }
            finally {
                $message.Descriptors | ForEach-Object { $_.Dispose() }
                Close-Socket $pair
                Close-SharedMemory $memory
                Close-Pipe $pipe
            }
        }

        It 'answers a datagram at the sender''s address' {
            $name = New-AbstractName
            $receiver = New-Socket -Name $name -Type Datagram
            $sender = New-Socket -Unbound -Type Datagram
            try {
                Send-SocketMessage $sender 'question' -Destination "@$name"
                $question = Receive-SocketMessage $receiver -TimeoutSeconds 5
                $question.Text | Should -Be 'question'
                Send-SocketMessage $receiver 'answer' -Destination $question.Sender
                (Receive-SocketMessage $sender -TimeoutSeconds 5).Sender.AbstractName | Should -Be $name
            }
            finally {
                Close-Socket $receiver, $sender
            }
        }

        It 'follows a stream with -Wait until the peer shuts down its sending side' {
            $pair = New-SocketPair -Type SeqPacket
            try {
                'one', 'two', 'three' | Send-SocketMessage -Socket $pair.First
                Disconnect-Socket $pair.First -Direction Send
                (Receive-SocketMessage $pair.Second -Wait -TimeoutSeconds 5).Text | Should -Be @('one', 'two', 'three')
                Receive-SocketMessage $pair.Second -TimeoutSeconds 5 | Should -BeNullOrEmpty
            }
            finally {
                Close-Socket $pair
            }
        }

        It 'makes a socket ready for Wait-FileDescriptor when a message comes' {
            $pair = New-SocketPair
            try {
                Send-SocketMessage $pair.First 'x'
                (Wait-FileDescriptor $pair.Second -TimeoutSeconds 5).Readable | Should -BeTrue
            }
            finally {
                Close-Socket $pair
            }
        }

        It 'exchanges descriptors with the sysprog CLI in another process' {
            $name = New-AbstractName
            $server = New-Socket -Name $name
            try {
                & dotnet $SysprogCliPath unix send "@$name" from the cli --memfd 'cli memory' 2>&1 | Should -BeNullOrEmpty
                $LASTEXITCODE | Should -Be 0
                $connection = Receive-SocketConnection $server -TimeoutSeconds 5
                $message = Receive-SocketMessage $connection -TimeoutSeconds 5
                $message.Text | Should -Be 'from the cli'
                $message.Credentials.ProcessId | Should -Not -Be $PID
                $message.Descriptors[0].Seals | Should -Be 'Shrink, Grow, Write'
                $map = New-MemoryMap -InputObject $message.Descriptors[0]
                $map.ReadString(0, 10) | Should -Be 'cli memory'
                Close-MemoryMap $map
            }
            finally {
                $message.Descriptors | ForEach-Object { $_.Dispose() }
                Close-Socket $server, $connection
            }

            $name = New-AbstractName
            $info = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
            $info.ArgumentList.Add($SysprogCliPath)
            'unix', 'receive', "@$name", '--json', '--timeout', '30s' | ForEach-Object { $info.ArgumentList.Add($_) }
            $info.RedirectStandardOutput = $true
            $info.RedirectStandardError = $true
            $peer = [System.Diagnostics.Process]::Start($info)
            try {
                # Listening (__SO_ACCEPTCON in the Flags), not only bound: the peer binds, then listens, and a connect in between is refused.
                Wait-Until { @(Get-Content /proc/net/unix | Where-Object { $_.EndsWith(" @$name") -and ($_ -split ' +')[3] -eq '00010000' }).Count -gt 0 -or $peer.HasExited } | Should -BeTrue
                $peer.HasExited | Should -BeFalse
                $client = Connect-Socket -Name $name -TimeoutSeconds 5
                $eventFd = New-EventFd
                Send-SocketMessage $client 'to the cli' -Descriptor $eventFd
                Close-Socket $client
                $peer.WaitForExit(30000) | Should -BeTrue
                $peer.ExitCode | Should -Be 0
                $received = $peer.StandardOutput.ReadToEnd() | ConvertFrom-Json
                $received.text | Should -Be 'to the cli'
                $received.credentials.pid | Should -Be $PID
                $received.descriptors[0].kind | Should -Be 'EventFd'
            }
            finally {
                if (-not $peer.HasExited) { $peer.Kill() }
                $peer.Dispose()
                if ($eventFd) { Close-EventFd $eventFd }
            }
        }
    }

    Context 'Get-Socket' {
        It 'lists this session''s sockets with their states, addresses and holders, and filters them' {
            $path = Join-Path $TestDrive 'listed.sock'
            $unix = New-Socket -Path $path
            $tcp = New-Socket -Address 127.0.0.1 -Port 0
            $udp = New-Socket -Address 127.0.0.1 -Port 0 -Type Datagram
            try {
                $mine = Get-Socket -ProcessId $PID
                $listed = $mine | Where-Object Inode -EQ $unix.Inode
                $listed.State | Should -Be 'LISTEN'
                $listed.LocalAddress | Should -Be $path
                $listed.Holders.ProcessId | Should -Be $PID
                $listed.Holders.Fd | Should -Be $unix.Fd
                $port = $tcp.LocalEndpoint.Port
                (Get-Socket Tcp -State listen -Port $port).Inode | Should -Be $tcp.Inode
                (Get-Socket -Path (Join-Path $TestDrive '*.sock')).Inode | Should -Be $unix.Inode
                # A listener's Send-Q is its backlog, as ss shows it.
                (Get-Socket -Protocol Tcp -Port $port | Format-Table | Out-String) | Should -Match "tcp\s+LISTEN\s+0\s+128\s+pwsh/$PID"
                Get-Process -Id $PID | Get-Socket -Protocol Unix | Where-Object Inode -EQ $unix.Inode | Should -Not -BeNullOrEmpty
                # -Listening is ss -l (LISTEN and UNCONN); -State LISTEN leaves the bound UDP socket out.
                (Get-Socket -Listening -ProcessId $PID).Inode | Should -Contain $udp.Inode
                (Get-Socket -State LISTEN -ProcessId $PID).Inode | Should -Not -Contain $udp.Inode
            }
            finally {
                Close-Socket $unix, $tcp, $udp
            }
        }

        It 'shows a socket bound to an interface as ss does, with %interface before the port' {
            # SO_BINDTODEVICE, which Sysprog does not set itself: a python3 process holds such a socket.
            if (-not (Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)) {
                Set-ItResult -Skipped -Because 'python3 is not installed: nothing here binds a socket to an interface'
                return
            }
            $holder = Start-ChildProcess python3 -ArgumentList '-c', @'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
sys.stdin.read()
'@ -Descriptor @{ 0 = ($stdin = New-Pipe).ReadEnd; 1 = ($stdout = New-Pipe).WriteEnd }
            try {
                Close-Pipe $stdin.ReadEnd, $stdout.WriteEnd
                $port = [int](Read-FileDescriptor $stdout.ReadEnd -Delimiter "`n" -TimeoutSeconds 30)
                $listed = Get-Socket -Protocol Udp -ProcessId $holder.ProcessId | Where-Object LocalPort -EQ $port
                $listed.Interface | Should -Be 'lo'
                $listed.LocalAddress | Should -Be "127.0.0.1:$port"
                $listed.LocalAddressWithInterface | Should -Be "127.0.0.1%lo:$port"
                $listed.Local | Should -Be "127.0.0.1%lo:$port"
                ($listed | Format-Table | Out-String -Width 80) | Should -Match ([regex]::Escape("127.0.0.1%lo:$port"))
                if (Get-Command ss -CommandType Application -ErrorAction SilentlyContinue) {
                    (& ss -uanp | Select-String -SimpleMatch "pid=$($holder.ProcessId),") | Should -Match ([regex]::Escape("127.0.0.1%lo:$port"))
                }
            }
            finally {
                Close-Pipe $stdin, $stdout
                $null = Wait-ChildProcess $holder -TimeoutSeconds 10
                Close-ChildProcess $holder
            }
        }
    }

    Context 'New-SharedMemory -Anonymous, Add-SharedMemorySeal' {
        It 'makes memory with no name in /dev/shm, whose seals forbid what they name' {
            $before = @(Get-DevShmName)
            $memory = New-SharedMemory -Anonymous -Name demo -Size 8KB -Seal Shrink
            try {
                @(Get-DevShmName) | Should -Be $before
                $memory.Name | Should -Be 'memfd:demo'
                $memory.Path | Should -BeNullOrEmpty
                ($memory | Format-Table | Out-String) | Should -Match '8192.*Shrink.*memfd:demo'
                Resize-SharedMemory $memory -Size 4KB -Force -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].FullyQualifiedErrorId | Should -Be 'Ftruncate.EPERM,Sysprog.PowerShell.Commands.ResizeSharedMemoryCommand'
                $err[0].Exception.Message | Should -Match 'sealed'
                $map = New-MemoryMap -InputObject $memory
                Add-SharedMemorySeal $memory -Seal Write -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].FullyQualifiedErrorId | Should -Be 'Fcntl.EBUSY,Sysprog.PowerShell.Commands.AddSharedMemorySealCommand'
                Close-MemoryMap $map
                Add-SharedMemorySeal $memory -Seal Write, Seal -PassThru -Confirm:$false | Should -Be $memory
                $memory.Seals | Should -Be 'Seal, Shrink, Write'
            }
            finally {
                Close-SharedMemory $memory
            }
        }

        It 'refuses seals on named shared memory, saying which objects take them' {
            $name = New-TestName
            $named = New-SharedMemory -Name $name -Size 4KB
            try {
                Add-SharedMemorySeal $named -Seal Shrink -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
                $err[0].Exception.Message | Should -Match 'Only anonymous objects'
            }
            finally {
                Close-SharedMemory $named
                Remove-SharedMemory -Name $name -Confirm:$false
            }
        }
    }
}
