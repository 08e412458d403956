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

# /tmp is world-writable too: whatever a path names there may have been put there by another user. A dangling link
# at a lock path made Lock-File spin forever; a FIFO at a child's output path hung Start-ChildProcess in open(2); a
# link another user made there was followed and its target (root's file) truncated; dlopen of a FIFO hung.
Describe 'Paths in shared directories (another user planted the name)' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:isRoot = (& id -u) -eq '0'
        # Sticky and world-writable like /tmp, and this run's own; the victims live where only this user writes.
        $script:shared = (New-Item -ItemType Directory -Path (Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-pester-$PID-shared")).FullName
        & chmod 1777 $script:shared
        $script:private = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'victims')).FullName
        function PlantAsNobody {
            & setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all @args
            $LASTEXITCODE | Should -Be 0 -Because "planting as nobody ($args)"
        }
    }

    AfterAll {
        Remove-Item -LiteralPath $script:shared -Recurse -Force
    }

    AfterEach {
        Get-ChildItem -LiteralPath $script:shared -Force | Remove-Item -Force
    }

    It 'Lock-File on a dangling symbolic link fails at once, naming it' {
        $path = Join-Path $script:shared 'job.lock'
        $null = New-Item -ItemType SymbolicLink -Path $path -Target (Join-Path $script:private 'nothing')
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        Lock-File -Path $path -TimeoutSeconds 0 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Open.EEXIST,*'
        $err[0].Exception.Message | Should -BeLike '*never created through a symbolic link*'
    }

    It 'Lock-File refuses a lock file another user planted' {
        if (-not $script:isRoot) { Set-ItResult -Skipped -Because 'planting as another user (nobody) needs root to switch to it'; return }
        $path = Join-Path $script:shared 'job.lock'
        PlantAsNobody touch $path
        Lock-File -Path $path -TimeoutSeconds 0 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Open.EACCES,*'
        $err[0].Exception.Message | Should -BeLike '*owned by nobody (uid 65534)*fs.protected_regular rule*'
    }

    It 'Start-ChildProcess -Descriptor refuses a FIFO at the path without waiting' {
        $path = Join-Path $script:shared 'out.txt'
        & mkfifo $path
        Start-ChildProcess true -Descriptor @{ 1 = $path } -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Open.ENXIO,*'
        $err[0].Exception.Message | Should -BeLike '*is a FIFO*'
    }

    It 'Start-ChildProcess -Descriptor never follows another user''s link to truncate its target' {
        if (-not $script:isRoot) { Set-ItResult -Skipped -Because 'planting as another user (nobody) needs root to switch to it'; return }
        $victim = Join-Path $script:private 'victim.txt'
        Set-Content -LiteralPath $victim -Value "root's data"
        $path = Join-Path $script:shared 'out.txt'
        PlantAsNobody ln -s $victim $path
        Start-ChildProcess echo -ArgumentList overwritten -Descriptor @{ 1 = $path } -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Open.EACCES,*'
        $err[0].Exception.Message | Should -BeLike '*symbolic link*owned by nobody (uid 65534)*fs.protected_symlinks rule*'
        Get-Content -LiteralPath $victim | Should -Be "root's data"
    }

    It 'Open-SharedLibrary refuses a FIFO without waiting' {
        $path = Join-Path $script:shared 'x'
        & mkfifo $path
        Open-SharedLibrary $path -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'Open.EINVAL,*'
        $err[0].Exception.Message | Should -BeLike '*is a FIFO, and only a regular file*'
    }

    It '<Cmdlet> does not follow another user''s link to <What>' -ForEach @(
        @{ Cmdlet = 'Open-Fifo'; What = 'a FIFO of root''s'; Id = 'Open.EACCES'
            Target = { $f = Join-Path $script:private 'fifo'; & mkfifo $f; $f }
            Run = { param($link) Open-Fifo $link Read -NonBlocking -ErrorAction SilentlyContinue -ErrorVariable err; $err } }
        @{ Cmdlet = 'Get-TerminalSize'; What = 'a terminal'; Id = 'Open.EACCES'
            Target = { $script:pty = Start-Pty cat; $script:pty.SecondaryPath }
            Run = { param($link) try { Get-TerminalSize $link -ErrorAction SilentlyContinue -ErrorVariable err; $err } finally { Close-Pty $script:pty } } }
        @{ Cmdlet = 'New-Inotify'; What = 'a file of root''s'; Id = 'InotifyAddWatch.EACCES'
            Target = { $f = Join-Path $script:private 'watched'; Set-Content $f 'x'; $f }
            Run = { param($link) $made = New-Inotify $link -ErrorAction SilentlyContinue -ErrorVariable err; Close-Inotify $made; $err } }
        @{ Cmdlet = 'Connect-Socket'; What = 'a service''s socket'; Id = 'Connect.EACCES'
            Target = { $f = Join-Path $script:private 'service.sock'; $script:service = New-Socket -Path $f; $f }
            Run = { param($link) try { Connect-Socket -Path $link -TimeoutSeconds 5 -ErrorAction SilentlyContinue -ErrorVariable err; $err } finally { Close-Socket $script:service } } }
    ) {
        if (-not $script:isRoot) { Set-ItResult -Skipped -Because 'planting as another user (nobody) needs root to switch to it'; return }
        $link = Join-Path $script:shared 'planted'
        PlantAsNobody ln -s (& $Target) $link
        $err = & $Run $link
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err[0].Exception.Message | Should -BeLike '*symbolic link*owned by nobody (uid 65534)*fs.protected_symlinks rule*'
    }

    It 'New-Socket -Path and Start-ChildProcess -WorkingDirectory do not follow another user''s link on the way' {
        if (-not $script:isRoot) { Set-ItResult -Skipped -Because 'planting as another user (nobody) needs root to switch to it'; return }
        $link = Join-Path $script:shared 'run'
        PlantAsNobody ln -s $script:private $link
        New-Socket -Path (Join-Path $link 'app.sock') -ErrorAction SilentlyContinue -ErrorVariable bind | Should -BeNullOrEmpty
        $bind[0].FullyQualifiedErrorId | Should -BeLike 'Bind.EACCES,*'
        Test-Path -LiteralPath (Join-Path $script:private 'app.sock') | Should -BeFalse
        Start-ChildProcess true -WorkingDirectory $link -ErrorAction SilentlyContinue -ErrorVariable spawn | Should -BeNullOrEmpty
        $spawn[0].FullyQualifiedErrorId | Should -BeLike 'PosixSpawnp.EACCES,*'
        $spawn[0].Exception.Message | Should -BeLike '*fs.protected_symlinks rule*'
    }

    It 'New-Fifo and New-Socket give the exact mode, whatever the umask' {
        $fifo = New-Fifo -Path (Join-Path $script:shared 'fifo') -Mode '0666'
        (Get-Item -LiteralPath $fifo.FullName).UnixFileMode | Should -Be ([System.IO.UnixFileMode]0x1B6)
        $socket = New-Socket -Path (Join-Path $script:shared 'sock') -Mode '0666'
        try {
            (Get-Item -LiteralPath (Join-Path $script:shared 'sock') -Force).UnixFileMode | Should -Be ([System.IO.UnixFileMode]0x1B6)
        }
        finally {
            $socket | Close-Socket
        }
    }
}

