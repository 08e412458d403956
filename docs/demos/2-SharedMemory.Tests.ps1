#Requires -Version 7.4
# Screenplay 2: one counter in shared memory, four processes adding to it: with a plain load and store some
# increments are lost; with an atomic add none are.
Describe 'Shared memory: lost and kept increments across processes' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:name = New-TestName
        $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
        New-SharedMemory -Name $script:name -Size 4KB | Close-SharedMemory

        function Start-Producers {
            param([bool] $Atomic)
            $jobs = 1..4 | ForEach-Object {
                Start-Job -ArgumentList $script:modulePath, $script:name, $Atomic -ScriptBlock {
                    param($ModulePath, $Name, $Atomic)
                    Import-Module $ModulePath
                    Invoke-MemoryMap -Name $Name -ScriptBlock {
                        param($m)
                        # A barrier at offset 8: no job starts counting before all four have mapped the object, so
                        # their loops overlap however long each took to start.
                        $null = $m.AddInt64(8, 1)
                        while ($m.ReadInt64(8) -lt 4) { Start-Sleep -Milliseconds 1 }
                        for ($i = 0; $i -lt 5000; $i++) {
                            if ($Atomic) { $null = $m.AddInt64(0, 1) } else { $m.WriteInt64(0, $m.ReadInt64(0) + 1) }
                        }
                    }
                }
            }
            $null = $jobs | Wait-Job -Timeout 300
            $jobs | Receive-Job -ErrorAction Stop
            $jobs | Remove-Job
        }
    }

    AfterAll {
        Remove-SharedMemory -Name $script:name -Confirm:$false
    }

    It 'creates a 4 KiB object that every job maps by name' {
        (Get-SharedMemory -Name $script:name).Size | Should -Be 4KB
        Write-Narration "$script:name is in /dev/shm, mode $((Get-SharedMemory -Name $script:name).Mode)."
    }

    It 'loses increments when 4 processes read, add 1 and write back' {
        if ([Environment]::ProcessorCount -lt 2) {
            Set-ItResult -Skipped -Because 'one CPU: the processes never run at once, and a read-modify-write loses an increment only if preempted between its read and its write'
            return
        }
        Start-Producers -Atomic $false
        $count = Invoke-MemoryMap -Name $script:name -ScriptBlock { $_.ReadInt64(0) }
        $count | Should -BeLessThan 20000 -Because 'four processes counting at once on several CPUs overwrite each other'
        $count | Should -BeGreaterThan 0
        Write-Narration "counter = $count of 20000: $(20000 - $count) lost where two processes read the same value and both wrote value+1."
    }

    It 'keeps every increment with an atomic add (lock xadd)' {
        Invoke-MemoryMap -Name $script:name -ScriptBlock { $_.WriteInt64(0, 0); $_.WriteInt64(8, 0) }
        Start-Producers -Atomic $true
        $count = Invoke-MemoryMap -Name $script:name -ScriptBlock { $_.ReadInt64(0) }
        $count | Should -Be 20000
        Write-Narration "counter = $count of 20000: none lost."
    }
}
