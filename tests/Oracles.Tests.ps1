#Requires -Version 7.4
# Oracles: Sysprog held to the kernel's own tools on whatever this machine has at the moment, not on fixtures. Each
# context first makes a few objects of its kind (so no comparison is ever empty), then reads the machine with the tool
# and with Sysprog, and compares every object both can name. Each prints "compared N <objects> with <tool>". A missing
# tool is a skip that names the package that carries it (.ci/run installs them).
#
# The machine changes while it is read (other processes take locks, open sockets, map memory), and that is handled by
# reasoning, not by lists of exceptions: Compare-Reading reads the tool, Sysprog, the tool again and Sysprog again. An
# object the tool showed alike in both its readings was there, alike, when Sysprog read between them, so Sysprog must
# show it alike; an object Sysprog showed alike in both its readings was there when the tool read between them, so the
# tool must show it alike. What came, went or changed between two readings is compared in neither direction, and
# counted apart.
Describe 'Sysprog agrees with the kernel''s own tools' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')

        function Test-Tool {
            param([Parameter(Mandatory)][string] $Name)
            [bool](Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue)
        }

        function New-Reading {
            # One reading: each object by a key both sides can name, to the text of what is compared.
            [System.Collections.Generic.Dictionary[string, string]]::new([StringComparer]::Ordinal)
        }

        function Add-Reading {
            # Adds an object; a second one under the same key (two identical shared locks, say) gets "#2".
            param([Parameter(Mandatory)] $Reading, [Parameter(Mandatory)][string] $Key, [Parameter(Mandatory)][AllowEmptyString()][string] $Value)
            $unique = $Key
            for ($n = 2; $Reading.ContainsKey($unique); $n++) { $unique = "$Key #$n" }
            $Reading[$unique] = $Value
        }

        function Test-Agreement {
            # Whether two values agree: "field=value" pairs separated by ";", where the tool's "?" is what it does not know.
            param([string] $ToolValue, [string] $OurValue)
            $tool = $ToolValue -split ';'
            $ours = $OurValue -split ';'
            if ($tool.Count -ne $ours.Count) { return $false }
            for ($i = 0; $i -lt $tool.Count; $i++) {
                if ($tool[$i] -cne $ours[$i] -and $tool[$i] -notmatch '=\?$') { return $false }
            }
            $true
        }

        function Compare-Reading {
            # Tool, Sysprog, tool, Sysprog (see the top of this file). A difference found so is read again, the tool and
            # Sysprog taking turns three more times: a value that goes and comes back (a queue that fills and drains, a
            # lock taken again, memory unmapped and mapped again at one address) can be seen alike twice by each side
            # and yet differently by the two, but not in step for five turns. A difference stands only when each side
            # saw the object the same way every time; otherwise the object counts as changing. Returns what was
            # compared, how many objects changed meanwhile, and every difference.
            param([Parameter(Mandatory)][scriptblock] $Tool, [Parameter(Mandatory)][scriptblock] $Sysprog, [Parameter(Mandatory)][string] $ToolName)
            $tools = [System.Collections.Generic.List[object]]::new()
            $ours = [System.Collections.Generic.List[object]]::new()
            $tools.Add((& $Tool)); $ours.Add((& $Sysprog)); $tools.Add((& $Tool)); $ours.Add((& $Sysprog))
            $compared = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
            $suspects = [System.Collections.Generic.List[string]]::new()
            foreach ($key in $tools[0].Keys) {
                if (-not $tools[1].ContainsKey($key) -or $tools[1][$key] -cne $tools[0][$key]) { continue }
                $null = $compared.Add($key)
                if (-not $ours[0].ContainsKey($key) -or ($ours[0][$key] -cne $tools[0][$key] -and -not (Test-Agreement $tools[0][$key] $ours[0][$key]))) { $suspects.Add($key) }
            }
            foreach ($key in $ours[0].Keys) {
                if (-not $ours[1].ContainsKey($key) -or $ours[1][$key] -cne $ours[0][$key]) { continue }
                if ($compared.Add($key) -and (-not $tools[1].ContainsKey($key) -or ($tools[1][$key] -cne $ours[0][$key] -and -not (Test-Agreement $tools[1][$key] $ours[0][$key])))) { $suspects.Add($key) }
            }
            if ($suspects.Count -gt 0) {
                for ($turn = 0; $turn -lt 3; $turn++) { $tools.Add((& $Tool)); $ours.Add((& $Sysprog)) }
            }
            $differences = [System.Collections.Generic.List[string]]::new()
            foreach ($key in $suspects) {
                $toolSaw = @($tools | ForEach-Object { if ($_.ContainsKey($key)) { $_[$key] } else { '(none)' } } | Select-Object -Unique)
                $oursSaw = @($ours | ForEach-Object { if ($_.ContainsKey($key)) { $_[$key] } else { '(none)' } } | Select-Object -Unique)
                if ($toolSaw.Count -eq 1 -and $oursSaw.Count -eq 1) {
                    $differences.Add("$key`: $ToolName shows [$($toolSaw[0])], Sysprog [$($oursSaw[0])], each every time of $($tools.Count)")
                }
                else {
                    $null = $compared.Remove($key)
                }
            }
            $all = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
            foreach ($reading in @($tools) + @($ours)) { $all.UnionWith([string[]]@($reading.Keys)) }
            [pscustomobject]@{ Compared = $compared; Changed = $all.Count - $compared.Count; Differences = $differences }
        }

        function ConvertFrom-EscapedSocketName {
            # A UNIX socket's address as Get-Socket shows it (escaped; '@' for an abstract name) back to its text.
            param([Parameter(Mandatory)][AllowEmptyString()][string] $Address)
            if ($Address.StartsWith('@')) { '@' + [Text.Encoding]::UTF8.GetString([Sysprog.NameEscaping]::Unescape($Address.Substring(1))) }
            else { [Text.Encoding]::UTF8.GetString([Sysprog.NameEscaping]::Unescape($Address)) }
        }

        function Write-Compared {
            param([Parameter(Mandatory)] $Result, [Parameter(Mandatory)][string] $Objects, [Parameter(Mandatory)][string] $ToolName)
            $changed = if ($Result.Changed) { " ($($Result.Changed) came, went or changed between the readings)" } else { '' }
            Write-Host "compared $($Result.Compared.Count) $Objects with $ToolName$changed"
        }

        function Get-LslocksKey {
            # A lock as lslocks keys it: type, device (decimal major:minor), inode, range (end 0 for EOF), pid (-1 for OFD).
            param([Parameter(Mandatory)] $Lock)
            $major, $minor = $Lock.Device -split ':' | ForEach-Object { [Convert]::ToInt32($_, 16) }
            "$($Lock.Type) $major`:$minor`:$($Lock.Inode) $($Lock.Start)-$($Lock.End ?? 0) pid $($Lock.ProcessId ?? -1)$(if ($Lock.IsWaiting) { ' waiting' })"
        }

        function Start-Native {
            # A native process this file stops (by its id) in AfterAll; stdout redirected when it is to be read.
            param([Parameter(Mandatory)][string] $Program, [string[]] $ArgumentList = @(), [switch] $ReadOutput)
            $info = [System.Diagnostics.ProcessStartInfo]::new($Program)
            $ArgumentList | ForEach-Object { $info.ArgumentList.Add($_) }
            $info.RedirectStandardOutput = [bool]$ReadOutput
            $info.RedirectStandardError = [bool]$ReadOutput
            $process = [System.Diagnostics.Process]::Start($info)
            $script:natives.Add($process)
            $process
        }

        function Stop-Native {
            foreach ($process in $script:natives) {
                if (-not $process.HasExited) { $process.Kill($true) }
                $null = $process.WaitForExit(10000)
                $process.Dispose()
            }
            $script:natives.Clear()
        }

        $script:natives = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    }

    AfterAll {
        Stop-Native
    }

    Context 'file locks: lslocks, and /proc/PID/fdinfo for who holds them' {
        BeforeAll {
            $script:lockFolder = Join-Path $TestDrive 'locks'
            $null = New-Item -ItemType Directory -Path $script:lockFolder
            $script:heldLocks = @(
                Lock-File -Path (Join-Path $script:lockFolder 'flock')
                Lock-File -Path (Join-Path $script:lockFolder 'posix') -Kind Posix -Shared -Start 0 -Length 10
                Lock-File -Path (Join-Path $script:lockFolder 'ofd') -Kind Ofd -Start 5 -Length 5
            )
            $script:inheritedPath = Join-Path $script:lockFolder 'inherited'
            if (Test-Tool flock) {
                # The issue's case: the sleep flock runs shares its open file description, so it holds the lock too.
                $script:locker = Start-Native flock '-x', $script:inheritedPath, 'sleep', '600'
                # A waiter on this session's exclusive flock: a "->" line in /proc/locks.
                $script:waiter = Start-Native flock '-x', (Join-Path $script:lockFolder 'flock'), 'true'
                Wait-Until { @(Get-ChildItem "/proc/$($script:locker.Id)/task/$($script:locker.Id)/children" -ErrorAction SilentlyContinue | Get-Content).Count -gt 0 -and
                    (Get-Content /proc/locks -Raw) -match " -> FLOCK .* $($script:waiter.Id) " } -TimeoutSeconds 30 | Should -BeTrue
            }
        }

        AfterAll {
            Stop-Native
            $script:heldLocks | Unlock-File
        }

        It 'lists every lock lslocks lists, of each kind, with its type, mode, range, process and path' {
            if (-not (Test-Tool lslocks)) { Set-ItResult -Skipped -Because 'lslocks (util-linux) is not installed: there is nothing to compare with'; return }
            $tool = {
                $reading = New-Reading
                foreach ($lock in (lslocks --json --output-all | ConvertFrom-Json).locks) {
                    $waiting = $lock.mode.EndsWith('*')
                    $key = "$($lock.type) $($lock.'maj:min'):$($lock.inode) $($lock.start)-$($lock.end) pid $($lock.pid)$(if ($waiting) { ' waiting' })"
                    # lslocks looks for the file only among the descriptors of the process /proc/locks names: an OFD lock
                    # (pid -1) gets the mount point and "...", and the command "(undefined)". A dotnet host's command is
                    # "dotnet", where Sysprog names the assembly it runs. Neither is something lslocks knows.
                    $path = if ($null -eq $lock.path -or $lock.path.EndsWith('...')) { '?' } else { $lock.path }
                    $command = if ($lock.command -in '(undefined)', 'dotnet') { '?' } else { $lock.command }
                    Add-Reading $reading $key "mode=$($lock.mode.TrimEnd('*'));path=$path;command=$command"
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($lock in Get-FileLock) {
                    Add-Reading $reading (Get-LslocksKey $lock) "mode=$($lock.ModeText);path=$($lock.Path);command=$($lock.ProcessName)"
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'lslocks'

            Write-Compared $result 'locks' 'lslocks'
            $result.Differences | Should -BeNullOrEmpty
            $made = @(Get-FileLock | Where-Object { $_.Path -and $_.Path.StartsWith($script:lockFolder) })
            $made.Type | Sort-Object -Unique | Should -Be @(@('FLOCK', 'OFDLCK', 'POSIX') | Sort-Object)
            foreach ($lock in $made) { $result.Compared | Should -Contain (Get-LslocksKey $lock) }
        }

        It 'names as holders every process whose fdinfo shows the lock' {
            # /proc itself: every "lock:" line of every /proc/PID/fdinfo/N this user may read, found by grep.
            $tool = {
                $holders = @{}
                foreach ($line in sh -c 'grep -s -H "^lock:" /proc/[0-9]*/fdinfo/*') {
                    # "/proc/PID/fdinfo/N:lock:\t1: FLOCK  ADVISORY  WRITE 123 fe:00:4567 0 EOF": the ordinal is the line's place.
                    if ($line -notmatch '^/proc/(\d+)/fdinfo/\d+:lock:\s+\d+:\s+(.*)$') { continue }
                    $process = [int]$Matches[1]
                    $fields = $Matches[2] -split '\s+'
                    $key = "$($fields[0]) $($fields[2]) pid $($fields[3]) $($fields[4]) $($fields[5])-$($fields[6])"
                    if (-not $holders.ContainsKey($key)) { $holders[$key] = [System.Collections.Generic.SortedSet[int]]::new() }
                    $null = $holders[$key].Add($process)
                }
                $reading = New-Reading
                foreach ($key in $holders.Keys) { Add-Reading $reading $key "holders=$($holders[$key] -join ',')" }
                $reading
            }
            $sysprog = {
                $holders = @{}
                foreach ($lock in Get-FileLock | Where-Object { -not $_.IsWaiting }) {
                    $key = "$($lock.Type) $($lock.ModeText) pid $($lock.ProcessId ?? -1) $($lock.Device):$($lock.Inode) $($lock.Start)-$($lock.End ?? 'EOF')"
                    if (-not $holders.ContainsKey($key)) { $holders[$key] = [System.Collections.Generic.SortedSet[int]]::new() }
                    $lock.HeldBy | ForEach-Object { $null = $holders[$key].Add($_) }
                }
                $reading = New-Reading
                # A lock whose holders this user may not inspect is in no fdinfo it can read.
                foreach ($key in $holders.Keys | Where-Object { $holders[$_].Count -gt 0 }) { Add-Reading $reading $key "holders=$($holders[$key] -join ',')" }
                $reading
            }

            $result = Compare-Reading $tool $sysprog '/proc/PID/fdinfo'

            Write-Compared $result 'held locks' '/proc/PID/fdinfo'
            $result.Differences | Should -BeNullOrEmpty
            if (Test-Tool flock) {
                $inherited = Get-FileLock -Path $script:inheritedPath
                $sleep = [int](Get-Content "/proc/$($script:locker.Id)/task/$($script:locker.Id)/children").Trim()
                $inherited.HeldBy | Sort-Object | Should -Be @(@($script:locker.Id, $sleep) | Sort-Object)
                (Get-FileLock -ProcessId $sleep).Path | Should -Be $script:inheritedPath
            }
            @($result.Compared).Count | Should -BeGreaterOrEqual 3
        }
    }

    Context 'sockets: ss' {
        BeforeAll {
            $script:madeSockets = [System.Collections.Generic.List[object]]::new()
            $tcp = New-Socket -Address 127.0.0.1 -Port 0 -Backlog 7
            $client = Connect-Socket -Address 127.0.0.1 -Port $tcp.LocalEndpoint.Port -TimeoutSeconds 10
            $server = Receive-SocketConnection $tcp -TimeoutSeconds 10
            $waiting = Connect-Socket -Address 127.0.0.1 -Port $tcp.LocalEndpoint.Port -TimeoutSeconds 10
            $udp = New-Socket -Address 127.0.0.1 -Port 0 -Type Datagram
            $unixStream = New-Socket -Path (Join-Path $TestDrive 'oracle.sock')
            $unixDatagram = New-Socket -Path (Join-Path $TestDrive 'oracle-datagram.sock') -Type Datagram
            $abstract = New-Socket -Name "sysprog-pester-$PID-oracle"
            $pair = New-SocketPair
            $script:madeSockets.AddRange([object[]]@($tcp, $client, $server, $waiting, $udp, $unixStream, $unixDatagram, $abstract, $pair.First, $pair.Second))
            # Bound to an interface (SO_BINDTODEVICE, 25), which ss writes as 127.0.0.1%lo:PORT.
            $script:boundToLo = [System.Net.Sockets.Socket]::new('InterNetwork', 'Dgram', 'Udp')
            try { $script:boundToLo.SetRawSocketOption(1, 25, [byte[]][char[]]"lo`0") } catch { Write-Host "SO_BINDTODEVICE is refused here: $($_.Exception.Message)" }
            $script:boundToLo.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
            $script:pair = $pair
            # Another user's listening socket whose abstract name holds a newline and a forged row after it (nobody's
            # when this runs as root): ss writes it over two lines. perl binds it, and holds it until its stdin closes.
            $neighbour = [System.Diagnostics.ProcessStartInfo]::new($(if ((& id -u) -eq '0') { 'setpriv' } else { 'env' }))
            $bind = 'use Socket; socket(S, AF_UNIX, SOCK_STREAM, 0) or die; bind(S, pack_sockaddr_un("\0" . $ARGV[0])) or die "bind: $!"; listen(S, 1) or die; $| = 1; print "ready\n"; <STDIN>'
            $words = @('perl', '-e', $bind, "sysprog-pester-$PID-oracle-neighbour`nu_str LISTEN 0 0 @forged 1 * 0")
            if ((& id -u) -eq '0') { $words = @('--reuid=65534', '--regid=65534', '--clear-groups') + $words }
            foreach ($word in $words) { $neighbour.ArgumentList.Add($word) }
            $neighbour.RedirectStandardInput = $true
            $neighbour.RedirectStandardOutput = $true
            $script:neighbour = [System.Diagnostics.Process]::Start($neighbour)
            $script:neighbour.StandardOutput.ReadLine() | Should -Be 'ready'
            try {
                $script:madeSockets.Add((New-Socket -Address ::1 -Port 0))
            }
            catch {
                Write-Host "no IPv6 loopback here ($($_.Exception.Message)): IPv6 is compared only as the machine has it"
            }

            function Get-SsLine {
                # ss's lines, with the name of every UNIX socket whose name holds a line break (from Sysprog's listing) cut
                # out before the output is split into lines and written "(skipped)", each such name kept in
                # $script:brokenNames: ss writes names raw, so such a name splits its row in two, or forges one.
                if ($null -eq $script:brokenNames) { $script:brokenNames = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal) }
                $output = (ss -H @args) -join "`n"
                $breaking = Get-Socket -Protocol Unix | ForEach-Object { ConvertFrom-EscapedSocketName $_.LocalAddress } | Where-Object { $_ -match '[\r\n]' }
                foreach ($name in $breaking) {
                    $null = $script:brokenNames.Add($name)
                    # PowerShell split ss's output at \r and \n alike, and the lines were joined with \n.
                    $output = $output.Replace(($name -replace '\r\n|\r', "`n"), '(skipped)')
                }
                $output -split "`n"
            }
        }

        AfterAll {
            $script:madeSockets | Where-Object { $_ -is [Sysprog.Socket] } | Close-Socket
            $script:boundToLo.Dispose()
            if ($script:neighbour) {
                # Its stdin closed, perl reads end of file and exits; the abstract name goes with its socket.
                $script:neighbour.StandardInput.Close()
                $script:neighbour.WaitForExit()
            }
        }

        It 'lists every socket ss -a -x -t -u lists, with its state, queues, addresses, peer, owner and holders' {
            if (-not (Test-Tool ss)) { Set-ItResult -Skipped -Because 'ss (iproute2) is not installed: there is nothing to compare with'; return }
            $kinds = @{ u_str = 'Stream'; u_dgr = 'Datagram'; u_seq = 'SeqPacket'; tcp = 'Stream'; udp = 'Datagram' }
            # ss writes a UNIX socket's name as its raw bytes: a name with a line break (any user can bind one, and
            # make the rest of it look like a row) splits its row in two, or forges one. Such sockets are skipped on
            # both sides: their names, from Sysprog's listing, are cut out of ss's output before it is split into
            # lines, and how many were skipped is said. Every other socket is compared as ss writes it.
            $script:brokenNames = $null
            $tool = {
                $reading = New-Reading
                foreach ($line in Get-SsLine -a -n -x -t -u -p -e) {
                    $users = ([regex]::Matches($line, 'pid=(\d+),fd=(\d+)') | ForEach-Object { "$($_.Groups[1].Value)/$($_.Groups[2].Value)" } | Sort-Object) -join ','
                    if ($line -match '^(u_str|u_dgr|u_seq)\s+(\S+)\s+(\d+)\s+(\d+)\s+(.*?)\s+(\d+)\s+(\S+)\s+(\d+)(\s.*)?$') {
                        # "u_str ESTAB 0 0 /path 123 * 124 users:(...)": the name ("*" for none), the inode, the peer's.
                        if ($Matches[5] -eq '(skipped)') { continue }
                        $local = if ($Matches[5] -eq '*') { '' } else { $Matches[5] }
                        $peer = if ($Matches[8] -eq '0') { '' } else { $Matches[8] }
                        Add-Reading $reading "unix $($Matches[6])" "kind=$($kinds[$Matches[1]]);state=$($Matches[2]);recvq=$($Matches[3]);sendq=$($Matches[4]);local=$local;peer=$peer;users=$users;uid=?"
                    }
                    elseif ($line -match '^(tcp|udp)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)(\s.*)?$') {
                        $protocol, $state, $receive, $send, $local, $peer, $extended = $Matches[1..7]
                        # ss writes the owner only when it is not root; an unconnected peer is "*" for its port.
                        $inode = if ($extended -match '\bino:(\d+)') { $Matches[1] } else { '0' }
                        # A socket bound to an interface: 127.0.0.53%lo:53.
                        $interface = ''
                        if ($local -match '^(.+)%([^%]+)(:[^:]+)$') { $local = $Matches[1] + $Matches[3]; $interface = $Matches[2] }
                        $uid = if ($extended -match '\buid:(\d+)') { $Matches[1] } else { '0' }
                        if ($peer.EndsWith(':*')) { $peer = '' }
                        # A socket with no inode (TIME-WAIT, a connection request) by its addresses.
                        $key = if ($inode -ne '0') { "$protocol $inode" } else { "$protocol $state $local $peer" }
                        Add-Reading $reading $key "kind=$($kinds[$protocol]);state=$state;recvq=$receive;sendq=$send;local=$local;interface=$interface;peer=$peer;users=$users;uid=$uid"
                    }
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($socket in Get-Socket) {
                    $users = ($socket.Holders | ForEach-Object { "$($_.ProcessId)/$($_.Fd)" } | Sort-Object) -join ','
                    $protocol = "$($socket.Protocol)".ToLowerInvariant()
                    if ($socket.Protocol -eq 'Unix') {
                        # ss writes a name's bytes as they are; Sysprog escapes them (NameEscaping), so they are unescaped to compare.
                        $local = ConvertFrom-EscapedSocketName $socket.LocalAddress
                        if ($local -match '[\r\n]') { continue }
                        Add-Reading $reading "unix $($socket.Inode)" "kind=$($socket.Kind);state=$($socket.State);recvq=$($socket.ReceiveQueue);sendq=$($socket.SendQueue);local=$local;peer=$($socket.PeerInode);users=$users;uid=$($socket.UserId)"
                    }
                    else {
                        $key = if ($socket.Inode -ne 0) { "$protocol $($socket.Inode)" } else { "$protocol $($socket.State) $($socket.LocalAddress) $($socket.PeerAddress)" }
                        Add-Reading $reading $key "kind=$($socket.Kind);state=$($socket.State);recvq=$($socket.ReceiveQueue);sendq=$($socket.SendQueue);local=$($socket.LocalAddress);interface=$($socket.Interface);peer=$($socket.PeerAddress);users=$users;uid=$($socket.UserId)"
                    }
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'ss'

            Write-Compared $result 'sockets' 'ss -a -n -x -t -u -p -e'
            $script:brokenNames | Should -Contain "@sysprog-pester-$PID-oracle-neighbour`nu_str LISTEN 0 0 @forged 1 * 0"
            if ($script:brokenNames.Count) { Write-Host "skipped $($script:brokenNames.Count) UNIX sockets whose names hold a line break (ss writes them raw, over several lines)" }
            $result.Differences | Should -BeNullOrEmpty
            foreach ($socket in $script:madeSockets) {
                $protocol = if ($socket.Family -eq 'Unix') { 'unix' } elseif ($socket.Kind -eq 'Stream') { 'tcp' } else { 'udp' }
                $result.Compared | Should -Contain "$protocol $($socket.Inode)"
            }
            $boundInode = (Get-Item "/proc/$PID/fd/$($script:boundToLo.Handle)").LinkTarget -replace '\D'
            $result.Compared | Should -Contain "udp $boundInode"
        }

        It 'lists as -Listening what ss -l lists' {
            if (-not (Test-Tool ss)) { Set-ItResult -Skipped -Because 'ss (iproute2) is not installed: there is nothing to compare with'; return }
            $tool = {
                $reading = New-Reading
                foreach ($line in Get-SsLine -l -n -x -t -u -e) {
                    if ($line -match '^(u_str|u_dgr|u_seq)\s+(\S+)\s+\d+\s+\d+\s+(.*?)\s+(\d+)\s+\S+\s+\d+(\s.*)?$') {
                        if ($Matches[3] -ne '(skipped)') { Add-Reading $reading "unix $($Matches[4])" "state=$($Matches[2])" }
                    }
                    elseif ($line -match '^(tcp|udp)\s+(\S+)\s+.*\bino:(\d+)') { Add-Reading $reading "$($Matches[1]) $($Matches[3])" "state=$($Matches[2])" }
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($socket in Get-Socket -Listening) {
                    if ($socket.Protocol -eq 'Unix' -and (ConvertFrom-EscapedSocketName $socket.LocalAddress) -match '[\r\n]') { continue }
                    Add-Reading $reading "$("$($socket.Protocol)".ToLowerInvariant()) $($socket.Inode)" "state=$($socket.State)"
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'ss -l'

            Write-Compared $result 'listening sockets' 'ss -l -n -x -t -u'
            $result.Differences | Should -BeNullOrEmpty
            $result.Compared | Should -Contain "udp $($script:madeSockets[4].Inode)"
            $result.Compared | Should -Contain "unix $($script:madeSockets[6].Inode)"
            $result.Compared | Should -Not -Contain "unix $($script:pair.First.Inode)"
        }
    }

    Context 'IPC objects and limits: lsipc, ipcs, and the files of /dev/shm and /dev/mqueue' {
        BeforeAll {
            $script:sysV = @{}
            if (Test-Tool ipcmk) {
                foreach ($made in @(@('-M', '8192', '-p', '0640'), @('-S', '3'), @('-Q'))) {
                    $said = ipcmk @made
                    if ($said -match '^(Shared memory|Semaphore|Message queue) id: (\d+)$') { $script:sysV[$Matches[1]] = [int]$Matches[2] }
                }
            }
            $script:posixNames = @(New-TestName; New-TestName; New-TestName)
            $script:shm = New-SharedMemory -Name $script:posixNames[0] -Size 12KB -Mode 0640
            $script:semaphore = New-Semaphore -Name $script:posixNames[1] -Value 4
            $script:queue = if ([Sysprog.MessageQueue]::IsMqueueFsMounted()) { New-MessageQueue -Name $script:posixNames[2] -MaxMessages 4 -MaxMessageSize 64 }
        }

        AfterAll {
            if ($script:sysV['Shared memory']) { ipcrm -m $script:sysV['Shared memory'] }
            if ($script:sysV['Semaphore']) { ipcrm -s $script:sysV['Semaphore'] }
            if ($script:sysV['Message queue']) { ipcrm -q $script:sysV['Message queue'] }
            Close-SharedMemory $script:shm
            Close-Semaphore $script:semaphore
            if ($script:queue) { Close-MessageQueue $script:queue }
            Remove-TestObjectAll
        }

        It 'lists every System V object lsipc lists, with its key, owner, mode, size and counts' {
            if (-not (Test-Tool lsipc)) { Set-ItResult -Skipped -Because 'lsipc (util-linux) is not installed: there is nothing to compare with'; return }
            $tool = {
                $reading = New-Reading
                foreach ($segment in (lsipc -m -J -b -P -o KEY,ID,UID,PERMS,SIZE,NATTCH,STATUS | ConvertFrom-Json).sharedmemory) {
                    Add-Reading $reading "SysVSharedMemory $($segment.id)" "key=$($segment.key);uid=$($segment.uid);mode=$($segment.perms);size=$($segment.size);count=;attached=$($segment.nattch);removing=$("$($segment.status)" -match 'dest')"
                }
                foreach ($set in (lsipc -s -J -P -o KEY,ID,UID,PERMS,NSEMS | ConvertFrom-Json).semaphores) {
                    Add-Reading $reading "SysVSemaphoreSet $($set.id)" "key=$($set.key);uid=$($set.uid);mode=$($set.perms);size=;count=$($set.nsems);attached=;removing=False"
                }
                # lsipc 2.38 prints a queue's PERMS as null when asked for numbers (-P), so here as letters (rw-r--r--).
                foreach ($queue in (lsipc -q -J -b -o KEY,ID,UID,PERMS,USEDBYTES,MSGS | ConvertFrom-Json).messages) {
                    $mode = 0
                    for ($i = 0; $i -lt 9; $i++) { if ($queue.perms[$i] -ne '-') { $mode = $mode -bor (256 -shr $i) } }
                    Add-Reading $reading "SysVMessageQueue $($queue.id)" "key=$($queue.key);uid=$($queue.uid);mode=$('{0:0000}' -f [int][Convert]::ToString($mode, 8));size=$($queue.usedbytes);count=$($queue.msgs);attached=;removing=False"
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($object in Get-IpcObject -Kind SysVSharedMemory, SysVSemaphoreSet, SysVMessageQueue -WarningAction SilentlyContinue) {
                    $key = if ($object.Name -eq 'IPC_PRIVATE') { '0x00000000' } else { $object.Name }
                    Add-Reading $reading "$($object.Kind) $($object.Id)" "key=$key;uid=$($object.OwnerId);mode=$($object.Mode);size=$($object.Size);count=$(if ($object.Kind -ne 'SysVSharedMemory') { $object.Count });attached=$($object.Attachments);removing=$($object.IsMarkedForDestruction)"
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'lsipc'

            Write-Compared $result 'System V objects' 'lsipc -m -s -q'
            $result.Differences | Should -BeNullOrEmpty
            if (-not (Test-Tool ipcmk)) { return }
            $result.Compared | Should -Contain "SysVSharedMemory $($script:sysV['Shared memory'])"
            $result.Compared | Should -Contain "SysVSemaphoreSet $($script:sysV['Semaphore'])"
            $result.Compared | Should -Contain "SysVMessageQueue $($script:sysV['Message queue'])"
        }

        It 'has the System V limits and their use that lsipc -g and ipcs -l show' {
            if (-not (Test-Tool lsipc) -or -not (Test-Tool ipcs)) { Set-ItResult -Skipped -Because 'lsipc and ipcs (util-linux) are not installed: there is nothing to compare with'; return }
            $rows = @{ MSGMNI = 'kernel.msgmni'; MSGMAX = 'kernel.msgmax'; MSGMNB = 'kernel.msgmnb'; SHMMNI = 'kernel.shmmni'; SHMALL = 'kernel.shmall'
                SHMMAX = 'kernel.shmmax'; SEMMNI = 'kernel.sem SEMMNI'; SEMMSL = 'kernel.sem SEMMSL'; SEMMNS = 'kernel.sem SEMMNS'; SEMOPM = 'kernel.sem SEMOPM' }
            # ipcs -l's lines, as the limit it prints. "max total shared memory (kbytes)" is shmall pages times the page
            # size, which ipcs multiplies in 64 bits: the default shmall overflows it, and then ipcs prints a wrapped number.
            $ipcsLines = @{ 'max queues system wide' = 'kernel.msgmni'; 'max size of message (bytes)' = 'kernel.msgmax'; 'default max size of queue (bytes)' = 'kernel.msgmnb'
                'max number of segments' = 'kernel.shmmni'; 'max seg size (kbytes)' = 'kernel.shmmax/1024'; 'max number of arrays' = 'kernel.sem SEMMNI'
                'max semaphores per array' = 'kernel.sem SEMMSL'; 'max semaphores system wide' = 'kernel.sem SEMMNS'; 'max ops per semop call' = 'kernel.sem SEMOPM'
                'max total shared memory (kbytes)' = 'kernel.shmall*page/1024' }
            $tool = {
                $reading = New-Reading
                foreach ($limit in (lsipc -g -J -b | ConvertFrom-Json).ipclimits | Where-Object { $rows.ContainsKey($_.resource) }) {
                    # lsipc has no count for the sizes (MSGMAX, MSGMNB, SHMMAX, SEMMSL, SEMOPM); "-".
                    Add-Reading $reading "lsipc $($rows[$limit.resource])" "limit=$($limit.limit);used=$(if ($limit.used -eq '-') { '?' } else { $limit.used })"
                }
                $overflows = [UInt64](Get-Content /proc/sys/kernel/shmall) -gt [UInt64]::MaxValue / [UInt64][Environment]::SystemPageSize
                foreach ($line in ipcs -l) {
                    if ($line -match '^(.+?) = (\d+)$' -and $ipcsLines.ContainsKey($Matches[1])) {
                        $limit = if ($overflows -and $ipcsLines[$Matches[1]] -eq 'kernel.shmall*page/1024') { '?' } else { $Matches[2] }
                        Add-Reading $reading "ipcs $($ipcsLines[$Matches[1]])" "limit=$limit"
                    }
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                $page = [Environment]::SystemPageSize
                foreach ($limit in Get-IpcLimit | Where-Object { $_.Name -in $rows.Values }) {
                    Add-Reading $reading "lsipc $($limit.Name)" "limit=$($limit.Limit);used=$($limit.Used)"
                    if ($limit.Name -eq 'kernel.shmmax') { Add-Reading $reading 'ipcs kernel.shmmax/1024' "limit=$([UInt64]$limit.Limit -shr 10)" }
                    elseif ($limit.Name -eq 'kernel.shmall') {
                        $total = if ([UInt64]$limit.Limit -le [UInt64]::MaxValue / [UInt64]$page) { [UInt64]$limit.Limit * [UInt64]$page -shr 10 } else { 'more than 2^64 bytes' }
                        Add-Reading $reading 'ipcs kernel.shmall*page/1024' "limit=$total"
                    }
                    else { Add-Reading $reading "ipcs $($limit.Name)" "limit=$($limit.Limit)" }
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'lsipc -g and ipcs -l'

            Write-Compared $result 'System V limits' 'lsipc -g and ipcs -l'
            $result.Differences | Should -BeNullOrEmpty
            @($result.Compared | Where-Object { $_.StartsWith('lsipc ') }).Count | Should -Be $rows.Count
        }

        It 'lists every object the files of /dev/shm and /dev/mqueue stand for, with its mode, owner and size' {
            if (-not (Test-Tool find)) { Set-ItResult -Skipped -Because 'find (findutils) is not installed: there is nothing to compare with'; return }
            $tool = {
                $reading = New-Reading
                foreach ($folder in '/dev/shm', '/dev/mqueue') {
                    if (-not (Test-Path -LiteralPath $folder)) { continue }
                    # NUL-separated, as bytes: any user may name a file with any byte but / and NUL.
                    $info = [System.Diagnostics.ProcessStartInfo]::new('find')
                    $folder, '-mindepth', '1', '-maxdepth', '1', '-printf', '%m %U %s %y %P\0' | ForEach-Object { $info.ArgumentList.Add($_) }
                    $info.RedirectStandardOutput = $true
                    $finder = [System.Diagnostics.Process]::Start($info)
                    $bytes = [System.IO.MemoryStream]::new()
                    $finder.StandardOutput.BaseStream.CopyTo($bytes)
                    $finder.WaitForExit()
                    $raw = $bytes.ToArray()
                    for ($start = 0; $start -lt $raw.Length; $start = $end + 1) {
                        $end = [Array]::IndexOf($raw, [byte]0, $start)
                        $fields = [Text.Encoding]::ASCII.GetString($raw, $start, $end - $start).Split(' ', 5)
                        $nameStart = $start + ($fields[0..3] -join ' ').Length + 1
                        # The name as its bytes in hex: Sysprog's escaped name is unescaped to compare.
                        $name = [Convert]::ToHexString($raw, $nameStart, $end - $nameStart)
                        $mode = [Convert]::ToInt32($fields[0], 8).ToString()
                        if ($folder -eq '/dev/mqueue') { Add-Reading $reading "MessageQueue $name" "mode=$mode;uid=$($fields[1]);size=?"; continue }
                        # A semaphore's file is sem.NAME (73656D2E); its listing has no size (the file's is sizeof(sem_t)).
                        if ($name.StartsWith('73656D2E') -and $name.Length -gt 8) { Add-Reading $reading "Semaphore $($name.Substring(8))" "mode=$mode;uid=$($fields[1]);size=?" }
                        elseif (-not $name.StartsWith('73656D2E')) { Add-Reading $reading "SharedMemory $name" "mode=$mode;uid=$($fields[1]);size=$($fields[2])" }
                    }
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($object in Get-IpcObject -Kind SharedMemory, Semaphore, MessageQueue -WarningAction SilentlyContinue | Where-Object { -not $_.IsUnlinked }) {
                    Add-Reading $reading "$($object.Kind) $([Convert]::ToHexString([Sysprog.NameEscaping]::Unescape($object.Name.Substring(1))))" "mode=$([int]$object.UnixFileMode);uid=$($object.OwnerId);size=$($object.Size)"
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'find'

            Write-Compared $result 'POSIX objects' 'find /dev/shm /dev/mqueue'
            $result.Differences | Should -BeNullOrEmpty
            $hex = $script:posixNames | ForEach-Object { [Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes($_.Substring(1))) }
            $result.Compared | Should -Contain "SharedMemory $($hex[0])"
            $result.Compared | Should -Contain "Semaphore $($hex[1])"
            if ($script:queue) { $result.Compared | Should -Contain "MessageQueue $($hex[2])" }
        }
    }

    Context 'processes: /proc/PID/maps, pmap -X, prlimit, chrt and taskset' {
        BeforeAll {
            # Processes with something to see: a mapped file and shared memory (the CLI's map command holds its mapping),
            # limits set by prlimit, a batch policy, an affinity of one CPU.
            $script:mappedFile = Join-Path $TestDrive 'mapped.bin'
            [System.IO.File]::WriteAllBytes($script:mappedFile, [byte[]]::new(16384))
            $script:shmName = New-TestName
            $script:mappedShm = New-SharedMemory -Name $script:shmName -Size 8KB
            $script:maps = @(
                New-MemoryMap -Path $script:mappedFile -Protection Read
                New-MemoryMap -InputObject $script:mappedShm
            )
            # Every page read once: their Rss no longer changes.
            $script:maps | ForEach-Object { $null = $_.Read(0, [int]$_.Length) }
            $script:sleepers = @{}
            if (Test-Tool prlimit) { $script:sleepers.Limited = Start-Native prlimit '--nofile=123:456', '--core=0:unlimited', '--stack=4194304:8388608', 'sleep', '600' }
            if (Test-Tool chrt) { $script:sleepers.Batch = Start-Native chrt '--batch', '0', 'sleep', '600' }
            if (Test-Tool taskset) { $script:sleepers.Pinned = Start-Native taskset '-c', '0', 'sleep', '600' }
            $script:sleepers.Plain = Start-Native sleep '600'
            # Each has become the sleep (exec'd), so what is read of it no longer changes.
            Wait-Until { @($script:sleepers.Values | Where-Object { (Get-Content "/proc/$($_.Id)/comm" -ErrorAction SilentlyContinue) -ne 'sleep' }).Count -eq 0 } | Should -BeTrue

            function Get-ProcessIds {
                foreach ($folder in [System.IO.Directory]::GetDirectories('/proc')) {
                    $id = 0
                    if ([int]::TryParse([System.IO.Path]::GetFileName($folder), [ref]$id)) { $id }
                }
            }

            function Invoke-PerProcess {
                # One shell runs the tool for each process and marks where each process's output starts: "== PID".
                param([Parameter(Mandatory)][string] $Command)
                $current = 0
                $lines = @{}
                foreach ($line in sh -c "for p in /proc/[0-9]*; do p=`${p#/proc/}; echo `"== `$p`"; $Command 2>/dev/null; done") {
                    if ($line -match '^== (\d+)$') { $current = [int]$Matches[1]; $lines[$current] = [System.Collections.Generic.List[string]]::new() }
                    elseif ($current) { $lines[$current].Add($line) }
                }
                $lines
            }

            # Tens of thousands of mappings are read four times or more: PowerShell's loops would take minutes on a
            # loaded machine, so the texts are parsed, and Sysprog's mappings put as text, by this test's own C#. (The
            # module is built for .NET 8 and runs on a newer one: the compiler's CS1701 about that is only a warning.)
            if (-not ('SysprogOracle.MappingText' -as [type])) {
                Add-Type -IgnoreWarnings -WarningAction SilentlyContinue -ReferencedAssemblies ([Sysprog.ProcessMapping].Assembly.Location), System.Text.RegularExpressions, System.Collections -TypeDefinition @'
namespace SysprogOracle
{
    using System;
    using System.Collections.Generic;
    using System.Globalization;
    using System.IO;
    using System.Text.RegularExpressions;

    public static class MappingText
    {
        private static readonly Regex MapsLine = new Regex(@"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+) *(.*)$", RegexOptions.Multiline);

        /// <summary>/proc/PID/maps of each process, read here: "start-end perms offset major:minor inode   path", the
        /// path (which may hold spaces) the rest, a newline in it written \012, and " (deleted)" after an unlinked file's.</summary>
        public static Dictionary<string, string> ProcMaps(int[] processIds)
        {
            var reading = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (int process in processIds)
            {
                string text;
                try { text = File.ReadAllText("/proc/" + process + "/maps"); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { continue; }
                foreach (Match m in MapsLine.Matches(text))
                {
                    string path = m.Groups[7].Value.TrimEnd('\r').Replace("\\012", "\n");
                    bool deleted = path.EndsWith(" (deleted)", StringComparison.Ordinal);
                    if (deleted) path = path.Substring(0, path.Length - " (deleted)".Length);
                    reading[process + " " + m.Groups[1].Value.TrimStart('0')] = "end=" + m.Groups[2].Value.TrimStart('0') + ";perms=" + m.Groups[3].Value
                        + ";offset=" + Convert.ToUInt64(m.Groups[4].Value, 16) + ";device=" + m.Groups[5].Value + ";inode=" + m.Groups[6].Value
                        + ";path=" + path + ";deleted=" + deleted;
                }
            }
            return reading;
        }

        /// <summary>pmap -X -p of each process, as one text where "== PID" starts each process's output. The header names
        /// the columns (they differ between kernels); Mapping, the path, is last and the rest of the line. pmap maps the
        /// files in <paramref name="pmapsOwn"/> ("device inode") itself while it reads: a page of one that another process
        /// maps too is shared by one more process then, so its Pss there is not what it is before and after.</summary>
        public static Dictionary<string, string> Pmap(string output, HashSet<string> pmapsOwn)
        {
            var reading = new Dictionary<string, string>(StringComparer.Ordinal);
            string process = null;
            string[] columns = null;
            foreach (string line in output.Split('\n'))
            {
                if (line.StartsWith("== ", StringComparison.Ordinal)) { process = line.Substring(3); columns = null; continue; }
                string[] fields = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (process == null || fields.Length == 0) continue;
                if (fields[0] == "Address") { columns = fields; continue; }
                if (columns == null || fields.Length < columns.Length - 1 || !Regex.IsMatch(fields[0], "^[0-9a-f]+$")) continue;
                var value = new Dictionary<string, string>();
                for (int i = 0; i < columns.Length - 1; i++) value[columns[i]] = fields[i];
                // The path: what follows the last number, spaces in it kept.
                int at = 0;
                for (int i = 0; i < columns.Length - 1; i++) { at = line.IndexOf(fields[i], at, StringComparison.Ordinal) + fields[i].Length; }
                string path = line.Substring(at).Trim();
                // pmap -X (procps 4.0.2) cuts a mapping's name at 127 characters: a path that long is not something it shows.
                if (path.Length >= 127) path = "?";
                string pss = pmapsOwn != null && value["Inode"] != "0" && pmapsOwn.Contains(value["Device"] + " " + value["Inode"]) ? "?" : value["Pss"];
                reading[process + " " + value["Address"]] = "perms=" + value["Perm"] + ";offset=" + Convert.ToUInt64(value["Offset"], 16) + ";device=" + value["Device"]
                    + ";inode=" + value["Inode"] + ";size=" + value["Size"] + ";rss=" + value["Rss"] + ";pss=" + pss + ";swap=" + value["Swap"]
                    + ";locked=" + value["Locked"] + ";path=" + path;
            }
            return reading;
        }

        /// <summary>Sysprog's mappings in the same words.</summary>
        public static Dictionary<string, string> Of(IEnumerable<Sysprog.ProcessMapping> mappings, bool detail)
        {
            var reading = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Sysprog.ProcessMapping m in mappings)
            {
                string key = m.ProcessId + " " + m.Start.ToString("x", CultureInfo.InvariantCulture);
                reading[key] = detail
                    ? "perms=" + m.Permissions + ";offset=" + m.Offset + ";device=" + m.Device + ";inode=" + m.Inode + ";size=" + m.Size / 1024 + ";rss=" + m.Rss / 1024
                        + ";pss=" + m.Pss / 1024 + ";swap=" + m.Swap / 1024 + ";locked=" + m.Locked / 1024 + ";path=" + m.Path + (m.IsDeleted ? " (deleted)" : "")
                    : "end=" + m.End.ToString("x", CultureInfo.InvariantCulture) + ";perms=" + m.Permissions + ";offset=" + m.Offset + ";device=" + m.Device
                        + ";inode=" + m.Inode + ";path=" + m.Path + ";deleted=" + m.IsDeleted;
            }
            return reading;
        }
    }
}
'@
            }
        }

        AfterAll {
            Stop-Native
            $script:maps | Close-MemoryMap
            Close-SharedMemory $script:mappedShm
            Remove-TestObjectAll
        }

        It 'reads every mapping of every process as /proc/PID/maps shows it' {
            $tool = { [SysprogOracle.MappingText]::ProcMaps([int[]]@(Get-ProcessIds)) }
            $sysprog = { [SysprogOracle.MappingText]::Of([Sysprog.ProcessMapping[]]@(Get-ProcessMapping -Id (Get-ProcessIds) -ErrorAction SilentlyContinue), $false) }

            $result = Compare-Reading $tool $sysprog '/proc/PID/maps'

            Write-Compared $result 'mappings' '/proc/PID/maps'
            $result.Differences | Should -BeNullOrEmpty
            $plain = $script:sleepers.Plain.Id
            @($result.Compared | Where-Object { $_.StartsWith("$plain ") }).Count | Should -Be @(Get-Content "/proc/$plain/maps").Count
            foreach ($map in $script:maps) { $result.Compared | Should -Contain ('{0} {1:x}' -f $PID, [long]$map.Address) }
        }

        It 'reads every mapping''s detail as pmap -X shows it from smaps' {
            if (-not (Test-Tool pmap)) { Set-ItResult -Skipped -Because 'pmap (procps) is not installed: there is nothing to compare with'; return }
            # The files pmap maps itself (its libraries, the locale): pmap of its own process.
            $pmapsOwn = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
            foreach ($own in [SysprogOracle.MappingText]::Pmap((sh -c 'echo "== self"; exec pmap -X -p $$' | Out-String), $null).Values) {
                if ($own -match ';device=([^;]+);inode=(\d+);' -and $Matches[2] -ne '0') { $null = $pmapsOwn.Add("$($Matches[1]) $($Matches[2])") }
            }
            $pmapsOwn.Count | Should -BeGreaterThan 0
            $tool = { [SysprogOracle.MappingText]::Pmap((sh -c 'for p in /proc/[0-9]*; do echo "== ${p#/proc/}"; pmap -X -p "${p#/proc/}" 2>/dev/null; done' | Out-String), $pmapsOwn) }
            $sysprog = { [SysprogOracle.MappingText]::Of([Sysprog.ProcessMapping[]]@(Get-ProcessMapping -Id (Get-ProcessIds) -Detail -ErrorAction SilentlyContinue), $true) }

            $result = Compare-Reading $tool $sysprog 'pmap -X'

            Write-Compared $result 'mappings with their memory' 'pmap -X (smaps)'
            $result.Differences | Should -BeNullOrEmpty
            # A shared library's Pss changes whenever a process that maps it starts or ends: not all of them are compared.
            @($result.Compared | Where-Object { $_.StartsWith("$($script:sleepers.Plain.Id) ") }).Count | Should -BeGreaterThan 0
            foreach ($map in $script:maps) { $result.Compared | Should -Contain ('{0} {1:x}' -f $PID, [long]$map.Address) }
        }

        It 'reads every limit of every process as prlimit shows it' {
            if (-not (Test-Tool prlimit)) { Set-ItResult -Skipped -Because 'prlimit (util-linux) is not installed: there is nothing to compare with'; return }
            $tool = {
                $reading = New-Reading
                $outputs = Invoke-PerProcess 'prlimit --pid "$p" --raw --noheadings --output RESOURCE,SOFT,HARD'
                foreach ($process in $outputs.Keys) {
                    foreach ($line in $outputs[$process]) {
                        $resource, $soft, $hard = $line -split '\s+'
                        $reading["$process $resource"] = "soft=$soft;hard=$hard"
                    }
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($limit in Get-ProcessLimit -Id (Get-ProcessIds) -ErrorAction SilentlyContinue) {
                    $reading["$($limit.ProcessId) $("$($limit.Resource)".ToUpperInvariant())"] = "soft=$($limit.Soft ?? 'unlimited');hard=$($limit.Hard ?? 'unlimited')"
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'prlimit'

            Write-Compared $result 'limits' 'prlimit --raw'
            $result.Differences | Should -BeNullOrEmpty
            $limited = $script:sleepers.Limited.Id
            @($result.Compared | Where-Object { $_.StartsWith("$limited ") }).Count | Should -Be 16
            (Get-ProcessLimit -Id $limited -Resource NoFile).Soft | Should -Be 123
        }

        It 'reads every thread''s policy, priority and CPUs as chrt -p and taskset -p show them' {
            if (-not (Test-Tool chrt) -or -not (Test-Tool taskset)) { Set-ItResult -Skipped -Because 'chrt and taskset (util-linux) are not installed: there is nothing to compare with'; return }
            $tool = {
                $threads = @{}
                $outputs = Invoke-PerProcess 'chrt -a -p "$p"; taskset -a -c -p "$p"'
                foreach ($process in $outputs.Keys) {
                    foreach ($line in $outputs[$process]) {
                        if ($line -notmatch "^pid (\d+)'s current (scheduling policy|scheduling priority|affinity list): (.*)$") { continue }
                        $thread = "$process $($Matches[1])"
                        if (-not $threads.ContainsKey($thread)) { $threads[$thread] = @{} }
                        $threads[$thread][$Matches[2]] = $Matches[3]
                    }
                }
                $reading = New-Reading
                foreach ($thread in $threads.Keys) {
                    # taskset writes "0,1" where Sysprog writes "0-1": both as the CPUs they name.
                    $cpus = foreach ($part in "$($threads[$thread]['affinity list'])" -split ',' | Where-Object { $_ }) {
                        if ($part -match '^(\d+)-(\d+)$') { [int]$Matches[1]..[int]$Matches[2] } else { [int]$part }
                    }
                    Add-Reading $reading $thread "policy=$($threads[$thread]['scheduling policy']);priority=$($threads[$thread]['scheduling priority']);cpus=$(@($cpus) -join ',')"
                }
                $reading
            }
            $sysprog = {
                $reading = New-Reading
                foreach ($thread in Get-ProcessScheduling -Id (Get-ProcessIds) -AllThreads -ErrorAction SilentlyContinue) {
                    $policy = $thread.PolicyName + $(if ($thread.ResetOnFork) { '|SCHED_RESET_ON_FORK' })
                    Add-Reading $reading "$($thread.ProcessId) $($thread.ThreadId)" "policy=$policy;priority=$($thread.Priority);cpus=$($thread.Affinity -join ',')"
                }
                $reading
            }

            $result = Compare-Reading $tool $sysprog 'chrt and taskset'

            Write-Compared $result 'threads' 'chrt -a -p and taskset -a -c -p'
            $result.Differences | Should -BeNullOrEmpty
            $result.Compared | Should -Contain "$($script:sleepers.Batch.Id) $($script:sleepers.Batch.Id)"
            $result.Compared | Should -Contain "$($script:sleepers.Pinned.Id) $($script:sleepers.Pinned.Id)"
            (Get-ProcessScheduling -Id $script:sleepers.Batch.Id).PolicyName | Should -Be 'SCHED_BATCH'
            (Get-ProcessScheduling -Id $script:sleepers.Pinned.Id).Affinity | Should -Be @(0)
        }
    }

    Context 'inotify: inotifywait' {
        It 'reads the events inotifywait reads of the same changes, with the names inotifywait gives them' {
            if (-not (Test-Tool inotifywait)) { Set-ItResult -Skipped -Because 'inotifywait (inotify-tools) is not installed: there is nothing to compare with'; return }
            $folder = Join-Path $TestDrive 'watched'
            $null = New-Item -ItemType Directory -Path $folder
            $watcher = Start-Native inotifywait '-m', '--format', '%e|%f', $folder -ReadOutput
            # It says on stderr when its watch is in place; everything after that it sees.
            while (($said = $watcher.StandardError.ReadLine()) -ne 'Watches established.') { $said | Should -Not -BeNullOrEmpty }
            $inotify = New-Inotify -Path $folder -Event All
            try {
                # Every kind of event a folder's watch gets: made, written, read, changed, renamed, linked, removed.
                sh -c 'cd "$1" && echo one > a && cat a >/dev/null && chmod 600 a && mv a b && mkdir d && ls d && mv d e && rmdir e && ln -s b l && touch -h l && rm l b && echo end > end' sh $folder
                $ours = [System.Collections.Generic.List[string]]::new()
                while ($ours.Count -eq 0 -or $ours[-1] -ne 'CLOSE_WRITE,CLOSE|end') {
                    $events = @(Read-Inotify $inotify -TimeoutSeconds 10)
                    $events | Should -Not -BeNullOrEmpty -Because 'the last change (end) makes events'
                    $events | ForEach-Object { $ours.Add("$($_.EventNames)|$($_.Name)") }
                }
                $theirs = [System.Collections.Generic.List[string]]::new()
                while ($theirs.Count -eq 0 -or $theirs[-1] -ne 'CLOSE_WRITE,CLOSE|end') {
                    $line = $watcher.StandardOutput.ReadLine()
                    $line | Should -Not -BeNullOrEmpty
                    $theirs.Add($line)
                }
            }
            finally {
                Close-Inotify $inotify
            }

            # The kernel merges an event into the last one queued when they are identical (watch, events, cookie, name)
            # and that one is still unread: inotifywait, reading as events come, can get two where a later reader gets
            # one (an ls of a folder is two ACCESS,ISDIR). So repeats in a row count once on both sides.
            $collapse = { param($events) $previous = $null; foreach ($e in $events) { if ($e -cne $previous) { $e }; $previous = $e } }
            Write-Host "compared $($ours.Count) events with inotifywait"
            @(& $collapse $theirs) | Should -Be @(& $collapse $ours)
            $ours | Should -Contain 'MOVED_FROM|a'
            $ours | Should -Contain 'CREATE,ISDIR|d'
        }
    }
}