# Whoever else can shrink a file or shared memory object can make touching this session's mapping of it raise SIGBUS,
# which ends pwsh. Mapping (and opening a semaphore, which sem_open maps) warns when another user owns the object or
# can write it, naming the risk, as a warning -WarningAction governs; this user's own 0600 object gives none.
Describe 'Objects another user can shrink' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:isRoot = (& id -u) -eq '0'
    }

    AfterAll {
        Remove-TestObjectAll
    }

    It 'New-MemoryMap -Path warns for a file everyone can write, and not for its own 0600 file' {
        $path = Join-Path $TestDrive 'data.bin'
        [System.IO.File]::WriteAllBytes($path, [byte[]]::new(4096))
        & chmod 600 $path
        $own = New-MemoryMap -Path $path -WarningVariable ownWarnings -WarningAction SilentlyContinue
        Close-MemoryMap $own
        $ownWarnings | Should -BeNullOrEmpty

        & chmod 666 $path
        $everyone = New-MemoryMap -Path $path -WarningVariable warnings -WarningAction SilentlyContinue
        Close-MemoryMap $everyone
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike "$path can be shrunk by every user (it is mode 0666)*SIGBUS*"
        $everyone.ShrinkRisk | Should -Be "$($warnings[0])"

        Invoke-MemoryMap -Path $path -ScriptBlock { $_.Length } -WarningVariable invoked -WarningAction SilentlyContinue | Should -Be 4096
        $invoked.Count | Should -Be 1
    }

    It 'with -WarningAction Stop, maps nothing and stops' {
        $path = Join-Path $TestDrive 'stop.bin'
        [System.IO.File]::WriteAllBytes($path, [byte[]]::new(4096))
        & chmod 666 $path
        $before = @(Get-ProcessMapping | Where-Object Path -EQ $path).Count
        { New-MemoryMap -Path $path -WarningAction Stop } | Should -Throw
        @(Get-ProcessMapping | Where-Object Path -EQ $path).Count | Should -Be $before
    }

    It 'warns for a file, shared memory and a semaphore chowned to nobody' {
        if (-not $script:isRoot) { Set-ItResult -Skipped -Because 'giving a file to another user (chown to nobody) needs root'; return }
        $path = Join-Path $TestDrive 'theirs.bin'
        [System.IO.File]::WriteAllBytes($path, [byte[]]::new(4096))
        & chmod 600 $path
        & chown 65534 $path
        Close-MemoryMap (New-MemoryMap -Path $path -WarningVariable file -WarningAction SilentlyContinue)
        "$($file[0])" | Should -BeLike "*its owner, nobody (uid 65534)*"

        $name = New-TestName
        New-SharedMemory -Name $name -Size 4KB | Close-SharedMemory
        Close-MemoryMap (New-MemoryMap -Name $name -WarningVariable ownMemory -WarningAction SilentlyContinue)
        $ownMemory | Should -BeNullOrEmpty
        & chown 65534 "/dev/shm$name"
        Close-MemoryMap (New-MemoryMap -Name $name -WarningVariable memory -WarningAction SilentlyContinue)
        "$($memory[0])" | Should -BeLike "*its owner, nobody (uid 65534)*"

        $semaphoreName = New-TestName
        New-Semaphore -Name $semaphoreName -Value 1 | Close-Semaphore
        Close-Semaphore (Open-Semaphore -Name $semaphoreName -WarningVariable ownSemaphore -WarningAction SilentlyContinue)
        $ownSemaphore | Should -BeNullOrEmpty
        & chown 65534 "/dev/shm/sem.$($semaphoreName.Substring(1))"
        $semaphore = Open-Semaphore -Name $semaphoreName -WarningVariable theirSemaphore -WarningAction SilentlyContinue
        try {
            "$($theirSemaphore[0])" | Should -BeLike "The semaphore $semaphoreName*its owner, nobody (uid 65534)*SIGBUS*"
            $semaphore.Value | Should -Be 1
        }
        finally {
            Close-Semaphore $semaphore
        }
    }
}
