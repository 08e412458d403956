#Requires -Version 7.4
# Every exported cmdlet, run for real: its -Verbose narration of system calls, its output's table view, -WhatIf where
# it changes something, and no descriptor left open. Pipeline input has a file of its own: PipelineInput.Tests.ps1.
BeforeDiscovery {
    # Each case runs one cmdlet under -Verbose (and only that cmdlet: set-up runs quietly) and names the call its
    # narration starts with. $n is a fresh name, $mq says whether queues can be listed here.
    $script:cases = @(
        @{ Cmdlet = 'Add-InotifyWatch'; Call = 'inotify_add_watch'; Run = { $i = New-Inotify; Add-InotifyWatch $i $TestDrive -Verbose; Close-Inotify $i } }
        @{ Cmdlet = 'Close-Inotify'; Call = 'close'; Run = { $i = New-Inotify; Close-Inotify $i -Verbose } }
        @{ Cmdlet = 'New-Inotify'; Call = 'inotify_init1'; Run = { New-Inotify $TestDrive -Verbose | Tee-Object -Variable made; Close-Inotify $made } }
        @{ Cmdlet = 'Read-Inotify'; Call = 'read'; Run = { $i = New-Inotify $TestDrive; $null = New-Item (Join-Path $TestDrive "r$(Get-Random)"); Read-Inotify $i -TimeoutSeconds 5 -Verbose; Close-Inotify $i } }
        @{ Cmdlet = 'Remove-InotifyWatch'; Call = 'inotify_rm_watch'; Run = { $i = New-Inotify $TestDrive; $i.Watches | Remove-InotifyWatch -Verbose; Close-Inotify $i } }
        @{ Cmdlet = 'Close-Pipe'; Call = 'close'; Run = { $p = New-Pipe; Close-Pipe $p -Verbose } }
        @{ Cmdlet = 'Add-SharedMemorySeal'; Call = 'fcntl'; Run = { $s = New-SharedMemory -Anonymous -Size 4KB; Add-SharedMemorySeal $s Grow -PassThru -Confirm:$false -Verbose; Close-SharedMemory $s } }
        @{ Cmdlet = 'Close-Socket'; Call = 'close'; Run = { $p = New-SocketPair; Close-Socket $p -Verbose } }
        @{ Cmdlet = 'Connect-Socket'; Call = 'socket'; Run = { $s = New-Socket -Name "sysprog-pester-$(Get-Random)"; Connect-Socket -Name $s.LocalEndpoint.AbstractName -TimeoutSeconds 5 -Verbose | Tee-Object -Variable made; Close-Socket $made, $s } }
        @{ Cmdlet = 'Disconnect-Socket'; Call = 'shutdown'; Run = { $p = New-SocketPair; Disconnect-Socket $p.First Send -Verbose; Close-Socket $p } }
        @{ Cmdlet = 'Get-Socket'; Call = 'socket'; Run = { $s = New-Socket -Name "sysprog-pester-$(Get-Random)"; Get-Socket -ProcessId $PID -Protocol Unix -Verbose; Close-Socket $s } }
        @{ Cmdlet = 'New-Socket'; Call = 'socket'; Run = { New-Socket -Path (Join-Path $TestDrive "s$(Get-Random).sock") -Verbose | Tee-Object -Variable made; Close-Socket $made } }
        @{ Cmdlet = 'New-SocketPair'; Call = 'socketpair'; Run = { New-SocketPair -Verbose | Tee-Object -Variable made; Close-Socket $made } }
        @{ Cmdlet = 'Receive-SocketConnection'; Call = 'accept4'; Run = { $s = New-Socket -Name "sysprog-pester-$(Get-Random)"; $c = Connect-Socket -Name $s.LocalEndpoint.AbstractName; Receive-SocketConnection $s -TimeoutSeconds 5 -Verbose | Tee-Object -Variable made; Close-Socket $made, $c, $s } }
        @{ Cmdlet = 'Receive-SocketMessage'; Call = 'recvmsg'; Run = { $p = New-SocketPair; Send-SocketMessage $p.First hi; Receive-SocketMessage $p.Second -TimeoutSeconds 5 -Verbose; Close-Socket $p } }
        @{ Cmdlet = 'Send-SocketMessage'; Call = 'sendmsg'; Run = { $p = New-SocketPair; Send-SocketMessage $p.First hi -Verbose; Close-Socket $p } }
        @{ Cmdlet = 'Get-ElfFile'; Call = 'open'; Run = { Get-ElfFile /usr/bin/true -Verbose } }
        @{ Cmdlet = 'Get-ElfSymbol'; Call = 'open'; Run = { Get-ElfSymbol /usr/bin/true -Table Dynamic -Verbose | Select-Object -First 2 } }
        @{ Cmdlet = 'Resolve-ElfDependency'; Call = 'statx'; Run = { Resolve-ElfDependency /usr/bin/true -Verbose } }
        @{ Cmdlet = 'Open-SharedLibrary'; Call = 'dlopen'; Run = { Open-SharedLibrary libm.so.6 -Verbose | Tee-Object -Variable made; Close-SharedLibrary $made } }
        @{ Cmdlet = 'Close-SharedLibrary'; Call = 'dlclose'; Run = { $l = Open-SharedLibrary libm.so.6; Close-SharedLibrary $l -PassThru -Verbose } }
        @{ Cmdlet = 'Get-SharedLibrary'; Call = 'dl_iterate_phdr'; Run = { Get-SharedLibrary *libc.so* -Verbose } }
        @{ Cmdlet = 'Get-SharedLibrarySymbol'; Call = 'dlsym'; Run = { Get-SharedLibrarySymbol -Scope Default strlen -Verbose } }
        @{ Cmdlet = 'Invoke-SharedLibraryFunction'; Call = 'dlsym'; Run = { Invoke-SharedLibraryFunction -Scope Default strlen -Signature 'size_t(const char*)' -ArgumentList abc -Confirm:$false -Verbose } }
        @{ Cmdlet = 'New-Fifo'; Call = 'mkfifo'; Run = { New-Fifo (Join-Path $TestDrive "f$(Get-Random)") -Verbose } }
        @{ Cmdlet = 'New-Pipe'; Call = 'pipe2'; Run = { New-Pipe -Verbose | Tee-Object -Variable made; Close-Pipe $made } }
        @{ Cmdlet = 'Open-Fifo'; Call = 'open'; Run = { $f = New-Fifo (Join-Path $TestDrive "o$(Get-Random)"); Open-Fifo $f.FullName Read -NonBlocking -Verbose | Tee-Object -Variable made; Close-Pipe $made } }
        @{ Cmdlet = 'Read-FileDescriptor'; Call = 'p?read'; Run = { $p = New-Pipe; Write-FileDescriptor $p hi; Read-FileDescriptor $p -TimeoutSeconds 5 -Verbose; Close-Pipe $p } }
        @{ Cmdlet = 'Set-Pipe'; Call = 'fcntl'; Run = { $p = New-Pipe; Set-Pipe $p -Capacity 8KB -PassThru -Verbose; Close-Pipe $p } }
        @{ Cmdlet = 'Write-FileDescriptor'; Call = 'p?write'; Run = { $p = New-Pipe; Write-FileDescriptor $p hi -TimeoutSeconds 5 -Verbose; Close-Pipe $p } }
        @{ Cmdlet = 'Start-ChildProcess'; Call = 'posix_spawnp'; Run = { Start-ChildProcess true -Verbose | Tee-Object -Variable made; $null = Wait-ChildProcess $made; Close-ChildProcess $made } }
        @{ Cmdlet = 'Wait-ChildProcess'; Call = 'poll'; Run = { $c = Start-ChildProcess true; Wait-ChildProcess $c -TimeoutSeconds 10 -Verbose; Close-ChildProcess $c } }
        @{ Cmdlet = 'Stop-ChildProcess'; Call = 'pidfd_send_signal'; Run = { $c = Start-ChildProcess sleep 30; Stop-ChildProcess $c -PassThru -Verbose; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Get-ChildProcess'; Call = 'poll'; Run = { $c = Start-ChildProcess sleep 30; Get-ChildProcess $c.ProcessId -Verbose; Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Close-ChildProcess'; Call = 'waitid'; Run = { $c = Start-ChildProcess true; Wait-FileDescriptor $c -TimeoutSeconds 10 | Out-Null; Close-ChildProcess $c -Verbose } }
        @{ Cmdlet = 'Get-ProcessScheduling'; Call = 'sched_getscheduler'; Run = { Get-ProcessScheduling -Verbose } }
        @{ Cmdlet = 'Set-ProcessScheduling'; Call = 'setpriority'; Run = { $c = Start-ChildProcess sleep 30; Set-ProcessScheduling $c.ProcessId -Nice 3 -PassThru -Verbose; Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Get-ProcessLimit'; Call = 'prlimit'; Run = { Get-ProcessLimit -Resource NoFile -Verbose } }
        @{ Cmdlet = 'Set-ProcessLimit'; Call = 'prlimit'; Run = { $c = Start-ChildProcess sleep 30; Set-ProcessLimit NoFile $c.ProcessId -Soft 100 -PassThru -Verbose; Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Get-Syscall'; Call = 'uname'; Run = { Get-Syscall futex -Verbose } }
        @{ Cmdlet = 'Get-ProcessSyscall'; Call = 'open'; Run = { Get-ProcessSyscall -ThreadId $PID -Verbose } }
        @{ Cmdlet = 'Get-ProgramBreak'; Call = 'sbrk'; Run = { Get-ProgramBreak -Verbose } }
        @{ Cmdlet = 'Set-FileAdvice'; Call = 'posix_fadvise'; Run = { $f = Join-Path $TestDrive 'advice.bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(8192)); Set-FileAdvice $f WillNeed -PassThru -Verbose } }
        @{ Cmdlet = 'Get-FileResidency'; Call = 'mincore'; Run = { $f = Join-Path $TestDrive 'resident.bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(8192)); Get-FileResidency $f -Verbose } }
        # Get-SysprogHandle makes no system call (it reads what the module holds): the call is the eventfd it lists.
        @{ Cmdlet = 'Get-SysprogHandle'; Call = 'eventfd'; Run = { $e = New-EventFd -Verbose; Get-SysprogHandle -Kind EventFd -Verbose; Close-EventFd $e } }
        @{ Cmdlet = 'Measure-IpcMechanism'; Call = 'posix_spawnp'; Run = { Measure-IpcMechanism Pipe -RoundTrips 20 -Messages 20 -Verbose } }
        @{ Cmdlet = 'Measure-TimerLatency'; Call = 'clock_nanosleep'; Run = { Measure-TimerLatency -Count 20 -Verbose } }
        @{ Cmdlet = 'Show-TimerLatency'; Call = 'write'; Run = { Measure-TimerLatency -Count 20 | Show-TimerLatency -Path (Join-Path $TestDrive "latency$(Get-Random).svg") -Verbose } }
        @{ Cmdlet = 'Get-TerminalSize'; Call = 'ioctl'; Run = { $p = Start-Pty cat; Get-TerminalSize $p.SecondaryPath -Verbose; Close-Pty $p } }
        @{ Cmdlet = 'Set-TerminalSize'; Call = 'ioctl'; Run = { $p = Start-Pty cat; Set-TerminalSize $p.SecondaryPath -Rows 30 -Columns 90 -PassThru -Verbose; Close-Pty $p } }
        @{ Cmdlet = 'Close-Pty'; Call = 'close'; Run = { $p = Start-Pty cat; Close-Pty $p -Verbose } }
        @{ Cmdlet = 'Read-Pty'; Call = 'read'; Run = { $p = Start-Pty echo hi; Read-Pty $p -TimeoutSeconds 5 -Verbose; Close-Pty $p } }
        @{ Cmdlet = 'Set-Pty'; Call = 'ioctl'; Run = { $p = Start-Pty cat; Set-Pty $p -Rows 30 -PassThru -Verbose; Close-Pty $p } }
        @{ Cmdlet = 'Start-Pty'; Call = 'posix_openpt'; Run = { Start-Pty cat -Verbose | Tee-Object -Variable made; Close-Pty $made } }
        @{ Cmdlet = 'Wait-Pty'; Call = 'read'; Run = { $p = Start-Pty echo hi; Wait-Pty $p hi -TimeoutSeconds 5 -Verbose; Close-Pty $p } }
        @{ Cmdlet = 'Write-Pty'; Call = 'write'; Run = { $p = Start-Pty cat; Write-Pty $p hi -TimeoutSeconds 5 -Verbose; Close-Pty $p } }
        @{ Cmdlet = 'Close-EventFd'; Call = 'close'; Run = { $e = New-EventFd; Close-EventFd $e -Verbose } }
        @{ Cmdlet = 'Close-MemoryMap'; Call = 'munmap'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Close-MemoryMap $m -Verbose } }
        @{ Cmdlet = 'Close-MessageQueue'; Call = 'close'; Run = { $q = New-MessageQueue -Name $n; Close-MessageQueue $q -Verbose } }
        @{ Cmdlet = 'Close-MqNotification'; Call = 'mq_notify'; Run = { $q = New-MessageQueue -Name $n; $m = New-MqNotification $q; Close-MqNotification $m -Verbose; Close-MessageQueue $q } }
        @{ Cmdlet = 'Enable-MqNotification'; Call = 'mq_notify'; Run = { $q = New-MessageQueue -Name $n; $m = New-MqNotification $q; $m.Disarm(); Enable-MqNotification $m -PassThru -Verbose; Close-MqNotification $m; Close-MessageQueue $q } }
        @{ Cmdlet = 'New-MqNotification'; Call = 'mq_notify'; Run = { $q = New-MessageQueue -Name $n; New-MqNotification $q -Verbose | Tee-Object -Variable made; Close-MqNotification $made; Close-MessageQueue $q } }
        @{ Cmdlet = 'Close-Semaphore'; Call = 'sem_close'; Run = { $s = New-Semaphore -Name $n; Close-Semaphore $s -Verbose } }
        @{ Cmdlet = 'Close-SharedMemory'; Call = 'close'; Run = { $s = New-SharedMemory -Name $n -Size 4KB; Close-SharedMemory $s -Verbose } }
        @{ Cmdlet = 'Close-SignalFd'; Call = '\w+'; Run = { $s = New-SignalFd -Signal USR1; Close-SignalFd $s -Verbose } }
        @{ Cmdlet = 'Close-TimerFd'; Call = 'close'; Run = { $t = New-TimerFd; Close-TimerFd $t -Verbose } }
        @{ Cmdlet = 'Get-FileLock'; Call = 'open'; Run = { $p = Join-Path $TestDrive 'g.lock'; $l = Lock-File $p; Get-FileLock -Path $p -Verbose; Unlock-File $l } }
        @{ Cmdlet = 'Get-IpcLimit'; Call = 'prlimit'; Run = { Get-IpcLimit RLIMIT_* -Verbose } }
        @{ Cmdlet = 'Get-IpcObject'; Call = 'open'; Run = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Get-IpcObject $n -Verbose -WarningAction SilentlyContinue } }
        @{ Cmdlet = 'Get-MessageQueue'; Call = 'mq_open'; NeedsMqueueFs = $true; Run = { New-MessageQueue -Name $n | Close-MessageQueue; Get-MessageQueue -Name $n -Verbose } }
        @{ Cmdlet = 'Get-ProcessMapping'; Call = 'open'; Run = { Get-ProcessMapping -Verbose | Select-Object -First 2 } }
        @{ Cmdlet = 'Show-ProcessMapping'; Call = 'open'; Run = { Show-ProcessMapping -Width 80 -Verbose | Select-Object -First 2 } }
        @{ Cmdlet = 'Get-Semaphore'; Call = 'open'; Run = { New-Semaphore -Name $n -Value 2 | Close-Semaphore; Get-Semaphore -Name $n -Verbose } }
        @{ Cmdlet = 'Get-SharedMemory'; Call = 'statx'; Run = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Get-SharedMemory -Name $n -Verbose } }
        @{ Cmdlet = 'Invoke-EventLoop'; Call = 'epoll_wait'; Run = { $e = New-EventFd 1; Invoke-EventLoop @{ $e = { Read-EventFd $_.Handle; $_.Loop.Stop() } } -Verbose; Close-EventFd $e } }
        @{ Cmdlet = 'Invoke-MemoryMap'; Call = 'mmap'; Run = { Invoke-MemoryMap -Anonymous -Size 4KB -ScriptBlock { $_.Length } -Verbose } }
        @{ Cmdlet = 'Lock-File'; Call = 'flock'; Run = { Lock-File (Join-Path $TestDrive 'l.lock') -Verbose | Tee-Object -Variable made; Unlock-File $made } }
        @{ Cmdlet = 'Lock-Memory'; Call = 'mlock'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Lock-Memory $m -PassThru -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'New-EventFd'; Call = 'eventfd'; Run = { New-EventFd -InitialValue 3 -Verbose | Tee-Object -Variable made; Close-EventFd $made } }
        @{ Cmdlet = 'New-MemoryMap'; Call = 'mmap'; Run = { New-MemoryMap -Anonymous -Size 4KB -Verbose | Tee-Object -Variable made; Close-MemoryMap $made } }
        @{ Cmdlet = 'New-MessageQueue'; Call = 'mq_open'; Run = { New-MessageQueue -Name $n -Verbose | Tee-Object -Variable made; Close-MessageQueue $made } }
        @{ Cmdlet = 'New-Semaphore'; Call = 'sem_open'; Run = { New-Semaphore -Name $n -Value 1 -Verbose | Tee-Object -Variable made; Close-Semaphore $made } }
        @{ Cmdlet = 'New-SharedMemory'; Call = 'shm_open'; Run = { New-SharedMemory -Name $n -Size 4KB -Verbose | Tee-Object -Variable made; Close-SharedMemory $made } }
        @{ Cmdlet = 'New-SignalFd'; Call = '\w+'; Run = { New-SignalFd -Signal USR1 -Verbose | Tee-Object -Variable made; Close-SignalFd $made } }
        @{ Cmdlet = 'New-TimerFd'; Call = 'timerfd_create'; Run = { New-TimerFd -Verbose | Tee-Object -Variable made; Close-TimerFd $made } }
        @{ Cmdlet = 'Open-MessageQueue'; Call = 'mq_open'; Run = { New-MessageQueue -Name $n | Close-MessageQueue; Open-MessageQueue -Name $n -Verbose | Tee-Object -Variable made; Close-MessageQueue $made } }
        @{ Cmdlet = 'Open-Semaphore'; Call = 'sem_open'; Run = { New-Semaphore -Name $n | Close-Semaphore; Open-Semaphore -Name $n -Verbose | Tee-Object -Variable made; Close-Semaphore $made } }
        @{ Cmdlet = 'Open-SharedMemory'; Call = 'shm_open'; Run = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Open-SharedMemory -Name $n -Verbose | Tee-Object -Variable made; Close-SharedMemory $made } }
        @{ Cmdlet = 'Read-EventFd'; Call = 'read'; Run = { $e = New-EventFd -InitialValue 2; Read-EventFd $e -TimeoutSeconds 1 -Verbose; Close-EventFd $e } }
        @{ Cmdlet = 'Read-ProcessMemory'; Call = 'process_vm_readv'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Read-ProcessMemory $PID $m.Address 16 -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'Read-SignalFd'; Call = '\w+'; Run = { $s = New-SignalFd -Signal USR2; & kill -USR2 $PID; Read-SignalFd $s -TimeoutSeconds 10 -Verbose; Close-SignalFd $s } }
        @{ Cmdlet = 'Read-TimerFd'; Call = 'read'; Run = { $t = New-TimerFd; Set-TimerFd $t -DelaySeconds 0.01; Read-TimerFd $t -TimeoutSeconds 5 -Verbose; Close-TimerFd $t } }
        @{ Cmdlet = 'Receive-MqMessage'; Call = 'mq_open'; Run = { $q = New-MessageQueue -Name $n; 'hi' | Send-MqMessage -Queue $q; Receive-MqMessage -Queue $n -Verbose; Close-MessageQueue $q } }
        @{ Cmdlet = 'Remove-IpcObject'; Call = 'shm_unlink'; Run = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Get-IpcObject $n -WarningAction SilentlyContinue | Remove-IpcObject -Confirm:$false -Verbose } }
        @{ Cmdlet = 'Remove-MessageQueue'; Call = 'mq_unlink'; Run = { New-MessageQueue -Name $n | Close-MessageQueue; Remove-MessageQueue -Name $n -Confirm:$false -Verbose } }
        @{ Cmdlet = 'Remove-Semaphore'; Call = 'sem_unlink'; Run = { New-Semaphore -Name $n | Close-Semaphore; Remove-Semaphore -Name $n -Confirm:$false -Verbose } }
        @{ Cmdlet = 'Remove-SharedMemory'; Call = 'shm_unlink'; Run = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Remove-SharedMemory -Name $n -Confirm:$false -Verbose } }
        @{ Cmdlet = 'Resize-SharedMemory'; Call = 'ftruncate'; Run = { $s = New-SharedMemory -Name $n -Size 4KB; Resize-SharedMemory $s -Size 8KB -PassThru -Verbose; Close-SharedMemory $s } }
        @{ Cmdlet = 'Send-MqMessage'; Call = 'mq_timedsend'; Run = { $q = New-MessageQueue -Name $n; 'hi' | Send-MqMessage -Queue $q -Verbose; Close-MessageQueue $q } }
        @{ Cmdlet = 'Set-MemoryAdvice'; Call = 'madvise'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Set-MemoryAdvice $m -Advice WillNeed -PassThru -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'Set-MemoryProtection'; Call = 'mprotect'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Set-MemoryProtection $m -Protection Read -PassThru -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'Set-MessageQueue'; Call = 'mq_setattr'; Run = { $q = New-MessageQueue -Name $n; Set-MessageQueue $q -NonBlocking -PassThru -Verbose; Close-MessageQueue $q } }
        @{ Cmdlet = 'Set-TimerFd'; Call = 'timerfd_settime'; Run = { $t = New-TimerFd; Set-TimerFd $t -DelaySeconds 60 -PassThru -Verbose; Close-TimerFd $t } }
        @{ Cmdlet = 'Sync-MemoryMap'; Call = 'msync'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared; Sync-MemoryMap $m -PassThru -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'Test-FileLock'; Call = 'fcntl'; Run = { $p = Join-Path $TestDrive 't.lock'; $l = Lock-File $p -Kind Ofd; Test-FileLock $p -Kind Ofd -Verbose; Unlock-File $l } }
        @{ Cmdlet = 'Unlock-File'; Call = 'flock'; Run = { $l = Lock-File (Join-Path $TestDrive 'u.lock'); Unlock-File $l -Verbose } }
        @{ Cmdlet = 'Unlock-Memory'; Call = 'munlock'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Lock-Memory $m; Unlock-Memory $m -PassThru -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'Unlock-Semaphore'; Call = 'sem_post'; Run = { $s = New-Semaphore -Name $n; Unlock-Semaphore $s -PassThru -Verbose; Close-Semaphore $s } }
        @{ Cmdlet = 'Wait-FileDescriptor'; Call = 'epoll_create1'; Run = { $e = New-EventFd -InitialValue 1; Wait-FileDescriptor $e -TimeoutSeconds 5 -Verbose; Close-EventFd $e } }
        @{ Cmdlet = 'Wait-Semaphore'; Call = 'sem_'; Run = { $s = New-Semaphore -Name $n -Value 1; Wait-Semaphore $s -TimeoutSeconds 5 -PassThru -Verbose; Close-Semaphore $s } }
        @{ Cmdlet = 'Write-ProcessMemory'; Call = 'process_vm_writev'; Run = { $m = New-MemoryMap -Anonymous -Size 4KB; Write-ProcessMemory $PID $m.Address -Int64 5 -PassThru -Force -Confirm:$false -Verbose; Close-MemoryMap $m } }
        @{ Cmdlet = 'Write-EventFd'; Call = 'write'; Run = { $e = New-EventFd; Write-EventFd $e -Value 5 -PassThru -Verbose; Close-EventFd $e } }
        @{ Cmdlet = 'Set-FileDescriptor'; Call = 'fcntl'; Run = { $p = New-Pipe; Set-FileDescriptor $p.ReadEnd -NonBlocking $true -PassThru -Verbose; Close-Pipe $p } }
        @{ Cmdlet = 'New-PollSet'; Call = 'epoll_create1'; Run = { New-PollSet -Verbose | Tee-Object -Variable made; Close-PollSet $made } }
        @{ Cmdlet = 'Add-PollSetMember'; Call = 'epoll_ctl'; Run = { $s = New-PollSet; $e = New-EventFd; Add-PollSetMember $s $e -EdgeTriggered -Verbose; Close-PollSet $s; Close-EventFd $e } }
        @{ Cmdlet = 'Set-PollSetMember'; Call = 'epoll_ctl'; Run = { $s = New-PollSet; $e = New-EventFd; $null = Add-PollSetMember $s $e -OneShot; Set-PollSetMember $s $e -OneShot -PassThru -Verbose; Close-PollSet $s; Close-EventFd $e } }
        @{ Cmdlet = 'Remove-PollSetMember'; Call = 'epoll_ctl'; Run = { $s = New-PollSet; $e = New-EventFd; $null = Add-PollSetMember $s $e; Remove-PollSetMember $s $e -Verbose; Close-PollSet $s; Close-EventFd $e } }
        @{ Cmdlet = 'Wait-PollSet'; Call = 'epoll_wait'; Run = { $e = New-EventFd -InitialValue 1; $s = New-PollSet $e; Wait-PollSet $s -TimeoutSeconds 5 -Verbose; Close-PollSet $s; Close-EventFd $e } }
        @{ Cmdlet = 'Close-PollSet'; Call = 'close'; Run = { $s = New-PollSet; Close-PollSet $s -Verbose } }
    )

    # Each -WhatIf case changes nothing and says whether the state is still as it was.
    $script:whatIf = @(
        @{ Cmdlet = 'New-SharedMemory'; Unchanged = { New-SharedMemory -Name $n -Size 4KB -WhatIf; -not (Test-Path -LiteralPath "/dev/shm$n") } }
        @{ Cmdlet = 'New-Semaphore'; Unchanged = { New-Semaphore -Name $n -WhatIf; -not (Test-Path -LiteralPath "/dev/shm/sem.$($n.Substring(1))") } }
        @{ Cmdlet = 'New-MessageQueue'; Unchanged = { New-MessageQueue -Name $n -WhatIf; $null -eq (Open-MessageQueue -Name $n -ErrorAction SilentlyContinue) } }
        @{ Cmdlet = 'New-Fifo'; Unchanged = { $f = Join-Path $TestDrive "w$(Get-Random)"; New-Fifo $f -WhatIf; -not (Test-Path -LiteralPath $f) } }
        @{ Cmdlet = 'Set-Pipe'; Unchanged = { $p = New-Pipe; Set-Pipe $p -Capacity 1MB -WhatIf; $p.Capacity -eq 64KB; Close-Pipe $p } }
        @{ Cmdlet = 'New-Socket'; Unchanged = { $f = Join-Path $TestDrive "w$(Get-Random).sock"; New-Socket $f -WhatIf; -not (Test-Path -LiteralPath $f) } }
        @{ Cmdlet = 'Disconnect-Socket'; Unchanged = { $p = New-SocketPair; Disconnect-Socket $p.First Send -WhatIf; Send-SocketMessage $p.First 'x'; (Receive-SocketMessage $p.Second -TimeoutSeconds 5).Text -eq 'x'; Close-Socket $p } }
        @{ Cmdlet = 'Add-SharedMemorySeal'; Unchanged = { $s = New-SharedMemory -Anonymous -Size 4KB; Add-SharedMemorySeal $s Shrink -WhatIf; $s.Seals -eq 'None'; Close-SharedMemory $s } }
        @{ Cmdlet = 'Remove-SharedMemory'; Unchanged = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Remove-SharedMemory -Name $n -WhatIf; Test-Path -LiteralPath "/dev/shm$n" } }
        @{ Cmdlet = 'Remove-Semaphore'; Unchanged = { New-Semaphore -Name $n | Close-Semaphore; Remove-Semaphore -Name $n -WhatIf; Test-Path -LiteralPath "/dev/shm/sem.$($n.Substring(1))" } }
        @{ Cmdlet = 'Remove-InotifyWatch'; Unchanged = { $i = New-Inotify $TestDrive; $i.Watches | Remove-InotifyWatch -WhatIf; $i.Watches.Count -eq 1; Close-Inotify $i } }
        @{ Cmdlet = 'Remove-IpcObject'; Unchanged = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Get-IpcObject $n -WarningAction SilentlyContinue | Remove-IpcObject -WhatIf; Test-Path -LiteralPath "/dev/shm$n" } }
        @{ Cmdlet = 'Remove-MessageQueue'; Unchanged = { New-MessageQueue -Name $n | Close-MessageQueue; Remove-MessageQueue -Name $n -WhatIf; $q = Open-MessageQueue -Name $n; $null -ne $q; Close-MessageQueue $q } }
        @{ Cmdlet = 'Resize-SharedMemory'; Unchanged = { $s = New-SharedMemory -Name $n -Size 4KB; Resize-SharedMemory $s -Size 8KB -WhatIf; $s.Size -eq 4KB; Close-SharedMemory $s } }
        @{ Cmdlet = 'Set-MemoryAdvice'; Unchanged = { $m = New-MemoryMap -Anonymous -Size 4KB; $m.WriteInt64(0, 7); Set-MemoryAdvice $m -Advice DontNeed -WhatIf; $m.ReadInt64(0) -eq 7; Close-MemoryMap $m } }
        @{ Cmdlet = 'Set-MemoryProtection'; Unchanged = { $m = New-MemoryMap -Anonymous -Size 4KB; Set-MemoryProtection $m -Protection Read -WhatIf; $m.Protection -eq 'ReadWrite'; Close-MemoryMap $m } }
        @{ Cmdlet = 'Set-MessageQueue'; Unchanged = { $q = New-MessageQueue -Name $n; Set-MessageQueue $q -NonBlocking -WhatIf; -not $q.IsNonBlocking; Close-MessageQueue $q } }
        @{ Cmdlet = 'Set-Pty'; Unchanged = { $p = Start-Pty cat; Set-Pty $p -Rows 50 -Raw -WhatIf; $p.Size.Rows -eq 24 -and $p.Canonical; Close-Pty $p } }
        @{ Cmdlet = 'Write-ProcessMemory'; Unchanged = { $m = New-MemoryMap -Anonymous -Size 4KB; Write-ProcessMemory $PID $m.Address -Int64 5 -WhatIf; $m.ReadInt64(0) -eq 0; Close-MemoryMap $m } }
        @{ Cmdlet = 'Invoke-SharedLibraryFunction'; Unchanged = { $umask = @{ Scope = 'Default'; Name = 'umask'; Signature = 'int(int)'; Confirm = $false }; $old = Invoke-SharedLibraryFunction @umask -ArgumentList 63; Invoke-SharedLibraryFunction @umask -ArgumentList 18 -WhatIf; $now = Invoke-SharedLibraryFunction @umask -ArgumentList $old; $now -eq 63 } }
        # A SIGTERM sent is pending or has already ended sleep (a zombie until waited for): right after -WhatIf the
        # child is still asleep with nothing pending, however soon it is looked at.
        @{ Cmdlet = 'Stop-ChildProcess'; Unchanged = {
                $c = Start-ChildProcess sleep 30
                $null = Wait-Until { @(Get-BlockedThread -ProcessId $c.ProcessId -Syscall clock_nanosleep, nanosleep).Count -gt 0 }
                Stop-ChildProcess $c -WhatIf
                $status = Get-Content -LiteralPath "/proc/$($c.ProcessId)/status"
                [bool]($status -match '^State:\s+S') -and [bool]($status -match '^ShdPnd:\s+0+$') -and [bool]($status -match '^SigPnd:\s+0+$')
                Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Set-ProcessScheduling'; Unchanged = { $c = Start-ChildProcess sleep 30; Set-ProcessScheduling $c.ProcessId -Nice 5 -WhatIf; (Get-ProcessScheduling $c.ProcessId).Nice -eq 0; Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Set-ProcessLimit'; Unchanged = { $c = Start-ChildProcess sleep 30; $before = (Get-ProcessLimit NoFile $c.ProcessId).Soft; Set-ProcessLimit NoFile $c.ProcessId -Soft 100 -WhatIf; (Get-ProcessLimit NoFile $c.ProcessId).Soft -eq $before; Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c } }
        @{ Cmdlet = 'Set-TerminalSize'; Unchanged = { $p = Start-Pty cat; Set-TerminalSize $p.SecondaryPath -Rows 50 -Columns 50 -WhatIf; $p.Size.Rows -eq 24; Close-Pty $p } }
        # Clean (fsync'd) files, so that a real DONTNEED drops their pages: a control file shows it does on this
        # filesystem (tmpfs keeps them whatever the advice, where -WhatIf could not be told from a real call).
        @{ Cmdlet = 'Set-FileAdvice'; Unchanged = {
                $f = Join-Path $TestDrive "w$(Get-Random).bin"; $control = "$f.control"
                foreach ($path in $f, $control) { $s = [IO.File]::Create($path); $s.Write([byte[]]::new(16KB)); $s.Flush($true); $s.Dispose(); $null = [IO.File]::ReadAllBytes($path) }
                Set-FileAdvice $control DontNeed
                if ((Get-FileResidency $control).Percent -eq 100) { "skip: POSIX_FADV_DONTNEED drops no page of a clean file in $TestDrive (tmpfs?), so -WhatIf cannot be told from a real advice there" }
                else { Set-FileAdvice $f DontNeed -WhatIf; (Get-FileResidency $f).Percent -eq 100 } } }
        @{ Cmdlet = 'Set-TimerFd'; Unchanged = { $t = New-TimerFd; Set-TimerFd $t -DelaySeconds 60 -WhatIf; -not $t.IsArmed; Close-TimerFd $t } }
        @{ Cmdlet = 'Set-FileDescriptor'; Unchanged = { $p = New-Pipe; Set-FileDescriptor $p -NonBlocking $true -WhatIf; -not $p.ReadEnd.IsNonBlocking -and -not $p.WriteEnd.IsNonBlocking; Close-Pipe $p } }
        @{ Cmdlet = 'Set-PollSetMember'; Unchanged = { $e = New-EventFd -InitialValue 1; $s = New-PollSet; $null = Add-PollSetMember $s $e -OneShot; $null = Wait-PollSet $s; Set-PollSetMember $s $e -OneShot -WhatIf; $null -eq (Wait-PollSet $s -TimeoutSeconds 0 -ErrorAction SilentlyContinue); Close-PollSet $s; Close-EventFd $e } }
        @{ Cmdlet = 'Remove-PollSetMember'; Unchanged = { $e = New-EventFd -InitialValue 1; $s = New-PollSet $e; Remove-PollSetMember $s $e -WhatIf; $s.Count -eq 1 -and @(Wait-PollSet $s -TimeoutSeconds 5).Count -eq 1; Close-PollSet $s; Close-EventFd $e } }
    )
}

Describe 'Every cmdlet' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:mqueueFs = [Sysprog.MessageQueue]::IsMqueueFsMounted()
    }

    AfterAll {
        Remove-TestObjectAll
        Get-DevShmName -Filter "*sysprog-pester-$PID-*" | Should -BeNullOrEmpty
    }

    It 'is in the table of cases' -ForEach @(@{ Covered = $script:cases.Cmdlet }) {
        $Covered | Sort-Object | Should -Be ((Get-Command -Module Sysprog -CommandType Cmdlet).Name | Sort-Object)
    }

    It '<Cmdlet> narrates its system calls under -Verbose, <Call> among them, its output shows its table view at 80 columns (after serialization too), and it leaves no descriptor open' -ForEach $script:cases {
        if ($NeedsMqueueFs -and -not $script:mqueueFs) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $n = New-TestName
        $fdsBefore = Get-FdListing
        $records = @(& $Run 4>&1)
        $lines = @($records | Select-SyscallLine)
        $lines.Count | Should -BeGreaterThan 0 -Because "$Cmdlet -Verbose names each system call"
        @($lines -match "^$Call\w*\(").Count | Should -BeGreaterThan 0 -Because "$Cmdlet makes that call: $($lines -join '; ')"

        $objects = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] -and $_ -isnot [System.Management.Automation.ErrorRecord] })
        $declared = @((Get-Command $Cmdlet).OutputType.Type | Where-Object Namespace -EQ 'Sysprog')
        foreach ($object in $objects | Where-Object { $_.GetType().Namespace -eq 'Sysprog' } | Select-Object -First 1) {
            $object.GetType() | Should -BeIn $declared -Because "$Cmdlet declares what it writes ([OutputType])"
            Assert-TableView -InputObject $object
        }
        Remove-TestObjectAll
        Assert-NoFdLeft -Since $fdsBefore -Because "what $Cmdlet opened is closed by the cmdlets that close it"
    }

    It 'narrates only when verbose output is wanted: <Case>' -ForEach @(
        @{ Case = '-Verbose'; Preference = 'SilentlyContinue'; Switch = @{ Verbose = $true }; Expected = $true }
        @{ Case = '$VerbosePreference = Continue'; Preference = 'Continue'; Switch = @{}; Expected = $true }
        @{ Case = '-Verbose:$false under Continue'; Preference = 'Continue'; Switch = @{ Verbose = $false }; Expected = $false }
        @{ Case = 'neither'; Preference = 'SilentlyContinue'; Switch = @{}; Expected = $false }
    ) {
        $e = New-EventFd
        try {
            $VerbosePreference = $Preference
            $lines = @(Write-EventFd $e -Value 1 @Switch 4>&1 | Select-SyscallLine)
            $VerbosePreference = 'SilentlyContinue'
            ($lines.Count -gt 0) | Should -Be $Expected -Because "the lines were: $($lines -join '; ')"
        }
        finally {
            $VerbosePreference = 'SilentlyContinue'
            Close-EventFd $e
        }
    }

    It 'that supports -WhatIf is in the table of -WhatIf cases' -ForEach @(@{ Covered = $script:whatIf.Cmdlet }) {
        $Covered | Sort-Object | Should -Be ((Get-Command -Module Sysprog | Where-Object { $_.Parameters.ContainsKey('WhatIf') }).Name | Sort-Object)
    }

    It '<Cmdlet> -WhatIf changes nothing' -ForEach $script:whatIf {
        $n = New-TestName
        $results = @(& $Unchanged)
        $results.Count | Should -Be 1
        if ($results[0] -is [string] -and $results[0] -like 'skip: *') {
            Set-ItResult -Skipped -Because $results[0].Substring(6)
            return
        }
        $results[0] | Should -BeTrue
        Remove-TestObjectAll
    }

    It '<_> -Confirm asks before removing, and removes nothing when it cannot ask' -ForEach @('Remove-SharedMemory', 'Remove-Semaphore', 'Remove-MessageQueue') {
        $n = New-TestName
        $cmdlet = $_
        switch ($cmdlet) {
            'Remove-SharedMemory' { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; $exists = { Test-Path -LiteralPath "/dev/shm$n" } }
            'Remove-Semaphore' { New-Semaphore -Name $n | Close-Semaphore; $exists = { Test-Path -LiteralPath "/dev/shm/sem.$($n.Substring(1))" } }
            'Remove-MessageQueue' { New-MessageQueue -Name $n | Close-MessageQueue; $exists = { $q = Open-MessageQueue -Name $n -ErrorAction SilentlyContinue; $null -ne $q; if ($q) { Close-MessageQueue $q } } }
        }
        # A runspace without a host cannot answer the prompt: the confirmation fails, so nothing may be removed.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Get-Module Sysprog).Path).AddStatement().AddCommand($cmdlet).AddParameter('Name', $n).AddParameter('Confirm', $true)
            $null = $ps.Invoke()
            $ps.Streams.Error.Count | Should -Be 1
            $ps.Streams.Error[0].ToString() | Should -BeLike '*attempting to request confirmation*'
        }
        finally {
            $ps.Dispose()
        }
        & $exists | Should -BeTrue
        Remove-TestObjectAll
    }
}

