#Requires -Version 7.4
# File locks from pwsh: each kind against another process, -ScriptBlock, timeouts naming the holder, Ctrl+C during a
# wait, the fcntl close trap as a pwsh user meets it, and the listing.
Describe 'File locks' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:folder = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-pester-locks-$PID"
        $null = New-Item -ItemType Directory -Path $script:folder -Force
        function Start-Holder {
            # `sysprog lock PATH` in another process, returned once it holds the lock.
            param([string] $Path, [string] $Kind = 'flock', [string[]] $More = @())
            $info = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
            foreach ($argument in @($SysprogCliPath, 'lock', $Path, '--kind', $Kind) + $More) { $info.ArgumentList.Add($argument) }
            $info.RedirectStandardOutput = $true
            $info.UseShellExecute = $false
            $process = [System.Diagnostics.Process]::Start($info)
            $process.StandardOutput.ReadLine() | Should -BeLike 'locked: *'
            $process
        }
        function Test-FromAnotherProcess {
            # Exit code of `sysprog lock --timeout 0`: 0 when the lock was free, 124 (timed out, as timeout(1)) when held.
            param([string] $Path, [string] $Kind, [string] $Range)
            $arguments = @($SysprogCliPath, 'lock', $Path, '--kind', $Kind, '--timeout', '0')
            if ($Range) { $arguments += '--range', $Range }
            $null = & dotnet @arguments -- true 2>$null
            $LASTEXITCODE
        }
    }

    AfterAll {
        Remove-Item -LiteralPath $script:folder -Recurse -Force -ErrorAction SilentlyContinue
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
        $script:path = Join-Path $script:folder "$([guid]::NewGuid().ToString('N')).lock"
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'locks a file against another process with each kind, and Unlock-File frees it: <_>' -ForEach @('Flock', 'Posix', 'Ofd') {
        $lock = Lock-File -Path $script:path -Kind $_
        $lock.Kind | Should -Be $_
        $lock.Path | Should -Be $script:path
        Test-FromAnotherProcess $script:path $_ | Should -Be 124
        Unlock-File $lock
        $lock.IsReleased | Should -BeTrue
        Test-FromAnotherProcess $script:path $_ | Should -Be 0
    }

    It 'creates a missing lock file with mode 0600, or the -Mode asked for, and resolves relative paths from the current location' {
        Push-Location $script:folder
        try {
            Lock-File -Path 'relative.lock' -Mode 0640 | Unlock-File
        }
        finally {
            Pop-Location
        }
        (Get-Item (Join-Path $script:folder 'relative.lock')).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite, GroupRead')
        Lock-File -Path $script:path | Unlock-File
        (Get-Item $script:path).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
    }

    It 'runs -ScriptBlock under the lock and releases it after, even when the block fails' {
        $inside = Lock-File -Path $script:path -ScriptBlock { Test-FromAnotherProcess $script:path flock }
        $inside | Should -Be 124
        Test-FromAnotherProcess $script:path flock | Should -Be 0
        { Lock-File -Path $script:path -ScriptBlock { throw 'inside' } } | Should -Throw '*inside*'
        Test-FromAnotherProcess $script:path flock | Should -Be 0
    }

    It 'times out naming the process that holds the lock, as a Timeout error targeting the path' {
        $holder = Start-Holder $script:path
        try {
            Lock-File -Path $script:path -TimeoutSeconds 0.2 -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $failed.Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'Timeout,*'
            $failed[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $failed[0].TargetObject | Should -Be $script:path
            $failed[0].Exception.Message | Should -BeLike "*held by process $($holder.Id)*"
            $conflict = Test-FileLock -Path $script:path -PassThru
            $conflict.ProcessId | Should -Be $holder.Id
            Test-FileLock -Path $script:path -Shared | Should -BeTrue -Because 'a shared request conflicts with the exclusive holder'
        }
        finally {
            $holder.Kill(); $holder.WaitForExit(); $holder.Dispose()
        }
        Test-FileLock -Path $script:path | Should -BeFalse -Because 'the holder is gone'
        Test-FileLock -Path $script:path -PassThru | Should -BeNullOrEmpty
    }

    It 'stops a blocked Lock-File promptly when the pipeline is stopped' {
        $holder = Start-Holder $script:path
        try {
            # Blocked for real: /proc/locks lists this process as waiting for the holder's lock.
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddCommand('Lock-File').AddParameter('Path', $script:path) } -BlockedIn fcntl, flock `
                -IsBlocked { param($ps) @(Get-FileLock -Path $script:path | Where-Object { $_.IsWaiting -and $_.ProcessId -eq $PID }).Count -eq 1 }
            @(Get-FileLock -Path $script:path | Where-Object IsWaiting).Count | Should -Be 0
        }
        finally {
            $holder.Kill(); $holder.WaitForExit(); $holder.Dispose()
        }
    }

    It 'shares a lock with a thread job only as each kind allows: flock and OFD locks of two descriptors conflict in one process, POSIX ones do not' {
        $flock = Lock-File -Path $script:path
        $posix = Lock-File -Path $script:path -Kind Posix -Start 0 -Length 10
        try {
            $result = Start-ThreadJob -ArgumentList $script:path, $SysprogModulePath {
                param($path, $module)
                Import-Module $module
                $flockLock = Lock-File -Path $path -TimeoutSeconds 0 -ErrorAction SilentlyContinue -ErrorVariable flockRefused
                $ofdLock = Lock-File -Path $path -Kind Ofd -Start 0 -Length 10 -TimeoutSeconds 0 -ErrorAction SilentlyContinue -ErrorVariable ofdRefused
                [pscustomobject]@{
                    Flock = [bool]$flockLock; FlockError = "$($flockRefused[0].FullyQualifiedErrorId)"
                    Ofd = [bool]$ofdLock; OfdError = "$($ofdRefused[0].FullyQualifiedErrorId)"
                    # A POSIX lock belongs to the process: F_GETLK from any of its threads finds no conflict with it.
                    PosixFree = -not (Test-FileLock -Path $path -Kind Posix -Start 0 -Length 10)
                }
            } | Receive-Job -Wait -AutoRemoveJob
            $result.Flock | Should -BeFalse
            $result.FlockError | Should -BeLike 'Timeout,*'
            $result.Ofd | Should -BeFalse
            $result.OfdError | Should -BeLike 'Timeout,*'
            $result.PosixFree | Should -BeTrue -Because "a POSIX lock is the process's, whichever thread asks"
        }
        finally {
            $flock, $posix | Unlock-File
        }
    }

    It 'shows the fcntl trap: Get-Content of the file drops a POSIX lock, not an OFD one' {
        $posix = Lock-File -Path $script:path -Kind Posix -Start 0 -Length 10
        $ofd = Lock-File -Path $script:path -Kind Ofd -Start 20 -Length 10
        try {
            Test-FromAnotherProcess $script:path posix '0-9' | Should -Be 124
            $null = Get-Content -LiteralPath $script:path
            Test-FromAnotherProcess $script:path posix '0-9' | Should -Be 0
            Test-FromAnotherProcess $script:path ofd '20-29' | Should -Be 124
        }
        finally {
            $posix, $ofd | Unlock-File
        }
    }

    It 'refuses a POSIX lock over bytes this session already holds with one, naming them' {
        $first = Lock-File -Path $script:path -Kind Posix -Start 0 -Length 10
        try {
            Lock-File -Path $script:path -Kind Posix -Start 5 -Length 10 -Shared -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $failed[0].Exception.Message | Should -BeLike '*bytes 0-9*'
        }
        finally {
            Unlock-File $first
        }
    }

    It 'lists locks with their path, process and range, and forgets released ones' {
        $lock = Lock-File -Path $script:path -Kind Ofd -Start 100 -Length 50 -Shared
        $listed = @(Get-FileLock -Path $script:path)
        $listed.Count | Should -Be 1
        $listed[0].Type | Should -Be 'OFDLCK'
        $listed[0].ModeText | Should -Be 'READ'
        $listed[0].Range | Should -Be 'bytes 100-149'
        $listed[0].Path | Should -Be $script:path
        $listed[0].HeldBy | Should -Contain $PID
        @(Get-FileLock -ProcessId $PID | Where-Object Path -EQ $script:path).Count | Should -Be 1
        @(Get-Item $script:path | Get-FileLock).Count | Should -Be 1
        Unlock-File $lock
        @(Get-FileLock -Path $script:path).Count | Should -Be 0
    }

    It 'releases the locks a session still holds when the module is removed' {
        $ps = New-ModulePowerShell
        try {
            $null = $ps.AddCommand('Lock-File').AddParameter('Path', $script:path).Invoke()
            Test-FromAnotherProcess $script:path flock | Should -Be 124
            $ps.Commands.Clear()
            $null = $ps.AddCommand('Remove-Module').AddParameter('Name', 'Sysprog').Invoke()
            Test-FromAnotherProcess $script:path flock | Should -Be 0
        }
        finally {
            $ps.Dispose()
        }
    }

    It 'has a sysprog CLI that runs a command under the lock and lists locks as JSON' {
        $holder = Start-Holder $script:path posix @('--range', '10-19')
        try {
            $listed = & dotnet $SysprogCliPath locks --path $script:path --json | ConvertFrom-Json
            $listed.type | Should -Be 'POSIX'
            $listed.processId | Should -Be $holder.Id
            $listed.path | Should -Be $script:path
            $null = & dotnet $SysprogCliPath lock $script:path --kind posix --range 0-9 -- sh -c 'exit 7'
            $LASTEXITCODE | Should -Be 7
            $null = & dotnet $SysprogCliPath lock $script:path --kind posix --range 15- --timeout 0 -- true 2>$null
            $LASTEXITCODE | Should -Be 124 -Because "the range is held: the wait ran out its timeout"
        }
        finally {
            $holder.Kill(); $holder.WaitForExit(); $holder.Dispose()
        }
    }
}
