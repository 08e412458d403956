#Requires -Version 7.4
# Bad input, tried systematically on every cmdlet parameter: each parameter of each parameter set in turn gets the bad
# values below while the others keep a valid value (the valid call alone must succeed). Every case must end within a
# second (or three times the valid call's own time, for a cmdlet that reads the whole machine) in success or the
# error it deserves: a parameter-binding error on that parameter, or an ErrorRecord with a
# named id and category whose exception is an ArgumentException naming that parameter, a SysprogException with a
# named errno, or a not-found naming what was looked for. Never a crash, a hang, an exception from inside .NET (its
# id is its type, System.*, and its category NotSpecified), nor a state error or timeout that the case does not call
# for; where one is right, $knownErrors below lists it for that cmdlet and parameter, with the reason. Cases run in a
# second runspace, so a hang is stopped (StopProcessing) and reported instead of blocking the suite.
BeforeDiscovery {
    # One valid call per cmdlet and parameter set: a script block, run in the case runspace, that returns the splat.
    # New-TestName and $BadInputFile (an 8 KiB file) are there.
    $script:baselines = @(
        @{ Cmdlet = 'New-Inotify'; Valid = { @{ Path = $BadInputFolder; Event = 'Create' } } }
        @{ Cmdlet = 'Add-InotifyWatch'; Valid = { @{ InputObject = New-Inotify; Path = $BadInputFolder; Option = 'OnlyDir' } } }
        @{ Cmdlet = 'Remove-InotifyWatch'; Set = 'Watch'; Valid = { @{ Watch = (New-Inotify $BadInputFolder).Watches } } }
        @{ Cmdlet = 'Remove-InotifyWatch'; Set = 'Path'; Valid = { @{ InputObject = New-Inotify $BadInputFolder; Path = $BadInputFolder } } }
        # Something to read: an event (a file made after the watch), the output of echo, a timer that fires at once.
        @{ Cmdlet = 'Read-Inotify'; Valid = { $i = New-Inotify $BadInputFolder; [System.IO.File]::WriteAllText((Join-Path $BadInputFolder "$([guid]::NewGuid()).event"), ''); @{ InputObject = $i; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Close-Inotify'; Valid = { @{ InputObject = New-Inotify } } }
        # Programs that end on the hang-up when the case closes the pty, so a case never waits out the grace period.
        @{ Cmdlet = 'Start-Pty'; Valid = { @{ FilePath = 'cat'; ArgumentList = @('-u'); Rows = 24; Columns = 80; WorkingDirectory = $BadInputFolder; Environment = @{ SYSPROG_BAD_INPUT = '1' } } } }
        @{ Cmdlet = 'Read-Pty'; Valid = { @{ InputObject = Start-Pty echo hi; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Write-Pty'; Valid = { @{ InputObject = Start-Pty cat; Text = 'hi'; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Wait-Pty'; Set = 'Pattern'; Valid = { @{ InputObject = Start-Pty echo hi; Pattern = 'hi'; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Wait-Pty'; Set = 'Exit'; Valid = { @{ InputObject = Start-Pty true; Exit = $true; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Set-Pty'; Valid = { @{ InputObject = Start-Pty cat; Rows = 30; Columns = 100; Confirm = $false } } }
        @{ Cmdlet = 'Close-Pty'; Valid = { @{ InputObject = Start-Pty cat } } }
        @{ Cmdlet = 'Close-EventFd'; Valid = { @{ InputObject = New-EventFd } } }
        @{ Cmdlet = 'New-Pipe'; Valid = { @{ Capacity = 8192; Packet = $true; Inheritable = $false } } }
        @{ Cmdlet = 'New-Fifo'; Valid = { @{ Path = Join-Path $BadInputFolder "$([guid]::NewGuid()).fifo"; Mode = '600'; Confirm = $false } } }
        # Non-blocking, or a timeout of 0: a case never waits for a writer.
        @{ Cmdlet = 'Open-Fifo'; Valid = { @{ Path = (New-Fifo (Join-Path $BadInputFolder "$([guid]::NewGuid()).fifo")).FullName; Access = 'Read'; NonBlocking = $true; TimeoutSeconds = 0; Inheritable = $false } } }
        @{ Cmdlet = 'Read-FileDescriptor'; Set = 'Available'; Valid = { $p = New-Pipe | Protect-FromCollection; Write-FileDescriptor $p 'hi'; @{ InputObject = $p.ReadEnd; Wait = $true; AsByteStream = $true; Encoding = 'utf8'; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Read-FileDescriptor'; Set = 'Count'; Valid = { $p = New-Pipe | Protect-FromCollection; Write-FileDescriptor $p 'hi'; @{ InputObject = $p.ReadEnd; Count = 2; Encoding = 'utf8'; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Read-FileDescriptor'; Set = 'Delimiter'; Valid = { $p = New-Pipe | Protect-FromCollection; Write-FileDescriptor $p 'hi'; @{ InputObject = $p.ReadEnd; Delimiter = "`n"; Wait = $true; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Write-FileDescriptor'; Valid = { @{ InputObject = (New-Pipe).WriteEnd; Value = 'hi'; NoNewline = $true; Encoding = 'utf8'; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Set-Pipe'; Valid = { @{ InputObject = New-Pipe; Capacity = 8192; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Close-Pipe'; Valid = { @{ InputObject = New-Pipe } } }
        @{ Cmdlet = 'Close-MemoryMap'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB } } }
        @{ Cmdlet = 'Close-MessageQueue'; Valid = { @{ InputObject = New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64 } } }
        @{ Cmdlet = 'Close-Semaphore'; Valid = { @{ InputObject = New-Semaphore -Name (New-TestName) } } }
        @{ Cmdlet = 'Close-SharedMemory'; Valid = { @{ InputObject = New-SharedMemory -Name (New-TestName) -Size 4KB } } }
        @{ Cmdlet = 'Close-SignalFd'; Valid = { @{ InputObject = New-SignalFd -Signal USR1 } } }
        @{ Cmdlet = 'Close-TimerFd'; Valid = { @{ InputObject = New-TimerFd } } }
        @{ Cmdlet = 'Get-IpcLimit'; Valid = { @{ Name = 'fs.*' } } }
        @{ Cmdlet = 'Get-IpcObject'; Valid = { @{ Name = '/sysprog-pester-none*'; Kind = 'SharedMemory'; WarningAction = 'SilentlyContinue' } } }
        @{ Cmdlet = 'Remove-IpcObject'; Valid = { $n = New-TestName; New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; @{ InputObject = Get-IpcObject $n -WarningAction SilentlyContinue; Confirm = $false } } }
        @{ Cmdlet = 'New-MqNotification'; Valid = { @{ Queue = New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64; Signal = 'USR2' } } }
        @{ Cmdlet = 'Enable-MqNotification'; Valid = { $m = New-MqNotification (New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64); $m.Disarm(); @{ InputObject = $m } } }
        @{ Cmdlet = 'Close-MqNotification'; Valid = { @{ InputObject = New-MqNotification (New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64) } } }
        @{ Cmdlet = 'Get-MessageQueue'; Valid = { @{ Name = '/sysprog-pester-none*' } } }
        @{ Cmdlet = 'Get-ProcessMapping'; Valid = { @{ Id = $PID; Kind = 'Heap' } } }
        @{ Cmdlet = 'Show-ProcessMapping'; Set = 'Id'; Valid = { @{ Id = $PID; Width = 80; Compare = $PID } } }
        @{ Cmdlet = 'Show-ProcessMapping'; Set = 'InputObject'; Valid = { @{ InputObject = @(Get-ProcessMapping -Id $PID); Compare = $PID } } }
        @{ Cmdlet = 'Get-Semaphore'; Valid = { @{ Name = '/sysprog-pester-none*' } } }
        @{ Cmdlet = 'Get-SharedMemory'; Valid = { @{ Name = '/sysprog-pester-none*' } } }
        @{ Cmdlet = 'Invoke-EventLoop'; Valid = { $e = New-EventFd 1; @{ Handler = @{ $e = { $_.Loop.Stop() } }; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Invoke-MemoryMap'; Set = 'Anonymous'; Valid = { @{ Anonymous = $true; Size = 4KB; ScriptBlock = { $_.Length } } } }
        @{ Cmdlet = 'Invoke-MemoryMap'; Set = 'File'; Valid = { @{ Path = $BadInputFile; Length = 4KB; Offset = 0; ScriptBlock = { $_.Length } } } }
        @{ Cmdlet = 'Invoke-MemoryMap'; Set = 'SharedMemory'; Valid = { @{ InputObject = New-SharedMemory -Name (New-TestName) -Size 8KB; ScriptBlock = { $_.Length } } } }
        @{ Cmdlet = 'Invoke-MemoryMap'; Set = 'Name'; Valid = { $n = New-TestName; New-SharedMemory -Name $n -Size 8KB | Close-SharedMemory; @{ Name = $n; ScriptBlock = { $_.Length } } } }
        @{ Cmdlet = 'Lock-File'; Set = 'Hold'; Valid = { @{ Path = Join-Path $BadInputFolder 'valid.lock'; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Lock-File'; Set = 'ScriptBlock'; Valid = { @{ Path = Join-Path $BadInputFolder 'valid.lock'; TimeoutSeconds = 0; ScriptBlock = { 1 } } } }
        # A lock file per case: a case whose bad value replaced the lock leaves that lock to the finalizer.
        @{ Cmdlet = 'Unlock-File'; Valid = { @{ InputObject = Lock-File -Path (Join-Path $BadInputFolder "$([guid]::NewGuid()).lock") -TimeoutSeconds 0 } } }
        # Children that end by themselves; limits and scheduling are only ever set on them, never on this session.
        @{ Cmdlet = 'Start-ChildProcess'; Valid = { @{ FilePath = 'true'; ArgumentList = @('x'); WorkingDirectory = $BadInputFolder; Environment = @{ SYSPROG_BAD_INPUT = '1' }; Descriptor = @{ 3 = New-EventFd }; NewProcessGroup = $true; BlockSignal = 'USR1'; SchedulingPolicy = 'Other'; SchedulingPriority = 0 } } }
        @{ Cmdlet = 'Wait-ChildProcess'; Valid = { @{ InputObject = Start-ChildProcess true; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Stop-ChildProcess'; Valid = { @{ InputObject = Start-ChildProcess sleep 5; Signal = 'TERM'; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Get-ChildProcess'; Valid = { $c = Start-ChildProcess true; @{ Id = $c.ProcessId } } }
        @{ Cmdlet = 'Close-ChildProcess'; Valid = { @{ InputObject = Start-ChildProcess true } } }
        @{ Cmdlet = 'Get-ProcessScheduling'; Valid = { @{ Id = $PID; ThreadId = $PID; AllThreads = $false } } }
        @{ Cmdlet = 'Set-ProcessScheduling'; Valid = { @{ Id = (Start-ChildProcess sleep 5).ProcessId; Policy = 'Batch'; Priority = 0; ResetOnFork = $true; Nice = 3; Affinity = @(0); PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Get-ProcessLimit'; Valid = { @{ Id = $PID; Resource = 'NoFile' } } }
        @{ Cmdlet = 'Set-ProcessLimit'; Valid = { @{ Id = (Start-ChildProcess sleep 5).ProcessId; Resource = 'NoFile'; Soft = 100; Hard = 200; Force = $false; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Get-Syscall'; Valid = { @{ Name = 'futex'; Number = 0; Architecture = 'X64' } } }
        @{ Cmdlet = 'Get-ProcessSyscall'; Valid = { @{ Id = $PID; ThreadId = $PID } } }
        @{ Cmdlet = 'Get-ProgramBreak'; Valid = { @{ Id = $PID } } }
        @{ Cmdlet = 'Set-FileAdvice'; Set = 'Path'; Valid = { @{ Path = $BadInputFile; Advice = 'WillNeed'; Offset = 0; Length = 4KB; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Set-FileAdvice'; Set = 'LiteralPath'; Valid = { @{ LiteralPath = $BadInputFile; Advice = 'WillNeed'; Offset = 0; Length = 4KB; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Get-FileResidency'; Set = 'Path'; Valid = { @{ Path = $BadInputFile; Offset = 0; Length = 4KB } } }
        @{ Cmdlet = 'Get-FileResidency'; Set = 'LiteralPath'; Valid = { @{ LiteralPath = $BadInputFile; Offset = 0; Length = 4KB } } }
        @{ Cmdlet = 'Get-SysprogHandle'; Valid = { @{ Kind = 'EventFd'; RunspaceId = 1 } } }
        @{ Cmdlet = 'Measure-IpcMechanism'; Valid = { @{ Mechanism = 'EventFd'; MessageSize = 8; RoundTrips = 2; Messages = 2 } } }
        @{ Cmdlet = 'Show-TimerLatency'; Valid = { @{ InputObject = Measure-TimerLatency -IntervalMilliseconds 0.2 -Count 5; Width = 80 } } }
        @{ Cmdlet = 'Measure-TimerLatency'; Valid = { @{ IntervalMilliseconds = 0.2; Count = 5; Timer = 'TimerFd'; Policy = 'Other'; Priority = 0; LockMemory = $false; Cpu = 0; Histogram = $true } } }
        @{ Cmdlet = 'Get-TerminalSize'; Valid = { $global:CasePty = Start-Pty cat; @{ Path = $CasePty.SecondaryPath } } }
        @{ Cmdlet = 'Set-TerminalSize'; Valid = { $global:CasePty = Start-Pty cat; @{ Path = $CasePty.SecondaryPath; Rows = 30; Columns = 90; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Test-FileLock'; Valid = { @{ Path = $BadInputFile } } }
        @{ Cmdlet = 'Get-FileLock'; Valid = { @{ Path = $BadInputFile; ProcessId = $PID } } }
        @{ Cmdlet = 'Lock-Memory'; Set = 'Mapping'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB } } }
        @{ Cmdlet = 'New-EventFd'; Valid = { @{ InitialValue = 1 } } }
        @{ Cmdlet = 'New-MemoryMap'; Set = 'Anonymous'; Valid = { @{ Anonymous = $true; Size = 4KB; Protection = 'ReadWrite'; Visibility = 'Private' } } }
        @{ Cmdlet = 'New-MemoryMap'; Set = 'File'; Valid = { @{ Path = $BadInputFile; Offset = 0; Length = 4KB } } }
        @{ Cmdlet = 'New-MemoryMap'; Set = 'SharedMemory'; Valid = { @{ InputObject = New-SharedMemory -Name (New-TestName) -Size 8KB } } }
        @{ Cmdlet = 'New-MemoryMap'; Set = 'Name'; Valid = { $n = New-TestName; New-SharedMemory -Name $n -Size 8KB | Close-SharedMemory; @{ Name = $n } } }
        @{ Cmdlet = 'New-MessageQueue'; Valid = { @{ Name = New-TestName; MaxMessages = 4; MaxMessageSize = 64; Mode = '600' } } }
        @{ Cmdlet = 'New-Semaphore'; Set = 'Name'; Valid = { @{ Name = New-TestName; Value = 1; Mode = '600' } } }
        @{ Cmdlet = 'New-Semaphore'; Set = 'Memory'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; Offset = 0; Value = 1 } } }
        @{ Cmdlet = 'New-SharedMemory'; Set = 'Named'; Valid = { @{ Name = New-TestName; Size = 4KB; Mode = '600' } } }
        @{ Cmdlet = 'New-SharedMemory'; Set = 'Anonymous'; Valid = { @{ Anonymous = $true; Name = 'bad-input'; Size = 4KB; Seal = 'Shrink'; Confirm = $false } } }
        @{ Cmdlet = 'Add-SharedMemorySeal'; Valid = { @{ InputObject = New-SharedMemory -Anonymous -Size 4KB; Seal = 'Grow'; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'New-Socket'; Set = 'Path'; Valid = { @{ Path = Join-Path $BadInputFolder "$([guid]::NewGuid().ToString('N')).sock"; Type = 'Stream'; Backlog = 4; Mode = '600'; Force = $true; Inheritable = $false; Confirm = $false } } }
        @{ Cmdlet = 'New-Socket'; Set = 'Name'; Valid = { @{ Name = "sysprog-bad-$([guid]::NewGuid().ToString('N'))"; Type = 'SeqPacket'; Backlog = 4; Confirm = $false } } }
        @{ Cmdlet = 'New-Socket'; Set = 'Address'; Valid = { @{ Address = '127.0.0.1'; Port = 0; AddressFamily = 'IPv4'; ReuseAddress = $true; ReusePort = $true; Type = 'Stream'; Backlog = 4; Confirm = $false } } }
        @{ Cmdlet = 'New-Socket'; Set = 'Unbound'; Valid = { @{ Unbound = $true; Family = 'IPv4'; Type = 'Datagram' } } }
        @{ Cmdlet = 'Connect-Socket'; Set = 'Path'; Valid = { $s = New-Socket -Path (Join-Path $BadInputFolder "$([guid]::NewGuid().ToString('N')).sock") | Protect-FromCollection; @{ Path = $s.BoundPath; Type = 'Stream'; TimeoutSeconds = 1; Inheritable = $false } } }
        @{ Cmdlet = 'Connect-Socket'; Set = 'Name'; Valid = { $s = New-Socket -Name "sysprog-bad-$([guid]::NewGuid().ToString('N'))" | Protect-FromCollection; @{ Name = $s.LocalEndpoint.AbstractName; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Connect-Socket'; Set = 'Address'; Valid = { $s = New-Socket -Address 127.0.0.1 -Port 0 | Protect-FromCollection; @{ Address = '127.0.0.1'; Port = $s.LocalEndpoint.Port; AddressFamily = 'IPv4'; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'New-SocketPair'; Valid = { @{ Type = 'Datagram'; Inheritable = $false } } }
        @{ Cmdlet = 'Receive-SocketConnection'; Valid = { $s = New-Socket -Name "sysprog-bad-$([guid]::NewGuid().ToString('N'))"; $null = Connect-Socket -Name $s.LocalEndpoint.AbstractName | Protect-FromCollection; @{ InputObject = $s; Count = 1; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Send-SocketMessage'; Valid = { $p = New-SocketPair -Type Datagram; @{ Socket = $p.First; Value = 'hi'; Descriptor = @(New-EventFd); Encoding = 'utf8'; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Receive-SocketMessage'; Set = 'Count'; Valid = { $p = New-SocketPair | Protect-FromCollection; Send-SocketMessage $p.First 'hi'; @{ InputObject = $p.Second; Count = 1; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Receive-SocketMessage'; Set = 'Wait'; Valid = { $p = New-SocketPair | Protect-FromCollection; Send-SocketMessage $p.First 'hi'; @{ InputObject = $p.Second; Wait = $true; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Disconnect-Socket'; Valid = { $p = New-SocketPair | Protect-FromCollection; @{ InputObject = $p.First; Direction = 'Send'; Confirm = $false } } }
        @{ Cmdlet = 'Close-Socket'; Valid = { @{ InputObject = New-SocketPair } } }
        @{ Cmdlet = 'Get-Socket'; Valid = { @{ Protocol = 'Unix'; State = 'LISTEN'; Port = 1; Path = '/nowhere/*'; ProcessId = $PID } } }
        @{ Cmdlet = 'New-SignalFd'; Valid = { @{ Signal = 'USR1' } } }
        @{ Cmdlet = 'New-TimerFd'; Valid = { @{ Clock = 'Monotonic' } } }
        @{ Cmdlet = 'Open-MessageQueue'; Valid = { $n = New-TestName; New-MessageQueue -Name $n -MaxMessages 2 -MaxMessageSize 64 | Close-MessageQueue; @{ Name = $n; Access = 'ReadWrite' } } }
        @{ Cmdlet = 'Open-Semaphore'; Set = 'Name'; Valid = { $n = New-TestName; New-Semaphore -Name $n | Close-Semaphore; @{ Name = $n } } }
        @{ Cmdlet = 'Open-Semaphore'; Set = 'Memory'; Valid = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; $null = New-Semaphore -InputObject $m -Offset 0; @{ InputObject = $m; Offset = 0 } } }
        @{ Cmdlet = 'Open-SharedMemory'; Valid = { $n = New-TestName; New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; @{ Name = $n } } }
        @{ Cmdlet = 'Read-EventFd'; Valid = { @{ InputObject = New-EventFd -InitialValue 1; TimeoutSeconds = 0 } } }
        # This session's own memory, in a mapping made for the case and held by a global until the next case's
        # replaces it, so the address written to stays this mapping's for the whole call.
        @{ Cmdlet = 'Read-ProcessMemory'; Set = 'Address'; Valid = { $global:CaseMapping = New-MemoryMap -Anonymous -Size 4KB; @{ Id = $PID; Address = $CaseMapping.Address; Count = 8; As = 'Int64' } } }
        @{ Cmdlet = 'Read-ProcessMemory'; Set = 'Mapping'; Valid = { @{ Mapping = Get-ProcessMapping -Id $PID | Select-Object -First 1; Offset = 0; Count = 16 } } }
        @{ Cmdlet = 'Write-ProcessMemory'; Set = 'Bytes'; Valid = { $global:CaseMapping = New-MemoryMap -Anonymous -Size 4KB; @{ Id = $PID; Address = $CaseMapping.Address; Bytes = [byte[]](1, 2); Force = $true; Confirm = $false } } }
        @{ Cmdlet = 'Read-ProcessMemory'; Set = 'Symbol'; Valid = { @{ Id = $PID; Symbol = 'environ'; Count = 1; As = 'Int64' } } }
        @{ Cmdlet = 'Get-ElfFile'; Set = 'Path'; Valid = { @{ Path = '/usr/bin/true' } } }
        @{ Cmdlet = 'Get-ElfFile'; Set = 'LiteralPath'; Valid = { @{ LiteralPath = '/usr/bin/true' } } }
        @{ Cmdlet = 'Get-ElfSymbol'; Set = 'Path'; Valid = { @{ Path = '/usr/bin/true'; Name = 'mem*'; Table = 'Dynamic'; Type = 'Function'; Undefined = $true } } }
        @{ Cmdlet = 'Get-ElfSymbol'; Set = 'LiteralPath'; Valid = { @{ LiteralPath = '/usr/bin/true'; Name = 'mem*'; Table = 'Dynamic'; Type = 'Function'; Undefined = $true } } }
        @{ Cmdlet = 'Resolve-ElfDependency'; Set = 'Path'; Valid = { @{ Path = '/usr/bin/true'; LibraryPath = ''; All = $true } } }
        @{ Cmdlet = 'Resolve-ElfDependency'; Set = 'LiteralPath'; Valid = { @{ LiteralPath = '/usr/bin/true'; LibraryPath = ''; All = $true } } }
        @{ Cmdlet = 'Open-SharedLibrary'; Valid = { @{ Name = 'libm.so.6'; Global = $false; DeepBind = $false; NoDelete = $false; NoLoad = $false; Lazy = $false } } }
        @{ Cmdlet = 'Close-SharedLibrary'; Valid = { @{ InputObject = Open-SharedLibrary libm.so.6; PassThru = $true } } }
        @{ Cmdlet = 'Get-SharedLibrary'; Valid = { @{ Name = '*libc*' } } }
        @{ Cmdlet = 'Get-SharedLibrarySymbol'; Set = 'Library'; Valid = { @{ Library = Open-SharedLibrary libm.so.6; Name = 'cos'; Version = 'GLIBC_2.2.5' } } }
        @{ Cmdlet = 'Get-SharedLibrarySymbol'; Set = 'Scope'; Valid = { @{ Scope = 'Default'; Name = 'strlen' } } }
        @{ Cmdlet = 'Get-SharedLibrarySymbol'; Set = 'Address'; Valid = { @{ Address = (Get-SharedLibrarySymbol -Scope Default strlen).Address } } }
        # strlen and cos: whatever a bad value makes of the other parameters, no call can do harm.
        @{ Cmdlet = 'Invoke-SharedLibraryFunction'; Set = 'Library'; Valid = { @{ Library = Open-SharedLibrary libm.so.6; Name = 'cos'; Signature = 'double(double)'; ArgumentList = @(0.5); Confirm = $false } } }
        @{ Cmdlet = 'Invoke-SharedLibraryFunction'; Set = 'Scope'; Valid = { @{ Scope = 'Default'; Name = 'strlen'; Signature = 'size_t(const char*)'; ArgumentList = @('abc'); Confirm = $false } } }
        @{ Cmdlet = 'Invoke-SharedLibraryFunction'; Set = 'Symbol'; Valid = { @{ Symbol = Get-SharedLibrarySymbol -Scope Default strlen; Signature = 'size_t(const char*)'; ArgumentList = @('abc'); Confirm = $false } } }
        @{ Cmdlet = 'Read-SignalFd'; Valid = { @{ InputObject = New-SignalFd -Signal USR1; TimeoutSeconds = 0; Count = 1 } } }
        @{ Cmdlet = 'Read-TimerFd'; Valid = { @{ InputObject = New-TimerFd | Set-TimerFd -DelaySeconds 0.001 -PassThru; TimeoutSeconds = 1 } } }
        @{ Cmdlet = 'Receive-MqMessage'; Valid = { $q = New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64; 'hi' | Send-MqMessage -Queue $q; @{ Queue = $q; TimeoutSeconds = 0; Count = 1; Encoding = 'utf8' } } }
        @{ Cmdlet = 'Remove-MessageQueue'; Valid = { $n = New-TestName; New-MessageQueue -Name $n -MaxMessages 2 -MaxMessageSize 64 | Close-MessageQueue; @{ Name = $n; Confirm = $false } } }
        @{ Cmdlet = 'Remove-Semaphore'; Valid = { $n = New-TestName; New-Semaphore -Name $n | Close-Semaphore; @{ Name = $n; Confirm = $false } } }
        @{ Cmdlet = 'Remove-SharedMemory'; Valid = { $n = New-TestName; New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; @{ Name = $n; Confirm = $false } } }
        @{ Cmdlet = 'Resize-SharedMemory'; Set = 'ByObject'; Valid = { @{ InputObject = New-SharedMemory -Name (New-TestName) -Size 4KB; Size = 8KB; Confirm = $false } } }
        @{ Cmdlet = 'Resize-SharedMemory'; Set = 'ByName'; Valid = { $n = New-TestName; New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; @{ Name = $n; Size = 8KB; Confirm = $false } } }
        @{ Cmdlet = 'Send-MqMessage'; Valid = { @{ Queue = New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64; InputObject = 'hi'; TimeoutSeconds = 0; Priority = 1; Encoding = 'utf8'; Depth = 2 } } }
        @{ Cmdlet = 'Set-MemoryAdvice'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB; Advice = 'Normal' } } }
        @{ Cmdlet = 'Set-MemoryProtection'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB; Protection = 'Read' } } }
        @{ Cmdlet = 'Set-MessageQueue'; Valid = { @{ InputObject = New-MessageQueue -Name (New-TestName) -MaxMessages 2 -MaxMessageSize 64; NonBlocking = $true } } }
        @{ Cmdlet = 'Set-TimerFd'; Set = 'Delay'; Valid = { @{ InputObject = New-TimerFd; DelaySeconds = 60; IntervalSeconds = 0 } } }
        @{ Cmdlet = 'Set-TimerFd'; Set = 'At'; Valid = { @{ InputObject = New-TimerFd -Clock Realtime; At = (Get-Date).AddHours(1) } } }
        @{ Cmdlet = 'Set-TimerFd'; Set = 'Disarm'; Valid = { @{ InputObject = New-TimerFd; Disarm = $true } } }
        @{ Cmdlet = 'Sync-MemoryMap'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared } } }
        @{ Cmdlet = 'Unlock-Memory'; Set = 'Mapping'; Valid = { @{ InputObject = New-MemoryMap -Anonymous -Size 4KB } } }
        @{ Cmdlet = 'Unlock-Semaphore'; Set = 'Object'; Valid = { @{ InputObject = New-Semaphore -Name (New-TestName); Count = 1 } } }
        @{ Cmdlet = 'Unlock-Semaphore'; Set = 'Name'; Valid = { $n = New-TestName; New-Semaphore -Name $n | Close-Semaphore; @{ Name = $n; Count = 1 } } }
        @{ Cmdlet = 'Wait-FileDescriptor'; Valid = { @{ InputObject = New-EventFd -InitialValue 1; TimeoutSeconds = 0; Mechanism = 'Poll' } } }
        @{ Cmdlet = 'New-PollSet'; Valid = { @{ InputObject = New-EventFd } } }
        @{ Cmdlet = 'Add-PollSetMember'; Valid = { @{ InputObject = New-PollSet; Handle = New-EventFd; Event = 'Readable'; EdgeTriggered = $true } } }
        @{ Cmdlet = 'Set-PollSetMember'; Valid = { $e = New-EventFd; @{ InputObject = New-PollSet $e; Handle = $e; Event = 'Readable', 'Writable'; OneShot = $true; Confirm = $false } } }
        @{ Cmdlet = 'Remove-PollSetMember'; Valid = { $e = New-EventFd; @{ InputObject = New-PollSet $e; Handle = $e; Confirm = $false } } }
        @{ Cmdlet = 'Wait-PollSet'; Valid = { @{ InputObject = New-PollSet (New-EventFd -InitialValue 1); TimeoutSeconds = 0; MaxEvents = 4 } } }
        @{ Cmdlet = 'Close-PollSet'; Valid = { @{ InputObject = New-PollSet } } }
        @{ Cmdlet = 'Set-FileDescriptor'; Valid = { @{ InputObject = (New-Pipe).ReadEnd; NonBlocking = $true; PassThru = $true; Confirm = $false } } }
        @{ Cmdlet = 'Wait-Semaphore'; Set = 'Object'; Valid = { @{ InputObject = New-Semaphore -Name (New-TestName) -Value 1; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Wait-Semaphore'; Set = 'Name'; Valid = { $n = New-TestName; New-Semaphore -Name $n -Value 1 | Close-Semaphore; @{ Name = $n; TimeoutSeconds = 0 } } }
        @{ Cmdlet = 'Write-EventFd'; Valid = { @{ InputObject = New-EventFd; Value = 1; TimeoutSeconds = 0 } } }
    )
}

Describe 'Bad input to every cmdlet parameter' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # Empty, huge, negative, NaN, infinite, NUL, non-UTF-8 (a lone surrogate), wrong type, null, empty array, dates.
        $script:badValues = [ordered]@{
            'empty string' = ''
            '100000 characters' = 'x' * 100000
            '-1' = -1
            'long.MinValue' = [long]::MinValue
            'long.MaxValue' = [long]::MaxValue
            'NaN' = [double]::NaN
            'Infinity' = [double]::PositiveInfinity
            '-Infinity' = [double]::NegativeInfinity
            'NUL inside' = "a$([char]0)b"
            'lone surrogate' = "a$([char]0xD800)b"
            'wrong type' = [pscustomobject]@{ Wrong = 'type' }
            'null' = $null
            'empty array' = @()
            'DateTime.MinValue' = [datetime]::MinValue
        }
        # A bad value that is a valid name ("-1", "NaN") may create an object; one that exists already would be removed
        # by a Remove-* case, so the test refuses to run over such names rather than touch someone's object.
        $script:nameLike = @($script:badValues.Values | Where-Object { $_ -isnot [array] -and $null -ne $_ } | ForEach-Object { "$_" } |
            Where-Object { $_ -and $_.Length -lt 200 -and -not $_.Contains('/') -and -not $_.Contains([char]0) })
        # Queues by name where no mqueue filesystem lists them: a bad value can name one, and nothing else would see it.
        $script:entries = {
            @(Get-DevShmName) + @(
                if ([Sysprog.MessageQueue]::IsMqueueFsMounted()) { Get-MessageQueue | ForEach-Object { $_.Name.Substring(1) } }
                else { $script:nameLike | Where-Object { Test-MessageQueueName "/$_" } })
        }
        $script:collisions = @(& $script:entries | Where-Object { $_ -in $script:nameLike -or $_ -in ($script:nameLike | ForEach-Object { "sem.$_" }) })
        $script:before = & $script:entries

        $script:badInputFile = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-badinput-$PID"
        [System.IO.File]::WriteAllBytes($script:badInputFile, [byte[]]::new(8192))
        # Cmdlets that create files (Lock-File) run in this folder, so a bad path that is a valid name ("-1") lands here.
        $script:badInputFolder = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-badinput-files-$PID"
        $null = New-Item -ItemType Directory -Path $script:badInputFolder -Force
        $script:runspace = $null
        function New-CaseRunspace {
            $runspace = [runspacefactory]::CreateRunspace()
            $runspace.Open()
            $runspace.SessionStateProxy.SetVariable('BadInputFile', $script:badInputFile)
            $runspace.SessionStateProxy.SetVariable('BadInputFolder', $script:badInputFolder)
            $null = $runspace.SessionStateProxy.Path.SetLocation($script:badInputFolder)
            $ps = [powershell]::Create()
            $ps.Runspace = $runspace
            $null = $ps.AddScript(". '$(Join-Path $PSScriptRoot 'common.ps1')'").Invoke()
            $ps.Dispose()
            $runspace
        }
        $script:caseScript = {
            param($ValidText, $Cmdlet, $Parameter, $Value)
            $mark = Get-TestNameCount
            $arguments = & ([scriptblock]::Create($ValidText))
            # No parameter: the valid call itself.
            if ($Parameter) { $arguments[$Parameter] = $Value }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $outcome = $null
            try {
                $output = & $Cmdlet @arguments -ErrorAction Stop
            }
            catch {
                $outcome = $_
            }
            $elapsed = $clock.Elapsed
            foreach ($made in @($arguments.Values) + @($output)) {
                if ($made -is [System.IDisposable]) { $made.Dispose() }
            }
            # Queues count against RLIMIT_MSGQUEUE until unlinked, so each case removes what it named.
            Remove-TestObjectAll -HandedOutSince $mark
            [pscustomobject]@{ Error = $outcome; Elapsed = $elapsed }
        }
        $script:caseCount = 0
        # The table's size, exactly: a table that shrinks fails. The README states it.
        $script:expectedCases = 5796

        function Test-DeservedError {
            # Null when the error is the one a bad value of -$Parameter deserves; otherwise what is wrong with it.
            param($ErrorRecord, $Cmdlet, $Parameter)
            $exception = $ErrorRecord.Exception
            $category = $ErrorRecord.CategoryInfo.Category
            $what = "$($ErrorRecord.FullyQualifiedErrorId) ($category): $($exception.GetType().Name): $($exception.Message)"
            if ([string]::IsNullOrWhiteSpace($exception.Message)) { return "an error without a message: $what" }
            if ($exception -is [System.Management.Automation.ParameterBindingException]) {
                if ($exception.ParameterName -eq $Parameter) { return $null }
                return "a binding error on -$($exception.ParameterName), not on -$Parameter, the parameter given the bad value: $what"
            }
            if ($ErrorRecord.FullyQualifiedErrorId -match '^System\.' -or $category -eq 'NotSpecified') {
                return "not a named error (an exception from inside .NET, or one no cmdlet expects): $what"
            }
            # What the user reads (ErrorDetails over the exception's text) never names a C# parameter of the core.
            if ("$ErrorRecord" -match "\(Parameter '") { return "its text names a C# parameter: $ErrorRecord" }
            $known = $script:knownErrors["$Cmdlet -$Parameter"]
            if ($known -and $exception -is $known.Error) { return $null }
            if ($exception -is [ArgumentException]) {
                $named = $exception.ParamName
                $parameterInfo = (Get-Command $Cmdlet).Parameters[$Parameter]
                # The core names its own parameter: -TimeoutSeconds is its timeout, -Id its processId (an alias),
                # -LiteralPath its path.
                if ($named -and ($named -eq $Parameter -or $named -eq ($Parameter -replace '(Seconds|Milliseconds)$', '') -or $named -eq ($Parameter -replace '^Literal', '') -or $named -in $parameterInfo.Aliases -or
                    $named -eq $script:coreParameterNames["$Cmdlet -$Parameter"])) {
                    return $null
                }
                return "names '$named', not -$Parameter, the parameter given the bad value: $what"
            }
            if ($exception -is [Sysprog.SysprogException]) {
                if ([enum]::IsDefined([Sysprog.Errno], $exception.Errno)) { return $null }
                return "a SysprogException without a named errno: $what"
            }
            $notFound = [Sysprog.NameNotFoundException], [System.Collections.Generic.KeyNotFoundException], [System.IO.FileNotFoundException],
                [System.IO.DirectoryNotFoundException], [System.Management.Automation.ItemNotFoundException], [System.Management.Automation.DriveNotFoundException],
                [System.UnauthorizedAccessException],
                [Sysprog.AddressResolutionException], [Sysprog.ElfFormatException], [Sysprog.SharedLibraryException]
            if ($notFound | Where-Object { $exception -is $_ }) { return $null }
            "not the error this case deserves: $what"
        }

        # The cases whose deserved error is not the rule's, each with the reason: nothing else is accepted in general.
        $zeroWait = 'a value PowerShell converts to 0 (an empty string, null) asks for no wait: nothing there yet is the timeout'
        $script:knownErrors = @{
            'Invoke-SharedLibraryFunction -Signature' = @{ Error = [FormatException]; Reason = 'text not in the signature format: a FormatException, as int.Parse gives' }
            'Read-FileDescriptor -Delimiter' = @{ Error = [TimeoutException]; Reason = 'a delimiter the data does not hold is waited for, up to the timeout (0 here)' }
            'Wait-Pty -Pattern' = @{ Error = [System.IO.EndOfStreamException]; Reason = 'a pattern the output never matches, from a program that ended: the output ended unmatched' }
            'Write-FileDescriptor -Value' = @{ Error = [TimeoutException]; Reason = 'a pipe holds 64 KiB; more, unread, with timeout 0, is the timeout, saying how much went in' }
            'Write-Pty -Text' = @{ Error = [TimeoutException]; Reason = 'a pty takes about 12 KiB its program does not read; more, with timeout 0, is the timeout' }
            'Read-SignalFd -TimeoutSeconds' = @{ Error = [TimeoutException]; Reason = $zeroWait }
            'Wait-ChildProcess -TimeoutSeconds' = @{ Error = [TimeoutException]; Reason = $zeroWait }
            'Wait-Pty -TimeoutSeconds' = @{ Error = [TimeoutException]; Reason = $zeroWait }
            'Read-Pty -TimeoutSeconds' = @{ Error = [TimeoutException]; Reason = $zeroWait }
            'Read-TimerFd -TimeoutSeconds' = @{ Error = [TimeoutException]; Reason = $zeroWait }
            'Set-ProcessScheduling -Policy' = @{ Error = [ArgumentException]; Reason = 'with -Policy null there is nothing to set; the error names -Policy, -Nice and -Affinity together' }
        }
        # Where the core names the value by its own parameter: the error is on the right value, in the core's words.
        $script:coreParameterNames = @{
            'New-Inotify -Event' = 'events'; 'Add-InotifyWatch -Event' = 'events'; 'Add-SharedMemorySeal -Seal' = 'seals'
            'New-Socket -Address' = 'host'; 'Connect-Socket -Address' = 'host'; 'Send-SocketMessage -Descriptor' = 'descriptors'
            'Start-ChildProcess -FilePath' = 'program'; 'Start-Pty -FilePath' = 'program'
            'Start-ChildProcess -ArgumentList' = 'arguments'; 'Start-Pty -ArgumentList' = 'arguments'; 'Invoke-SharedLibraryFunction -ArgumentList' = 'arguments'
            'Read-ProcessMemory -Symbol' = 'name'; 'Receive-MqMessage -Queue' = 'name'; 'Send-MqMessage -Queue' = 'name'
            'Send-MqMessage -InputObject' = 'body'; 'Set-TimerFd -At' = 'when'
            'Get-SharedMemory -Name' = 'pattern'; 'Get-Semaphore -Name' = 'pattern'; 'Get-MessageQueue -Name' = 'pattern'
            'Add-PollSetMember -Event' = 'interest'; 'Set-PollSetMember -Event' = 'interest'
        }
        # Valid calls that cannot succeed here, when, and why (each bad value must then still get its own error).
        $script:knownValidCallFails = @{
            'Read-SignalFd' = @{ When = { $true }; Reason = 'a signal to read would be one sent to this test''s own process, and one left unread when a case closes the signalfd is not risked' }
        }

        function Invoke-BadInputCase {
            # Null when the case ended well; otherwise what went wrong. The call may take $Budget (one second, or
            # three times what the cmdlet's own valid call took, set by the test below); the case one second more, for making and
            # closing the valid objects around it. How long the call took is left in $script:lastElapsed.
            param($ValidText, $Cmdlet, $Parameter, $Value, [TimeSpan] $Budget = [TimeSpan]::FromSeconds(1))
            if (-not $script:runspace) { $script:runspace = New-CaseRunspace }
            $ps = [powershell]::Create()
            $ps.Runspace = $script:runspace
            $script:lastElapsed = $null
            try {
                $null = $ps.AddScript($script:caseScript.ToString()).AddArgument($ValidText).AddArgument($Cmdlet).AddArgument($Parameter).AddArgument($Value)
                $async = $ps.BeginInvoke()
                $limit = $Budget + [TimeSpan]::FromSeconds(1)
                if (-not $async.AsyncWaitHandle.WaitOne($limit)) {
                    $stopped = $ps.BeginStop($null, $null).AsyncWaitHandle.WaitOne(2000)
                    if (-not $stopped) { $script:runspace = $null }
                    return "still running after $($limit.TotalSeconds) s$(if (-not $stopped) { ', and Stop did not end it' })"
                }
                $result = @($ps.EndInvoke($async))
                if ($ps.Streams.Error.Count -gt 0) {
                    return "the case itself failed: $($ps.Streams.Error[0])"
                }
                $case = $result[-1]
                $script:lastElapsed = $case.Elapsed
                if ($case.Elapsed -gt $Budget) {
                    return "took $($case.Elapsed.TotalSeconds) s"
                }
                $errorRecord = $case.Error
                if ($null -eq $errorRecord) { return $null }
                if (-not $Parameter) {
                    return "the valid call failed: $($errorRecord.FullyQualifiedErrorId): $($errorRecord.Exception.Message)"
                }
                Test-DeservedError -ErrorRecord $errorRecord -Cmdlet $Cmdlet -Parameter $Parameter
            }
            catch {
                "the case runspace failed: $_"
            }
            finally {
                $ps.Dispose()
            }
        }
    }

    AfterAll {
        if ($script:runspace) { $script:runspace.Dispose() }
        Remove-Item -LiteralPath $script:badInputFile -ErrorAction SilentlyContinue
        Remove-Item -LiteralPath $script:badInputFolder -Recurse -Force -ErrorAction SilentlyContinue
        Close-ProtectedObject
        Remove-TestObjectAll
    }

    It 'has a valid call for every cmdlet' -ForEach @(@{ Covered = $script:baselines.Cmdlet | Sort-Object -Unique }) {
        $Covered | Should -Be ((Get-Command -Module Sysprog -CommandType Cmdlet).Name | Sort-Object)
    }

    It 'runs over no existing object named like a bad value' {
        $script:collisions | Should -BeNullOrEmpty -Because 'a Remove-* case given such a name would remove it'
    }

    It '<Cmdlet> <Set>: every parameter given every bad value ends in time in success or the error it deserves' -ForEach $script:baselines {
        $command = Get-Command $Cmdlet
        $parameterSet = if ($Set) { $command.ParameterSets | Where-Object Name -EQ $Set } else { $command.ParameterSets | Select-Object -First 1 }
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $parameters = @($parameterSet.Parameters | Where-Object { $_.Name -notin $common -and $_.ParameterType -ne [switch] })
        # Counted whether or not they can run here, so the total is the table's, on every machine.
        $script:caseCount += $parameters.Count * $script:badValues.Count
        if ($script:collisions) { Set-ItResult -Skipped -Because "objects named like bad values exist: $($script:collisions -join ', ')"; return }
        if ($Cmdlet -eq 'Get-MessageQueue' -and -not [Sysprog.MessageQueue]::IsMqueueFsMounted()) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $failures = [System.Collections.Generic.List[string]]::new()
        # The valid call first: where it fails, every bad value would pass on the valid call's own error. It has
        # no second to keep to: a cmdlet that reads the whole machine (Get-IpcObject reads every process's
        # descriptors) takes what the machine's process count and load make it take. A bad value refused must be
        # quick; one that is also valid input (a name "-Infinity") does the valid call's work: each bad value gets
        # one second, or three times what the valid call took, whichever is longer.
        $validCall = Invoke-BadInputCase -ValidText $Valid.ToString() -Cmdlet $Cmdlet -Parameter $null -Value $null -Budget ([TimeSpan]::FromSeconds(30))
        $budget = [TimeSpan]::FromSeconds(1)
        if ($script:lastElapsed -and 3 * $script:lastElapsed.TotalSeconds -gt 1) { $budget = [TimeSpan]::FromSeconds(3 * $script:lastElapsed.TotalSeconds) }
        $knownFailure = $script:knownValidCallFails["$Cmdlet $Set".Trim()]
        if ($validCall -and -not ($knownFailure -and (& $knownFailure.When))) { $failures.Add($validCall) }
        foreach ($parameter in $parameters) {
            foreach ($bad in $script:badValues.GetEnumerator()) {
                $problem = Invoke-BadInputCase -ValidText $Valid.ToString() -Cmdlet $Cmdlet -Parameter $parameter.Name -Value $bad.Value -Budget $budget
                if ($problem -like 'took *') {
                    # A loaded machine (CI's oversubscribed leg, two runs at once) can stretch one call past its budget;
                    # a slow path is slow again, so only a case over its budget twice fails.
                    $again = Invoke-BadInputCase -ValidText $Valid.ToString() -Cmdlet $Cmdlet -Parameter $parameter.Name -Value $bad.Value -Budget $budget
                    $problem = if ($again -like 'took *') { "$problem, then $($again.Substring(5))" } else { $again }
                }
                if ($problem) { $failures.Add("-$($parameter.Name) $($bad.Key): $problem") }
            }
        }
        # Only this session's objects and those named like a bad value: another run's that appeared meanwhile stay.
        $own = { param($entry) $bare = $entry -replace '^sem\.', ''; $bare -like "sysprog-pester-$PID-*" -or $bare -in $script:nameLike }
        foreach ($entry in & $script:entries | Where-Object { $_ -notin $script:before -and (& $own $_) }) {
            # Objects a bad value created because it was also a valid name ("/-1"), and the case's own.
            if (Test-Path -LiteralPath "/dev/shm/$entry") { Remove-Item -LiteralPath "/dev/shm/$entry" -Force -Recurse }
            else { Remove-MessageQueueIfPresent "/$entry" }
        }
        # Every failure in full (Should alone shows the first few).
        $failures | Should -BeNullOrEmpty -Because "$($failures.Count) cases failed:$([Environment]::NewLine)$($failures -join [Environment]::NewLine)$([Environment]::NewLine)"
    }

    It 'counted every case: exactly the table the README states' {
        Write-Host "bad-input cases (cmdlets): $script:caseCount"
        # Exactly: a table that shrinks (a parameter set no longer reached, a bad value gone) fails.
        $script:caseCount | Should -Be $script:expectedCases
        $readme = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '..' 'README.md')
        $stated = [regex]::Match($readme, '\(([\d,]+) cases, each in a second')
        $stated.Success | Should -BeTrue -Because 'the README states the size of the cmdlets'' bad-input table as "(N cases, each in a second"'
        [int]($stated.Groups[1].Value -replace ',', '') | Should -Be $script:expectedCases -Because 'the README states the size of the cmdlets'' bad-input table'
    }
}
