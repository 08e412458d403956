#Requires -Version 7.4
# /dev/shm is world-writable: any local user can plant files there that look like semaphores or shared memory. Every
# listing cmdlet, CLI listing and Tab completer must survive them (a semaphore listing that mapped a zero-length
# sem.* file died of SIGBUS), list each odd entry with the reason, and never offer one for completion.
Describe 'Planted entries in /dev/shm and /dev/mqueue' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:prefix = "sysprog-pester-$PID-planted-"
        $shm = '/dev/shm'
        $planted = @{
            zero = { [System.IO.File]::WriteAllBytes("$shm/sem.$($script:prefix)zero", [byte[]]::new(0)) }
            short = { [System.IO.File]::WriteAllBytes("$shm/sem.$($script:prefix)short", [byte[]]::new(16)) }
            big = { [System.IO.File]::WriteAllBytes("$shm/sem.$($script:prefix)big", [byte[]]::new(4096)) }
            dir = { $null = New-Item -ItemType Directory -Path "$shm/sem.$($script:prefix)dir" }
            link = { $null = New-Item -ItemType SymbolicLink -Path "$shm/sem.$($script:prefix)link" -Target /dev/zero }
            fifo = { & mkfifo "$shm/sem.$($script:prefix)fifo" }
            unreadable = { [System.IO.File]::WriteAllBytes("$shm/sem.$($script:prefix)unreadable", [byte[]]::new(32)); & chmod 000 "$shm/sem.$($script:prefix)unreadable" }
        }
        foreach ($plant in $planted.Values) { & $plant }
        $null = New-Item -ItemType Directory -Path "$shm/$($script:prefix)shmdir"
        & mkfifo "$shm/$($script:prefix)shmfifo"
        $null = New-Item -ItemType SymbolicLink -Path "$shm/$($script:prefix)shmlink" -Target /etc/passwd
        # Root reads a mode-000 file like any other, and 32 zero bytes are a valid semaphore (value 0): for root the
        # "unreadable" entry is a semaphore, and its unreadability is tested as nobody instead.
        $script:isRoot = (& id -u) -eq '0'
        $script:semaphoreNames = $planted.Keys | Where-Object { $_ -ne 'unreadable' -or -not $script:isRoot } | ForEach-Object { "/$($script:prefix)$_" }
        $script:unreadable = "/$($script:prefix)unreadable"

        # The real objects beside them, which completion must still offer.
        $script:goodSemaphore = "/$($script:prefix)goodsem"
        $script:goodMemory = "/$($script:prefix)goodshm"
        New-Semaphore -Name $script:goodSemaphore -Value 1 | Close-Semaphore
        New-SharedMemory -Name $script:goodMemory -Size 4KB | Close-SharedMemory

        $script:mqueueFs = [Sysprog.MessageQueue]::IsMqueueFsMounted()
        if ($script:mqueueFs) {
            # Creating a file in the mqueue filesystem makes a queue with the default attributes: the only thing a
            # local user can plant there, and it must list as a queue like any other.
            $script:touchedQueue = "/$($script:prefix)touched"
            $null = New-Item -ItemType File -Path "/dev/mqueue$($script:touchedQueue)"
        }
    }

    AfterAll {
        Remove-TestObjectAll
    }

    It 'Get-Semaphore lists each planted entry with the reason it is no semaphore, and no value' {
        $listed = Get-Semaphore -Name "/$($script:prefix)*"
        foreach ($name in $script:semaphoreNames) {
            $entry = $listed | Where-Object Name -EQ $name
            $entry | Should -Not -BeNullOrEmpty -Because "$name is in /dev/shm"
            $entry.Problem | Should -Not -BeNullOrEmpty -Because "$name is no semaphore"
            $entry.Value | Should -BeNullOrEmpty
        }
        ($listed | Where-Object Name -EQ $script:goodSemaphore).Problem | Should -BeNullOrEmpty
        ($listed | Where-Object Name -EQ $script:goodSemaphore).Value | Should -Be 1
    }

    It 'Get-SharedMemory lists the planted directory, FIFO and link with the reason' {
        $listed = Get-SharedMemory -Name "/$($script:prefix)shm*"
        foreach ($suffix in 'shmdir', 'shmfifo', 'shmlink') {
            ($listed | Where-Object Name -EQ "/$($script:prefix)$suffix").Problem | Should -Not -BeNullOrEmpty -Because "$suffix is no shared memory object"
        }
    }

    It 'Open-Semaphore refuses each planted entry with a named error, and the session goes on' {
        foreach ($name in $script:semaphoreNames) {
            Open-Semaphore -Name $name -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err.Count | Should -Be 1 -Because "$name is refused"
            $err[0].FullyQualifiedErrorId | Should -Match '^SemOpen\.\w+,'
        }
    }

    It 'sysprog <Kind> list survives the planted entries and lists them' -ForEach @(
        @{ Kind = 'sem'; Planted = 'zero' }
        @{ Kind = 'shm'; Planted = 'shmfifo' }
    ) {
        $output = & dotnet $SysprogCliPath $Kind list "/$($script:prefix)*" --json
        $LASTEXITCODE | Should -Be 0
        ($output | ConvertFrom-Json).name | Should -Contain "/$($script:prefix)$Planted"
    }

    It 'sysprog mq list lists a queue made by creating a file' {
        if (-not $script:mqueueFs) { Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'; return }
        $output = & dotnet $SysprogCliPath mq list "/$($script:prefix)*" --json
        $LASTEXITCODE | Should -Be 0
        ($output | ConvertFrom-Json).name | Should -Contain $script:touchedQueue
        (Get-MessageQueue -Name $script:touchedQueue).Name | Should -Be $script:touchedQueue
    }

    It 'lists an entry this user cannot read as such (as nobody, when the tests run as root)' {
        if ($script:isRoot) {
            # nobody cannot read the build output under a private home: run a copy of the CLI from a readable folder.
            $cli = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-planted-cli-$PID"
            $null = New-Item -ItemType Directory -Path $cli -Force
            Copy-Item -Path (Join-Path (Split-Path $SysprogCliPath) '*') -Destination $cli -Recurse -Force
            & chmod -R a+rX $cli
            try {
                $output = & setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp dotnet (Join-Path $cli 'Sysprog.Cli.dll') sem list "/$($script:prefix)*" --json
            }
            finally {
                Remove-Item -LiteralPath $cli -Recurse -Force
            }
            $LASTEXITCODE | Should -Be 0
            $entry = $output | ConvertFrom-Json | Where-Object name -EQ $script:unreadable
        }
        else {
            $entry = Get-Semaphore -Name $script:unreadable
        }
        $entry | Should -Not -BeNullOrEmpty
        $entry.problem | Should -BeLike '*not readable*'
    }

    It 'Tab completion of <Command> -Name offers the real object and no planted entry' -ForEach @(
        @{ Command = 'Open-Semaphore'; Good = '/sysprog-pester-*-planted-goodsem' }
        @{ Command = 'Remove-Semaphore'; Good = '/sysprog-pester-*-planted-goodsem' }
        @{ Command = 'Get-Semaphore'; Good = '/sysprog-pester-*-planted-goodsem' }
        @{ Command = 'Open-SharedMemory'; Good = '/sysprog-pester-*-planted-goodshm' }
        @{ Command = 'Remove-SharedMemory'; Good = '/sysprog-pester-*-planted-goodshm' }
        @{ Command = 'Get-SharedMemory'; Good = '/sysprog-pester-*-planted-goodshm' }
    ) {
        $line = "$Command -Name /$($script:prefix)"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $offered = @($completion.CompletionMatches.CompletionText | Where-Object { $_ -ne $script:unreadable -or -not $script:isRoot })
        $offered | Should -HaveCount 1 -Because "only the real object completes: $($offered -join ', ')"
        $offered[0] | Should -BeLike $Good
    }

    It 'Tab completion of Open-MessageQueue -Name offers the queue made by creating a file' {
        if (-not $script:mqueueFs) { Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'; return }
        $line = "Open-MessageQueue -Name /$($script:prefix)"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be $script:touchedQueue
    }
}
