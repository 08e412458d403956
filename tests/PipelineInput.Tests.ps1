#Requires -Version 7.4
# Pipeline input: every parameter of every exported cmdlet that takes pipeline input receives a real object through the
# pipeline, each way it declares (by value, by property name), with the outcome asserted. The table of cases is checked
# against the module's command metadata both ways, and each case is run under a ParameterBinding trace that must show
# the parameter bound from the pipeline that way, so a case cannot drift from what it claims to feed.
BeforeDiscovery {
    # One case per cmdlet, parameter and way of binding ('Value' or 'PropertyName'). Run pipes a real object into that
    # parameter and asserts what came of it; $n is a fresh name, $dir a fresh folder. Set-up runs without the
    # pipeline where it can, so that the trace names the case's own binding.
    $script:cases = @(
        # inotify
        @{ Cmdlet = 'Add-InotifyWatch'; Parameter = 'Path'; By = 'Value'; Run = { $i = New-Inotify; try { $dir | Add-InotifyWatch $i | Out-Null; $i.Watches.Path | Should -Be $dir } finally { Close-Inotify $i } } }
        @{ Cmdlet = 'Add-InotifyWatch'; Parameter = 'Path'; By = 'PropertyName'; Run = { $i = New-Inotify; try { Get-Item $dir | Add-InotifyWatch $i | Out-Null; $i.Watches.Path | Should -Be $dir } finally { Close-Inotify $i } } }
        @{ Cmdlet = 'New-Inotify'; Parameter = 'Path'; By = 'Value'; Run = { $i = $dir | New-Inotify; try { $i.Watches.Path | Should -Be $dir } finally { Close-Inotify $i } } }
        @{ Cmdlet = 'New-Inotify'; Parameter = 'Path'; By = 'PropertyName'; Run = { $i = Get-Item $dir | New-Inotify; try { $i.Watches.Path | Should -Be $dir } finally { Close-Inotify $i } } }
        @{ Cmdlet = 'Read-Inotify'; Parameter = 'InputObject'; By = 'Value'; Run = { $i = New-Inotify $dir; try { $null = New-Item (Join-Path $dir 'made'); ($i | Read-Inotify -Count 1 -TimeoutSeconds 5).Name | Should -Be 'made' } finally { Close-Inotify $i } } }
        @{ Cmdlet = 'Remove-InotifyWatch'; Parameter = 'Watch'; By = 'Value'; Run = { $i = New-Inotify $dir; try { $watch = $i.Watches[0]; $watch | Remove-InotifyWatch; $watch.IsActive | Should -BeFalse; $i.Watches.Count | Should -Be 0 } finally { Close-Inotify $i } } }
        @{ Cmdlet = 'Close-Inotify'; Parameter = 'InputObject'; By = 'Value'; Run = { $i = New-Inotify $dir; $i | Close-Inotify; $i.IsClosed | Should -BeTrue } }

        # pipes, FIFOs and descriptors
        @{ Cmdlet = 'Close-Pipe'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-Pipe; $p.WriteEnd | Close-Pipe; $p.WriteEnd.IsClosed | Should -BeTrue; $p.ReadEnd.IsClosed | Should -BeFalse; $p | Close-Pipe; $p.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Set-Pipe'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-Pipe; try { $p | Set-Pipe -Capacity 128KB -Confirm:$false; $p.Capacity | Should -Be 128KB } finally { Close-Pipe $p } } }
        @{ Cmdlet = 'Read-FileDescriptor'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-Pipe; try { Write-FileDescriptor $p 'through the pipe'; $p | Read-FileDescriptor -Delimiter "`n" -TimeoutSeconds 5 | Should -Be "through the pipe`n" } finally { Close-Pipe $p } } }
        @{ Cmdlet = 'Write-FileDescriptor'; Parameter = 'Value'; By = 'Value'; Run = { $p = New-Pipe; try { 'one', 'two' | Write-FileDescriptor $p; Read-FileDescriptor $p -TimeoutSeconds 5 | Should -Be "one`ntwo`n" } finally { Close-Pipe $p } } }
        @{ Cmdlet = 'New-Fifo'; Parameter = 'Path'; By = 'Value'; Run = { $f = Join-Path $dir 'fifo'; $f | New-Fifo | Out-Null; (Get-Item $f).UnixMode | Should -BeLike 'p*' } }
        @{ Cmdlet = 'New-Fifo'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'fifo'; [System.IO.FileInfo]::new($f) | New-Fifo | Out-Null; (Get-Item $f).UnixMode | Should -BeLike 'p*' } }
        @{ Cmdlet = 'Open-Fifo'; Parameter = 'Path'; By = 'Value'; Run = { $f = New-Fifo (Join-Path $dir 'fifo'); $end = $f.FullName | Open-Fifo -Access Read -NonBlocking; try { $end.FifoPath | Should -Be $f.FullName } finally { Close-Pipe $end } } }
        @{ Cmdlet = 'Open-Fifo'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = New-Fifo (Join-Path $dir 'fifo'); $end = $f | Open-Fifo -Access Read -NonBlocking; try { $end.FifoPath | Should -Be $f.FullName } finally { Close-Pipe $end } } }

        # sockets
        @{ Cmdlet = 'New-Socket'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 's.sock'; $s = [System.IO.FileInfo]::new($f) | New-Socket; try { $s.IsListening | Should -BeTrue; (Get-Item $f).UnixMode | Should -BeLike 's*' } finally { Close-Socket $s } } }
        @{ Cmdlet = 'Connect-Socket'; Parameter = 'Path'; By = 'PropertyName'; Run = { $s = New-Socket (Join-Path $dir 's.sock'); try { $c = Get-Item (Join-Path $dir 's.sock') | Connect-Socket -TimeoutSeconds 5; $c.RemoteEndpoint.Path | Should -Be (Join-Path $dir 's.sock') } finally { Close-Socket $c, $s } } }
        @{ Cmdlet = 'Receive-SocketConnection'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-Socket (Join-Path $dir 's.sock'); try { $c = Connect-Socket (Join-Path $dir 's.sock') -TimeoutSeconds 5; $a = $s | Receive-SocketConnection -TimeoutSeconds 5; $a.PeerCredentials.ProcessId | Should -Be $PID } finally { Close-Socket $a, $c, $s } } }
        @{ Cmdlet = 'Send-SocketMessage'; Parameter = 'Value'; By = 'Value'; Run = { $p = New-SocketPair -Type Datagram; try { 'one', 'two' | Send-SocketMessage $p.First; (Receive-SocketMessage $p.Second -Count 2 -TimeoutSeconds 5).Text | Should -Be 'one', 'two' } finally { Close-Socket $p } } }
        @{ Cmdlet = 'Receive-SocketMessage'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-SocketPair -Type Datagram; try { Send-SocketMessage $p.First 'hi'; ($p.Second | Receive-SocketMessage -TimeoutSeconds 5).Text | Should -Be 'hi' } finally { Close-Socket $p } } }
        @{ Cmdlet = 'Disconnect-Socket'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-SocketPair; try { $p.First | Disconnect-Socket -Direction Send -Confirm:$false; Read-FileDescriptor $p.Second -TimeoutSeconds 5 | Should -BeNullOrEmpty; $p.Second.IsEnded | Should -BeTrue } finally { Close-Socket $p } } }
        @{ Cmdlet = 'Close-Socket'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-SocketPair; $p.First | Close-Socket; $p.First.IsClosed | Should -BeTrue; $p | Close-Socket; $p.Second.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Get-Socket'; Parameter = 'ProcessId'; By = 'PropertyName'; Run = { $p = New-SocketPair; try { @(Get-Process -Id $PID | Get-Socket -Protocol Unix).Inode | Should -Contain $p.First.Inode } finally { Close-Socket $p } } }

        # events
        @{ Cmdlet = 'Write-EventFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $e = New-EventFd; try { $e | Write-EventFd -Value 4; Read-EventFd $e -TimeoutSeconds 1 | Should -Be 4 } finally { Close-EventFd $e } } }
        @{ Cmdlet = 'Read-EventFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $e = New-EventFd -InitialValue 3; try { $e | Read-EventFd -TimeoutSeconds 1 | Should -Be 3 } finally { Close-EventFd $e } } }
        @{ Cmdlet = 'Close-EventFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $e = New-EventFd; $e | Close-EventFd; $e.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Set-TimerFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $t = New-TimerFd; try { $t | Set-TimerFd -DelaySeconds 60 -Confirm:$false; $t.IsArmed | Should -BeTrue } finally { Close-TimerFd $t } } }
        @{ Cmdlet = 'Read-TimerFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $t = New-TimerFd; try { Set-TimerFd $t -DelaySeconds 0.01 -Confirm:$false; $t | Read-TimerFd -TimeoutSeconds 5 | Should -Be 1 } finally { Close-TimerFd $t } } }
        @{ Cmdlet = 'Close-TimerFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $t = New-TimerFd; $t | Close-TimerFd; $t.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Read-SignalFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SignalFd -Signal USR2; try { & kill -USR2 $PID; ($s | Read-SignalFd -TimeoutSeconds 10).Name | Should -Be 'SIGUSR2' } finally { Close-SignalFd $s } } }
        @{ Cmdlet = 'Close-SignalFd'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SignalFd -Signal USR2; $s | Close-SignalFd; $s.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Wait-FileDescriptor'; Parameter = 'InputObject'; By = 'Value'; Run = { $e = New-EventFd -InitialValue 1; $t = New-TimerFd; try { @($e, $t | Wait-FileDescriptor -TimeoutSeconds 5).Handle | Should -Be $e } finally { Close-EventFd $e; Close-TimerFd $t } } }

        # epoll sets and non-blocking handles
        @{ Cmdlet = 'New-PollSet'; Parameter = 'InputObject'; By = 'Value'; Run = { $e = New-EventFd; $t = New-TimerFd; $s = $e, $t | New-PollSet; try { $s.Members.Handle | Should -Be @($e, $t) } finally { Close-PollSet $s; Close-EventFd $e; Close-TimerFd $t } } }
        @{ Cmdlet = 'Add-PollSetMember'; Parameter = 'Handle'; By = 'Value'; Run = { $e = New-EventFd; $s = New-PollSet; try { ($e | Add-PollSetMember $s -OneShot).Options | Should -Be 'OneShot'; $s.Count | Should -Be 1 } finally { Close-PollSet $s; Close-EventFd $e } } }
        @{ Cmdlet = 'Set-PollSetMember'; Parameter = 'Handle'; By = 'Value'; Run = { $e = New-EventFd; $s = New-PollSet $e; try { $e | Set-PollSetMember $s -EdgeTriggered -Confirm:$false; $s.Members[0].Options | Should -Be 'EdgeTriggered' } finally { Close-PollSet $s; Close-EventFd $e } } }
        @{ Cmdlet = 'Remove-PollSetMember'; Parameter = 'Handle'; By = 'Value'; Run = { $e = New-EventFd; $s = New-PollSet $e; try { $e | Remove-PollSetMember $s -Confirm:$false; $s.Count | Should -Be 0 } finally { Close-PollSet $s; Close-EventFd $e } } }
        @{ Cmdlet = 'Wait-PollSet'; Parameter = 'InputObject'; By = 'Value'; Run = { $e = New-EventFd -InitialValue 1; $s = New-PollSet $e; try { ($s | Wait-PollSet -TimeoutSeconds 5).Handle | Should -Be $e } finally { Close-PollSet $s; Close-EventFd $e } } }
        @{ Cmdlet = 'Close-PollSet'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-PollSet; $s | Close-PollSet; $s.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Set-FileDescriptor'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = New-Pipe; try { $p | Set-FileDescriptor -NonBlocking $true -Confirm:$false; $p.ReadEnd.IsNonBlocking, $p.WriteEnd.IsNonBlocking | Should -Be @($true, $true) } finally { Close-Pipe $p } } }

        # child processes, ptys and terminals
        @{ Cmdlet = 'Wait-ChildProcess'; Parameter = 'InputObject'; By = 'Value'; Run = { $c = Start-ChildProcess sh -ArgumentList '-c', 'exit 3'; try { ($c | Wait-ChildProcess -TimeoutSeconds 10).ExitCode | Should -Be 3 } finally { Close-ChildProcess $c } } }
        @{ Cmdlet = 'Stop-ChildProcess'; Parameter = 'InputObject'; By = 'Value'; Run = { $c = Start-ChildProcess sleep 30; try { $c | Stop-ChildProcess -Signal KILL -Confirm:$false; (Wait-ChildProcess $c -TimeoutSeconds 10).SignalName | Should -Be 'SIGKILL' } finally { Close-ChildProcess $c } } }
        @{ Cmdlet = 'Close-ChildProcess'; Parameter = 'InputObject'; By = 'Value'; Run = { $c = Start-ChildProcess true; $null = Wait-ChildProcess $c -TimeoutSeconds 10; $c | Close-ChildProcess; $c.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Get-ProcessLimit'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { Set-ProcessLimit NoFile $c.ProcessId -Soft 99 -Confirm:$false; ($c | Get-ProcessLimit -Resource NoFile).Soft | Should -Be 99 } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Set-ProcessLimit'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { $c | Set-ProcessLimit -Resource NoFile -Soft 98 -Confirm:$false; (Get-ProcessLimit NoFile $c.ProcessId).Soft | Should -Be 98 } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Get-ProcessScheduling'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { Set-ProcessScheduling $c.ProcessId -Nice 4 -Confirm:$false; ($c | Get-ProcessScheduling).Nice | Should -Be 4 } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Set-ProcessScheduling'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { $c | Set-ProcessScheduling -Nice 5 -Confirm:$false; (Get-ProcessScheduling $c.ProcessId).Nice | Should -Be 5 } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Get-ProcessSyscall'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { $null = Wait-Until { @(Get-BlockedThread -ProcessId $c.ProcessId -Syscall clock_nanosleep, nanosleep).Count -gt 0 }; ($c | Get-ProcessSyscall).Name | Should -BeIn 'clock_nanosleep', 'nanosleep' } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Get-ProgramBreak'; Parameter = 'Id'; By = 'PropertyName'; Run = { $b = Get-Process -Id $PID | Get-ProgramBreak; $b.ProcessId | Should -Be $PID; $b.Break | Should -BeGreaterOrEqual $b.HeapStart } }
        @{ Cmdlet = 'Read-Pty'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = Start-Pty echo hi; try { @($p | Read-Pty -Wait -TimeoutSeconds 10) -join '' | Should -Match 'hi' } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Wait-Pty'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = Start-Pty echo 'ready 42'; try { ($p | Wait-Pty -Pattern 'ready (\d+)' -TimeoutSeconds 10).Groups[0] | Should -Be '42' } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Write-Pty'; Parameter = 'Text'; By = 'Value'; Run = { $p = Start-Pty cat; try { 'typed in' | Write-Pty $p -TimeoutSeconds 5; $null = Wait-Pty $p 'typed in' -TimeoutSeconds 10 } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Set-Pty'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = Start-Pty cat; try { $p | Set-Pty -Rows 30 -Columns 100 -Confirm:$false; (Get-TerminalSize $p.SecondaryPath).Rows | Should -Be 30 } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Close-Pty'; Parameter = 'InputObject'; By = 'Value'; Run = { $p = Start-Pty cat; $p | Close-Pty; $p.IsClosed | Should -BeTrue; Test-Path "/proc/$($p.ProcessId)" | Should -BeFalse } }
        @{ Cmdlet = 'Get-TerminalSize'; Parameter = 'Path'; By = 'Value'; Run = { $p = Start-Pty cat -Rows 31 -Columns 91; try { ($p.SecondaryPath | Get-TerminalSize).Columns | Should -Be 91 } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Get-TerminalSize'; Parameter = 'Path'; By = 'PropertyName'; Run = { $p = Start-Pty cat -Rows 31 -Columns 91; try { ($p | Get-TerminalSize).Rows | Should -Be 31 } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Set-TerminalSize'; Parameter = 'Path'; By = 'Value'; Run = { $p = Start-Pty cat; try { $p.SecondaryPath | Set-TerminalSize -Rows 32 -Columns 92 -Confirm:$false; $p.Size.Rows | Should -Be 32 } finally { Close-Pty $p } } }
        @{ Cmdlet = 'Set-TerminalSize'; Parameter = 'Path'; By = 'PropertyName'; Run = { $p = Start-Pty cat; try { $p | Set-TerminalSize -Rows 33 -Columns 93 -Confirm:$false; $p.Size.Columns | Should -Be 93 } finally { Close-Pty $p } } }

        # memory maps, process memory and mappings
        @{ Cmdlet = 'New-MemoryMap'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SharedMemory -Name $n -Size 4KB; try { $m = $s | New-MemoryMap; $m.WriteInt64(0, 7); Invoke-MemoryMap -Name $n -ScriptBlock { $_.ReadInt64(0) } | Should -Be 7 } finally { Close-MemoryMap $m; Close-SharedMemory $s } } }
        @{ Cmdlet = 'Invoke-MemoryMap'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SharedMemory -Name $n -Size 8KB; try { $s | Invoke-MemoryMap -ScriptBlock { $_.Length } | Should -Be 8KB } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'Close-MemoryMap'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; $m | Close-MemoryMap; $m.IsClosed | Should -BeTrue } }
        # Shared anonymous mappings below: a private one can merge with a neighbouring anonymous region of the same protections, and then no region starts at its address.
        @{ Cmdlet = 'Lock-Memory'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; try { $m | Lock-Memory; (Get-ProcessMapping -Detail).Where({ $_.Start -eq $m.Address.ToInt64() }).Locked | Should -Be 4KB } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Unlock-Memory'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; try { Lock-Memory $m; $m | Unlock-Memory; (Get-ProcessMapping -Detail).Where({ $_.Start -eq $m.Address.ToInt64() }).Locked | Should -Be 0 } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Sync-MemoryMap'; Parameter = 'InputObject'; By = 'Value'; Run = { $f = Join-Path $dir 'synced.bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(4KB)); $m = New-MemoryMap $f -Protection ReadWrite -Visibility Shared; try { $m.WriteInt64(0, 0x0102030405060708); $m | Sync-MemoryMap; [BitConverter]::ToInt64([IO.File]::ReadAllBytes($f), 0) | Should -Be 0x0102030405060708 } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Set-MemoryAdvice'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; try { $m.WriteInt64(0, 7); $m | Set-MemoryAdvice -Advice DontNeed -Confirm:$false; $m.ReadInt64(0) | Should -Be 0 -Because 'DONTNEED drops private anonymous pages' } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Set-MemoryProtection'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; try { $m | Set-MemoryProtection -Protection Read -Confirm:$false; (Get-ProcessMapping).Where({ $_.Start -eq $m.Address.ToInt64() }).Permissions | Should -Be 'r--s' } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Read-ProcessMemory'; Parameter = 'Mapping'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; try { $m.WriteInt64(0, 42); (Get-ProcessMapping).Where({ $_.Start -eq $m.Address.ToInt64() }) | Read-ProcessMemory -Count 1 -As Int64 | Should -Be 42 } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Write-ProcessMemory'; Parameter = 'Id'; By = 'PropertyName'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; try { Get-Process -Id $PID | Write-ProcessMemory -Address $m.Address -Int64 43 -Force -Confirm:$false; $m.ReadInt64(0) | Should -Be 43 } finally { Close-MemoryMap $m } } }
        @{ Cmdlet = 'Get-ProcessMapping'; Parameter = 'Id'; By = 'Value'; Run = { @($PID | Get-ProcessMapping).Count | Should -BeGreaterThan 10 } }
        @{ Cmdlet = 'Get-ProcessMapping'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { @($c | Get-ProcessMapping | Select-Object -ExpandProperty ProcessId -Unique) | Should -Be @($c.ProcessId) } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Show-ProcessMapping'; Parameter = 'Id'; By = 'PropertyName'; Run = { $c = Start-ChildProcess sleep 30; try { $null = Wait-Until { @(Get-BlockedThread -ProcessId $c.ProcessId -Syscall clock_nanosleep, nanosleep).Count -gt 0 }; ($c | Show-ProcessMapping -Width 80)[0] | Should -BeExactly "pid $($c.ProcessId) (sleep): $(@(Get-ProcessMapping -Id $c.ProcessId).Count) regions" } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } } }
        @{ Cmdlet = 'Show-ProcessMapping'; Parameter = 'InputObject'; By = 'Value'; Run = { $maps = @(Get-ProcessMapping -Kind Stack, Heap); $lines = $maps | Show-ProcessMapping -Width 80; $lines[0] | Should -BeExactly "pid $($PID): $($maps.Count) regions"; $lines[-1] | Should -Match ' heap$' } }
        @{ Cmdlet = 'Show-TimerLatency'; Parameter = 'InputObject'; By = 'Value'; Run = { $r = Measure-TimerLatency -IntervalMilliseconds 0.2 -Count 20; ($r | Show-TimerLatency -Width 80)[0] | Should -BeLike '20 wake-ups every 0.2ms (*' } }

        # shared memory
        @{ Cmdlet = 'New-SharedMemory'; Parameter = 'Name'; By = 'Value'; Run = { $s = $n | New-SharedMemory -Size 4KB; try { $s.Name | Should -Be $n; Test-Path -LiteralPath "/dev/shm$n" | Should -BeTrue } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'New-SharedMemory'; Parameter = 'Name'; By = 'PropertyName'; Run = {
                $s = [pscustomobject]@{ Name = $n } | New-SharedMemory -Size 4KB
                $anonymous = [pscustomobject]@{ Name = 'labelled' } | New-SharedMemory -Anonymous -Size 4KB
                try { $s.Name | Should -Be $n; $anonymous.Name | Should -Be 'memfd:labelled' } finally { Close-SharedMemory $s, $anonymous } } }
        @{ Cmdlet = 'Open-SharedMemory'; Parameter = 'Name'; By = 'Value'; Run = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; $s = $n | Open-SharedMemory; try { $s.Size | Should -Be 4KB } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'Open-SharedMemory'; Parameter = 'Name'; By = 'PropertyName'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); $s = Get-SharedMemory -Name $n | Open-SharedMemory; try { $s.Name | Should -Be $n } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'Get-SharedMemory'; Parameter = 'Name'; By = 'Value'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); ($n | Get-SharedMemory).Size | Should -Be 4KB } }
        @{ Cmdlet = 'Get-SharedMemory'; Parameter = 'Name'; By = 'PropertyName'; Run = { $s = New-SharedMemory -Name $n -Size 8KB; try { ($s | Get-SharedMemory).Size | Should -Be 8KB } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'Resize-SharedMemory'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SharedMemory -Name $n -Size 4KB; try { $s | Resize-SharedMemory -Size 8KB -Confirm:$false; (Get-SharedMemory -Name $n).Size | Should -Be 8KB } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'Resize-SharedMemory'; Parameter = 'Name'; By = 'PropertyName'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); Get-SharedMemory -Name $n | Resize-SharedMemory -Size 12KB -Confirm:$false; (Get-SharedMemory -Name $n).Size | Should -Be 12KB } }
        @{ Cmdlet = 'Remove-SharedMemory'; Parameter = 'Name'; By = 'Value'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); $n | Remove-SharedMemory -Confirm:$false; Test-Path -LiteralPath "/dev/shm$n" | Should -BeFalse } }
        @{ Cmdlet = 'Remove-SharedMemory'; Parameter = 'Name'; By = 'PropertyName'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); Get-SharedMemory -Name $n | Remove-SharedMemory -Confirm:$false; Test-Path -LiteralPath "/dev/shm$n" | Should -BeFalse } }
        @{ Cmdlet = 'Close-SharedMemory'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SharedMemory -Name $n -Size 4KB; $s | Close-SharedMemory; $s.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Add-SharedMemorySeal'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-SharedMemory -Anonymous -Size 4KB; try { $s | Add-SharedMemorySeal -Seal Grow -Confirm:$false; $s.Seals | Should -Be 'Grow' } finally { Close-SharedMemory $s } } }

        # semaphores
        @{ Cmdlet = 'New-Semaphore'; Parameter = 'Name'; By = 'Value'; Run = { $s = $n | New-Semaphore -Value 2; try { $s.Value | Should -Be 2 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'New-Semaphore'; Parameter = 'Name'; By = 'PropertyName'; Run = { $s = [pscustomobject]@{ Name = $n } | New-Semaphore -Value 3; try { $s.Name | Should -Be $n; $s.Value | Should -Be 3 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'New-Semaphore'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; try { $s = $m | New-Semaphore -Value 4; $s.IsNamed | Should -BeFalse; $s.Value | Should -Be 4 } finally { Close-Semaphore $s; Close-MemoryMap $m } } }
        @{ Cmdlet = 'Open-Semaphore'; Parameter = 'Name'; By = 'Value'; Run = { Close-Semaphore (New-Semaphore -Name $n -Value 5); $s = $n | Open-Semaphore; try { $s.Value | Should -Be 5 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Open-Semaphore'; Parameter = 'Name'; By = 'PropertyName'; Run = { Close-Semaphore (New-Semaphore -Name $n -Value 6); $s = Get-Semaphore -Name $n | Open-Semaphore; try { $s.Value | Should -Be 6 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Open-Semaphore'; Parameter = 'InputObject'; By = 'Value'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; try { Close-Semaphore (New-Semaphore -InputObject $m -Value 7); $s = $m | Open-Semaphore; $s.Value | Should -Be 7 } finally { Close-Semaphore $s; Close-MemoryMap $m } } }
        @{ Cmdlet = 'Get-Semaphore'; Parameter = 'Name'; By = 'Value'; Run = { Close-Semaphore (New-Semaphore -Name $n -Value 2); ($n | Get-Semaphore).Value | Should -Be 2 } }
        @{ Cmdlet = 'Get-Semaphore'; Parameter = 'Name'; By = 'PropertyName'; Run = { $s = New-Semaphore -Name $n -Value 3; try { ($s | Get-Semaphore).Value | Should -Be 3 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Wait-Semaphore'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-Semaphore -Name $n -Value 1; try { $s | Wait-Semaphore -TimeoutSeconds 1 -ErrorAction Stop; $s.Value | Should -Be 0 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Wait-Semaphore'; Parameter = 'Name'; By = 'PropertyName'; Run = { $s = New-Semaphore -Name $n -Value 1; try { Get-Semaphore -Name $n | Wait-Semaphore -TimeoutSeconds 1 -ErrorAction Stop; $s.Value | Should -Be 0 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Unlock-Semaphore'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-Semaphore -Name $n -Value 0; try { $s | Unlock-Semaphore -Count 2; $s.Value | Should -Be 2 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Unlock-Semaphore'; Parameter = 'Name'; By = 'PropertyName'; Run = { $s = New-Semaphore -Name $n -Value 0; try { Get-Semaphore -Name $n | Unlock-Semaphore; $s.Value | Should -Be 1 } finally { Close-Semaphore $s } } }
        @{ Cmdlet = 'Close-Semaphore'; Parameter = 'InputObject'; By = 'Value'; Run = { $s = New-Semaphore -Name $n; $s | Close-Semaphore; $s.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Remove-Semaphore'; Parameter = 'Name'; By = 'Value'; Run = { Close-Semaphore (New-Semaphore -Name $n); $n | Remove-Semaphore -Confirm:$false; Test-Path -LiteralPath "/dev/shm/sem.$($n.Substring(1))" | Should -BeFalse } }
        @{ Cmdlet = 'Remove-Semaphore'; Parameter = 'Name'; By = 'PropertyName'; Run = { Close-Semaphore (New-Semaphore -Name $n); Get-Semaphore -Name $n | Remove-Semaphore -Confirm:$false; Test-Path -LiteralPath "/dev/shm/sem.$($n.Substring(1))" | Should -BeFalse } }

        # message queues
        @{ Cmdlet = 'New-MessageQueue'; Parameter = 'Name'; By = 'Value'; Run = { $q = $n | New-MessageQueue -MaxMessages 3; try { $q.MaxMessages | Should -Be 3 } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'New-MessageQueue'; Parameter = 'Name'; By = 'PropertyName'; Run = { $q = [pscustomobject]@{ Name = $n } | New-MessageQueue -MaxMessages 4; try { $q.Name | Should -Be $n } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Open-MessageQueue'; Parameter = 'Name'; By = 'Value'; Run = { Close-MessageQueue (New-MessageQueue -Name $n -MaxMessages 5); $q = $n | Open-MessageQueue; try { $q.MaxMessages | Should -Be 5 } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Open-MessageQueue'; Parameter = 'Name'; By = 'PropertyName'; Run = { $made = New-MessageQueue -Name $n -MaxMessages 6; try { $q = $made | Open-MessageQueue; $q.MaxMessages | Should -Be 6 } finally { Close-MessageQueue $q, $made } } }
        @{ Cmdlet = 'Get-MessageQueue'; Parameter = 'Name'; By = 'Value'; NeedsMqueueFs = $true; Run = { Close-MessageQueue (New-MessageQueue -Name $n -MaxMessages 3); ($n | Get-MessageQueue).MaxMessages | Should -Be 3 } }
        @{ Cmdlet = 'Get-MessageQueue'; Parameter = 'Name'; By = 'PropertyName'; NeedsMqueueFs = $true; Run = { $q = New-MessageQueue -Name $n -MaxMessages 4; try { ($q | Get-MessageQueue).MaxMessages | Should -Be 4 } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Remove-MessageQueue'; Parameter = 'Name'; By = 'Value'; Run = { Close-MessageQueue (New-MessageQueue -Name $n); $n | Remove-MessageQueue -Confirm:$false; Test-MessageQueueName $n | Should -BeFalse } }
        @{ Cmdlet = 'Remove-MessageQueue'; Parameter = 'Name'; By = 'PropertyName'; Run = { $q = New-MessageQueue -Name $n; try { $q | Remove-MessageQueue -Confirm:$false; Test-MessageQueueName $n | Should -BeFalse } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Send-MqMessage'; Parameter = 'InputObject'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; try { 'one', 'two' | Send-MqMessage -Queue $q; (Receive-MqMessage $q -Count 2 -TimeoutSeconds 5).Text | Should -Be 'one', 'two' } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Receive-MqMessage'; Parameter = 'Queue'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; try { Send-MqMessage $q 'by object'; Send-MqMessage $q 'by name'; ($q | Receive-MqMessage).Text | Should -Be 'by object'; ($n | Receive-MqMessage).Text | Should -Be 'by name' } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Set-MessageQueue'; Parameter = 'InputObject'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; try { $q | Set-MessageQueue -NonBlocking -Confirm:$false; $q.IsNonBlocking | Should -BeTrue } finally { Close-MessageQueue $q } } }
        @{ Cmdlet = 'Close-MessageQueue'; Parameter = 'InputObject'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; $q | Close-MessageQueue; $q.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'New-MqNotification'; Parameter = 'Queue'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; try { $m = $q | New-MqNotification; $m.IsArmed | Should -BeTrue } finally { Close-MqNotification $m; Close-MessageQueue $q } } }
        @{ Cmdlet = 'Enable-MqNotification'; Parameter = 'InputObject'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; $m = New-MqNotification $q; try { $m.Disarm(); $m | Enable-MqNotification; $m.IsArmed | Should -BeTrue } finally { Close-MqNotification $m; Close-MessageQueue $q } } }
        @{ Cmdlet = 'Close-MqNotification'; Parameter = 'InputObject'; By = 'Value'; Run = { $q = New-MessageQueue -Name $n; try { $m = New-MqNotification $q; $m | Close-MqNotification; $m.IsClosed | Should -BeTrue; $m.IsArmed | Should -BeFalse } finally { Close-MessageQueue $q } } }

        # IPC objects and limits
        @{ Cmdlet = 'Get-IpcObject'; Parameter = 'Name'; By = 'Value'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); ($n | Get-IpcObject -WarningAction SilentlyContinue).Kind | Should -Be 'SharedMemory' } }
        @{ Cmdlet = 'Get-IpcObject'; Parameter = 'Name'; By = 'PropertyName'; Run = { $s = New-SharedMemory -Name $n -Size 4KB; try { (Get-SharedMemory -Name $n | Get-IpcObject -WarningAction SilentlyContinue).Holders.ProcessId | Should -Contain $PID } finally { Close-SharedMemory $s } } }
        @{ Cmdlet = 'Remove-IpcObject'; Parameter = 'InputObject'; By = 'Value'; Run = { Close-SharedMemory (New-SharedMemory -Name $n -Size 4KB); Get-IpcObject $n -WarningAction SilentlyContinue | Remove-IpcObject -Confirm:$false; Test-Path -LiteralPath "/dev/shm$n" | Should -BeFalse } }
        @{ Cmdlet = 'Get-IpcLimit'; Parameter = 'Name'; By = 'Value'; Run = { $limit = 'fs.mqueue.msg_max' | Get-IpcLimit; $limit.Value | Should -Be ([long](Get-Content /proc/sys/fs/mqueue/msg_max)) } }

        # file locks, the page cache and ELF files
        @{ Cmdlet = 'Lock-File'; Parameter = 'Path'; By = 'Value'; Run = { $f = Join-Path $dir 'a.lock'; $l = $f | Lock-File -Kind Ofd; try { (Test-FileLock $f -Kind Ofd -PassThru).Kind | Should -Be 'Ofd' } finally { Unlock-File $l } } }
        @{ Cmdlet = 'Lock-File'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'b.lock'; $null = New-Item $f; $l = Get-Item $f | Lock-File -Kind Ofd; try { $l.Path | Should -Be $f; (Get-FileLock -Path $f).HeldBy | Should -Contain $PID } finally { Unlock-File $l } } }
        @{ Cmdlet = 'Test-FileLock'; Parameter = 'Path'; By = 'Value'; Run = { $f = Join-Path $dir 'c.lock'; $l = Lock-File $f -Kind Ofd; try { ($f | Test-FileLock -Kind Ofd -PassThru).Mode | Should -Be 'Exclusive' } finally { Unlock-File $l } } }
        @{ Cmdlet = 'Test-FileLock'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'd.lock'; $l = Lock-File $f -Kind Ofd; try { $l | Test-FileLock -Kind Ofd | Should -BeTrue } finally { Unlock-File $l } } }
        @{ Cmdlet = 'Get-FileLock'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'e.lock'; $l = Lock-File $f -Kind Ofd; try { (Get-Item $f | Get-FileLock).Kind | Should -Be 'Ofd' } finally { Unlock-File $l } } }
        @{ Cmdlet = 'Unlock-File'; Parameter = 'InputObject'; By = 'Value'; Run = { $f = Join-Path $dir 'f.lock'; $l = Lock-File $f -Kind Ofd; $l | Unlock-File; $l.IsReleased | Should -BeTrue; @(Get-FileLock -Path $f) | Should -BeNullOrEmpty } }
        # The kernel shows a file's page cache only to its owner or a writer (EPERM otherwise): a file of the test's own.
        @{ Cmdlet = 'Get-FileResidency'; Parameter = 'Path'; By = 'Value'; Run = { $f = Join-Path $dir 'cached'; Copy-Item /usr/bin/true $f; ($f | Get-FileResidency).FileSize | Should -Be (Get-Item $f).Length } }
        @{ Cmdlet = 'Get-FileResidency'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'cached'; Copy-Item /usr/bin/true $f; ([pscustomobject]@{ Path = Join-Path $dir 'cache?' } | Get-FileResidency).Path | Should -Be $f } }
        @{ Cmdlet = 'Get-FileResidency'; Parameter = 'LiteralPath'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'cached[1]'; Copy-Item /usr/bin/true -Destination $f; (Get-Item -LiteralPath $f | Get-FileResidency).Path | Should -Be $f } }
        @{ Cmdlet = 'Set-FileAdvice'; Parameter = 'Path'; By = 'Value'; Run = { $f = Join-Path $dir 'advised.bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(8KB)); ($f | Set-FileAdvice -Advice WillNeed -PassThru -Confirm:$false).Path | Should -Be $f } }
        @{ Cmdlet = 'Set-FileAdvice'; Parameter = 'Path'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'advised.bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(8KB)); ([pscustomobject]@{ Path = $f } | Set-FileAdvice -Advice WillNeed -PassThru -Confirm:$false).FileSize | Should -Be 8KB } }
        @{ Cmdlet = 'Set-FileAdvice'; Parameter = 'LiteralPath'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'advised[1].bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(8KB)); (Get-Item -LiteralPath $f | Set-FileAdvice -Advice WillNeed -PassThru -Confirm:$false).FileSize | Should -Be 8KB } }
        @{ Cmdlet = 'Get-ElfFile'; Parameter = 'Path'; By = 'Value'; Run = { ('/usr/bin/true' | Get-ElfFile).Interpreter | Should -Not -BeNullOrEmpty } }
        @{ Cmdlet = 'Get-ElfFile'; Parameter = 'Path'; By = 'PropertyName'; Run = { (Get-Command -Name true -CommandType Application | Select-Object -First 1 | Get-ElfFile).Needed | Should -Contain 'libc.so.6' } }
        @{ Cmdlet = 'Get-ElfFile'; Parameter = 'LiteralPath'; By = 'PropertyName'; Run = { $f = Join-Path $dir '['; Copy-Item -LiteralPath /usr/bin/true $f; (Get-ChildItem -LiteralPath $dir | Get-ElfFile).Path | Should -Be $f } }
        @{ Cmdlet = 'Get-ElfSymbol'; Parameter = 'Path'; By = 'Value'; Run = { @('/usr/bin/true' | Get-ElfSymbol -Table Dynamic -Undefined).Count | Should -BeGreaterThan 5 } }
        @{ Cmdlet = 'Get-ElfSymbol'; Parameter = 'Path'; By = 'PropertyName'; Run = { @([pscustomobject]@{ Path = '/usr/bin/true' } | Get-ElfSymbol -Table Dynamic -Undefined).Name | Should -Contain 'exit' } }
        @{ Cmdlet = 'Get-ElfSymbol'; Parameter = 'LiteralPath'; By = 'PropertyName'; Run = { @(Get-Item /usr/bin/true | Get-ElfSymbol -Table Dynamic -Undefined).Name | Should -Contain 'exit' } }
        @{ Cmdlet = 'Resolve-ElfDependency'; Parameter = 'Path'; By = 'Value'; Run = { @('/usr/bin/true' | Resolve-ElfDependency).Name | Should -Contain 'libc.so.6' } }
        @{ Cmdlet = 'Resolve-ElfDependency'; Parameter = 'Path'; By = 'PropertyName'; Run = { @([pscustomobject]@{ Path = '/usr/bin/true' } | Resolve-ElfDependency).Name | Should -Contain 'libc.so.6' } }
        @{ Cmdlet = 'Resolve-ElfDependency'; Parameter = 'LiteralPath'; By = 'PropertyName'; Run = { $f = Join-Path $dir 'true[1]'; Copy-Item -LiteralPath /usr/bin/true $f; @(Get-Item -LiteralPath $f | Resolve-ElfDependency).Name | Should -Contain 'libc.so.6' } }

        # shared libraries and system calls
        @{ Cmdlet = 'Open-SharedLibrary'; Parameter = 'Name'; By = 'Value'; Run = { $l = 'libm.so.6' | Open-SharedLibrary; try { $l.Path | Should -BeLike '*/libm.so.6' } finally { Close-SharedLibrary $l } } }
        @{ Cmdlet = 'Open-SharedLibrary'; Parameter = 'Name'; By = 'PropertyName'; Run = { $libm = Open-SharedLibrary libm.so.6; try { $l = Get-Item $libm.Path | Open-SharedLibrary; $l.BaseAddress | Should -Be $libm.BaseAddress } finally { Close-SharedLibrary $l, $libm } } }
        @{ Cmdlet = 'Get-SharedLibrarySymbol'; Parameter = 'Library'; By = 'Value'; Run = { $libm = Open-SharedLibrary libm.so.6; try { ($libm | Get-SharedLibrarySymbol -Name cos).LibraryPath | Should -Be $libm.Path } finally { Close-SharedLibrary $libm } } }
        @{ Cmdlet = 'Get-SharedLibrarySymbol'; Parameter = 'Address'; By = 'PropertyName'; Run = { $libm = Open-SharedLibrary libm.so.6; try { $cos = Get-SharedLibrarySymbol $libm cos; $described = $cos | Get-SharedLibrarySymbol; $described.Address | Should -Be $cos.Address; $described.LibraryPath | Should -Be $libm.Path } finally { Close-SharedLibrary $libm } } }
        @{ Cmdlet = 'Invoke-SharedLibraryFunction'; Parameter = 'Symbol'; By = 'Value'; Run = { $libm = Open-SharedLibrary libm.so.6; try { Get-SharedLibrarySymbol $libm cos | Invoke-SharedLibraryFunction -Signature 'double(double)' -ArgumentList 0 -Confirm:$false | Should -Be 1 } finally { Close-SharedLibrary $libm } } }
        @{ Cmdlet = 'Close-SharedLibrary'; Parameter = 'InputObject'; By = 'Value'; Run = { $l = Open-SharedLibrary libm.so.6; $l | Close-SharedLibrary; $l.IsClosed | Should -BeTrue } }
        @{ Cmdlet = 'Get-Syscall'; Parameter = 'Name'; By = 'Value'; Run = { @('futex', 'openat' | Get-Syscall).Name | Should -Be 'futex', 'openat' } }
    )
}

Describe 'Pipeline input' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:mqueueFs = [Sysprog.MessageQueue]::IsMqueueFsMounted()

        function Get-PipelineBinding {
            # Runs a script block under a ParameterBinding trace and returns what it bound from the pipeline, one
            # "Cmdlet -Parameter by Value|PropertyName" each: the trace's "BIND PIPELINE object to parameters:
            # [Cmdlet]", then "Parameter [P] PIPELINE INPUT ValueFromPipeline(ByPropertyName)", then "BIND arg ...
            # to param [P] SUCCESSFUL". A failure in the block is thrown once the trace is stopped.
            param([Parameter(Mandatory)][scriptblock] $ScriptBlock)
            $log = Join-Path $TestDrive "binding-$([guid]::NewGuid().ToString('N')).log"
            $rendering = $PSStyle.OutputRendering
            # The trace file is written through PowerShell's formatting: without this it carries colours and wraps.
            $PSStyle.OutputRendering = 'PlainText'
            try {
                $failure = Trace-Command -Name ParameterBinding -FilePath $log -Expression { try { $null = & $ScriptBlock } catch { $_ } }
            }
            finally {
                $PSStyle.OutputRendering = $rendering
            }
            $cmdlet = $attempt = $null
            foreach ($line in Get-Content -LiteralPath $log) {
                if ($line -match 'BIND PIPELINE object to parameters: \[(.+)\]$') { $cmdlet = $Matches[1]; $attempt = $null }
                elseif ($line -match 'MANDATORY PARAMETER CHECK|CALLING (Begin|Process|End)Processing') { $cmdlet = $null }
                elseif ($cmdlet -and $line -match 'Parameter \[(\w+)\] PIPELINE INPUT ValueFromPipeline(ByPropertyName)? ') {
                    $attempt = "$cmdlet -$($Matches[1]) by $(if ($Matches[2]) { 'PropertyName' } else { 'Value' })"
                }
                elseif ($attempt -and $line -match 'to param \[(\w+)\] SUCCESSFUL$' -and $attempt -like "* -$($Matches[1]) by *") { $attempt }
            }
            if ($failure) { throw $failure }
        }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Remove-TestObjectAll
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'has a case for every parameter of every exported cmdlet that takes pipeline input, each way it takes it, and no other' -ForEach @(@{ Covered = @($script:cases | ForEach-Object { "$($_.Cmdlet) -$($_.Parameter) by $($_.By)" }) }) {
        $declared = foreach ($command in Get-Command -Module Sysprog -CommandType Cmdlet) {
            foreach ($parameter in $command.Parameters.Values) {
                $attributes = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
                if ($attributes.ValueFromPipeline -contains $true) { "$($command.Name) -$($parameter.Name) by Value" }
                if ($attributes.ValueFromPipelineByPropertyName -contains $true) { "$($command.Name) -$($parameter.Name) by PropertyName" }
            }
        }

        @($declared | Where-Object { $_ -notin $Covered }) | Should -BeNullOrEmpty -Because 'each needs a case that feeds it'
        @($Covered | Where-Object { $_ -notin $declared }) | Should -BeNullOrEmpty -Because 'a case must feed a parameter that takes that input'
        @($Covered | Group-Object | Where-Object Count -GT 1).Name | Should -BeNullOrEmpty -Because 'one case each'
        @($declared).Count | Should -BeGreaterThan 100
    }

    It '<Cmdlet> takes -<Parameter> from the pipeline by <By>' -ForEach $script:cases {
        if ($NeedsMqueueFs -and -not $script:mqueueFs) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $n = New-TestName
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('N')))).FullName

        $bound = @(Get-PipelineBinding $Run)

        $bound | Should -Contain "$Cmdlet -$Parameter by $By" -Because "the case pipes into that parameter (bound from the pipeline: $($bound -join '; '))"
    }
}
