#Requires -Version 7.4
Describe 'Memory map cmdlets' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:pageSize = [Environment]::SystemPageSize
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'Mapping files' {
        It 'maps /etc/passwd read-only and reads it through memory alone' {
            $text = Invoke-MemoryMap -Path /etc/passwd -ScriptBlock { $_.ReadString() }
            $text | Should -BeExactly (Get-Content -LiteralPath /etc/passwd -Raw)
        }

        It 'resolves relative paths against the PowerShell location, not the process directory' {
            Push-Location -LiteralPath $TestDrive
            try {
                Set-Content -LiteralPath (Join-Path $TestDrive 'relative.txt') -Value 'here' -NoNewline
                Invoke-MemoryMap -Path ./relative.txt -ScriptBlock { param($m) $m.ReadString() } | Should -BeExactly 'here'
            }
            finally {
                Pop-Location
            }
        }

        It 'refuses a write to a read-only mapping with an error, not a crash' {
            $map = New-MemoryMap -Path /etc/passwd
            try {
                $map.Protection | Should -Be 'Read'
                { $map.WriteInt32(0, 1) } | Should -Throw '*PROT_READ*'
                $map.Read(0, 4).Count | Should -Be 4
            }
            finally {
                Close-MemoryMap $map
            }
        }

        It 'writes through a shared mapping to the file after Sync-MemoryMap' {
            $file = Join-Path $TestDrive 'shared.bin'
            [System.IO.File]::WriteAllBytes($file, [byte[]]::new($script:pageSize))
            $map = New-MemoryMap -Path $file -Protection ReadWrite
            try {
                [void]$map.WriteString(0, 'shared')
                Sync-MemoryMap $map
                [System.Text.Encoding]::UTF8.GetString([System.IO.File]::ReadAllBytes($file), 0, 6) | Should -Be 'shared'
            }
            finally {
                Close-MemoryMap $map
            }
        }

        It 'keeps private (copy-on-write) changes away from the file' {
            $file = Join-Path $TestDrive 'private.txt'
            Set-Content -LiteralPath $file -Value ('a' * 64) -NoNewline
            Invoke-MemoryMap -Path $file -Protection ReadWrite -Visibility Private -ScriptBlock {
                [void]$_.WriteString(0, 'private')
                $_.ReadString(0, 7) | Should -Be 'private'
            }
            (Get-Content -LiteralPath $file -Raw).Substring(0, 7) | Should -Be 'aaaaaaa'
        }

        It 'reports a missing file as FileNotFound, found by one statx before anything is opened' {
            $missing = Join-Path $TestDrive 'missing'
            $narration = New-MemoryMap -Path $missing -Verbose -ErrorAction SilentlyContinue -ErrorVariable err 4>&1
            @($narration | Select-SyscallLine) | Should -Be "statx(AT_FDCWD, ""$missing"", 0, STATX_BASIC_STATS) = -1 ENOENT (No such file or directory)"
            $err[0].FullyQualifiedErrorId | Should -Be 'FileNotFound,Sysprog.PowerShell.Commands.NewMemoryMapCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
    }

    Context 'Anonymous and shared memory mappings' {
        It 'maps zero-filled anonymous memory and does typed and atomic access' {
            Invoke-MemoryMap -Anonymous -Size 4KB -ScriptBlock {
                param($m)
                $m.ReadInt64(0) | Should -Be 0
                $m.WriteInt64(8, 41)
                $m.IncrementInt64(8) | Should -Be 42
                $m.AddInt32(0, 5) | Should -Be 5
                $m.CompareExchangeInt32(0, 9, 5) | Should -Be 5
                $m.ReadInt32(0) | Should -Be 9
                { $m.ReadInt64(3) } | Should -Throw '*multiple of 8*'
            }
        }

        It 'maps a shared memory object by name, and a second mapping sees the first one''s writes' {
            $name = New-TestName
            $shm = New-SharedMemory -Name $name -Size 4KB
            try {
                $a = $shm | New-MemoryMap
                $b = New-MemoryMap -Name $name
                $a.WriteInt64(0, 7)
                $b.ReadInt64(0) | Should -Be 7
                $a.Kind | Should -Be 'SharedMemory'
                $a, $b | Close-MemoryMap
            }
            finally {
                $shm.Dispose()
                Remove-SharedMemory -Name $name -Confirm:$false
            }
        }

        It 'refuses to map an object a full /dev/shm cannot back, with ENOSPC instead of a crash' {
            # A pwsh of its own, in a user and mount namespace with a 1 MiB tmpfs on /dev/shm: touching a page of the
            # 4 MiB object would need a block the tmpfs does not have, which the kernel reports as SIGBUS.
            $child = @'
Import-Module $env:SYSPROG_MODULE
$shm = New-SharedMemory -Name /big -Size 4MB
$map = New-MemoryMap -InputObject $shm -ErrorAction SilentlyContinue -ErrorVariable failed
if ($map) { 0..1023 | ForEach-Object { $map.WriteInt64($_ * 4096, 1) } }
"mapped=$([bool]$map) id=$($failed[0].FullyQualifiedErrorId) message=$($failed[0].Exception.Message)"
'@
            $env:SYSPROG_MODULE = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
            try {
                $pwsh = Get-PwshCommand
                $output = & unshare --user --map-root-user --mount sh -c 'mount -t tmpfs -o size=1m tmpfs /dev/shm && command="$1" && shift && exec "$@" -NoProfile -NonInteractive -Command "$command"' sh $child @pwsh 2>&1
                $LASTEXITCODE | Should -Be 0 -Because "the session survives: $output"
            }
            finally {
                Remove-Item Env:SYSPROG_MODULE
            }
            "$output" | Should -BeLike 'mapped=False id=Fallocate.ENOSPC,* message=fallocate("/big") failed: ENOSPC*The tmpfs has * bytes free*'
        }

        It 'unmaps after the script block, also when it throws' {
            $script:seen = $null
            { Invoke-MemoryMap -Anonymous -Size 4KB -ScriptBlock { $script:seen = $_; throw 'boom' } } | Should -Throw '*boom*'
            $script:seen.IsClosed | Should -BeTrue
            { $script:seen.ReadInt32(0) } | Should -Throw
        }
    }

    Context 'Protection, advice, locking' {
        It 'changes protection with Set-MemoryProtection and narrates mprotect' {
            $map = New-MemoryMap -Anonymous -Size 4KB
            try {
                $verbose = @(Set-MemoryProtection $map -Protection Read -Verbose 4>&1 | Select-SyscallLine)
                $verbose.Count | Should -Be 1
                $verbose[0] | Should -Match '^mprotect\(0x[0-9a-f]+, 4096, PROT_READ\) = 0$'
                { $map.WriteInt32(0, 1) } | Should -Throw '*PROT_READ*'
                Set-MemoryProtection $map -Protection ReadWrite
                $map.WriteInt32(0, 1)
                $map.ReadInt32(0) | Should -Be 1
            }
            finally {
                Close-MemoryMap $map
            }
        }

        It 'discards private anonymous pages with -Advice DontNeed' {
            $map = New-MemoryMap -Anonymous -Size 4KB
            try {
                $map.WriteInt64(0, 99)
                Set-MemoryAdvice $map -Advice DontNeed -Confirm:$false
                $map.ReadInt64(0) | Should -Be 0
            }
            finally {
                Close-MemoryMap $map
            }
        }

        It 'locks a mapping into RAM, as smaps shows, and unlocks it' {
            $map = New-MemoryMap -Anonymous -Size 16KB
            try {
                $map | Lock-Memory
                $address = [uint64]$map.Address.ToInt64()
                # Once unlocked, the kernel may merge the region with a neighbour: look for the one containing it.
                (Get-ProcessMapping -Detail | Where-Object { $_.Contains($address) }).Locked | Should -Be 16384
                $map | Unlock-Memory
                (Get-ProcessMapping -Detail | Where-Object { $_.Contains($address) }).Locked | Should -Be 0
            }
            finally {
                Close-MemoryMap $map
            }
        }
    }

    Context 'Module removal' {
        It 'closes the mappings a session left open' {
            $pwsh, $pwshArguments = Get-PwshCommand
            $module = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
            $result = & $pwsh $pwshArguments -NoProfile -NonInteractive -Command "Import-Module '$module'; `$map = New-MemoryMap -Anonymous -Size 4KB; Remove-Module Sysprog; `$map.IsClosed"
            $result | Should -BeTrue
        }

        It 'closes only what the removing runspace opened, not what another runspace of the process still uses' {
            $mine = New-MemoryMap -Anonymous -Size 4KB
            $other = [powershell]::Create()
            try {
                $theirs = $other.AddScript({
                        param($ModulePath)
                        Import-Module $ModulePath
                        New-MemoryMap -Anonymous -Size 4KB
                    }).AddArgument((Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath).Invoke()[0]
                $other.Commands.Clear()
                $null = $other.AddScript({ Remove-Module Sysprog }).Invoke()
                $theirs.IsClosed | Should -BeTrue
                $mine.IsClosed | Should -BeFalse
                $mine.WriteInt64(0, 1)
            }
            finally {
                $other.Dispose()
                Close-MemoryMap $mine
            }
        }
    }
}