Describe 'A closed object' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    # Each row makes an object, closes it, then uses it: the error names the object by what the user knows it as
    # (its name or description), says it is closed, and is the ObjectClosed error of the cmdlet, never .NET's
    # "Cannot access a disposed object. Object name: 'Sysprog.X'".
    It '<Kind>: a cmdlet using it fails naming it as closed' -ForEach @(
        @{ Kind = 'shared memory'; Make = { New-SharedMemory -Name (New-TestName) -Size 4KB }; Shown = { $args[0].Name }; Use = { Invoke-MemoryMap -InputObject $args[0] -ScriptBlock { 1 } }; Close = { Close-SharedMemory $args[0]; Remove-SharedMemory $args[0].Name } }
        @{ Kind = 'message queue'; Make = { New-MessageQueue -Name (New-TestName) }; Shown = { $args[0].Name }; Use = { Send-MqMessage $args[0] 'hi' -TimeoutSeconds 0 }; Close = { Close-MessageQueue $args[0]; Remove-MessageQueue $args[0].Name } }
        @{ Kind = 'named semaphore'; Make = { New-Semaphore -Name (New-TestName) }; Shown = { $args[0].Name }; Use = { Unlock-Semaphore $args[0] }; Close = { Close-Semaphore $args[0]; Remove-Semaphore $args[0].Name } }
        @{ Kind = 'eventfd'; Make = { New-EventFd }; Shown = { $args[0].Description }; Use = { Write-EventFd $args[0] 1 }; Close = { Close-EventFd $args[0] } }
        @{ Kind = 'inotify'; Make = { New-Inotify }; Shown = { $args[0].Description }; Use = { Read-Inotify $args[0] -TimeoutSeconds 0 }; Close = { Close-Inotify $args[0] } }
    ) {
        $object = & $Make
        $shown = & $Shown $object
        & $Close $object
        $failed = @(& $Use $object 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ObjectClosed,*'
        $failed[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $failed[0].Exception.Message | Should -BeExactly "$shown is closed."
    }
}

Describe 'Tab completion of signals, system calls, encodings and libraries' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        function Get-Completion([string] $Line) { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText) }
    }

    It 'completes signal names for New-SignalFd -Signal and Stop-ChildProcess -Signal' {
        Get-Completion 'New-SignalFd -Signal USR' | Should -Be 'USR1', 'USR2'
        Get-Completion 'New-SignalFd -Signal SIGTE' | Should -Be 'TERM'
        Get-Completion 'Stop-ChildProcess -Signal KI' | Should -Be 'KILL'
    }

    It 'completes system call names of this machine''s table for Get-Syscall -Name' {
        $names = Get-Completion 'Get-Syscall -Name epoll_'
        $names | Should -Contain 'epoll_pwait'
        $names | Should -Be @((Get-Syscall -Name 'epoll_*').Name | Sort-Object -CaseSensitive)
        Get-Completion 'Get-Syscall sem_no_such' | Should -BeNullOrEmpty
    }

    It 'completes -Encoding with the names the cmdlets know' {
        Get-Completion 'Read-FileDescriptor -Encoding u' | Should -Be 'utf8', 'unicode', 'utf32'
        Get-Completion 'Send-MqMessage -Encoding lat' | Should -Be 'latin1'
    }

    It 'completes Open-SharedLibrary names from the loader''s cache' {
        if (-not (Test-Path -LiteralPath /etc/ld.so.cache)) {
            Set-ItResult -Skipped -Because 'this machine has no /etc/ld.so.cache (a C library other than glibc)'
            return
        }
        $names = Get-Completion 'Open-SharedLibrary libc.so'
        $names | Should -Contain 'libc.so.6'
        $names | ForEach-Object { $_ | Should -BeLike 'libc.so*' }
        # A completed name is one dlopen finds without a path: libc.so.6 is loaded already, so RTLD_NOLOAD opens it.
        $library = Open-SharedLibrary 'libc.so.6' -NoLoad
        try { $library.Path | Should -Exist } finally { Close-SharedLibrary $library }
    }
}
