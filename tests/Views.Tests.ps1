#Requires -Version 7.4
# Every table view of the module (module/Sysprog.Format.ps1xml) on a real object of its type: it fits a terminal of 80
# columns with every column there and none but the last cut short, every column label is a property (a real one or one
# module/Sysprog.Types.ps1xml gives), and the object as a job or a remote call brings it back (serialized) shows the
# same table. Then a real Start-Job: what comes back keeps the values users filter on, as numbers where they are.
BeforeDiscovery {
    # One maker per viewed type: it returns one object of the type, live where the type is a handle, and hands what it
    # opened to Keep (closed after the case). $n is a fresh name, $dir a directory of the test's own.
    $script:makers = @(
        @{ Type = 'SharedMemory'; Make = { Keep (New-SharedMemory -Name $n -Size 4KB) } }
        @{ Type = 'SharedMemoryInfo'; Make = { New-SharedMemory -Name $n -Size 4KB | Close-SharedMemory; Get-SharedMemory -Name $n } }
        @{ Type = 'MemoryMapping'; Make = { Keep (New-MemoryMap -Anonymous -Size 4KB) } }
        @{ Type = 'ProcessMapping'; Make = { Get-ProcessMapping | Where-Object Path -Like '*libc.so*' | Select-Object -First 1 } }
        @{ Type = 'PosixSemaphore'; Make = { Keep (New-Semaphore -Name $n -Value 1) } }
        @{ Type = 'SemaphoreInfo'; Make = { New-Semaphore -Name $n -Value 2 | Close-Semaphore; Get-Semaphore -Name $n } }
        @{ Type = 'MessageQueue'; Make = { Keep (New-MessageQueue -Name $n) } }
        @{ Type = 'MessageQueueInfo'; NeedsMqueueFs = $true; Make = { New-MessageQueue -Name $n | Close-MessageQueue; Get-MessageQueue -Name $n } }
        @{ Type = 'MqMessage'; Make = { $q = Keep (New-MessageQueue -Name $n); 'hi' | Send-MqMessage -Queue $q; Receive-MqMessage -Queue $q -TimeoutSeconds 5 } }
        @{ Type = 'MqNotification'; Make = { $q = Keep (New-MessageQueue -Name $n); Keep (New-MqNotification $q) } }
        @{ Type = 'Pipe'; Make = { Keep (New-Pipe) } }
        @{ Type = 'PipeEnd'; Make = { (Keep (New-Pipe)).ReadEnd } }
        @{ Type = 'Socket'; Make = { Keep (New-Socket -Path (Join-Path $dir "s$(Get-Random).sock")) } }
        @{ Type = 'SocketPair'; Make = { Keep (New-SocketPair) } }
        @{ Type = 'SocketMessage'; Make = { $p = Keep (New-SocketPair); Send-SocketMessage $p.First 'hi'; Receive-SocketMessage $p.Second -TimeoutSeconds 5 } }
        @{ Type = 'FileDescriptor'; Make = {
                $p = Keep (New-SocketPair); $file = [IO.File]::OpenRead('/etc/passwd')
                try { Send-SocketMessage $p.First 'file' -Descriptor $file } finally { $file.Dispose() }
                Keep (Receive-SocketMessage $p.Second -TimeoutSeconds 5).Descriptors[0] } }
        @{ Type = 'SocketInfo'; Make = { $s = Keep (New-Socket -Path (Join-Path $dir "i$(Get-Random).sock")); Get-Socket -ProcessId $PID -Protocol Unix | Where-Object Inode -EQ $s.Inode } }
        @{ Type = 'EventFd'; Make = { Keep (New-EventFd -InitialValue 3) } }
        # Disarmed: an armed timer's Remaining changes between one rendering and the next.
        @{ Type = 'TimerFd'; Make = { Keep (New-TimerFd) } }
        @{ Type = 'SignalFd'; Make = { Keep (New-SignalFd -Signal USR1) } }
        @{ Type = 'SignalRecord'; Make = { $s = Keep (New-SignalFd -Signal USR2); & kill -USR2 $PID; Read-SignalFd $s -TimeoutSeconds 10 } }
        @{ Type = 'ReadyHandle'; Make = { $e = Keep (New-EventFd -InitialValue 1); Wait-FileDescriptor $e -TimeoutSeconds 5 } }
        @{ Type = 'PollSet'; Make = { $e = Keep (New-EventFd); Keep (New-PollSet $e) } }
        @{ Type = 'PollSetMember'; Make = { $e = Keep (New-EventFd); $s = Keep (New-PollSet); Add-PollSetMember $s $e -EdgeTriggered } }
        @{ Type = 'WouldBlock'; Make = { $e = Keep (New-EventFd); Read-EventFd $e -TimeoutSeconds 0 } }
        @{ Type = 'FileLock'; Make = { Keep (Lock-File (Join-Path $dir 'l.lock')) } }
        @{ Type = 'FileLockInfo'; Make = { $p = Join-Path $dir 'i.lock'; $null = Keep (Lock-File $p); Get-FileLock -Path $p } }
        @{ Type = 'FileLockConflict'; Make = { $p = Join-Path $dir 'c.lock'; $null = Keep (Lock-File $p -Kind Ofd); Test-FileLock $p -Kind Ofd -PassThru } }
        @{ Type = 'Inotify'; Make = { Keep (New-Inotify $dir) } }
        @{ Type = 'InotifyWatch'; Make = { (Keep (New-Inotify $dir)).Watches[0] } }
        @{ Type = 'InotifyEvent'; Make = { $i = Keep (New-Inotify $dir); $null = New-Item (Join-Path $dir "e$(Get-Random)"); Read-Inotify $i -TimeoutSeconds 5 | Select-Object -First 1 } }
        @{ Type = 'Pty'; Make = { Keep (Start-Pty cat) } }
        @{ Type = 'PtyMatch'; Make = { $p = Keep (Start-Pty echo hi); Wait-Pty $p hi -TimeoutSeconds 5 } }
        @{ Type = 'ProcessExit'; Make = { $c = Keep (Start-ChildProcess true); Wait-ChildProcess $c -TimeoutSeconds 10 } }
        @{ Type = 'ChildProcess'; Make = { Keep (Start-ChildProcess sleep 30) } }
        @{ Type = 'IpcLimit'; Make = { Get-IpcLimit | Select-Object -First 1 } }
        # Held open here, so that its holders (this process) are in the table.
        @{ Type = 'IpcObject'; Make = { $null = Keep (New-SharedMemory -Name $n -Size 4KB); Get-IpcObject $n -WarningAction SilentlyContinue } }
        @{ Type = 'ProcessMemoryTransfer'; Make = { $m = Keep (New-MemoryMap -Anonymous -Size 4KB); Write-ProcessMemory $PID $m.Address -Int64 5 -PassThru -Force -Confirm:$false } }
        @{ Type = 'ElfFile'; Make = { Get-ElfFile /usr/bin/true } }
        @{ Type = 'ElfSymbol'; Make = { Get-ElfSymbol /usr/bin/true -Table Dynamic | Select-Object -First 1 } }
        @{ Type = 'ElfSection'; Make = { (Get-ElfFile /usr/bin/true).Sections | Where-Object Name -EQ '.text' } }
        @{ Type = 'ElfProgramHeader'; Make = { (Get-ElfFile /usr/bin/true).ProgramHeaders | Select-Object -First 1 } }
        @{ Type = 'ElfDynamicEntry'; Make = { (Get-ElfFile /usr/bin/true).DynamicEntries | Where-Object Text | Select-Object -First 1 } }
        @{ Type = 'ElfDependency'; Make = { Resolve-ElfDependency /usr/bin/true | Select-Object -Last 1 } }
        @{ Type = 'SharedLibrary'; Make = { Keep (Open-SharedLibrary libm.so.6) } }
        @{ Type = 'SharedLibrarySymbol'; Make = { Get-SharedLibrarySymbol -Scope Default strlen } }
        @{ Type = 'LoadedLibrary'; Make = { Get-SharedLibrary *libc.so* | Select-Object -First 1 } }
        @{ Type = 'ProcessScheduling'; Make = { Get-ProcessScheduling } }
        @{ Type = 'ProcessLimit'; Make = { Get-ProcessLimit -Resource NoFile } }
        @{ Type = 'SyscallEntry'; Make = { Get-Syscall futex } }
        @{ Type = 'ThreadSyscall'; Make = { Get-ProcessSyscall -ThreadId $PID } }
        @{ Type = 'ProgramBreak'; Make = { Get-ProgramBreak } }
        @{ Type = 'FileResidency'; Make = { $f = Join-Path $dir 'resident.bin'; [IO.File]::WriteAllBytes($f, [byte[]]::new(8192)); Get-FileResidency $f } }
        @{ Type = 'TimerLatencyResult'; Make = { Measure-TimerLatency -Count 20 } }
        @{ Type = 'IpcMeasurement'; Make = { Measure-IpcMechanism MessageQueue -RoundTrips 20 -Messages 20 } }
        @{ Type = 'SysprogHandle'; Make = { $null = Keep (New-EventFd); Get-SysprogHandle -Kind EventFd | Select-Object -Last 1 } }
        @{ Type = 'LatencyBucket'; Make = { (Measure-TimerLatency -Count 20).Histogram | Select-Object -First 1 } }
        @{ Type = 'TerminalSize'; Make = { $p = Keep (Start-Pty cat); Get-TerminalSize $p.SecondaryPath } }
    )
}

