#Requires -Version 7.4
# The IPC inventory from pwsh: objects made here with this session as their holder, another process's descriptor,
# orphans, kinds and names, System V objects, and the safe clean-up pipeline (Get-IpcObject -Orphaned | Remove-IpcObject).
Describe 'Get-IpcObject and Remove-IpcObject' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
        $script:held = New-TestName
        $script:orphan = New-TestName
        $script:shm = New-SharedMemory -Name $script:held -Size 8KB
        $script:map = $script:shm | New-MemoryMap
        New-SharedMemory -Name $script:orphan -Size 4KB | Close-SharedMemory
    }

    AfterEach {
        Close-MemoryMap $script:map
        Close-SharedMemory $script:shm
        Remove-TestObjectAll
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'lists objects with this session as holder, and one nobody holds as orphaned' {
        $objects = @(Get-IpcObject $script:held, $script:orphan -WarningAction SilentlyContinue)

        $objects.Name | Should -Be @($script:held, $script:orphan)
        $objects[0].Holders.ProcessId | Should -Be $PID
        $objects[0].Holders[0].How | Should -Be 'Descriptor, Mapping'
        $objects[0].IsOrphaned | Should -BeFalse
        $objects[1].IsOrphaned | Should -BeTrue
        $objects[1].Size | Should -Be 4KB
        (@(Get-IpcObject "/sysprog-pester-$PID-*" -Orphaned -WarningAction SilentlyContinue).Name) | Should -Be @($script:orphan)
    }

    It 'names another process that holds a descriptor' {
        $job = Start-Job { param($path) sh -c "exec 3<'$path'; echo ready; exec sleep 60" } -ArgumentList "/dev/shm$($script:orphan)"
        try {
            Wait-Until { @(Get-IpcObject $script:orphan -WarningAction SilentlyContinue).Holders | Where-Object ProcessName -EQ 'sleep' } | Should -BeTrue
            (Get-IpcObject $script:orphan -WarningAction SilentlyContinue).IsOrphaned | Should -BeFalse
        }
        finally {
            Stop-Job $job
            Remove-Job $job -Force
            # A job object holds its process's pipes while it lives: let go of it, so the leak check sees them closed.
            $job = $null
        }
    }

    It 'does not take a file of another mount namespace''s /dev/shm for an object of this one, even of the same name' {
        if ((id -u) -ne '0' -or -not (Get-Command unshare -CommandType Application -ErrorAction Ignore)) {
            Set-ItResult -Skipped -Because 'needs root and unshare (util-linux) to give a process a /dev/shm of its own'
            return
        }
        # A process with a /dev/shm of its own (as in a container, or an sshd started in namespaces) holds a file there
        # of the very name this machine's orphan has: that file is not this object, nor an unlinked one of this /dev/shm.
        $path = "/dev/shm$($script:orphan)"
        $job = Start-Job { param($path) unshare --mount --propagation private sh -c "mount -t tmpfs sysprog-test-shm /dev/shm && : > '$path' && exec 3<'$path' && exec sleep 60" } -ArgumentList $path
        try {
            $holder = {
                foreach ($id in [System.IO.Directory]::GetDirectories('/proc').ForEach({ Split-Path -Leaf $_ }).Where({ $_ -match '^\d+$' })) {
                    try {
                        if ([System.IO.File]::ReadAllText("/proc/$id/comm").Trim() -eq 'sleep' -and
                            [System.IO.Directory]::GetFiles("/proc/$id/fd").Where({ [System.IO.FileInfo]::new($_).LinkTarget -eq $path })) { [int] $id }
                    }
                    catch { continue }
                }
            }
            Wait-Until { & $holder } | Should -BeTrue -Because 'the process in its own mount namespace holds its file'
            $objects = @(Get-IpcObject $script:orphan -WarningAction SilentlyContinue)
            $objects | Should -HaveCount 1
            $objects[0].IsUnlinked | Should -BeFalse
            $objects[0].IsOrphaned | Should -BeTrue
            $objects[0].Holders | Should -BeNullOrEmpty
        }
        finally {
            Stop-Job $job
            Remove-Job $job -Force
            $job = $null
        }
    }

    It 'filters by kind, and lists System V objects by key and id' {
        $id = [int]((ipcmk -M 4096) -replace '\D', '')
        try {
            $segment = Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue | Where-Object Id -EQ $id
            $segment.Size | Should -Be 4096
            $segment.Name | Should -Match '^0x[0-9a-f]{8}$'
            $segment.IsOrphaned | Should -BeTrue
            @(Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue).Kind | Select-Object -Unique | Should -Be 'SysVSharedMemory'

            $segment | Remove-IpcObject -Confirm:$false -Verbose 4>&1 | Select-SyscallLine | Should -Be "shmctl($id, IPC_RMID, NULL) = 0"
            Get-IpcObject -Kind SysVSharedMemory -WarningAction SilentlyContinue | Where-Object Id -EQ $id | Should -BeNullOrEmpty
        }
        finally {
            ipcrm -m $id 2>$null
        }
    }

    It 'does not call a System V semaphore set held by no process: who uses one cannot be known' {
        $id = [int]((ipcmk -S 1) -replace '\D', '')
        try {
            $set = Get-IpcObject -Kind SysVSemaphoreSet -WarningAction SilentlyContinue | Where-Object Id -EQ $id
            $set.IsOrphaned | Should -BeNullOrEmpty

            $said = @($set | Remove-IpcObject -Confirm:$false -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n"
            $said | Should -BeLike "*semid $id), its users cannot be known from /proc*"
            $said | Should -Not -BeLike '*held by no process*'
        }
        finally {
            ipcrm -s $id 2>$null
        }
    }

    It 'cleans up orphans safely: -WhatIf removes nothing, and the pipeline removes only them' {
        Get-IpcObject "/sysprog-pester-$PID-*" -Orphaned -WarningAction SilentlyContinue | Remove-IpcObject -WhatIf
        Test-Path -LiteralPath "/dev/shm$($script:orphan)" | Should -BeTrue

        Get-IpcObject "/sysprog-pester-$PID-*" -Orphaned -WarningAction SilentlyContinue | Remove-IpcObject -Confirm:$false

        Test-Path -LiteralPath "/dev/shm$($script:orphan)" | Should -BeFalse
        Test-Path -LiteralPath "/dev/shm$($script:held)" | Should -BeTrue
    }

    It 'completes names of every kind on Tab, System V keys included' {
        $id = [int]((ipcmk -Q) -replace '\D', '')
        try {
            $key = (Get-IpcObject -Kind SysVMessageQueue -WarningAction SilentlyContinue | Where-Object Id -EQ $id).Name
            $line = "Get-IpcObject -Name $($script:held.Substring(0, $script:held.Length - 3))"
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @($script:held)
            $line = "Get-IpcObject -Name $key"
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @($key)
        }
        finally {
            ipcrm -q $id 2>$null
        }
    }

    It 'says how many processes it could not inspect, once an object it shows looks orphaned' {
        # What the uninspected processes hold is unknown: it matters only to an object that looks orphaned.
        $orphan = New-TestName
        New-SharedMemory -Name $orphan -Size 4KB | Close-SharedMemory
        try {
            if ((& id -u) -ne '0') {
                # Unprivileged, this session is the one refused: by init's descriptors at least, unless init is its own.
                $null = Get-ChildItem -LiteralPath /proc/1/fd -ErrorAction SilentlyContinue -ErrorVariable refused
                if (-not $refused) {
                    Set-ItResult -Skipped -Because 'needs root, or a process of another user: every process here, init included, is this user''s'
                    return
                }
                $output = Get-IpcObject -Name $orphan 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { "warning: $_" }
            }
            else {
                # As nobody: this root session's descriptors and maps are closed to it.
                # Copies of the module and of pwsh that nobody can read: the checkout may sit in a folder only root may
                # enter (mktemp -d), and the PowerShell dotnet tool lives under root's home.
                $readable = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-pester-module-$PID"
                Copy-Item -LiteralPath (Split-Path (Resolve-Path $SysprogModulePath).ProviderPath) -Destination $readable -Recurse
                Copy-Item -LiteralPath $PSHOME -Destination "$readable/pwsh" -Recurse
                try {
                    & chmod -R a+rX $readable
                    $command = "Import-Module '$readable/Sysprog.psd1'; Get-IpcObject -Name '$orphan' 3>&1 | Where-Object { `$_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { `"warning: `$_`" }"
                    $pwsh = Get-PwshCommand -PowerShellHome "$readable/pwsh"
                    $output = & setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp @pwsh -NoProfile -NonInteractive -Command $command 2>&1
                }
                finally {
                    Remove-Item -LiteralPath $readable -Recurse -Force
                }
            }
            "$output" | Should -Match 'warning: \d+ processes could not be inspected \(EACCES'
        }
        finally {
            Remove-SharedMemory -Name $orphan -Confirm:$false
        }
    }

    It 'warns of nothing when every object it shows has a holder it found' {
        $name = New-TestName
        $held = New-SharedMemory -Name $name -Size 4KB
        try {
            $listed = @(Get-IpcObject -Name $name -Kind SharedMemory -WarningVariable warned -WarningAction SilentlyContinue)
            $listed.Count | Should -Be 1
            $listed[0].IsOrphaned | Should -BeFalse
            @($warned).Count | Should -Be 0 -Because 'nothing shown can be wrongly called orphaned, and no queue was asked for'
        }
        finally {
            Close-SharedMemory $held
            Remove-SharedMemory -Name $name -Confirm:$false
        }
    }
}
