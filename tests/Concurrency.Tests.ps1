#Requires -Version 7.4
# The teaching demos' heart: producers and consumers in other processes (Start-Job) and in other threads of this one
# (Start-ThreadJob, ForEach-Object -Parallel), with exact totals. And what hardening promises: a close on one thread
# while others use an object ends their calls cleanly, never the session.
Describe 'Concurrency across jobs and threads' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath

        function Invoke-Everywhere {
            # Runs $Worker with ($ModulePath, $Name, $Index) twice in each: Start-Job (processes), Start-ThreadJob
            # and ForEach-Object -Parallel (threads of this process). Returns the workers' output; any error fails.
            param([scriptblock] $Worker, [string] $Name)
            $jobs = @(0, 1 | ForEach-Object { Start-Job -ScriptBlock $Worker -ArgumentList $script:modulePath, $Name, $_ })
            $jobs += @(2, 3 | ForEach-Object { Start-ThreadJob -ScriptBlock $Worker -ArgumentList $script:modulePath, $Name, $_ })
            $text = $Worker.ToString()
            $parallel = 4, 5 | ForEach-Object -ThrottleLimit 2 -Parallel {
                & ([scriptblock]::Create($using:text)) $using:script:modulePath $using:Name $_
            }
            $null = $jobs | Wait-Job -Timeout 300
            $jobs | ForEach-Object { $_.State | Should -Be 'Completed' -Because ($_.ChildJobs[0].JobStateInfo.Reason | Out-String) }
            $fromJobs = $jobs | Receive-Job -ErrorAction Stop
            $jobs | Remove-Job
            @($fromJobs) + @($parallel)
        }
    }

    AfterAll {
        Remove-TestObjectAll
        Get-DevShmName -Filter "*sysprog-pester-$PID-*" | Should -BeNullOrEmpty
    }

    It 'counts every atomic increment of a shared-memory counter made by 2 jobs, 2 thread jobs and 2 parallel threads' {
        $name = New-TestName
        New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
        $null = Invoke-Everywhere -Name $name -Worker {
            param($ModulePath, $Name, $Index)
            Import-Module $ModulePath
            Invoke-MemoryMap -Name $Name -ScriptBlock { param($m) for ($i = 0; $i -lt 2000; $i++) { $null = $m.IncrementInt64(0) } }
        }
        Invoke-MemoryMap -Name $name -ScriptBlock { $_.ReadInt64(0) } | Should -Be 12000
        Remove-SharedMemory -Name $name -Confirm:$false
    }

    It 'keeps a plain read-modify-write exact when a semaphore guards it, in all three kinds of worker' {
        $name = New-TestName
        New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
        New-Semaphore -Name $name -Value 1 | Close-Semaphore
        $null = Invoke-Everywhere -Name $name -Worker {
            param($ModulePath, $Name, $Index)
            Import-Module $ModulePath
            $sem = Open-Semaphore -Name $Name
            Invoke-MemoryMap -Name $Name -ScriptBlock {
                param($m)
                for ($i = 0; $i -lt 200; $i++) {
                    Wait-Semaphore $sem -TimeoutSeconds 60 -ErrorAction Stop
                    $m.WriteInt64(0, $m.ReadInt64(0) + 1)
                    Unlock-Semaphore $sem
                }
            }
            Close-Semaphore $sem
        }
        Invoke-MemoryMap -Name $name -ScriptBlock { $_.ReadInt64(0) } | Should -Be 1200
        (Get-Semaphore -Name $name).Value | Should -Be 1
        Remove-Semaphore -Name $name -Confirm:$false
        Remove-SharedMemory -Name $name -Confirm:$false
    }

    It 'delivers every message of 6 producers (jobs, thread jobs, parallel threads) exactly once to this consumer' {
        $name = New-TestName
        $queue = New-MessageQueue -Name $name -MaxMessages 10 -MaxMessageSize 64 -ErrorAction Stop
        try {
            # The queue holds 10: producers block while it is full, so this consumer must drain as they run. The thread
            # job imports this Pester by path: Invoke-Everywhere asserts, and Pester need not be on PSModulePath.
            $producers = Start-ThreadJob -ArgumentList $name -ScriptBlock {
                param($Name)
                $worker = {
                    param($ModulePath, $Name, $Index)
                    Import-Module $ModulePath
                    1..100 | ForEach-Object { "$Index-$_" } | Send-MqMessage -Queue $Name -TimeoutSeconds 60 -ErrorAction Stop
                }
                Invoke-Everywhere -Name $Name -Worker $worker
            } -InitializationScript ([scriptblock]::Create("Import-Module '$((Get-Module Pester).Path)'; `$script:modulePath = '$($script:modulePath)'; function Invoke-Everywhere { $((Get-Command Invoke-Everywhere).Definition) }"))
            $received = [System.Collections.Generic.List[string]]::new()
            while ($received.Count -lt 600) {
                $message = Receive-MqMessage -Queue $queue -TimeoutSeconds 60 -ErrorAction Stop
                $received.Add($message.Text)
            }
            $null = $producers | Wait-Job -Timeout 120
            $producers | Receive-Job -ErrorAction Stop
            $producers | Remove-Job
            $received.Count | Should -Be 600
            ($received | Sort-Object -Unique).Count | Should -Be 600
            $expected = foreach ($index in 0..5) { foreach ($i in 1..100) { "$index-$i" } }
            $received | Sort-Object | Should -Be ($expected | Sort-Object)
            # FIFO within a priority, per producer: each producer's messages arrive in the order it sent them.
            foreach ($index in 0..5) {
                $mine = @($received | Where-Object { $_ -like "$index-*" } | ForEach-Object { [int]($_ -split '-')[1] })
                $mine | Should -Be (1..100)
            }
            $queue.CurrentMessages | Should -Be 0
        }
        finally {
            if ($queue) { Close-MessageQueue $queue }
            Remove-MessageQueueIfPresent $name
        }
    }

    It 'survives closing a mapping, a semaphore, a queue and an eventfd while parallel threads use them: every call succeeds or reports ObjectClosed' {
        $name = New-TestName
        $results = 1..3 | ForEach-Object {
            $map = New-MemoryMap -Anonymous -Size 4KB
            $sem = New-Semaphore -Name $name -Value 1
            $queue = New-MessageQueue -Name $name -MaxMessages 10 -MaxMessageSize 16
            $event = New-EventFd
            $objects = @{ Map = $map; Semaphore = $sem; Queue = $queue; Event = $event }
            # Each user says when it has made 100 calls; the closer closes only when all four are in their loops.
            $running = [hashtable]::Synchronized(@{})
            $users = 'Map', 'Semaphore', 'Queue', 'Event', 'Closer' | ForEach-Object -ThrottleLimit 5 -Parallel {
                $objects = $using:objects
                $running = $using:running
                if ($_ -eq 'Closer') {
                    $deadline = [DateTime]::UtcNow.AddSeconds(30)
                    while ($running.Count -lt 4 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 1 }
                    $closedWhileRunning = $running.Count -eq 4
                    $objects.Map.Dispose(); $objects.Semaphore.Dispose(); $objects.Queue.Dispose(); $objects.Event.Dispose()
                    [pscustomobject]@{ Kind = $_; Calls = 0; Outcome = if ($closedWhileRunning) { 'ran until closed' } else { "closed after 30 s with only $($running.Keys -join ', ') running" } }
                    return
                }
                $target = $objects[$_]
                $done = 0
                $outcome = 'ran until closed'
                try {
                    while ($true) {
                        switch ($_) {
                            'Map' { $null = $target.IncrementInt64(0) }
                            'Semaphore' { $target.Post(); $null = $target.TryWait() }
                            'Queue' { $null = $target.Send('x', 0, [timespan]::Zero); $null = $target.Receive([timespan]::Zero) }
                            'Event' { $null = $target.Add(1); $null = $target.TryRead() }
                        }
                        $done++
                        if ($done -eq 100) { $running[$_] = $true }
                    }
                }
                catch {
                    $e = $_.Exception
                    while ($e -is [System.Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
                    if ($e -isnot [System.ObjectDisposedException]) { $outcome = "failed: $($e.GetType().Name): $($e.Message)" }
                }
                [pscustomobject]@{ Kind = $_; Calls = $done; Outcome = $outcome }
            }
            Remove-Semaphore -Name $name -Confirm:$false
            Remove-MessageQueue -Name $name -Confirm:$false
            $users
        }
        $results | Where-Object Outcome -NE 'ran until closed' | Should -BeNullOrEmpty
        ($results | Measure-Object Calls -Sum).Sum | Should -BeGreaterThan 1000
    }
}