Describe 'The table views' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:mqueueFs = [Sysprog.MessageQueue]::IsMqueueFsMounted()
        $script:kept = [System.Collections.Generic.List[object]]::new()
        function Keep($InputObject) {
            # What a maker opened, closed after its case.
            $script:kept.Add($InputObject)
            $InputObject
        }
        function Close-Kept {
            for ($i = $script:kept.Count - 1; $i -ge 0; $i--) {
                $object = $script:kept[$i]
                if ($object -is [Sysprog.ChildProcess] -and -not $object.IsClosed) {
                    if (-not $object.HasExited) { Stop-ChildProcess $object -Signal KILL }
                    $null = Wait-ChildProcess $object -TimeoutSeconds 10
                    Close-ChildProcess $object
                }
                elseif ($object -is [Sysprog.Pty]) { Close-Pty $object }
                elseif ($object -is [Sysprog.FileLock]) { Unlock-File $object }
                elseif ($object -is [IDisposable]) { $object.Dispose() }
            }
            $script:kept.Clear()
        }
    }

    AfterEach {
        Close-Kept
        Remove-TestObjectAll
    }

    AfterAll {
        Get-DevShmName -Filter "*sysprog-pester-$PID-*" | Should -BeNullOrEmpty
    }

    It 'has a maker here for every viewed type' -ForEach @(@{ Covered = $script:makers.Type }) {
        $viewed = ([xml](Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '..' 'module' 'Sysprog.Format.ps1xml'))).Configuration.ViewDefinitions.View |
            ForEach-Object { @($_.ViewSelectedBy.TypeName)[0] -replace '^Sysprog\.' }
        $Covered | Sort-Object | Should -Be ($viewed | Sort-Object)
    }

    It '<Type> fits 80 columns, its columns are properties, and it shows the same after serialization' -ForEach $script:makers {
        if ($NeedsMqueueFs -and -not $script:mqueueFs) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $n = New-TestName
        $dir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "v$(Get-Random)")).FullName
        $made = @(& $Make | Where-Object { $_ -is "Sysprog.$Type" })
        $made.Count | Should -BeGreaterOrEqual 1 -Because "the maker gives a Sysprog.$Type"
        Assert-TableView -InputObject $made[0]
    }
}

