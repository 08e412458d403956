#Requires -Version 7.4
Describe 'Shared memory cmdlets' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:created = [System.Collections.Generic.List[string]]::new()
        function New-Name {
            $n = New-TestName
            $script:created.Add($n)
            $n
        }
    }

    AfterAll {
        $script:created | Remove-TestObject
        Get-DevShmName -Filter "sysprog-pester-$PID-*" | Should -BeNullOrEmpty
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'New-SharedMemory' {
        It 'creates an object of the size with mode 0600 and returns an open handle' {
            $name = New-Name
            $shm = New-SharedMemory -Name $name -Size 8KB
            try {
                $shm | Should -BeOfType ([Sysprog.SharedMemory])
                $shm.Name | Should -Be $name
                $shm.Size | Should -Be 8192
                $shm.Fd | Should -BeGreaterThan 2
                (Get-Item -LiteralPath "/dev/shm$name").Length | Should -Be 8192
                (Get-SharedMemory -Name $name).Mode | Should -Be '0600'
            }
            finally {
                $shm.Dispose()
            }
        }

        It 'takes names from the pipeline and an octal -Mode string' {
            $names = (New-Name), (New-Name)
            $handles = $names | New-SharedMemory -Size 4KB -Mode '0640'
            try {
                $handles.Count | Should -Be 2
                (Get-SharedMemory -Name $names | ForEach-Object { $_.Mode }) | Should -Be @('0640', '0640')
            }
            finally {
                $handles | Close-SharedMemory
            }
        }

        It 'refuses an existing name with ShmOpen.EEXIST' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
            { New-SharedMemory -Name $name -Size 4KB -ErrorAction Stop } |
                Should -Throw -ErrorId 'ShmOpen.EEXIST,Sysprog.PowerShell.Commands.NewSharedMemoryCommand'
            (Get-SharedMemory -Name $name).Size | Should -Be 4096
        }

        It 'refuses a name with a second slash before any system call' {
            { New-SharedMemory -Name '/a/b' -Size 4KB -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidArgument,Sysprog.PowerShell.Commands.NewSharedMemoryCommand'
            Test-Path -LiteralPath '/dev/shm/a' | Should -BeFalse
        }

        It 'refuses a size of 0 by parameter validation' {
            { New-SharedMemory -Name (New-Name) -Size 0 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Sysprog.PowerShell.Commands.NewSharedMemoryCommand'
        }

        It 'creates nothing under -WhatIf' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB -WhatIf | Should -BeNullOrEmpty
            Test-Path -LiteralPath "/dev/shm$name" | Should -BeFalse
        }

        It 'narrates its system calls under -Verbose' {
            $name = New-Name
            $records = New-SharedMemory -Name $name -Size 4KB -Verbose 4>&1
            $verbose = @($records | Select-SyscallLine)
            $verbose.Count | Should -Be 3
            $verbose[0] | Should -Match ('^shm_open\("' + [regex]::Escape($name) + '", O_RDWR\|O_CREAT\|O_EXCL\|O_CLOEXEC, 0600\) = \d+$')
            $verbose[1] | Should -Match '^fchmod\(\d+, 0600\) = 0$'
            $verbose[2] | Should -Match '^ftruncate\(\d+, 4096\) = 0$'
            $records | Where-Object { $_ -is [Sysprog.SharedMemory] } | Close-SharedMemory
        }
    }

    Context 'Open-SharedMemory, Close-SharedMemory, Resize-SharedMemory' {
        It 'opens an existing object without resizing it' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 12KB | Close-SharedMemory
            $shm = Open-SharedMemory -Name $name -ReadOnly
            try {
                $shm.Size | Should -Be 12288
                $shm.IsReadOnly | Should -BeTrue
            }
            finally {
                Close-SharedMemory -InputObject $shm
            }
            $shm.IsClosed | Should -BeTrue
            $shm.Fd | Should -Be -1
        }

        It 'reports a missing name as ShmOpen.ENOENT, ObjectNotFound, and suggests New-SharedMemory' {
            $name = New-Name
            Open-SharedMemory -Name $name -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'ShmOpen.ENOENT,Sysprog.PowerShell.Commands.OpenSharedMemoryCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be $name
            $err[0].Exception.Message | Should -BeLike '*New-SharedMemory*'
        }

        It 'resizes by name and through a handle' {
            $name = New-Name
            $shm = New-SharedMemory -Name $name -Size 4KB
            try {
                Resize-SharedMemory -Name $name -Size 64KB
                $shm.Size | Should -Be 65536
                ($shm | Resize-SharedMemory -Size 8KB -PassThru).Size | Should -Be 8192
            }
            finally {
                $shm.Dispose()
            }
        }

        It 'completes existing names with Tab' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
            $line = "Open-SharedMemory -Name $($name.Substring(0, $name.Length - 4))"
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $completion.CompletionMatches.CompletionText | Should -Contain $name
        }
    }

    Context 'Get-SharedMemory and Remove-SharedMemory' {
        It 'lists objects by wildcard with size, mode and owner' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
            $info = Get-SharedMemory -Name "sysprog-pester-$PID-*" | Where-Object Name -EQ $name
            $info | Should -BeOfType ([Sysprog.SharedMemoryInfo])
            $info.Size | Should -Be 4096
            $info.Owner | Should -Be ([Environment]::UserName)
        }

        It 'reports an exact name that does not exist as ObjectNotFound' {
            $missing = New-Name
            Get-SharedMemory -Name $missing -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'NameNotFound,Sysprog.PowerShell.Commands.GetSharedMemoryCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject | Should -Be $missing
            Get-SharedMemory -Name "$missing*" -ErrorAction Stop | Should -BeNullOrEmpty
        }

        It 'keeps the object under -WhatIf, removes it otherwise' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
            Remove-SharedMemory -Name $name -WhatIf
            Test-Path -LiteralPath "/dev/shm$name" | Should -BeTrue
            Remove-SharedMemory -Name $name -Confirm:$false
            Test-Path -LiteralPath "/dev/shm$name" | Should -BeFalse
        }

        It 'removes what Get-SharedMemory pipes to it, by property name' {
            $names = (New-Name), (New-Name)
            $names | New-SharedMemory -Size 4KB | Close-SharedMemory
            Get-SharedMemory -Name $names | Remove-SharedMemory -Confirm:$false
            $names | ForEach-Object { Test-Path -LiteralPath "/dev/shm$_" } | Should -Be @($false, $false)
        }

        It 'closes a handle without removing the name, and removes the name without breaking the mapping' {
            $name = New-Name
            $shm = New-SharedMemory -Name $name -Size 4KB
            $map = $shm | New-MemoryMap
            try {
                Close-SharedMemory $shm
                Test-Path -LiteralPath "/dev/shm$name" | Should -BeTrue
                Remove-SharedMemory -Name $name -Confirm:$false
                $map.WriteInt64(0, 42)
                $map.ReadInt64(0) | Should -Be 42
            }
            finally {
                Close-MemoryMap $map
            }
        }
    }

    Context 'Concurrent producers and a consumer across jobs' {
        BeforeAll {
            $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
            $script:producer = {
                param($ModulePath, $Name, $Count, $Atomic)
                Import-Module $ModulePath
                Invoke-MemoryMap -Name $Name -ScriptBlock {
                    param($m)
                    for ($i = 0; $i -lt $Count; $i++) {
                        if ($Atomic) { [void]$m.AddInt64(0, 1) } else { $m.WriteInt64(0, $m.ReadInt64(0) + 1) }
                    }
                }
            }
            $script:consumer = {
                param($ModulePath, $Name)
                Import-Module $ModulePath
                Invoke-MemoryMap -Name $Name -ScriptBlock { $_.ReadInt64(0) }
            }
        }

        It 'loses no increment when 4 jobs add atomically, as the consumer job reads' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
            $jobs = 1..4 | ForEach-Object { Start-Job -ScriptBlock $script:producer -ArgumentList $script:modulePath, $name, 5000, $true }
            $jobs | Wait-Job -Timeout 300 | Out-Null
            $jobs | ForEach-Object { $_.State | Should -Be 'Completed' }
            $jobs | Receive-Job -ErrorAction Stop
            $jobs | Remove-Job
            # Job objects hold their processes' pipes while they live: let go of them, so the leak check sees them closed.
            $jobs = $null
            Start-Job -ScriptBlock $script:consumer -ArgumentList $script:modulePath, $name | Receive-Job -Wait -AutoRemoveJob | Should -Be 20000
        }

        It 'shows what a plain read-add-write loses (reported, not asserted: it depends on scheduling)' {
            $name = New-Name
            New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
            $jobs = 1..4 | ForEach-Object { Start-Job -ScriptBlock $script:producer -ArgumentList $script:modulePath, $name, 100000, $false }
            $jobs | Wait-Job -Timeout 300 | Out-Null
            $jobs | Remove-Job -Force
            $jobs = $null
            $total = Invoke-MemoryMap -Name $name -ScriptBlock { $_.ReadInt64(0) }
            $total | Should -BeGreaterThan 0
            $total | Should -BeLessOrEqual 400000
            Write-Host "plain read-add-write across 4 jobs: $total of 400000 ($(400000 - $total) lost)"
        }
    }
}
