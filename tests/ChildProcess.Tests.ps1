#Requires -Version 7.4
# Child processes from pwsh: descriptors mapped from Sysprog objects, numbers and paths; the environment, working
# directory, session and blocked signals they start with; waits (exit codes, signals, timeouts, Ctrl+C, together with
# other descriptors); signals; listing; closing a running child; and their scheduling and resource limits, each checked
# against /proc. No pidfd is left open.
Describe 'child processes' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        function Get-StatField([int] $ProcessId, [int] $Index) { ((Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw) -split '\) ')[1].Split(' ')[$Index] }
        # A child closed while running is reaped at the next start or close once it has ended: end it, and wait
        # until it is a zombie, so the close in AfterEach reaps it and lets go of the pidfd kept for that.
        function Stop-ClosedChild([int] $ProcessId) {
            & kill -KILL $ProcessId
            Wait-Until { (Get-StatField $ProcessId 0) -eq 'Z' } | Should -BeTrue
        }
    }

    BeforeEach {
        # Sysprog keeps a pidfd for each child closed while it ran (earlier test files leave some) until it has
        # ended and the next start or close reaps it: the whole listing is compared, so a test answers for new ones.
        $script:fdsBefore = Get-FdListing
        $script:started = [System.Collections.Generic.List[object]]::new()
        function Start-Tracked { $c = Start-ChildProcess @args; $script:started.Add($c); $c }
    }

    AfterEach {
        foreach ($child in $script:started) {
            if (-not $child.IsClosed -and -not $child.Exit) {
                Stop-ChildProcess $child -Signal KILL
                $null = Wait-ChildProcess $child -TimeoutSeconds 10
            }
            Close-ChildProcess $child
        }
        Assert-NoFdLeft -Since $script:fdsBefore -Because 'every pidfd, and every descriptor handed to a child, is closed'
    }

    It 'gives the child a pipe end as its stdout, and reports its exit code' {
        $pipe = New-Pipe
        try {
            $child = Start-Tracked sh -ArgumentList '-c', 'echo "out $0"; exit 3' -Descriptor @{ 1 = $pipe.WriteEnd }
            $child.Descriptors.Keys | Should -Be @(1)

            $exit = Wait-ChildProcess $child -TimeoutSeconds 10

            $exit.ExitCode | Should -Be 3
            $exit.ProcessId | Should -Be $child.ProcessId
            $exit.Succeeded | Should -BeFalse
            Close-Pipe $pipe.WriteEnd
            Read-FileDescriptor $pipe.ReadEnd -TimeoutSeconds 5 | Should -Be "out sh`n"
            Test-Path "/proc/$($child.ProcessId)" | Should -BeFalse -Because 'waiting reaps it'
        }
        finally {
            Close-Pipe $pipe
        }
    }

    It 'opens a path for the child (written, created 0600) and duplicates a number of this process' {
        $out = Join-Path $TestDrive 'out.txt'
        $child = Start-Tracked sh -ArgumentList '-c', 'echo to-file; echo to-err >&2' -Descriptor @{ 1 = $out; 2 = 1 }
        $null = Wait-ChildProcess $child -TimeoutSeconds 10

        Get-Content -LiteralPath $out | Should -Be 'to-file'
        (Get-Item -LiteralPath $out).UnixMode | Should -Be '-rw-------'
    }

    It 'refuses a descriptor value that is neither an object, a number nor a path, naming it' {
        { Start-ChildProcess true -Descriptor @{ 3 = (Get-Date) } -ErrorAction Stop } | Should -Throw '*-Descriptor 3 is DateTime*'
    }

    It 'starts the child in the working directory, with the environment laid over this one' {
        $pipe = New-Pipe
        try {
            $env:SYSPROG_PESTER_KEEP = 'kept'
            $child = Start-Tracked sh -ArgumentList '-c', 'pwd; echo "$SYSPROG_PESTER_SET|$SYSPROG_PESTER_KEEP|${SYSPROG_PESTER_GONE-unset}"' `
                -WorkingDirectory $TestDrive -Environment @{ SYSPROG_PESTER_SET = 42; SYSPROG_PESTER_GONE = $null } -Descriptor @{ 1 = $pipe.WriteEnd }
            $null = Wait-ChildProcess $child -TimeoutSeconds 10
            Close-Pipe $pipe.WriteEnd

            (Read-FileDescriptor $pipe.ReadEnd -TimeoutSeconds 5) -split "`n" | Should -Be @((Resolve-Path $TestDrive).ProviderPath, '42|kept|unset', '')
        }
        finally {
            Remove-Item Env:SYSPROG_PESTER_KEEP
            Close-Pipe $pipe
        }
    }

    It 'starts the child with the signals asked for blocked, in a session of its own' {
        $child = Start-Tracked sleep 30 -BlockSignal USR1, SIGTERM -NewSession
        $blocked = (Get-Content "/proc/$($child.ProcessId)/status" | Where-Object { $_ -like 'SigBlk:*' }) -replace '^SigBlk:\s+', ''

        [Convert]::ToUInt64($blocked, 16) | Should -Be ((1 -shl 9) -bor (1 -shl 14))
        Get-StatField $child.ProcessId 3 | Should -Be "$($child.ProcessId)" -Because 'it leads its own session'

        Stop-ChildProcess $child
        (Wait-ChildProcess $child -TimeoutSeconds 1 -ErrorAction SilentlyContinue -ErrorVariable timedOut) | Should -BeNullOrEmpty -Because 'SIGTERM stays pending while blocked'
        $timedOut[0].FullyQualifiedErrorId | Should -BeLike 'Timeout*'
        $timedOut[0].TargetObject | Should -Be $child
    }

    It 'stops a child with the signal given, and reports the signal' {
        $child = Start-Tracked sleep 30

        $child | Stop-ChildProcess -Signal INT -PassThru | Should -Be $child
        $exit = $child | Wait-ChildProcess -TimeoutSeconds 10

        $exit.SignalName | Should -Be 'SIGINT'
        $exit.ExitCode | Should -BeNullOrEmpty
        { Stop-ChildProcess $child -ErrorAction Stop } | Should -Throw '*has ended*reaped*'
    }

    It 'refuses a signal that is not one before sending anything' {
        $child = Start-Tracked sleep 30
        { Stop-ChildProcess $child -Signal NOPE -ErrorAction Stop } | Should -Throw "*'NOPE' is not a signal*"
        $child.HasExited | Should -BeFalse
    }

    It 'waits for a child together with other descriptors' {
        $quiet = New-EventFd
        try {
            $child = Start-Tracked sh -ArgumentList '-c', 'sleep 0.2'

            $ready = Wait-FileDescriptor $quiet, $child -TimeoutSeconds 10

            $ready.Handle | Should -Be $child
            (Wait-ChildProcess $child -TimeoutSeconds 0).ExitCode | Should -Be 0
        }
        finally {
            Close-EventFd $quiet
        }
    }

    It 'stops a wait promptly when the pipeline is stopped' {
        Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$c = Start-ChildProcess sleep 30 -Verbose; try { Wait-ChildProcess $c } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c }') } `
            -BlockedIn poll, ppoll
    }

    It 'lists the open children of this session, and says which it does not hold' {
        $one = Start-Tracked sleep 30
        $two = Start-Tracked sleep 30

        @(Get-ChildProcess).ProcessId | Should -Contain $one.ProcessId
        (Get-ChildProcess -Id $two.ProcessId).ProcessId | Should -Be $two.ProcessId
        Close-ChildProcess $one
        @(Get-ChildProcess).ProcessId | Should -Not -Contain $one.ProcessId
        Get-ChildProcess -Id $one.ProcessId -ErrorAction SilentlyContinue -ErrorVariable missing
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $missing[0].TargetObject | Should -Be $one.ProcessId
        Stop-ClosedChild $one.ProcessId
    }

    It 'leaves a child closed while running to run on' {
        $child = Start-Tracked sleep 30
        # posix_spawn returns as the exec begins: sleeping is where the program gets to.
        Wait-Until { (Get-StatField $child.ProcessId 0) -eq 'S' } | Should -BeTrue
        Close-ChildProcess $child

        Get-StatField $child.ProcessId 0 | Should -Be 'S' -Because 'it sleeps on'
        Stop-ClosedChild $child.ProcessId
        $null = Start-Tracked true
        Test-Path "/proc/$($child.ProcessId)" | Should -BeFalse -Because 'the next start reaped it'
    }

    It 'names the program, the call and the errno when it cannot start' {
        Start-ChildProcess sysprog-no-such-program -ErrorAction SilentlyContinue -ErrorVariable failed

        $failed[0].FullyQualifiedErrorId | Should -BeLike 'PosixSpawnp.ENOENT,*'
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].TargetObject | Should -Be 'sysprog-no-such-program'
        $failed[0].Exception.Message | Should -BeLike "*No program 'sysprog-no-such-program' in PATH*"
    }

    Context 'scheduling and limits' {
        It 'reads this session, and Get-Process objects by property name' {
            $mine = Get-ProcessScheduling
            $mine.ProcessId | Should -Be $PID
            $mine.Nice | Should -Be ([int](Get-StatField $PID 16))
            (Get-Process -Id $PID | Get-ProcessScheduling -AllThreads).ThreadId | Should -Contain $PID
            @(Get-ProcessScheduling -AllThreads).Count | Should -Be @(Get-ChildItem "/proc/$PID/task").Count
        }

        It 'sets nice and affinity on every thread of a child, as /proc shows them' {
            $child = Start-Tracked sleep 30

            $set = $child | Set-ProcessScheduling -Nice 6 -Affinity 0 -PassThru

            $set.Nice | Should -Be 6
            $set.AffinityList | Should -Be '0'
            Get-StatField $child.ProcessId 16 | Should -Be '6'
            (Get-Content "/proc/$($child.ProcessId)/status" | Where-Object { $_ -like 'Cpus_allowed_list:*' }) | Should -Match ':\s+0$'
        }

        It 'sets a policy, and refuses a priority the policy does not take' {
            $child = Start-Tracked sleep 30

            ($child | Set-ProcessScheduling -Policy Idle -PassThru).PolicyName | Should -Be 'SCHED_IDLE'
            Get-StatField $child.ProcessId 38 | Should -Be '5'
            $child | Set-ProcessScheduling -Policy Batch -Priority 4 -ErrorAction SilentlyContinue -ErrorVariable refused
            $refused[0].Exception.Message | Should -BeLike '*SCHED_BATCH takes priority 0*'
            (Get-ProcessScheduling $child.ProcessId).Policy | Should -Be 'Idle'
        }

        It 'reads every limit of a child as /proc/PID/limits has it, and sets one' {
            $child = Start-Tracked sleep 30
            $limits = $child | Get-ProcessLimit
            $limits.Count | Should -Be 16
            $table = Get-Content "/proc/$($child.ProcessId)/limits" | Select-Object -Skip 1
            for ($i = 0; $i -lt 16; $i++) {
                $soft = ($table[$i].Substring(26) -split '\s+')[0]
                $soft | Should -Be ($(if ($null -eq $limits[$i].Soft) { 'unlimited' } else { "$($limits[$i].Soft)" }))
            }

            $set = $child | Set-ProcessLimit -Resource NoFile -Soft 77 -PassThru

            $set.Soft | Should -Be 77
            (Get-Content "/proc/$($child.ProcessId)/limits" | Where-Object { $_ -like 'Max open files*' }).Substring(26) | Should -Match '^77\s'
        }

        It 'refuses to lower a limit that would end this session, unless forced' {
            $before = (Get-ProcessLimit -Resource NoFile).Soft

            Set-ProcessLimit -Resource NoFile -Soft 100 -ErrorAction SilentlyContinue -ErrorVariable refused

            $refused[0].Exception.Message | Should -BeLike '*Lowering RLIMIT_NOFILE of this process can end or starve it*'
            (Get-ProcessLimit -Resource NoFile).Soft | Should -Be $before
        }

        It 'refuses it by the id of one of this session''s threads too, and for <Resource>' -ForEach @(
            @{ Resource = 'Cpu' }, @{ Resource = 'NProc' }, @{ Resource = 'SigPending' }, @{ Resource = 'MemLock' }
        ) {
            $thread = [int](Get-ChildItem "/proc/$PID/task" | Where-Object Name -NE "$PID" | Select-Object -First 1).Name
            $before = Get-ProcessLimit -Resource $Resource
            # Lower by one only: should the guard fail, this session still runs under a harmless limit.
            $lower = $(if ($null -eq $before.Soft) { [long]1 -shl 40 } else { $before.Soft }) - 1
            try {
                Set-ProcessLimit -Id $thread -Resource $Resource -Soft $lower -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable refused

                $refused[0].Exception.Message | Should -BeLike "*Lowering $($before.Name) of this process (thread $thread is one of its threads) can end or starve it*"
            }
            finally {
                Set-ProcessLimit -Resource $Resource -Soft $(if ($null -eq $before.Soft) { 'unlimited' } else { $before.Soft }) -Force -Confirm:$false
            }
            (Get-ProcessLimit -Resource $Resource).Soft | Should -Be $before.Soft
        }

        It 'takes sizes and unlimited for the byte limits' {
            $child = Start-Tracked sleep 30

            ($child | Set-ProcessLimit -Resource Core -Soft 1MiB -Hard unlimited -PassThru).SoftText | Should -Be '1 MiB'
            (Get-ProcessLimit Core $child.ProcessId).Hard | Should -BeNullOrEmpty
            { $child | Set-ProcessLimit -Resource Core -Soft 'lots' -ErrorAction Stop } | Should -Throw "*-Soft 'lots' is not a limit*"
        }
    }
}
