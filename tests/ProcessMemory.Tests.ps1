#Requires -Version 7.4
# Cross-memory attach from pwsh: another process's image read by mapping and checked with its ELF magic, a value
# written into this session's own memory and read back, -WhatIf, and EFAULT. (A short read is tested in xunit, against a C peer.)
Describe 'Read-ProcessMemory and Write-ProcessMemory' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'reads another process''s executable image through its first mapping: the ELF magic' {
        $sleeper = Start-Process -FilePath sleep -ArgumentList 60 -PassThru
        try {
            Wait-Until { @(Get-ProcessMapping -Id $sleeper.Id -ErrorAction SilentlyContinue).Count -gt 0 } | Should -BeTrue
            $first = Get-ProcessMapping -Id $sleeper.Id | Select-Object -First 1

            $bytes = $first | Read-ProcessMemory -Count 4

            $bytes.GetType() | Should -Be ([byte[]])
            $bytes | Should -Be @(0x7f, 0x45, 0x4c, 0x46)
            ($bytes | Format-Hex | Out-String) | Should -Match '7F 45 4C 46'
        }
        finally {
            Stop-Process -Id $sleeper.Id
        }
    }

    It 'writes an integer, reads it back as integers, and changes nothing under -WhatIf' {
        $map = New-MemoryMap -Anonymous -Size 4KB
        try {
            $transfer = Write-ProcessMemory -Id $PID -Address $map.Address -Int64 0x1122334455667788 -PassThru -Force -Confirm:$false
            Write-ProcessMemory -Id $PID -Address ([long]$map.Address + 8) -Int64 5 -WhatIf

            $transfer.Transferred | Should -Be 8
            $map.ReadInt64(0) | Should -Be 0x1122334455667788
            Read-ProcessMemory -Id $PID -Address $map.Address -Count 2 -As Int64 | Should -Be @(0x1122334455667788, 0)
            Read-ProcessMemory -Id $PID -Address $map.Address -Count 1 -As UInt32 | Should -Be 0x55667788
        }
        finally {
            Close-MemoryMap $map
        }
    }

    It 'refuses to write this session''s own memory without -Force, by its id or one of its threads'' ids' {
        $map = New-MemoryMap -Anonymous -Size 4KB
        try {
            $thread = [int](Get-ChildItem "/proc/$PID/task" | Where-Object Name -NE "$PID" | Select-Object -First 1).Name
            foreach ($id in $PID, $thread) {
                Write-ProcessMemory -Id $id -Address $map.Address -Int64 7 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable refused
                $refused[0].FullyQualifiedErrorId | Should -BeLike 'InvalidOperation,*'
                $refused[0].Exception.Message | Should -BeLike "Process $id is this session*Give -Force*"
            }
            $map.ReadInt64(0) | Should -Be 0
        }
        finally {
            Close-MemoryMap $map
        }
    }

    It 'names an address nothing is mapped at, with EFAULT' {
        # Below vm.mmap_min_addr, where no process may map anything.
        Read-ProcessMemory -Id $PID -Address 0x1000 -Count 8 -ErrorAction SilentlyContinue -ErrorVariable fault

        $fault[0].FullyQualifiedErrorId | Should -BeLike 'ProcessVmReadv.EFAULT,*'
        $fault[0].CategoryInfo.TargetName | Should -Be "$PID"
        $fault[0].Exception.Message | Should -BeLike "*0x1000 (8 bytes) is not mapped in process $PID, or not readable*"
    }
}
