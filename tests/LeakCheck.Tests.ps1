#Requires -Version 7.4
# The leak check the area tests end with (tests/common.ps1: Get-FdListing, Get-FdOpenedSince, Assert-NoFdLeft) sees
# every kind of descriptor Sysprog opens, tells a new object at a number listed before from the one listed then, and
# reports a handle left to the finalizer.
Describe 'The descriptor leak check' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    AfterAll {
        Remove-TestObjectAll
    }

    It 'reports each kind of descriptor by number and target while it is open, and none once closed' {
        $n = New-TestName
        $fifo = New-Fifo (Join-Path $TestDrive 'fifo')
        $before = Get-FdListing
        $pipe = New-Pipe
        $fifoEnd = Open-Fifo $fifo.FullName Read -NonBlocking
        $pair = New-SocketPair
        $eventFd = New-EventFd
        $timerFd = New-TimerFd
        $signalFd = New-SignalFd -Signal USR1
        $inotify = New-Inotify $TestDrive
        $child = Start-ChildProcess true
        $pty = Start-Pty true
        $queue = New-MessageQueue -Name $n
        $shm = New-SharedMemory -Name $n -Size 4KB
        $lock = Lock-File (Join-Path $TestDrive 'lock')
        $expected = @(
            "$($pipe.ReadEnd.Fd) -> pipe:[$($pipe.Inode)]", "$($pipe.WriteEnd.Fd) -> pipe:[$($pipe.Inode)]"
            "$($fifoEnd.Fd) -> $($fifo.FullName)"
            "$($pair.First.Fd) -> socket:[$($pair.First.Inode)]", "$($pair.Second.Fd) -> socket:[$($pair.Second.Inode)]"
            "$($eventFd.Fd) -> anon_inode:[eventfd]"
            "$($timerFd.Fd) -> anon_inode:[timerfd]"
            # A real signalfd where the signal is blocked in every thread, else an eventfd the runtime's handler counts on.
            "$($signalFd.Fd) -> anon_inode:[$(if ($signalFd.HasSenderDetail) { 'signalfd' } else { 'eventfd' })]"
            "$($inotify.Fd) -> anon_inode:inotify"
            "$($child.Fd) -> anon_inode:[pidfd]"
            "$($pty.Fd) -> /dev/ptmx"
            "$($queue.Fd) -> $n"
            "$($shm.Fd) -> /dev/shm$n"
            "$($lock.Fd) -> $(Join-Path $TestDrive 'lock')"
        )
        try {
            $open = @(Get-FdOpenedSince $before)

            foreach ($line in $expected) {
                # With fdinfo's identity after the target, where it has one: " (ino: 4711)".
                @($open | Where-Object { $_ -eq $line -or $_.StartsWith("$line (") }).Count | Should -Be 1 -Because "$line is open (reported: $($open -join '; '))"
            }
        }
        finally {
            $null = Wait-ChildProcess $child -TimeoutSeconds 10
            Close-Pipe $pipe, $fifoEnd
            Close-Socket $pair
            Close-EventFd $eventFd
            Close-TimerFd $timerFd
            Close-SignalFd $signalFd
            Close-Inotify $inotify
            Close-ChildProcess $child
            Close-Pty $pty
            Close-MessageQueue $queue
            Close-SharedMemory $shm
            Unlock-File $lock
        }
        @(Get-FdOpenedSince $before) | Should -BeNullOrEmpty
    }

    It 'tells a new pidfd at a number listed before from the one listed then, by fdinfo''s ino' {
        $one = Start-ChildProcess true
        $other = Start-ChildProcess true
        $listing = Get-FdListing
        $pidfs = $listing.Descriptors[$one.Fd][1] -ne $listing.Descriptors[$other.Fd][1]
        foreach ($child in $one, $other) {
            $null = Wait-ChildProcess $child -TimeoutSeconds 10
            Close-ChildProcess $child
        }
        if (-not $pidfs) {
            Set-ItResult -Skipped -Because 'this kernel gives every pidfd the same anonymous inode (pidfs, which gives each its own, came in Linux 6.9): two pidfds at one number cannot be told apart from /proc'
            return
        }
        # The lowest free number is taken: a pidfd made right after one is closed gets its number, unless another
        # thread of the runtime opened something in between, so this tries a few times.
        foreach ($attempt in 1..10) {
            $first = Start-ChildProcess true
            $null = Wait-ChildProcess $first -TimeoutSeconds 10
            $listing = Get-FdListing
            $number = $first.Fd
            Close-ChildProcess $first
            $second = Start-ChildProcess true
            if ($second.Fd -eq $number) { break }
            $null = Wait-ChildProcess $second -TimeoutSeconds 10
            Close-ChildProcess $second
        }
        try {
            $second.Fd | Should -Be $number -Because 'the number is taken again'

            $reported = @(Get-FdOpenedSince $listing)

            $reported.Count | Should -Be 1
            $reported[0].StartsWith("$number -> anon_inode:[pidfd] (ino: ") | Should -BeTrue -Because "the new pidfd is reported: $reported"
        }
        finally {
            $null = Wait-ChildProcess $second -TimeoutSeconds 10
            Close-ChildProcess $second
        }
    }

    It 'reports a Sysprog handle left to the finalizer, which closed its descriptor' {
        $before = Get-FdListing

        & { $null = New-EventFd }

        @(Get-FdOpenedSince $before) | Should -Be @('1 Sysprog handle(s) left undisposed, closed by the finalizer')
    }

    It 'fails naming what is still open, and passes once it is closed' {
        $before = Get-FdListing
        $pipe = New-Pipe
        try {
            { Assert-NoFdLeft -Since $before } | Should -Throw "*$($pipe.ReadEnd.Fd) -> pipe:*"
        }
        finally {
            Close-Pipe $pipe
        }
        Assert-NoFdLeft -Since $before
    }
}
