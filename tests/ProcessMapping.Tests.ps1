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

Describe 'Show-ProcessMapping' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:child = Start-ChildProcess sleep 60
        $script:rendering = $PSStyle.OutputRendering
    }

    AfterAll {
        $PSStyle.OutputRendering = $script:rendering
        Stop-ChildProcess $script:child -Signal KILL
        $null = Wait-ChildProcess $script:child
        Close-ChildProcess $script:child
    }

    It 'draws a process at 80 columns naming every kind of region in it, no line wider, and no escape in plain text' {
        $PSStyle.OutputRendering = 'PlainText'
        $maps = Get-ProcessMapping -Id $child.ProcessId
        $lines = Show-ProcessMapping -Id $child.ProcessId -Width 80
        $lines[0] | Should -BeExactly "pid $($child.ProcessId) (sleep): $($maps.Count) regions"
        $lines | Where-Object Length -GT 80 | Should -BeNullOrEmpty
        ($lines -join "`n") | Should -Not -Match "`e"
        foreach ($label in 'program sleep', 'heap', 'library libc.so.6', 'stack', 'vdso', 'vvar') {
            $lines | Where-Object { $_.EndsWith($label) } | Should -Not -BeNullOrEmpty -Because "the picture names $label"
        }
        # Each mapping is a line of its own, at its start address, with its permissions.
        foreach ($map in $maps) {
            $lines -match ("^\s*{0:x} .* {1} " -f $map.Start, $map.Permissions) | Should -HaveCount 1
        }
        # The stretch between the program's heap and the libraries is terabytes: compressed, its size written.
        $lines -match '^\s+(/\\)+/? [\d.]+ TiB unmapped, not to scale$' | Should -Not -BeNullOrEmpty
    }

    It 'colours only where the host renders ANSI, and never under NO_COLOR' {
        $PSStyle.OutputRendering = 'Ansi'
        (Show-ProcessMapping -Id $child.ProcessId -Width 80) -join "`n" | Should -Match "`e\[31m"
        $env:NO_COLOR = '1'
        try {
            (Show-ProcessMapping -Id $child.ProcessId -Width 80) -join "`n" | Should -Not -Match "`e"
        }
        finally {
            Remove-Item Env:NO_COLOR
            $PSStyle.OutputRendering = 'PlainText'
        }
    }

    It 'draws mappings from the pipeline, and a second process beside them with -Compare' {
        $lines = Get-ProcessMapping -Id $child.ProcessId | Show-ProcessMapping -Compare $PID -Width 120
        $lines | Where-Object Length -GT 120 | Should -BeNullOrEmpty
        # Piped-in mappings are named by their program, a process read for -Compare as it names itself.
        $lines[1] | Should -Match "^pid $($child.ProcessId) \(sleep\): \d+ regions +\| pid $PID \(pwsh\): \d+ regions$"
    }

    It 'draws one process before and after an event: a snapshot with -Compare beside the process now' {
        $PSStyle.OutputRendering = 'PlainText'
        $before = Get-ProcessMapping
        $map = New-MemoryMap -Anonymous -Size 64KB -Visibility Shared
        try {
            $lines = $before | Show-ProcessMapping -Compare $PID -Width 140
            $address = '{0:x}' -f $map.Address.ToInt64()
            $lines | Where-Object Length -GT 140 | Should -BeNullOrEmpty
            # The new mapping is on the right (after) only, marked shared: % fill, rw-s, labelled shared memory.
            $after = @($lines | Where-Object { $_ -match "\| +$address %+ +rw-s +64 KiB shared memory" })
            $after | Should -HaveCount 1
            $after[0] | Should -Not -Match "^ *$address "
        }
        finally {
            Close-MemoryMap $map
        }
    }

    It 'writes SVG with -Path whose regions are the mapping rows, one to one' {
        $maps = Get-ProcessMapping -Id $child.ProcessId
        $file = Join-Path $TestDrive 'sleep.svg'
        $maps | Show-ProcessMapping -Path $file | Should -BeNullOrEmpty
        [xml]$svg = Get-Content -Raw -LiteralPath $file
        $regions = @($svg.svg.g | Where-Object class -EQ 'region')
        $regions | Should -HaveCount $maps.Count
        $drawn = $regions | ForEach-Object { '{0}-{1} {2}' -f $_.'data-start', $_.'data-end', $_.'data-permissions' } | Sort-Object
        $read = $maps | ForEach-Object { '0x{0:x}-0x{1:x} {2}' -f $_.Start, $_.End, $_.Permissions } | Sort-Object
        $drawn | Should -Be $read
    }

    It 'writes to a -LiteralPath with wildcard characters, and refuses a second picture without -Compare' {
        $file = Join-Path $TestDrive 'before[1].svg'
        Show-ProcessMapping -Id $child.ProcessId -LiteralPath $file -Compare $child.ProcessId
        [xml]$svg = Get-Content -Raw -LiteralPath $file
        @($svg.svg.g | Where-Object class -EQ 'region').Count | Should -Be (2 * @(Get-ProcessMapping -Id $child.ProcessId).Count)
        { Show-ProcessMapping -Id $PID, $child.ProcessId -Path (Join-Path $TestDrive 'two.svg') -ErrorAction Stop } |
            Should -Throw -ErrorId 'OnePicturePerFile,Sysprog.PowerShell.Commands.ShowProcessMappingCommand'
    }
}
