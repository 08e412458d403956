#Requires -Version 7.4
# Screenplay 8: starting processes. posix_spawn is clone(CLONE_VM|CLONE_VFORK) and exec: the child borrows the
# parent's memory until exec, which replaces its address space with the program's; the shell's own fork does copy
# its parent, which is why a .NET process never forks. Descriptors go to the child by number and nothing else does;
# the pidfd waits for it among other descriptors; realtime settings change how late a timer wakes.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'Starting processes: spawn, fork and exec, watched' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:started = [System.Collections.Generic.List[object]]::new()
        function Start-Demo {
            $child = Start-ChildProcess @args
            $script:started.Add($child)
            $child
        }
        function Get-State([int] $ProcessId) { ((Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw) -split '\) ')[1][0] }
        # The file /bin/sh is, as the maps name it (dash on Debian).
        $script:sh = (& readlink -f /bin/sh)
    }

    AfterAll {
        Stop-DemoChild $script:started
    }

    It 'spawns a shell that stops itself before exec: its address space is the shell''s' {
        # The shell stops itself, then replaces itself with sleep: between the two we can look.
        $script:shell = Start-Demo sh -ArgumentList '-c', 'kill -STOP $$; exec sleep 60'
        Wait-Until { (Get-State $script:shell.ProcessId) -eq 'T' } | Should -BeTrue
        $script:beforeMaps = @(Get-ProcessMapping -Id $script:shell.ProcessId)
        $script:before = @($script:beforeMaps | Where-Object Path -Like '/*' | ForEach-Object Path | Sort-Object -Unique)

        $script:before | Should -Contain $script:sh
        (Get-Content "/proc/$($script:shell.ProcessId)/comm") | Should -Be 'sh'
        Write-Narration "Stopped before its exec, the child maps the shell: $($script:before -join ', ')."
    }

    It 'resumes it: exec replaces the whole address space with the new program''s, same pid' {
        Stop-ChildProcess $script:shell -Signal CONT
        Wait-Until { (Get-Content "/proc/$($script:shell.ProcessId)/comm") -eq 'sleep' } | Should -BeTrue
        $after = @(Get-ProcessMapping -Id $script:shell.ProcessId | Where-Object Path -Like '/*' | ForEach-Object Path | Sort-Object -Unique)

        $after | Where-Object { $_ -like '*/sleep' } | Should -Not -BeNullOrEmpty
        $after | Should -Not -Contain $script:sh
        Write-Narration "After exec, pid $($script:shell.ProcessId) maps $($after -join ', '): nothing of the shell is left, the pidfd still holds the same process."
    }

    It 'draws the whiteboard: the same pid before and after its exec, side by side' {
        $pid2 = $script:shell.ProcessId
        $coloured = @($script:beforeMaps | Show-ProcessMapping -Compare $pid2 -Width 120)
        # In colour where this host renders it (for the audience); the checks read the plain text.
        $picture = @($coloured -replace "`e\[[0-9;]*m", '')
        $column = (120 - 3) / 2 -as [int]
        $left = $picture | Select-Object -Skip 1 | ForEach-Object { $_.PadRight($column).Substring(0, [Math]::Min($column, $_.Length)).TrimEnd() }
        $right = $picture | Select-Object -Skip 1 | Where-Object { $_.Length -gt $column + 3 } | ForEach-Object { $_.Substring($column + 3) }

        $picture | Where-Object Length -GT 120 | Should -BeNullOrEmpty
        # The snapshot is named by the program it mapped (dash, for sh on Debian), the live process as it names itself.
        $picture[1] | Should -Match "^pid $pid2 \($([regex]::Escape((Split-Path -Leaf $script:sh)))\): $($script:beforeMaps.Count) regions +\| pid $pid2 \(sleep\): \d+ regions$"
        # Before: the shell's program and its C library; after: sleep's, and no line of the shell's program is left.
        $left | Where-Object { $_.EndsWith("program $(Split-Path -Leaf $script:sh)") } | Should -Not -BeNullOrEmpty
        $right | Where-Object { $_.EndsWith('program sleep') } | Should -Not -BeNullOrEmpty
        $right | Where-Object { $_.EndsWith("program $(Split-Path -Leaf $script:sh)") } | Should -BeNullOrEmpty
        foreach ($side in $left, $right) {
            $side | Where-Object { $_ -match 'library libc\.so\.6$' } | Should -Not -BeNullOrEmpty
            $side | Where-Object { $_.EndsWith('stack') } | Should -Not -BeNullOrEmpty
        }
        Write-Narration "The whiteboard, drawn: left the shell stopped before its exec, right the same pid running sleep.`n$($coloured -join "`n")"
    }

    It 'shows that the shell''s fork copied it: a subshell maps exactly what its parent does' {
        # The subshell is a fork of the shell that runs only a builtin (read, on a pipe nobody writes): no exec. (An
        # asynchronous list's stdin is /dev/null, so the pipe comes as 3.)
        $pipe = New-Pipe
        try {
            $pair = Start-Demo sh -ArgumentList '-c', '( read line <&3 ) & wait' -Descriptor @{ 3 = $pipe.ReadEnd }
            # The fork is the child sh asleep in read(2) on the pipe: found in one look, so a shell that forks in
            # stages cannot hand this test a process that has already gone.
            $found = [System.Collections.Generic.List[int]]::new()
            Wait-Until {
                $found.Clear()
                Get-ChildProcessId -ParentId $pair.ProcessId -Name sh | Where-Object { @(Get-BlockedThread -ProcessId $_ -Syscall read).Count -gt 0 } | ForEach-Object { $found.Add($_) }
                $found.Count -eq 1
            } | Should -BeTrue -Because 'the subshell blocks reading the pipe'
            $forked = $found[0]
            $parent = Get-ProcessMapping -Id $pair.ProcessId | ForEach-Object { '{0:x} {1}' -f $_.Start, $_.Path }
            $child = Get-ProcessMapping -Id $forked | ForEach-Object { '{0:x} {1}' -f $_.Start, $_.Path }

            $child | Should -Be $parent
            Stop-ChildProcess $pair -Signal KILL
            & kill -KILL $forked
        }
        finally {
            Close-Pipe $pipe
        }
        Write-Narration "fork gave pid $forked a copy of pid $($pair.ProcessId)'s address space, mapping for mapping at the same addresses (copy-on-write). In a .NET process that copy would hold only the forking thread, with every lock the others held locked forever: posix_spawn never copies."
    }

    It 'hands a child one descriptor by number, and nothing else' {
        $pipe = New-Pipe
        $extra = New-EventFd
        $extra.SetInheritable($true)
        try {
            $ls = Start-Demo ls -ArgumentList '/proc/self/fd' -Descriptor @{ 1 = $pipe.WriteEnd; 5 = $extra }
            $null = Wait-ChildProcess $ls -TimeoutSeconds 10
            Close-Pipe $pipe.WriteEnd
            $fds = (Read-FileDescriptor $pipe.ReadEnd -TimeoutSeconds 5) -split "`n" | Where-Object { $_ }

            $fds | Should -Contain '5'
            $fds | Should -Not -Contain "$($extra.Fd)"
            Write-Narration "ls saw descriptors $($fds -join ' '): 0-2, the eventfd as 5 (not as $($extra.Fd), its number here), and its own for the folder. Inheritable or not, nothing else crossed."
        }
        finally {
            Close-Pipe $pipe
            Close-EventFd $extra
        }
    }

    It 'waits for whichever of two children ends first, through their pidfds' {
        $slow = Start-Demo sleep 5
        $fast = Start-Demo sleep 0.2

        $ready = Wait-FileDescriptor $slow, $fast -TimeoutSeconds 10

        $ready.Handle.ProcessId | Should -Be $fast.ProcessId
        (Wait-ChildProcess $fast).ExitCode | Should -Be 0
        Write-Narration "A pidfd becomes readable when its process ends: Wait-FileDescriptor woke for pid $($fast.ProcessId) while $($slow.ProcessId) slept on."
    }

    It 'measures what SCHED_FIFO buys a periodic thread' {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $plain = Measure-TimerLatency -Count 500
        $plainTook = $clock.Elapsed
        $fifo = Measure-TimerLatency -Count 500 -Policy Fifo -Priority 80 -ErrorAction SilentlyContinue -ErrorVariable refused

        # Real wake-ups: 500 deadlines 1 ms apart take half a second, and each wake-up comes after its deadline.
        $plainTook.TotalMilliseconds | Should -BeGreaterOrEqual 500
        $plain.Minimum | Should -BeGreaterThan ([TimeSpan]::Zero)
        $plain.Samples | Should -Be 500
        if ($refused) {
            $refused[0].Exception.Message | Should -BeLike '*RLIMIT_RTPRIO*'
            Write-Narration "SCHED_FIFO was refused here: $($refused[0].Exception.Message)"
        }
        else {
            $fifo.Samples | Should -Be 500
            $fifo.Minimum | Should -BeGreaterThan ([TimeSpan]::Zero)
            Write-Narration ("500 wake-ups every 1 ms: SCHED_OTHER median {0:N0} us, p99 {1:N0} us; SCHED_FIFO 80 median {2:N0} us, p99 {3:N0} us (this machine, this load)." -f
                $plain.Median.TotalMicroseconds, $plain.P99.TotalMicroseconds, $fifo.Median.TotalMicroseconds, $fifo.P99.TotalMicroseconds)
        }
        # The plot cyclictest's users make with gnuplot, drawn: counts on a log scale, so the few late wake-ups show.
        $coloured = @($plain | Show-TimerLatency -Width 100)
        $picture = @($coloured -replace "`e\[[0-9;]*m", '')
        $picture | Where-Object Length -GT 100 | Should -BeNullOrEmpty
        @($picture | Where-Object { $_ -match '^\s*[\d.>= -]+ \| #* +\d+( <- .*)?$' }) | Should -HaveCount $plain.Histogram.Count
        foreach ($mark in 'min', 'median', 'p99', 'p99.9', 'max') {
            $picture -match "<- (.*,)?$([regex]::Escape($mark))(,|$)" | Should -Not -BeNullOrEmpty -Because "the histogram marks $mark"
        }
        Write-Narration "SCHED_OTHER, drawn:`n$($coloured -join "`n")"
    }
}
