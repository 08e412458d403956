#Requires -Version 7.4
Describe 'Get-ProcessMapping' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    It 'shows this process by default, with heap, stack and file mappings' {
        $maps = Get-ProcessMapping
        $maps | Should -Not -BeNullOrEmpty
        $maps[0] | Should -BeOfType ([Sysprog.ProcessMapping])
        ($maps | Select-Object -ExpandProperty ProcessId -Unique) | Should -Be $PID
        $maps.Kind | Should -Contain 'Stack'
        $maps.Kind | Should -Contain 'File'
    }

    It 'shows a shared memory mapping just made, at its address' {
        $name = New-TestName
        $shm = New-SharedMemory -Name $name -Size 8KB
        $map = $shm | New-MemoryMap
        try {
            $entry = Get-ProcessMapping -Kind SharedMemory | Where-Object Start -EQ ([uint64]$map.Address.ToInt64())
            $entry.Path | Should -Be "/dev/shm$name"
            $entry.Permissions | Should -Be 'rw-s'
            $entry.Size | Should -Be 8192
        }
        finally {
            Close-MemoryMap $map
            $shm.Dispose()
            Remove-SharedMemory -Name $name -Confirm:$false
        }
    }

    It 'takes processes from Get-Process by their Id' {
        $maps = Get-Process -Id $PID | Get-ProcessMapping
        $maps | Should -Not -BeNullOrEmpty
        $maps[0].ProcessId | Should -Be $PID
    }

    It 'adds Rss and Pss from smaps with -Detail' {
        $heap = Get-ProcessMapping -Detail -Kind 'Heap', 'Stack' | Select-Object -First 1
        $heap.Rss | Should -BeGreaterThan 0
        $heap.Pss | Should -Not -BeNullOrEmpty
    }

    It 'reports a missing process as an error for that process alone' {
        $maps = Get-ProcessMapping -Id 999999999, $PID -ErrorAction SilentlyContinue -ErrorVariable err
        $maps | Should -Not -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'Open.ENOENT,Sysprog.PowerShell.Commands.GetProcessMappingCommand'
        $err[0].TargetObject | Should -Be 999999999
    }
}
