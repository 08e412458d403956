#Requires -Version 7.4
Describe 'eventfd, timerfd, signalfd and Wait-FileDescriptor' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'eventfd' {
        It 'adds and reads: the sum, then 0' {
            $e = New-EventFd -InitialValue 2
            try {
                $e | Should -BeOfType ([Sysprog.EventFd])
                Write-EventFd $e -Value 3
                Read-EventFd $e -TimeoutSeconds 1 | Should -Be 5
                Read-EventFd $e -TimeoutSeconds 0 | Should -BeOfType ([Sysprog.WouldBlock])
                Read-EventFd $e -TimeoutSeconds 0.05 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
                $err[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.ReadEventFdCommand'
                $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            }
            finally {
                Close-EventFd $e
            }
        }

        It 'takes one at a time in semaphore mode' {
            $e = New-EventFd -InitialValue 2 -Semaphore
            try {
                (1..2 | ForEach-Object { Read-EventFd $e -TimeoutSeconds 0 }) | Should -Be @(1, 1)
            }
            finally {
                Close-EventFd $e
            }
        }

        It 'is closed by Close-EventFd and reports access afterwards as ObjectClosed' {
            $e = New-EventFd
            Close-EventFd $e
            $e.IsClosed | Should -BeTrue
            Write-EventFd $e -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'is passed to a child process by number when inheritable' {
            $SysprogCliPath | Should -Exist -Because 'the CLI is built with the module'
            $e = New-EventFd -Inheritable
            try {
                & dotnet $SysprogCliPath eventfd add --fd $e.Fd --value 42
                $LASTEXITCODE | Should -Be 0
                Read-EventFd $e -TimeoutSeconds 5 | Should -Be 42
            }
            finally {
                Close-EventFd $e
            }
        }
    }

    Context 'timerfd' {
        It 'expires once after its delay, periodically with an interval, and stops when disarmed' {
            $t = New-TimerFd
            try {
                # A delay no loaded machine reaches before the check, then one that expires.
                Set-TimerFd $t -DelaySeconds 3600
                $t.IsArmed | Should -BeTrue
                Set-TimerFd $t -DelaySeconds 0.1
                Read-TimerFd $t -TimeoutSeconds 5 | Should -Be 1
                $t.IsArmed | Should -BeFalse
                Set-TimerFd $t -DelaySeconds 0.02 -IntervalSeconds 0.02
                Read-TimerFd $t -TimeoutSeconds 5 | Should -BeGreaterOrEqual 1
                Set-TimerFd $t -Disarm
                $t.IsArmed | Should -BeFalse
            }
            finally {
                Close-TimerFd $t
            }
        }

        It 'arms a Realtime timer at a date, and refuses a Monotonic one' {
            $wall = New-TimerFd -Clock Realtime
            $mono = New-TimerFd
            try {
                Set-TimerFd $wall -At (Get-Date).AddMilliseconds(100)
                Read-TimerFd $wall -TimeoutSeconds 5 | Should -Be 1
                Set-TimerFd $mono -At (Get-Date).AddSeconds(1) -ErrorAction SilentlyContinue -ErrorVariable err
                $err.Count | Should -Be 1
                $err[0].FullyQualifiedErrorId | Should -Be 'InvalidOperation,Sysprog.PowerShell.Commands.SetTimerFdCommand'
                $err[0].TargetObject | Should -Be $mono
                $err[0].Exception.Message | Should -BeLike '*Realtime*'
                $mono.IsArmed | Should -BeFalse
            }
            finally {
                $wall, $mono | Close-TimerFd
            }
        }
    }

    Context 'signals' {
        It 'receives a real kill from another process, and restores the default when closed' {
            $s = New-SignalFd -Signal USR2
            try {
                $s.Mechanism | Should -BeIn @('runtime handler', 'signalfd')
                Start-Process -FilePath kill -ArgumentList "-USR2 $PID" -Wait
                $record = Read-SignalFd $s -TimeoutSeconds 10
                $record.Name | Should -Be 'SIGUSR2'
                $record.Signal | Should -Be 12
            }
            finally {
                Close-SignalFd $s
            }
            $caught = [Convert]::ToUInt64(((Get-Content /proc/self/status | Where-Object { $_ -like 'SigCgt:*' }) -split '\s+')[1], 16)
            ($caught -band (1 -shl 11)) | Should -Be 0
        }

        It 'refuses SIGKILL with the reason' {
            New-SignalFd -Signal KILL -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,Sysprog.PowerShell.Commands.NewSignalFdCommand'
            $err[0].Exception.Message | Should -BeLike '*cannot be caught*'
        }
    }

    Context 'Wait-FileDescriptor' {
        It 'returns exactly the ready handles of a mixed set' {
            $quiet = New-EventFd
            $loud = New-EventFd -InitialValue 1
            $t = New-TimerFd
            try {
                $ready = @(Wait-FileDescriptor $quiet, $loud, $t -TimeoutSeconds 5)
                $ready.Count | Should -Be 1
                $ready[0].Index | Should -Be 1
                $ready[0].Handle | Should -Be $loud
                $ready[0].Readable | Should -BeTrue
            }
            finally {
                $quiet, $loud | Close-EventFd
                Close-TimerFd $t
            }
        }

        It 'waits for all with -All, and reports a timeout as OperationTimeout' {
            $a = New-EventFd -InitialValue 1
            $t = New-TimerFd
            try {
                Set-TimerFd $t -DelaySeconds 0.1
                @(Wait-FileDescriptor $a, $t -All -TimeoutSeconds 5).Count | Should -Be 2
                $never = New-EventFd
                Wait-FileDescriptor $never -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
                Close-EventFd $never
            }
            finally {
                Close-EventFd $a
                Close-TimerFd $t
            }
        }

        It 'stops promptly when the pipeline is stopped' {
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$e = New-EventFd -Verbose; try { Wait-FileDescriptor $e -Verbose } finally { Close-EventFd $e }') } `
                -BlockedIn epoll_wait, epoll_pwait, epoll_pwait2
        }

        It 'serves a timer, an eventfd and a queue from one loop' {
            $name = New-TestName
            $timer = New-TimerFd
            $wakeup = New-EventFd -InitialValue 1
            $queue = New-MessageQueue -Name $name -MaxMessages 4 -MaxMessageSize 64 -ErrorAction Stop
            try {
                Set-TimerFd $timer -DelaySeconds 0.05 -IntervalSeconds 0.05
                'job' | Send-MqMessage -Queue $queue
                $served = [System.Collections.Generic.HashSet[string]]::new()
                $deadline = [DateTime]::UtcNow.AddSeconds(10)
                while ($served.Count -lt 3 -and [DateTime]::UtcNow -lt $deadline) {
                    foreach ($item in Wait-FileDescriptor $timer, $wakeup, $queue -TimeoutSeconds 5) {
                        switch ($item.Handle) {
                            { $_ -is [Sysprog.TimerFd] } { $null = Read-TimerFd $timer -TimeoutSeconds 0; $null = $served.Add('timer') }
                            { $_ -is [Sysprog.EventFd] } { $null = Read-EventFd $wakeup -TimeoutSeconds 0; $null = $served.Add('eventfd') }
                            { $_ -is [Sysprog.MessageQueue] } { $null = $served.Add('queue:' + (Receive-MqMessage -Queue $queue).Text) }
                        }
                    }
                }
                @($served | Sort-Object) | Should -Be @('eventfd', 'queue:job', 'timer')
            }
            finally {
                Close-TimerFd $timer
                Close-EventFd $wakeup
                if ($queue) { Close-MessageQueue $queue }
                Remove-MessageQueueIfPresent $name
            }
        }
    }
}
