#Requires -Version 7.4
# The I/O models through the cmdlets: non-blocking handles and EAGAIN as a WouldBlock record, the epoll set
# (level and edge triggering, one-shot and re-arming, EPOLLRDHUP, EPOLLPRI, exclusive members), poll beside epoll,
# and sysprog poll.
Describe 'Non-blocking I/O, epoll in full and poll' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # The open file description's flags as the kernel shows them (fdinfo's "flags", octal): O_NONBLOCK is 04000.
        function Test-ONonBlock([int] $Fd) {
            $flags = (Get-Content -LiteralPath "/proc/$PID/fdinfo/$Fd" | Where-Object { $_ -like 'flags:*' }) -replace '^flags:\s*', ''
            ([Convert]::ToInt32($flags, 8) -band 0x800) -ne 0
        }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Remove-TestObjectAll
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'Non-blocking handles' {
        It 'a read of an empty non-blocking pipe writes a WouldBlock record, after one read that got EAGAIN, and no error' {
            $p = New-Pipe -NonBlocking
            try {
                Test-ONonBlock $p.ReadEnd.Fd | Should -BeTrue
                Test-ONonBlock $p.WriteEnd.Fd | Should -BeTrue
                $records = @(Read-FileDescriptor $p -Verbose -ErrorVariable failed 4>&1)
                $failed | Should -BeNullOrEmpty
                $blocked = @($records | Where-Object { $_ -is [Sysprog.WouldBlock] })
                $blocked.Count | Should -Be 1
                $blocked[0].Operation | Should -Be 'read'
                $blocked[0].Errno | Should -Be 'EAGAIN'
                $blocked[0].IsNonBlocking | Should -BeTrue
                $blocked[0].Handle | Should -Be $p.ReadEnd
                @($records | Select-SyscallLine) | Should -Be "read($($p.ReadEnd.Fd), ..., 65536) = -1 EAGAIN (Resource temporarily unavailable)"
                ($blocked[0] | Format-Table | Out-String -Width 80) | Should -Match 'read\s+EAGAIN\s+0 True\s+pipe:\['
            }
            finally {
                Close-Pipe $p
            }
        }

        It '-TimeoutSeconds 0 on a blocking handle is "do not wait": a WouldBlock record, not a timeout error' {
            $e = New-EventFd
            try {
                $blocked = Read-EventFd $e -TimeoutSeconds 0 -ErrorVariable failed
                $failed | Should -BeNullOrEmpty
                $blocked | Should -BeOfType ([Sysprog.WouldBlock])
                $blocked.IsNonBlocking | Should -BeFalse
                Read-EventFd $e -TimeoutSeconds 0.05 -ErrorAction SilentlyContinue -ErrorVariable timedOut | Should -BeNullOrEmpty
                $timedOut[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.ReadEventFdCommand'
            }
            finally {
                Close-EventFd $e
            }
        }

        It 'a write to a full non-blocking pipe takes what fits and says how much in its WouldBlock record' {
            $p = New-Pipe -NonBlocking
            try {
                $blocked = Write-FileDescriptor $p ([byte[]]::new($p.Capacity + 1000))
                $blocked.Operation | Should -Be 'write'
                $blocked.Transferred | Should -Be $p.Capacity
                $p.BytesAvailable | Should -Be $p.Capacity
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'Set-FileDescriptor sets and clears O_NONBLOCK with fcntl, on both ends of a pipe' {
            $p = New-Pipe
            try {
                $lines = @(Set-FileDescriptor $p -NonBlocking $true -Verbose 4>&1 | Select-SyscallLine)
                $lines | Should -Contain "fcntl($($p.ReadEnd.Fd), F_SETFL, O_RDONLY|O_NONBLOCK) = 0"
                $lines | Should -Contain "fcntl($($p.WriteEnd.Fd), F_SETFL, O_WRONLY|O_NONBLOCK) = 0"
                Test-ONonBlock $p.ReadEnd.Fd | Should -BeTrue
                $p.ReadEnd.IsNonBlocking | Should -BeTrue
                Read-FileDescriptor $p.ReadEnd -TimeoutSeconds 60 | Should -BeOfType ([Sysprog.WouldBlock])
                $p.ReadEnd | Set-FileDescriptor -NonBlocking $false
                Test-ONonBlock $p.ReadEnd.Fd | Should -BeFalse
                $p.ReadEnd.IsNonBlocking | Should -BeFalse
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'a child that inherits a non-blocking pipe end gets EAGAIN from its own read: O_NONBLOCK belongs to the shared open file description' {
            $in = New-Pipe -NonBlocking
            $err = New-Pipe
            try {
                $child = Start-ChildProcess head -ArgumentList '-c', '1' -Descriptor @{ 0 = $in.ReadEnd; 2 = $err.WriteEnd }
                Close-Pipe $err.WriteEnd
                $exit = Wait-ChildProcess $child -TimeoutSeconds 10
                $exit.ExitCode | Should -Not -Be 0
                Read-FileDescriptor $err -Wait -TimeoutSeconds 10 | Should -Match 'Resource temporarily unavailable'
                Close-ChildProcess $child
            }
            finally {
                Close-Pipe $in, $err
            }
        }

        It 'Open-Fifo -NonBlocking gives an end that stays non-blocking after the open' {
            $fifo = New-Fifo (Join-Path $TestDrive "f$(Get-Random)")
            $reader = Open-Fifo $fifo.FullName Read -NonBlocking
            $writer = Open-Fifo $fifo.FullName Write -NonBlocking
            try {
                $reader.IsNonBlocking | Should -BeTrue
                Read-FileDescriptor $reader -TimeoutSeconds 60 | Should -BeOfType ([Sysprog.WouldBlock])
                Write-FileDescriptor $writer 'hi'
                Read-FileDescriptor $reader | Should -Be "hi`n"
            }
            finally {
                Close-Pipe $reader, $writer
            }
        }

        It '<Kind> made with -NonBlocking is non-blocking, and <Call> would block at once' -ForEach @(
            @{ Kind = 'eventfd'; Call = 'Read-EventFd'; Make = { New-EventFd -NonBlocking }; Try = { param($h) Read-EventFd $h -TimeoutSeconds 60 } }
            @{ Kind = 'timerfd'; Call = 'Read-TimerFd'; Make = { New-TimerFd -NonBlocking }; Try = { param($h) Read-TimerFd $h -TimeoutSeconds 60 } }
            @{ Kind = 'signalfd'; Call = 'Read-SignalFd'; Make = { New-SignalFd USR2 -NonBlocking }; Try = { param($h) Read-SignalFd $h -TimeoutSeconds 60 } }
            @{ Kind = 'inotify'; Call = 'Read-Inotify'; Make = { New-Inotify $TestDrive -NonBlocking }; Try = { param($h) Read-Inotify $h -TimeoutSeconds 60 } }
            @{ Kind = 'socket pair'; Call = 'Receive-SocketMessage'; Make = { New-SocketPair -NonBlocking }; Try = { param($h) Receive-SocketMessage $h.Second -TimeoutSeconds 60 } }
            @{ Kind = 'listening socket'; Call = 'Receive-SocketConnection'; Make = { New-Socket -Name "sysprog-pester-$(Get-Random)" -NonBlocking }; Try = { param($h) Receive-SocketConnection $h -TimeoutSeconds 60 } }
            @{ Kind = 'pty'; Call = 'Read-Pty'; Make = { Start-Pty cat -NonBlocking }; Try = { param($h) Read-Pty $h -TimeoutSeconds 60 } }
        ) {
            $handle = & $Make
            try {
                $first = if ($handle -is [Sysprog.SocketPair]) { $handle.First } else { $handle }
                $first.IsNonBlocking | Should -BeTrue
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $result = & $Try $handle
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
                $result | Should -BeOfType ([Sysprog.WouldBlock])
            }
            finally {
                $handle.Dispose()
            }
        }

        It 'a non-blocking queue would block on a full send and an empty receive' {
            $q = New-MessageQueue -Name (New-TestName) -MaxMessages 1 -MaxMessageSize 16 -NonBlocking
            try {
                $q.IsNonBlocking | Should -BeTrue
                Receive-MqMessage -Queue $q -TimeoutSeconds 60 | Should -BeOfType ([Sysprog.WouldBlock])
                'one' | Send-MqMessage -Queue $q | Should -BeNullOrEmpty
                ('two' | Send-MqMessage -Queue $q -TimeoutSeconds 60).Operation | Should -Be 'send'
            }
            finally {
                Close-MessageQueue $q
            }
        }

        It 'sockets connected and accepted with -NonBlocking are SOCK_NONBLOCK' {
            $listener = New-Socket -Name "sysprog-pester-$(Get-Random)"
            try {
                $client = Connect-Socket -Name $listener.LocalEndpoint.AbstractName -NonBlocking -TimeoutSeconds 5
                $lines = @(Receive-SocketConnection $listener -NonBlocking -TimeoutSeconds 5 -Verbose 4>&1)
                $server = $lines | Where-Object { $_ -is [Sysprog.Socket] }
                @($lines | Select-SyscallLine) -match '^accept4\(.*SOCK_CLOEXEC\|SOCK_NONBLOCK\) = \d+$' | Should -Not -BeNullOrEmpty
                $client.IsNonBlocking | Should -BeTrue
                $server.IsNonBlocking | Should -BeTrue
                Test-ONonBlock $client.Fd | Should -BeTrue
                Test-ONonBlock $server.Fd | Should -BeTrue
                Close-Socket $client, $server
            }
            finally {
                Close-Socket $listener
            }
        }
    }

    Context 'The epoll set' {
        It 'level-triggered reports a ready pipe at every wait; edge-triggered only when more arrives' {
            $p = New-Pipe
            $level = New-PollSet $p.ReadEnd
            $edge = New-PollSet
            try {
                $member = Add-PollSetMember $edge $p.ReadEnd -EdgeTriggered
                $member.Options | Should -Be 'EdgeTriggered'
                Write-FileDescriptor $p 'ten bytes'
                (Wait-PollSet $level -TimeoutSeconds 5).Events | Should -Be 'IN'
                (Wait-PollSet $level -TimeoutSeconds 0).Events | Should -Be 'IN'
                (Wait-PollSet $edge -TimeoutSeconds 5).Events | Should -Be 'IN'
                Wait-PollSet $edge -TimeoutSeconds 0 -ErrorAction SilentlyContinue -ErrorVariable quiet | Should -BeNullOrEmpty
                $quiet[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.WaitPollSetCommand'
                Write-FileDescriptor $p 'more'
                (Wait-PollSet $edge -TimeoutSeconds 5).Index | Should -Be 0
            }
            finally {
                Close-PollSet $level, $edge
                Close-Pipe $p
            }
        }

        It 'edge-triggered starves a reader that does not drain: what is left is not reported until it reads until WouldBlock' {
            $p = New-Pipe -NonBlocking
            $set = New-PollSet
            try {
                $null = Add-PollSetMember $set $p.ReadEnd -EdgeTriggered
                Write-FileDescriptor $p '0123456789' -NoNewline
                $null = Wait-PollSet $set -TimeoutSeconds 5
                Read-FileDescriptor $p -Count 1 | Should -Be '0'
                $p.ReadEnd.BufferedCount + $p.ReadEnd.BytesAvailable | Should -Be 9
                Wait-PollSet $set -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                $drained = @(while (($piece = Read-FileDescriptor $p) -isnot [Sysprog.WouldBlock]) { $piece })
                $drained -join '' | Should -Be '123456789'
            }
            finally {
                Close-PollSet $set
                Close-Pipe $p
            }
        }

        It 'a one-shot member is reported once, until Set-PollSetMember re-arms it (EPOLL_CTL_MOD)' {
            $e = New-EventFd -InitialValue 1
            $set = New-PollSet
            try {
                $null = Add-PollSetMember $set $e -OneShot
                @(Wait-PollSet $set -TimeoutSeconds 5).Count | Should -Be 1
                Wait-PollSet $set -TimeoutSeconds 0.05 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                $e.Count | Should -Be 1
                $lines = @(Set-PollSetMember $set $e -OneShot -Verbose 4>&1 | Select-SyscallLine)
                $lines | Should -Be "epoll_ctl($($set.Fd), EPOLL_CTL_MOD, $($e.Fd), {events=EPOLLIN|EPOLLONESHOT, data=0}) = 0"
                (Wait-PollSet $set -TimeoutSeconds 5).Handle | Should -Be $e
            }
            finally {
                Close-PollSet $set
                Close-EventFd $e
            }
        }

        It 'ReadHangUp reports a peer that shut down its sending side (EPOLLRDHUP)' {
            $pair = New-SocketPair
            $set = New-PollSet
            try {
                $null = Add-PollSetMember $set $pair.Second -Event Readable, ReadHangUp
                Disconnect-Socket $pair.First Send
                $ready = Wait-PollSet $set -TimeoutSeconds 5
                $ready.ReadHangUp | Should -BeTrue
                $ready.Events | Should -Be 'IN|RDHUP'
            }
            finally {
                Close-PollSet $set
                Close-Socket $pair
            }
        }

        It 'Priority reports TCP urgent data sent with Send-SocketMessage -OutOfBand (EPOLLPRI)' {
            $listener = New-Socket -Address 127.0.0.1 -Port 0
            $client = Connect-Socket -Address 127.0.0.1 -Port $listener.LocalEndpoint.Port -TimeoutSeconds 5
            $server = Receive-SocketConnection $listener -TimeoutSeconds 5
            $set = New-PollSet
            try {
                $null = Add-PollSetMember $set $server -Event Priority
                $lines = @(Send-SocketMessage $client '!' -OutOfBand -Verbose 4>&1 | Select-SyscallLine)
                $lines | Should -Match '^send\(\d+, "!", 1, MSG_OOB\|MSG_NOSIGNAL\|MSG_DONTWAIT\) = 1$'
                (Wait-PollSet $set -TimeoutSeconds 5).Priority | Should -BeTrue
                $server.ReceiveUrgent() | Should -Be ([byte][char]'!')
                Send-SocketMessage $client 'ab' -OutOfBand -ErrorAction SilentlyContinue -ErrorVariable refused
                $refused[0].Exception.ParamName | Should -Be 'Value'
            }
            finally {
                Close-PollSet $set
                Close-Socket $server, $client, $listener
            }
        }

        It 'Exclusive is EPOLLEXCLUSIVE, refused with OneShot or by Set-PollSetMember before any system call' {
            $e = New-EventFd
            $set = New-PollSet
            try {
                Add-PollSetMember $set $e -Exclusive -OneShot -ErrorAction SilentlyContinue -ErrorVariable refused -Verbose 4>&1 | Select-SyscallLine | Should -BeNullOrEmpty
                $refused[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
                @(Add-PollSetMember $set $e -Exclusive -Verbose 4>&1 | Select-SyscallLine) | Should -Match 'EPOLLIN\|EPOLLEXCLUSIVE'
                Set-PollSetMember $set $e -ErrorAction SilentlyContinue -ErrorVariable modifyRefused
                $modifyRefused[0].Exception.Message | Should -Match 'Exclusive'
            }
            finally {
                Close-PollSet $set
                Close-EventFd $e
            }
        }

        It 'Remove-PollSetMember takes a member out (EPOLL_CTL_DEL); the others keep their index' {
            $a = New-EventFd -InitialValue 1
            $b = New-EventFd -InitialValue 1
            $set = New-PollSet $a, $b
            try {
                $set.Members | Remove-PollSetMember $set -Confirm:$false
                $set.Count | Should -Be 0
                $null = Add-PollSetMember $set $b
                (Wait-PollSet $set -TimeoutSeconds 5).Index | Should -Be 2
                ($set | Format-Table | Out-String -Width 80) | Should -Match "\s+1 eventfd $($b.Fd)"
            }
            finally {
                Close-PollSet $set
                Close-EventFd $a, $b
            }
        }

        It 'Wait-PollSet stops at once on Ctrl+C' {
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$e = New-EventFd; $s = New-PollSet $e; try { Wait-PollSet $s } finally { Close-PollSet $s; Close-EventFd $e }') } `
                -BlockedIn epoll_wait, epoll_pwait, epoll_pwait2
        }
    }

    Context 'poll beside epoll' {
        It 'Wait-FileDescriptor -Mechanism Poll passes the whole list to poll(2) and finds what epoll finds' {
            $handles = @(1..5 | ForEach-Object { New-EventFd })
            try {
                Write-EventFd $handles[1]
                Write-EventFd $handles[3]
                $lines = @(Wait-FileDescriptor $handles -Mechanism Poll -TimeoutSeconds 5 -Verbose 4>&1)
                $ready = @($lines | Where-Object { $_ -is [Sysprog.ReadyHandle] })
                $ready.Index | Should -Be @(1, 3)
                @($lines | Select-SyscallLine) -match '^poll\(\[\{fd=\d+, events=POLLIN\}, \{fd=' | Should -Not -BeNullOrEmpty
                (Wait-FileDescriptor $handles -Mechanism Epoll -TimeoutSeconds 5).Index | Should -Be @(1, 3)
            }
            finally {
                Close-EventFd $handles
            }
        }

        It 'Wait-FileDescriptor -Mechanism Poll stops at once on Ctrl+C' {
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$e = New-EventFd; try { Wait-FileDescriptor $e -Mechanism Poll } finally { Close-EventFd $e }') } `
                -BlockedIn poll, ppoll
        }

        It 'sysprog poll waits on inherited descriptors with epoll or poll and says what each is ready for' {
            $SysprogCliPath | Should -Exist -Because 'the CLI is built with the module'
            'hi' | & dotnet $SysprogCliPath poll --fd 0 --mechanism poll | Should -Match '^fd 0: IN(\|HUP)? \(pipe:\[\d+\]\)$'
            $LASTEXITCODE | Should -Be 0
            $e = New-EventFd -InitialValue 1 -Inheritable
            try {
                & dotnet $SysprogCliPath poll --fd $e.Fd --edge --json | ConvertFrom-Json | ForEach-Object events | Should -Be 'IN'
                & dotnet $SysprogCliPath poll --fd $e.Fd --edge --mechanism poll 2>&1 | Should -Match 'level-triggered only'
                $LASTEXITCODE | Should -Be 2
            }
            finally {
                Close-EventFd $e
            }
        }
    }

    Context 'Signal-driven I/O' {
        It 'a pipe made signal-driven sends SIGIO when it becomes readable, and the signalfd record names the descriptor and POLL_IN' {
            # A child session started with SIGIO blocked, so its signalfd is the kernel's and carries the siginfo.
            $script = @'
param($ModulePath)
Import-Module $ModulePath
$signals = New-SignalFd -Signal IO
$p = New-Pipe
Set-FileDescriptor $p.ReadEnd -SignalDriven $true -Verbose 4>&1 | ForEach-Object { "narrated: $_" }
$none = Read-SignalFd $signals -TimeoutSeconds 0
"before the write: $($none.GetType().Name)"
Write-FileDescriptor $p.WriteEnd 'ready'
$r = Read-SignalFd $signals -TimeoutSeconds 30
"mechanism=$($signals.Mechanism) signal=$($r.Name) fd=$($r.Fd) readEnd=$($p.ReadEnd.Fd) code=$($r.CodeName) band=$($r.BandName)"
Set-FileDescriptor $p.ReadEnd -SignalDriven $false
Close-Pipe $p; Close-SignalFd $signals
'@
            $session = Start-ChildSession -Script $script -BlockSignal IO
            try {
                $ended = Wait-ChildSession $session
                $text = $ended.Text
                $ended.ExitCode | Should -Be 0 -Because $text
                $text | Should -Match 'narrated: fcntl\(\d+, F_SETOWN_EX, \{type=F_OWNER_PID, pid=\d+\}\) = 0'
                $text | Should -Match 'narrated: fcntl\(\d+, F_SETSIG, SIGIO\) = 0'
                $text | Should -Match 'narrated: fcntl\(\d+, F_SETFL, O_RDONLY\|O_ASYNC\) = 0'
                $text | Should -Match 'before the write: WouldBlock'
                $text -match 'mechanism=signalfd signal=SIGIO fd=(\d+) readEnd=(\d+) code=POLL_IN band=(\S+)' | Should -BeTrue -Because $text
                $Matches[1] | Should -Be $Matches[2]
                $Matches[3] | Should -Match 'POLLIN'
            }
            finally {
                Stop-ChildSession $session
            }
        }

        It 'Set-FileDescriptor -SignalDriven refuses an eventfd (no signal-driven I/O in the kernel), and this session as owner while nothing receives the signal' {
            $e = New-EventFd
            $p = New-Pipe
            try {
                Set-FileDescriptor $e -SignalDriven $true -OwnerProcessId $PID -ErrorVariable failed -ErrorAction SilentlyContinue
                $failed[0].CategoryInfo.Category | Should -Be InvalidArgument
                "$($failed[0])" | Should -Match 'cannot signal its readiness'
                Set-FileDescriptor $p.ReadEnd -SignalDriven $true -Signal PWR -ErrorVariable refused -ErrorAction SilentlyContinue
                "$($refused[0])" | Should -Match 'Nothing in this process receives SIGPWR'
                (Get-Content -LiteralPath "/proc/$PID/fdinfo/$($p.ReadEnd.Fd)" | Where-Object { $_ -like 'flags:*' }) -replace '^flags:\s*', '' |
                    ForEach-Object { [Convert]::ToInt32($_, 8) -band 0x2000 } | Should -Be 0
            }
            finally {
                Close-EventFd $e
                Close-Pipe $p
            }
        }
    }
}
