#Requires -Version 7.4
# Every blocking cmdlet ends promptly from outside, whatever the machine's state: Ctrl+C (a Stop() of its pipeline)
# when the signal queue has no room for the real-time signal that interrupts waits, and a Close of the object it waits
# on, made in another runspace, which ends the wait with the ObjectClosed error.
Describe 'Waits ended from outside' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:folder = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "sysprog-pester-wait-$PID")).FullName
    }

    AfterAll {
        Remove-Item -LiteralPath $script:folder -Recurse -Force
        Remove-TestObjectAll
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'Ctrl+C when the signal queue has no room (RLIMIT_SIGPENDING 0)' {
        BeforeAll {
            # The kernel checks the receiving process's limit when it queues a signal: at 0 every real-time signal
            # sent to this session fails with EAGAIN, as when another process of the same user fills the queue.
            $script:sigPending = Get-ProcessLimit -Resource SigPending
            $null = [Sysprog.ProcessLimit]::Set('SigPending', 0, $null, 0, $null, $true)
        }

        AfterAll {
            $null = [Sysprog.ProcessLimit]::Set('SigPending', $(if ($null -eq $script:sigPending.Soft) { [long]::MaxValue } else { $script:sigPending.Soft }), $null, 0, $null, $true)
            (Get-ProcessLimit -Resource SigPending).Soft | Should -Be $script:sigPending.Soft
        }

        It 'has no room: the soft limit is 0' {
            (Get-ProcessLimit -Resource SigPending).Soft | Should -Be 0
        }

        It 'stops <Command> within 300 ms' -TestCases @(
            @{ Command = 'Wait-Semaphore'; BlockedIn = 'futex'; Script = '$s = New-Semaphore -Name "NAME" -Value 0; try { Wait-Semaphore $s } finally { Close-Semaphore $s; Remove-Semaphore -Name "NAME" -Confirm:$false }' }
            @{ Command = 'Receive-MqMessage'; BlockedIn = 'poll', 'ppoll'; Script = '$q = New-MessageQueue -Name "NAME"; try { Receive-MqMessage $q -Wait } finally { Close-MessageQueue $q; Remove-MessageQueue -Name "NAME" -Confirm:$false }' }
            @{ Command = 'Read-FileDescriptor'; BlockedIn = 'poll', 'ppoll'; Script = '$p = New-Pipe; try { Read-FileDescriptor $p } finally { Close-Pipe $p }' }
            @{ Command = 'Open-Fifo'; BlockedIn = 'open', 'openat'; Script = '$f = New-Fifo -Path "FOLDER/fifo-NAME"; try { Open-Fifo $f.FullName Read } finally { Remove-Item -LiteralPath $f.FullName }' }
            @{ Command = 'Lock-File'; BlockedIn = 'flock'; Script = '$held = Lock-File "FOLDER/lock-NAME" -Kind Flock; try { Lock-File "FOLDER/lock-NAME" -Kind Flock } finally { Unlock-File $held }' }
            @{ Command = 'Connect-Socket'; BlockedIn = 'connect'; Script = '$l = New-Socket -Name "NAME" -Backlog 1; $c = 1..2 | ForEach-Object { Connect-Socket -Name "NAME" -TimeoutSeconds 5 }; try { Connect-Socket -Name "NAME" } finally { $c | Close-Socket; Close-Socket $l }' }
            @{ Command = 'Receive-SocketConnection'; BlockedIn = 'poll', 'ppoll'; Script = '$l = New-Socket -Name "NAME"; try { Receive-SocketConnection $l } finally { Close-Socket $l }' }
            @{ Command = 'Receive-SocketMessage'; BlockedIn = 'poll', 'ppoll'; Script = '$pair = New-SocketPair; try { Receive-SocketMessage $pair.First -Wait } finally { Close-Socket $pair.First, $pair.Second }' }
            @{ Command = 'Read-EventFd'; BlockedIn = 'poll', 'ppoll'; Script = '$e = New-EventFd; try { Read-EventFd $e } finally { Close-EventFd $e }' }
            @{ Command = 'Read-TimerFd'; BlockedIn = 'poll', 'ppoll'; Script = '$t = New-TimerFd; try { Read-TimerFd $t } finally { Close-TimerFd $t }' }
            @{ Command = 'Read-SignalFd'; BlockedIn = 'poll', 'ppoll'; Script = '$s = New-SignalFd SIGUSR2; try { Read-SignalFd $s } finally { Close-SignalFd $s }' }
            @{ Command = 'Read-Inotify'; BlockedIn = 'poll', 'ppoll'; Script = '$i = New-Inotify "FOLDER"; try { Read-Inotify $i -Wait } finally { Close-Inotify $i }' }
            @{ Command = 'Wait-ChildProcess'; BlockedIn = 'poll', 'ppoll'; Script = '$c = Start-ChildProcess sleep 30; try { Wait-ChildProcess $c } finally { Stop-ChildProcess $c -Signal KILL; $null = Wait-ChildProcess $c; Close-ChildProcess $c }' }
            @{ Command = 'Read-Pty'; BlockedIn = 'poll', 'ppoll'; Script = '$p = Start-Pty cat; try { Read-Pty $p -Wait } finally { Close-Pty $p }' }
            @{ Command = 'Wait-FileDescriptor'; BlockedIn = 'epoll_wait', 'epoll_pwait', 'epoll_pwait2'; Script = '$e = New-EventFd; try { Wait-FileDescriptor $e } finally { Close-EventFd $e }' }
        ) {
            $name = (New-TestName).Substring(1)
            $text = $Script.Replace('NAME', $name).Replace('FOLDER', $script:folder)
            $stop = Measure-PipelineStop -Start { param($ps) $null = $ps.AddScript($text) } -BlockedIn $BlockedIn
            $stop.Blocked | Should -BeTrue -Because "$Command must be blocked in $($BlockedIn -join ' or ') before it is stopped (pipeline threads: $($stop.Seen))"
            $stop.WasRunning | Should -BeTrue
            $stop.Milliseconds | Should -BeLessThan 300
            $stop.State | Should -Be 'Stopped'
        }
    }

    Context 'A Close in another runspace' {
        It 'ends <Command> when its <Kind> is closed there, within 300 ms, with ObjectClosed' -TestCases @(
            @{ Kind = 'semaphore'; Command = 'Wait-Semaphore'; BlockedIn = 'futex' }
            @{ Kind = 'semaphore in a mapping'; Command = 'Wait-Semaphore'; BlockedIn = 'futex' }
            @{ Kind = 'queue'; Command = 'Receive-MqMessage'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'listener'; Command = 'Receive-SocketConnection'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'connected socket'; Command = 'Receive-SocketMessage'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'eventfd'; Command = 'Read-EventFd'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'timerfd'; Command = 'Read-TimerFd'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'signalfd'; Command = 'Read-SignalFd'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'inotify'; Command = 'Read-Inotify'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'child process'; Command = 'Wait-ChildProcess'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'pipe'; Command = 'Read-FileDescriptor'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'pty'; Command = 'Read-Pty'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'eventfd'; Command = 'Wait-FileDescriptor'; BlockedIn = 'epoll_wait', 'epoll_pwait', 'epoll_pwait2' }
        ) {
            $name = New-TestName
            $childId = $null
            # What is waited on, the parameters that wait on it, and the Close; made here, used there.
            switch ($Kind) {
                'semaphore' {
                    $object = New-Semaphore -Name $name -Value 0
                    $parameters = @{ InputObject = $object }
                    $close = { Close-Semaphore $object }
                    $cleanUp = { Remove-Semaphore -Name $name -Confirm:$false }
                }
                'semaphore in a mapping' {
                    $map = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared
                    $object = New-Semaphore -InputObject $map -Value 0
                    $parameters = @{ InputObject = $object }
                    $close = { Close-MemoryMap $map }
                }
                'queue' {
                    $object = New-MessageQueue -Name $name
                    $parameters = @{ Queue = $object; Wait = $true }
                    $close = { Close-MessageQueue $object }
                    $cleanUp = { Remove-MessageQueue -Name $name -Confirm:$false }
                }
                'listener' {
                    $object = New-Socket -Name $name.Substring(1)
                    $parameters = @{ InputObject = $object }
                    $close = { Close-Socket $object }
                }
                'connected socket' {
                    $pair = New-SocketPair
                    $parameters = @{ InputObject = $pair.First; Wait = $true }
                    $close = { Close-Socket $pair.First }
                    $cleanUp = { Close-Socket $pair.Second }
                }
                'eventfd' {
                    $object = New-EventFd
                    $parameters = @{ InputObject = $object }
                    $close = { Close-EventFd $object }
                }
                'timerfd' {
                    $object = New-TimerFd
                    $parameters = @{ InputObject = $object }
                    $close = { Close-TimerFd $object }
                }
                'signalfd' {
                    $object = New-SignalFd SIGUSR2
                    $parameters = @{ InputObject = $object }
                    $close = { Close-SignalFd $object }
                }
                'inotify' {
                    $object = New-Inotify $script:folder
                    $parameters = @{ InputObject = $object; Wait = $true }
                    $close = { Close-Inotify $object }
                }
                'child process' {
                    $object = Start-ChildProcess sleep 60
                    $childId = $object.ProcessId
                    $parameters = @{ InputObject = $object }
                    $close = { Close-ChildProcess $object }
                }
                'pipe' {
                    $pipe = New-Pipe
                    $parameters = @{ InputObject = $pipe.ReadEnd }
                    $close = { Close-Pipe $pipe.ReadEnd }
                    $cleanUp = { Close-Pipe $pipe }
                }
                'pty' {
                    $object = Start-Pty cat
                    $parameters = @{ InputObject = $object; Wait = $true }
                    $close = { Close-Pty $object }
                }
            }
            try {
                $outcome = Measure-CloseElsewhere -Command $Command -Parameters $parameters -BlockedIn $BlockedIn -Close $close
            }
            finally {
                & $close
                if ($cleanUp) { & $cleanUp }
                if ($childId) {
                    # Closed while it ran, the child is kept unreaped (so its pid stays its own) until it ends: end
                    # it, and once it has, let the next start reap it, as every start does with those kept.
                    & kill -KILL $childId
                    $null = Wait-Until { (Get-Content -LiteralPath "/proc/$childId/stat" -Raw) -match '\) Z ' }
                    $reaper = Start-ChildProcess true
                    $null = Wait-ChildProcess $reaper
                    Close-ChildProcess $reaper
                }
            }
            Assert-EndedByClose $outcome -Command $Command -BlockedIn $BlockedIn
        }
    }
}