Describe 'Objects from a job' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # A real Start-Job: another pwsh process, whose output comes back serialized as it would from a remote call.
        $name = New-TestName
        $lock = Join-Path $TestDrive 'job.lock'
        $semaphoreName = New-TestName
        $queueName = New-TestName
        $socketPath = Join-Path $TestDrive 'job.sock'
        $script:mqueueFs = [Sysprog.MessageQueue]::IsMqueueFsMounted()
        $script:fromJob = Start-Job -ArgumentList $SysprogModulePath, $name, $lock, $semaphoreName, $queueName, $socketPath, $script:mqueueFs -ScriptBlock {
            param($module, $name, $lock, $semaphoreName, $queueName, $socketPath, $mqueueFs)
            Import-Module $module
            $memory = New-SharedMemory -Name $name -Size 8KB -Mode 0640
            $held = Lock-File $lock
            New-Semaphore -Name $semaphoreName -Value 3 -Mode 0640 | Close-Semaphore
            $queue = New-MessageQueue -Name $queueName -Mode 0640
            $socket = New-Socket -Path $socketPath
            try {
                [pscustomobject]@{ JobProcessId = $PID }
                Get-SharedMemory -Name $name
                $memory
                Get-IpcObject $name -WarningAction SilentlyContinue
                Get-Semaphore -Name $semaphoreName
                if ($mqueueFs) { 'job' | Send-MqMessage -Queue $queue; Get-MessageQueue -Name $queueName }
                Get-Socket -ProcessId $PID -Protocol Unix | Where-Object Inode -EQ $socket.Inode
                Get-ProcessMapping | Where-Object Path -Like '*libc.so*' | Select-Object -First 1
                Get-FileLock -Path $lock
                Get-ElfSymbol /usr/bin/true -Table Dynamic | Select-Object -First 1
            }
            finally {
                Close-Socket $socket
                Close-MessageQueue $queue
                Remove-MessageQueue -Name $queueName -Confirm:$false
                Remove-Semaphore -Name $semaphoreName -Confirm:$false
                Unlock-File $held
                Close-SharedMemory $memory
                Remove-SharedMemory -Name $name -Confirm:$false
            }
        } | Wait-Job -Timeout 120 | Receive-Job -ErrorAction Stop
        Get-Job | Remove-Job -Force
        Remove-TestObjectAll
        $script:jobPid = ($script:fromJob | Where-Object JobProcessId).JobProcessId
        function Get-FromJob([string] $Type) { $script:fromJob | Where-Object { $_.PSObject.TypeNames[0] -eq "Deserialized.Sysprog.$Type" } }
    }

    It 'came back from another process' {
        $script:jobPid | Should -BeGreaterThan 0
        $script:jobPid | Should -Not -Be $PID
    }

    It '<Type> keeps what its view shows, and its view fits 80 columns' -ForEach @(
        @{ Type = 'SharedMemoryInfo' }, @{ Type = 'SharedMemory' }, @{ Type = 'IpcObject' }, @{ Type = 'SemaphoreInfo' }, @{ Type = 'MessageQueueInfo'; NeedsMqueueFs = $true }
        @{ Type = 'SocketInfo' }, @{ Type = 'ProcessMapping' }, @{ Type = 'FileLockInfo' }, @{ Type = 'ElfSymbol' }
    ) {
        if ($NeedsMqueueFs -and -not $script:mqueueFs) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $object = @(Get-FromJob $Type)
        $object.Count | Should -Be 1 -Because "the job wrote one Sysprog.$Type"
        $table = (Get-FormatData -TypeName "Sysprog.$Type").FormatViewDefinition.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] }
        $text = $object[0] | Format-Table | Out-String -Width 80
        foreach ($label in $table.Headers.Label) {
            $label | Should -BeIn $object[0].PSObject.Properties.Name
            $text | Should -Match "\b$([regex]::Escape($label))\b"
        }
        foreach ($line in $text -split '\r?\n') { $line.Length | Should -BeLessOrEqual 80 }
    }

    It 'keeps names, modes as the octal string, sizes and ids as numbers' {
        $info = Get-FromJob SharedMemoryInfo
        $info.Name | Should -BeLike '/sysprog-pester-*'
        $info.Mode | Should -BeExactly '0640'
        $info.Size | Should -BeOfType [long]
        $info.Size | Should -Be 8KB
        $info.OwnerId | Should -BeOfType [uint32]
        (Get-FromJob SharedMemory).Mode | Should -BeExactly '0640'
        (Get-FromJob SharedMemory).Fd | Should -BeOfType [int]
        $mapping = Get-FromJob ProcessMapping
        $mapping.ProcessId | Should -Be $script:jobPid
        $mapping.Start | Should -BeOfType [ulong]
        $mapping.Pid | Should -Be $script:jobPid -Because 'the view''s Pid column is an alias property, serialized with the rest'
        (Get-FromJob ElfSymbol).Value | Should -BeOfType [ulong]
        $semaphore = Get-FromJob SemaphoreInfo
        $semaphore.Mode | Should -BeExactly '0640'
        $semaphore.Value | Should -Be 3
        if ($script:mqueueFs) {
            $queue = Get-FromJob MessageQueueInfo
            $queue.Mode | Should -BeExactly '0640'
            $queue.CurrentMessages | Should -Be 1
            $queue.Messages | Should -Be "1/$($queue.MaxMessages)" -Because 'the view''s Messages column is a script property, serialized with the rest'
        }
    }

    It 'keeps a socket''s holders as objects with their process ids' {
        $socket = Get-FromJob SocketInfo
        $socket.State | Should -Be 'LISTEN'
        @($socket.Holders.ProcessId) | Should -Contain $script:jobPid
        $socket.Local | Should -BeLike '*job.sock'
    }

    It 'keeps an IPC object''s state and its holders as objects with their process ids' {
        $object = Get-FromJob IpcObject
        $object.Mode | Should -BeExactly '0640'
        $object.State | Should -Be 'held'
        @($object.Holders).Count | Should -BeGreaterOrEqual 1
        @($object.Holders.ProcessId) | Should -Contain $script:jobPid
        @($object.Holders.ProcessId)[0] | Should -BeOfType [int]
    }

    It 'keeps an IPC object''s kind and how it is held as names, which filters compare with' {
        $object = Get-FromJob IpcObject
        $object.Kind | Should -BeExactly 'SharedMemory'
        @(Get-FromJob IpcObject | Where-Object Kind -EQ SharedMemory).Count | Should -Be 1
        @($object.Holders | Where-Object ProcessId -EQ $script:jobPid)[0].How | Should -Match 'Descriptor'
    }

    It 'keeps a lock''s holder as a process id' {
        $lock = Get-FromJob FileLockInfo
        $lock.ProcessId | Should -Be $script:jobPid
        $lock.Pid | Should -Be $script:jobPid
        $lock.Process | Should -Not -BeNullOrEmpty
    }
}
