#Requires -Version 7.4
# Screenplay 3: a semaphore of value 7. Seven waits pass at once; the eighth blocks, in another process, until this
# session posts.
Describe 'Semaphores: the eighth wait blocks until another process posts' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:name = New-TestName
        $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
        $script:sem = New-Semaphore -Name $script:name -Value 7
    }

    AfterAll {
        Close-Semaphore $script:sem
        Remove-Semaphore -Name $script:name -Confirm:$false
    }

    It 'takes seven at once: the value counts down to 0' {
        1..7 | ForEach-Object { Wait-Semaphore $script:sem -TimeoutSeconds 0 -ErrorAction Stop }
        $script:sem.Value | Should -Be 0
        Write-Narration 'Seven sem_wait calls returned at once; the value is 0.'
    }

    It 'blocks an eighth wait in another process' {
        $script:job = Start-Job -ArgumentList $script:modulePath, $script:name -ScriptBlock {
            param($ModulePath, $Name)
            Import-Module $ModulePath
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            Wait-Semaphore -Name $Name -TimeoutSeconds 120 -ErrorAction Stop
            "woken after $([int]$clock.Elapsed.TotalMilliseconds) ms"
        }
        Wait-Until { $script:sem.Waiters -ge 1 } -TimeoutSeconds 60 | Should -BeTrue
        $script:job.State | Should -Be 'Running'
        Write-Narration "The job's process sleeps in sem_wait: the C library counts $($script:sem.Waiters) waiter."
    }

    It 'wakes it when this session posts' {
        Unlock-Semaphore $script:sem
        $said = $script:job | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
        $said | Should -BeLike 'woken after *'
        $script:sem.Value | Should -Be 0
        Write-Narration "sem_post here; the other process says: $said."
    }
}
