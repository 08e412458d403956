#Requires -Version 7.4
Describe 'Semaphore cmdlets' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:names = [System.Collections.Generic.List[string]]::new()
        function New-Name {
            $n = New-TestName
            $script:names.Add($n)
            $n
        }
        $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
    }

    AfterAll {
        foreach ($n in $script:names) {
            if (Test-Path -LiteralPath "/dev/shm/sem.$($n.Substring(1))") { Remove-Semaphore -Name $n -Confirm:$false }
            if (Test-Path -LiteralPath "/dev/shm$n") { Remove-SharedMemory -Name $n -Confirm:$false }
        }
        Get-DevShmName -Filter "*sysprog-pester-$PID-*" | Should -BeNullOrEmpty
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'creates a semaphore with value 7: seven waits return at once, the eighth times out' {
        $sem = New-Semaphore -Name (New-Name) -Value 7
        try {
            $sem | Should -BeOfType ([Sysprog.PosixSemaphore])
            1..7 | ForEach-Object { Wait-Semaphore $sem -TimeoutSeconds 0 -ErrorAction Stop }
            $sem.Value | Should -Be 0
            Wait-Semaphore $sem -TimeoutSeconds 0.3 -ErrorAction SilentlyContinue -ErrorVariable err
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.WaitSemaphoreCommand'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].TargetObject | Should -Be $sem
        }
        finally {
            Close-Semaphore $sem
        }
    }

    It 'wakes a waiting job when this session posts, once the job is asleep in the wait' {
        $name = New-Name
        $sem = New-Semaphore -Name $name -Value 0
        try {
            $job = Start-Job -ScriptBlock {
                param($ModulePath, $Name)
                Import-Module $ModulePath
                Wait-Semaphore -Name $Name -TimeoutSeconds 60 -ErrorAction Stop
                'woken'
            } -ArgumentList $script:modulePath, $name
            # The C library counts the job's thread among the semaphore's waiters only while it sleeps in the wait.
            Wait-Until { $sem.Waiters -ge 1 } -TimeoutSeconds 60 | Should -BeTrue -Because 'the job must be blocked before the post'
            $job.State | Should -Be 'Running'
            $sem.Value | Should -Be 0
            Unlock-Semaphore $sem
            $job | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop | Should -Be 'woken'
            # A job object holds its process's pipes while it lives: let go of it, so the leak check sees them closed.
            $job = $null
            $sem.Value | Should -Be 0
        }
        finally {
            Close-Semaphore $sem
        }
    }

    It 'refuses an existing name (SemOpen.EEXIST) and reports a missing one (SemOpen.ENOENT)' {
        $name = New-Name
        New-Semaphore -Name $name -Value 1 | Close-Semaphore
        { New-Semaphore -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'SemOpen.EEXIST,Sysprog.PowerShell.Commands.NewSemaphoreCommand'
        Remove-Semaphore -Name $name -Confirm:$false
        Open-Semaphore -Name $name -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'SemOpen.ENOENT,Sysprog.PowerShell.Commands.OpenSemaphoreCommand'
        $err[0].Exception.Message | Should -BeLike '*New-Semaphore*'
    }

    It 'refuses bad values and timeouts by parameter validation' {
        { New-Semaphore -Name (New-Name) -Value -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Sysprog.PowerShell.Commands.NewSemaphoreCommand'
        { Wait-Semaphore -Name (New-Name) -TimeoutSeconds -5 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Sysprog.PowerShell.Commands.WaitSemaphoreCommand'
    }

    It 'names EOVERFLOW when a post would pass SEM_VALUE_MAX' {
        $sem = New-Semaphore -Name (New-Name) -Value ([int]::MaxValue)
        try {
            Unlock-Semaphore $sem -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'SemPost.EOVERFLOW,Sysprog.PowerShell.Commands.UnlockSemaphoreCommand'
            $err[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        }
        finally {
            Close-Semaphore $sem
        }
    }

    It 'lists semaphores with their values, and removes them by pipeline, honouring -WhatIf' {
        $name = New-Name
        New-Semaphore -Name $name -Value 4 | Close-Semaphore
        $info = Get-Semaphore -Name $name
        $info.Value | Should -Be 4
        $info.Mode | Should -Be '0600'
        $info | Remove-Semaphore -WhatIf
        Get-Semaphore -Name $name | Should -Not -BeNullOrEmpty
        $info | Remove-Semaphore -Confirm:$false
        Test-Path -LiteralPath "/dev/shm/sem.$($name.Substring(1))" | Should -BeFalse
    }

    It 'works as an unnamed semaphore inside shared memory' {
        $name = New-Name
        $shm = New-SharedMemory -Name $name -Size 4KB
        $a = $shm | New-MemoryMap
        $b = $shm | New-MemoryMap
        try {
            $first = New-Semaphore -InputObject $a -Offset 64 -Value 0
            $second = Open-Semaphore -InputObject $b -Offset 64
            Unlock-Semaphore $first -Count 2
            $second.Value | Should -Be 2
            Wait-Semaphore $second -TimeoutSeconds 1 -ErrorAction Stop
            $first.Value | Should -Be 1
        }
        finally {
            $a, $b | Close-MemoryMap
            $shm.Dispose()
        }
    }

    It 'refuses a semaphore in a mapping made <Protection> with EACCES, instead of a SIGSEGV that ends the session' -ForEach @(
        @{ Protection = 'None'; Shown = '---' }, @{ Protection = 'Read'; Shown = 'r--' }
    ) {
        $map = New-MemoryMap -Anonymous -Size 4KB -Visibility Shared
        try {
            $semaphore = New-Semaphore -InputObject $map -Offset 64 -Value 1
            Set-MemoryProtection $map -Protection $Protection -Confirm:$false

            Unlock-Semaphore $semaphore -ErrorAction SilentlyContinue -ErrorVariable post
            Wait-Semaphore $semaphore -TimeoutSeconds 1 -ErrorAction SilentlyContinue -ErrorVariable wait

            $post[0].FullyQualifiedErrorId | Should -BeLike 'SemPost.EACCES,*'
            $post[0].Exception.Message | Should -BeLike "*semaphore at offset 64 of anonymous*is $Shown*"
            $wait[0].FullyQualifiedErrorId | Should -BeLike '*.EACCES,*'
            Set-MemoryProtection $map -Protection ReadWrite -Confirm:$false
            $semaphore.Value | Should -Be 1
        }
        finally {
            Close-MemoryMap $map
        }
    }

    It 'keeps N jobs x M protected increments exact' {
        $name = New-Name
        New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
        New-Semaphore -Name $name -Value 1 | Close-Semaphore
        $worker = {
            param($ModulePath, $Name, $Count)
            Import-Module $ModulePath
            $sem = Open-Semaphore -Name $Name
            Invoke-MemoryMap -Name $Name -ScriptBlock {
                param($m)
                for ($i = 0; $i -lt $Count; $i++) {
                    Wait-Semaphore $sem -TimeoutSeconds 30 -ErrorAction Stop
                    $m.WriteInt64(0, $m.ReadInt64(0) + 1)
                    Unlock-Semaphore $sem
                }
            }
            Close-Semaphore $sem
        }
        $jobs = 1..3 | ForEach-Object { Start-Job -ScriptBlock $worker -ArgumentList $script:modulePath, $name, 300 }
        $threadJobs = 1..2 | ForEach-Object { Start-ThreadJob -ScriptBlock $worker -ArgumentList $script:modulePath, $name, 300 }
        $all = @($jobs) + @($threadJobs)
        $all | Wait-Job -Timeout 300 | Out-Null
        $all | ForEach-Object { $_.State | Should -Be 'Completed' }
        $all | Receive-Job -ErrorAction Stop
        $all | Remove-Job
        # Job objects hold their processes' pipes while it lives: let go of them, so the leak check sees them closed.
        $jobs = $all = $null
        Invoke-MemoryMap -Name $name -ScriptBlock { $_.ReadInt64(0) } | Should -Be 1500
        (Get-Semaphore -Name $name).Value | Should -Be 1
    }

    It 'stops a blocked Wait-Semaphore promptly when the pipeline is stopped' {
        $name = New-Name
        New-Semaphore -Name $name -Value 0 | Close-Semaphore
        # Its verbose sem_open line says the wait is starting.
        Assert-StopsPromptly -Start { param($ps) $null = $ps.AddCommand('Wait-Semaphore').AddParameter('Name', $name).AddParameter('Verbose', $true) } `
            -BlockedIn futex
    }
}
