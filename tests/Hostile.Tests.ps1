#Requires -Version 7.4
# A hostile machine (issue 27): another local user plants names where the session looks, chooses the names and text
# the session shows, or the session itself runs at an exhausted limit. Each row is one attack and what must come of
# it: a named error at once, never a wait, a crash or a command run. Attacks another user makes are made as nobody
# when this runs as root (setpriv), and skipped with the reason otherwise; limits are lowered in a child session, never
# in this one. Every object planted here is removed here (as its owner, then checked), and the last line says how
# many attacks ran.
Describe 'A hostile machine' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:isRoot = (& id -u) -eq '0'
        $script:prefix = "sysprog-pester-$PID-hostile-"
        $script:attacks = [System.Collections.Generic.List[string]]::new()
        $script:skipped = [System.Collections.Generic.List[string]]::new()

        function Invoke-AsPlanter {
            # A shell command as the other user (nobody) when this is root; as this user otherwise, for the rows whose
            # point is the name or the kind of file rather than its owner. $1.. are the arguments after the command.
            param([Parameter(Mandatory)][string] $Command, [string[]] $ArgumentList = @())
            # @(...) keeps a one-word command a list: a bare 'env' would be indexed as its characters.
            $drop = @(if ($script:isRoot) { 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all' } else { 'env' })
            & $drop[0] @($drop | Select-Object -Skip 1) sh -c $Command sh @ArgumentList
            $LASTEXITCODE | Should -Be 0 -Because "planting ($Command $ArgumentList)"
        }

        # What the rows attack, as "Command -Parameter" or "sysprog words <argument>" / "sysprog words --option": each
        # row names its targets before it runs (so a row skipped here still counts as a row), and the last context
        # checks that every cmdlet and CLI command taking a path, a name, a descriptor or a process id has one.
        $script:targets = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
        function Add-Target {
            param([Parameter(Mandatory)][string[]] $Target)
            foreach ($one in $Target) { $null = $script:targets.Add($one) }
        }

        function Invoke-Sysprog {
            # The CLI with these words, ended by timeout(1) (exit 124) should it wait: its exit code and its output and
            # errors, the lines kept apart.
            param([Parameter(Mandatory)][string[]] $Words, [int] $Seconds = 30)
            $lines = @(& timeout $Seconds dotnet $SysprogCliPath @Words 2>&1 | ForEach-Object { "$_" })
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Lines = $lines; Text = $lines -join "`n" }
        }

        function Split-Outcome {
            # What a script block wrote, its errors apart from its output (a non-terminating error is one too).
            param([Parameter(Mandatory)][scriptblock] $Action, [object[]] $ArgumentList = @())
            $all = @(& $Action @ArgumentList 2>&1)
            [pscustomobject]@{
                Output = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
                Errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            }
        }

        function Skip-Attack {
            param([Parameter(Mandatory)][string] $Attack, [Parameter(Mandatory)][string] $Because)
            $script:skipped.Add($Attack)
            Set-ItResult -Skipped -Because $Because
        }

        function Invoke-Bounded {
            # Runs a script block on a thread of its own and gives it $Seconds: what it wrote, its error (the first), and
            # whether it was still running then. A call stuck in the kernel (an open(2) waiting for a FIFO's writer)
            # cannot be stopped, so $Release is run to end the wait from the other side before the thread is stopped.
            param([Parameter(Mandatory)][scriptblock] $Action, [object[]] $ArgumentList = @(), [double] $Seconds = 10, [scriptblock] $Release)
            $job = Start-ThreadJob -ScriptBlock {
                param($module, $action, $arguments)
                Import-Module $module
                try { & ([scriptblock]::Create($action)) @arguments } catch { $_ }
            } -ArgumentList $SysprogModulePath, $Action.ToString(), $ArgumentList
            $finished = $null -ne (Wait-Job $job -Timeout $Seconds)
            if (-not $finished) {
                if ($Release) { & $Release }
                $null = Wait-Job $job -Timeout 10
                Stop-Job $job
            }
            $output = @(Receive-Job $job -ErrorAction SilentlyContinue)
            Remove-Job $job -Force
            [pscustomobject]@{
                TimedOut = -not $finished
                Output = @($output | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
                Error = $output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
            }
        }

        # A pwsh and a module that nobody can read, for the child sessions run as nobody (the checkout and the
        # PowerShell dotnet tool may sit where only root may enter); made when first needed, removed in AfterAll.
        $script:readable = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-pester-hostile-$PID"
        function Invoke-ChildSession {
            # A pwsh of its own with the module imported runs $Script (limits are lowered there, never here). Returns
            # its output lines and exit code; it is killed after $Seconds.
            param([Parameter(Mandatory)][string] $Script, [switch] $AsNobody, [double] $Seconds = 120)
            $module = $SysprogModulePath
            $pwsh = Get-PwshCommand
            if ($AsNobody) {
                if (-not (Test-Path -LiteralPath $script:readable)) {
                    $null = New-Item -ItemType Directory -Path $script:readable
                    Copy-Item -LiteralPath (Split-Path (Resolve-Path $SysprogModulePath).ProviderPath) -Destination "$script:readable/Sysprog" -Recurse
                    Copy-Item -LiteralPath $PSHOME -Destination "$script:readable/pwsh" -Recurse
                    & chmod -R a+rX $script:readable
                }
                $module = "$script:readable/Sysprog/Sysprog.psd1"
                $pwsh = Get-PwshCommand -PowerShellHome "$script:readable/pwsh"
            }
            $start = [System.Diagnostics.ProcessStartInfo]::new($(if ($AsNobody) { 'setpriv' } else { 'env' }))
            $words = @($pwsh) + @('-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'; Import-Module '$module'; $Script")
            if ($AsNobody) { $words = @('--reuid=65534', '--regid=65534', '--clear-groups', 'env', 'HOME=/tmp') + $words }
            foreach ($word in $words) { $start.ArgumentList.Add($word) }
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            $child = [System.Diagnostics.Process]::Start($start)
            $stdout = $child.StandardOutput.ReadToEndAsync()
            $stderr = $child.StandardError.ReadToEndAsync()
            if (-not $child.WaitForExit([int]($Seconds * 1000))) {
                $child.Kill($true)
                $child.WaitForExit()
            }
            [pscustomobject]@{ Output = @($stdout.Result -split "`n" | Where-Object { $_ }); Error = $stderr.Result; ExitCode = $child.ExitCode }
        }
    }

    AfterAll {
        # Planted by nobody: removed as nobody, its owner (the sticky /dev/shm lets no one else but root), then
        # whatever is left of this run's names as this user, so nothing stays behind either way.
        if ($script:isRoot) {
            & setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'rm -rf /dev/shm/*"$1"* /dev/shm/sem.*"$1"*' sh $script:prefix
        }
        Get-ChildItem -LiteralPath /dev/shm -Filter "*$($script:prefix)*" -Force | Remove-Item -Recurse -Force
        Remove-TestObjectAll
        if (Test-Path -LiteralPath $script:readable) { Remove-Item -LiteralPath $script:readable -Recurse -Force }
        @(Get-ChildItem -LiteralPath /dev/shm -Filter "*$($script:prefix)*" -Force) | Should -BeNullOrEmpty
        Write-Host "hostile: $($script:attacks.Count) attacks ran, $($script:skipped.Count) skipped"
    }

    Context 'A FIFO or a folder another user planted at an object''s name' {
        BeforeAll {
            $shm = '/dev/shm'
            Invoke-AsPlanter 'mkfifo -m 0666 "$1" && mkdir -m 0777 "$2" && mkfifo -m 0666 "$3" && mkdir -m 0777 "$4"' @(
                "$shm/$($script:prefix)fifo", "$shm/$($script:prefix)dir", "$shm/sem.$($script:prefix)fifo", "$shm/sem.$($script:prefix)dir")
        }

        It '<Attack>: refused at once with a named error' -ForEach @(
            @{ Attack = 'Open-SharedMemory -ReadOnly on a FIFO'; Command = 'Open-SharedMemory'; Planted = 'fifo'; Parameters = @{ ReadOnly = $true }; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a FIFO, not*' }
            @{ Attack = 'Open-SharedMemory on a FIFO'; Command = 'Open-SharedMemory'; Planted = 'fifo'; Parameters = @{}; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a FIFO, not*' }
            @{ Attack = 'Open-SharedMemory -ReadOnly on a folder'; Command = 'Open-SharedMemory'; Planted = 'dir'; Parameters = @{ ReadOnly = $true }; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a directory, not*' }
            @{ Attack = 'Open-SharedMemory on a folder'; Command = 'Open-SharedMemory'; Planted = 'dir'; Parameters = @{}; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a directory, not*' }
            @{ Attack = 'New-MemoryMap -Name -Protection Read on a FIFO'; Command = 'New-MemoryMap'; Planted = 'fifo'; Parameters = @{ Protection = 'Read' }; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a FIFO, not*' }
            @{ Attack = 'New-MemoryMap -Name on a folder'; Command = 'New-MemoryMap'; Planted = 'dir'; Parameters = @{}; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a directory, not*' }
            @{ Attack = 'Resize-SharedMemory -Name on a FIFO'; Command = 'Resize-SharedMemory'; Planted = 'fifo'; Parameters = @{ Size = 4096; Confirm = $false }; ErrorId = 'ShmOpen.EINVAL'; Says = '*is a FIFO, not*' }
            @{ Attack = 'Open-Semaphore on a FIFO at sem.NAME'; Command = 'Open-Semaphore'; Planted = 'fifo'; Parameters = @{}; ErrorId = 'SemOpen.EINVAL'; Says = '*is a FIFO, not*' }
            @{ Attack = 'Open-Semaphore on a folder at sem.NAME'; Command = 'Open-Semaphore'; Planted = 'dir'; Parameters = @{}; ErrorId = 'SemOpen.EINVAL'; Says = '*is a directory, not*' }
        ) {
            Add-Target "$Command -Name"
            $name = "/$($script:prefix)$Planted"
            $fifo = if ($Command -eq 'Open-Semaphore') { "/dev/shm/sem.$($script:prefix)fifo" } else { "/dev/shm/$($script:prefix)fifo" }
            $result = Invoke-Bounded -Seconds 10 -ArgumentList $Command, $name, $Parameters -Action {
                param($command, $name, $parameters)
                & $command -Name $name @parameters -ErrorAction Stop
            } -Release { & timeout 5 sh -c ': > "$1"' sh $fifo }
            $result.TimedOut | Should -BeFalse -Because "$Attack must not wait for the FIFO's other side"
            $result.Output | Should -BeNullOrEmpty
            $result.Error | Should -Not -BeNullOrEmpty
            $result.Error.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            $result.Error.Exception.Message | Should -BeLike $Says
            $script:attacks.Add($Attack)
        }

        It 'sysprog <Words> on a FIFO: exit 1 with the named error at once' -ForEach @(
            @{ Words = @('shm', 'read') }
            @{ Words = @('shm', 'write', '-', 'text') }
            @{ Words = @('shm', 'resize', '-', '--size', '4096') }
            @{ Words = @('shm', 'increment', '-') }
        ) {
            Add-Target "sysprog $($Words[0]) $($Words[1]) <name>"
            # '-' stands for the name; a read-only open that waited would be ended by timeout(1), with 124.
            $arguments = @($Words | ForEach-Object { if ($_ -eq '-') { "/$($script:prefix)fifo" } else { $_ } })
            if ($arguments.Count -eq 2) { $arguments += "/$($script:prefix)fifo" }
            $output = & timeout 30 dotnet $SysprogCliPath @arguments 2>&1
            $LASTEXITCODE | Should -Be 1 -Because "exit 124 is timeout(1) ending a wait: $output"
            "$output" | Should -BeLike '*is a FIFO, not*'
            $script:attacks.Add("sysprog $Words on a FIFO")
        }

        It 'a folder cannot be planted in /dev/mqueue (mkdir is refused), so queues have no such case' {
            if (-not [Sysprog.MessageQueue]::IsMqueueFsMounted()) { Skip-Attack 'mkdir in /dev/mqueue' 'the mqueue filesystem is not mounted on /dev/mqueue'; return }
            & mkdir "/dev/mqueue/$($script:prefix)dir" 2>$null
            $LASTEXITCODE | Should -Not -Be 0
            Test-Path -LiteralPath "/dev/mqueue/$($script:prefix)dir" | Should -BeFalse
            $script:attacks.Add('mkdir in /dev/mqueue')
        }
    }

    # The other user names the objects: an empty file in /dev/shm is a shared memory object, 32 zero bytes a
    # semaphore of value 0. Each name, completed bare, would run id (or split into several arguments).
    Context 'Tab completion of a name with <Label>' -ForEach @(
        @{ Label = 'a command substitution'; Suffix = 'a;b$(id)' }
        @{ Label = 'a backtick'; Suffix = 'tick`$(id)' }
        @{ Label = 'spaces'; Suffix = 'two words; id' }
        @{ Label = 'a single quote'; Suffix = "quote'`$(id)'" }
        @{ Label = 'a typographic quote'; Suffix = "curly$([char]0x2019)`$(id)" }
        @{ Label = 'a variable'; Suffix = 'var$env:HOME' }
        @{ Label = 'a comma and braces'; Suffix = 'x,{id}' }
    ) {
        BeforeAll {
            Invoke-AsPlanter ': > "/dev/shm/$1" && head -c 32 /dev/zero > "/dev/shm/sem.$1"' @("$($script:prefix)$Suffix")
        }

        It '<Command> -Name: one argument, the name as plain text, nothing run' -ForEach @(
            'Open-SharedMemory', 'Remove-SharedMemory', 'Open-Semaphore', 'Remove-Semaphore', 'Get-IpcObject' | ForEach-Object { @{ Command = $_ } }
        ) {
            Add-Target "$Command -Name"
            $name = "/$($script:prefix)$Suffix"
            $typed = "$Command -Name /$($script:prefix)"
            $offered = @((TabExpansion2 -inputScript $typed -cursorColumn $typed.Length).CompletionMatches | Where-Object ListItemText -CEQ $name)
            $offered | Should -HaveCount 1 -Because "the planted $name is a real object"
            $line = "$Command -Name $($offered[0].CompletionText)"
            $tokens = $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($line, [ref] $tokens, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because $line
            $ast.EndBlock.Statements | Should -HaveCount 1 -Because "accepting '$line' must run one statement"
            $elements = $ast.EndBlock.Statements[0].PipelineElements
            $elements | Should -HaveCount 1 -Because "accepting '$line' must run one command"
            $elements[0].CommandElements | Should -HaveCount 3 -Because "the name is one argument in '$line'"
            $argument = $elements[0].CommandElements[2]
            $argument.GetType().Name | Should -Be 'StringConstantExpressionAst' -Because "$line must pass the name as plain text"
            $argument.Value | Should -BeExactly $name
            $script:attacks.Add("Tab completion of $Command -Name with $Label")
        }
    }

    Context 'Thread ids of another process' {
        BeforeAll {
            # Another process: its main thread's id is a thread id of no other process, this one's included.
            $script:other = Start-ChildProcess -FilePath sleep -ArgumentList 600
            $script:otherNice = (Get-ProcessScheduling -Id $script:other.ProcessId).Nice
        }

        AfterAll {
            $script:other | Stop-ChildProcess -Signal KILL -ErrorAction SilentlyContinue
            $script:other | Wait-ChildProcess -TimeoutSeconds 10 | Out-Null
            $script:other | Close-ChildProcess
        }

        It '<Attack>: ESRCH before any change' -ForEach @(
            @{ Attack = 'Set-ProcessScheduling -Nice with another process''s thread'; Change = @{ Nice = 7 }; Call = 'Setpriority' }
            @{ Attack = 'Set-ProcessScheduling -Policy Batch with another process''s thread'; Change = @{ Policy = 'Batch' }; Call = 'SchedSetscheduler' }
            @{ Attack = 'Set-ProcessScheduling -Affinity with another process''s thread'; Change = @{ Affinity = 0 }; Call = 'SchedSetaffinity' }
        ) {
            Add-Target 'Set-ProcessScheduling -ThreadId'
            $before = Get-ProcessScheduling -Id $script:other.ProcessId
            Set-ProcessScheduling -Id $PID -ThreadId $script:other.ProcessId @Change -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failed
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike "$Call.ESRCH,*"
            $failed[0].Exception.Message | Should -BeLike "*not a thread of process $PID*"
            $after = Get-ProcessScheduling -Id $script:other.ProcessId
            $after.Nice | Should -Be $before.Nice
            $after.Policy | Should -Be $before.Policy
            "$($after.Affinity)" | Should -Be "$($before.Affinity)"
            $script:attacks.Add($Attack)
        }

        It '<Attack>: ESRCH' -ForEach @(
            @{ Attack = 'Get-ProcessScheduling with another process''s thread'; Command = 'Get-ProcessScheduling' }
            @{ Attack = 'Get-ProcessSyscall with another process''s thread'; Command = 'Get-ProcessSyscall' }
        ) {
            Add-Target "$Command -ThreadId"
            & $Command -Id $PID -ThreadId $script:other.ProcessId -ErrorAction SilentlyContinue -ErrorVariable failed | Should -BeNullOrEmpty
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike '*.ESRCH,*'
            $script:attacks.Add($Attack)
        }

        It 'sysprog sched PID --thread (another process''s thread) --nice: exit 1, ESRCH, nothing changed' {
            Add-Target 'sysprog sched --thread'
            $output = & dotnet $SysprogCliPath sched $PID --thread $script:other.ProcessId --nice 9 2>&1
            $LASTEXITCODE | Should -Be 1
            "$output" | Should -BeLike '*ESRCH*'
            (Get-ProcessScheduling -Id $script:other.ProcessId).Nice | Should -Be $script:otherNice
            $script:attacks.Add('sysprog sched with another process''s thread')
        }
    }

    Context 'Policies that can starve the session' {
        It '<Attack>: refused without -Force, the policy unchanged' -ForEach @(
            @{ Attack = 'Set-ProcessScheduling -Policy Idle on this process'; Target = 'process' }
            @{ Attack = 'Set-ProcessScheduling -Policy Idle on one of this process''s threads given as -Id'; Target = 'thread id' }
            @{ Attack = 'Set-ProcessScheduling -Policy Idle on -ThreadId of this process'; Target = 'thread' }
        ) {
            Add-Target 'Set-ProcessScheduling -Id'
            $thread = [int](Get-ChildItem "/proc/$PID/task" | Where-Object Name -NE "$PID" | Select-Object -First 1).Name
            $arguments = switch ($Target) {
                'process' { @{ Id = $PID } }
                'thread id' { @{ Id = $thread } }
                'thread' { @{ Id = $PID; ThreadId = $thread } }
            }
            Set-ProcessScheduling @arguments -Policy Idle -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failed
            $failed | Should -HaveCount 1
            $failed[0].Exception | Should -BeOfType [InvalidOperationException]
            $failed[0].Exception.Message | Should -BeLike '*SCHED_IDLE*starve*force*'
            @(Get-ProcessScheduling -Id $PID -AllThreads | Where-Object Policy -EQ 'Idle') | Should -BeNullOrEmpty
            $script:attacks.Add($Attack)
        }

        It 'sysprog sched self --policy idle is refused without --force' {
            Add-Target 'sysprog sched <pid>'
            $output = & dotnet $SysprogCliPath sched self --policy idle 2>&1
            $LASTEXITCODE | Should -Not -Be 0
            "$output" | Should -BeLike '*SCHED_IDLE*'
            $script:attacks.Add('sysprog sched self --policy idle')
        }
    }

    Context 'Exhausted limits (in a child session)' {
        BeforeAll {
            # RLIMIT_NOFILE a few descriptors above what the child has open: filled with eventfds, then each creator is
            # tried with no descriptor free. One line per creator: its name, a tab, its error's message.
            $script:descriptorRun = Invoke-ChildSession @'
$open = @([System.IO.Directory]::GetFileSystemEntries('/proc/self/fd')).Count
Set-ProcessLimit -Resource NoFile -Soft ($open + 16) -Force | Out-Null
$held = [System.Collections.Generic.List[object]]::new()
try { while ($held.Count -lt 64) { $held.Add((New-EventFd)) } } catch { }
$creators = [ordered]@{
    'New-EventFd' = { New-EventFd }
    'New-Pipe' = { New-Pipe }
    'New-TimerFd' = { New-TimerFd }
    'New-Socket' = { New-Socket -Name "sysprog-pester-hostile-$PID" }
    'New-SharedMemory' = { New-SharedMemory -Anonymous -Name hostile -Size 4KB }
    'New-Inotify' = { New-Inotify }
    'New-SignalFd' = { New-SignalFd -Signal USR2 }
}
foreach ($creator in $creators.Keys) {
    try { $made = & $creators[$creator]; "$creator`tmade $made" } catch { "$creator`t$($_.Exception.Message -replace '\s+', ' ')" }
}
'@
        }

        It 'EMFILE from <Creator> names RLIMIT_NOFILE and how many descriptors are open' -ForEach @(
            'New-EventFd', 'New-Pipe', 'New-TimerFd', 'New-Socket', 'New-SharedMemory', 'New-Inotify', 'New-SignalFd' | ForEach-Object { @{ Creator = $_ } }
        ) {
            $line = $script:descriptorRun.Output | Where-Object { $_.StartsWith("$Creator`t") }
            $line | Should -Not -BeNullOrEmpty -Because "the child ran every creator: $($script:descriptorRun.Output) $($script:descriptorRun.Error)"
            $line | Should -BeLike '*EMFILE*'
            $line | Should -BeLike '*RLIMIT_NOFILE*'
            $line | Should -Match '\d+ descriptors are open'
            $script:attacks.Add("EMFILE from $Creator")
        }

        It 'RLIMIT_FSIZE: <Attack> fails with EFBIG naming it, and the session lives on (SIGXFSZ)' -ForEach @(
            @{ Attack = 'New-SharedMemory past it'; Script = 'New-SharedMemory -Name NAME -Size 1MB' }
            @{ Attack = 'Resize-SharedMemory past it'; Script = '$m = New-SharedMemory -Anonymous -Name hostile -Size 1KB; Resize-SharedMemory $m -Size 1MB' }
        ) {
            # A name of this run, which AfterAll removes should the limit not hold.
            $Script = $Script.Replace('NAME', "/$($script:prefix)big")
            $run = Invoke-ChildSession "Set-ProcessLimit -Resource FSize -Soft 4096 -Force | Out-Null; try { $Script } catch { `$_.Exception.Message }; 'alive'"
            $run.ExitCode | Should -Be 0 -Because "SIGXFSZ must not end the session (exit $($run.ExitCode)): $($run.Error)"
            $run.Output[-1] | Should -Be 'alive'
            "$($run.Output)" | Should -BeLike '*EFBIG*RLIMIT_FSIZE*'
            $script:attacks.Add("RLIMIT_FSIZE: $Attack")
        }

        It 'RLIMIT_FSIZE: sysprog shm create past it exits 1 with EFBIG naming it, not killed by SIGXFSZ' {
            # The runtime maps a double-mapped file for its code at start, which a 4 KiB limit refuses; without W^X it
            # starts, and what the limit meets is the tool's own ftruncate.
            $output = & prlimit --fsize=4096 env DOTNET_EnableWriteXorExecute=0 dotnet $SysprogCliPath shm create "/$($script:prefix)cli" --size 1MB 2>&1
            $LASTEXITCODE | Should -Be 1 -Because "SIGXFSZ would end it with 153: $output"
            "$output" | Should -BeLike '*EFBIG*RLIMIT_FSIZE*'
            $script:attacks.Add('RLIMIT_FSIZE: sysprog shm create')
        }

        It 'RLIMIT_NPROC reached: Start-ChildProcess fails with EAGAIN naming it and what the user runs' {
            if (-not $script:isRoot) { Skip-Attack 'RLIMIT_NPROC' 'root is not held to RLIMIT_NPROC, and switching to nobody needs root'; return }
            # nobody's tasks now, every thread counted, as the kernel counts them; the limit set there, no task more starts.
            $run = Invoke-ChildSession -AsNobody @'
$tasks = 0
foreach ($status in [System.IO.Directory]::GetDirectories('/proc') -match '/\d+$') {
    try { $text = [System.IO.File]::ReadAllText("$status/status") } catch { continue }
    if ($text -match '(?m)^Uid:\s+65534\s' -and $text -match '(?m)^Threads:\s+(\d+)') { $tasks += [int]$Matches[1] }
}
Set-ProcessLimit -Resource NProc -Soft $tasks -Force | Out-Null
try { Start-ChildProcess -FilePath true | Out-Null; 'started' } catch { $_.Exception.Message -replace '\s+', ' ' }
'@
            "$($run.Output)" | Should -BeLike '*EAGAIN*RLIMIT_NPROC*runs*' -Because $run.Error
            $script:attacks.Add('RLIMIT_NPROC: Start-ChildProcess')
        }
    }

    Context 'Text another user chose, printed by the CLI' {
        It 'sysprog unix receive escapes the control characters of the text, a passed memfd''s name and the address' {
            Add-Target 'sysprog unix receive <address>'
            $address = "@$($script:prefix)receive"
            $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
            foreach ($word in $SysprogCliPath, 'unix', 'receive', $address, '--timeout', '30s') { $start.ArgumentList.Add($word) }
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            $receiver = [System.Diagnostics.Process]::Start($start)
            try {
                $receiver.StandardError.ReadLine() | Should -BeLike 'listening on*'
                $memory = New-SharedMemory -Anonymous -Name "evil`e]0;owned`a`e[2J" -Size 4KB
                # What the object holds is printed too (up to its first NUL).
                Invoke-MemoryMap -InputObject $memory -Protection ReadWrite -ScriptBlock { $null = $_.WriteString(0, "held`e[8mhidden`rover") }
                $client = Connect-Socket -Name $address.Substring(1) -TimeoutSeconds 10
                Send-SocketMessage $client "text`e[31m`nforged line" -Descriptor $memory
                Close-Socket $client
                Close-SharedMemory $memory
                $output = $receiver.StandardOutput.ReadToEnd()
                $receiver.WaitForExit(30000) | Should -BeTrue
            }
            finally {
                if (-not $receiver.HasExited) { $receiver.Kill(); $receiver.WaitForExit() }
            }
            $receiver.ExitCode | Should -Be 0 -Because $output
            $output | Should -Not -Match '[\x00-\x09\x0b-\x1f\x7f]' -Because 'no control character reaches the terminal raw'
            $output | Should -BeLike '*evil\x1b]0;owned\x07\x1b`[2J*'
            $output | Should -BeLike '*held\x1b`[8mhidden\rover*'
            @($output -split "`n" | Where-Object { $_ -like 'forged*' }) | Should -BeNullOrEmpty
            $script:attacks.Add('sysprog unix receive with control characters')
        }
    }

    Context 'A program that floods its terminal' {
        It 'Wait-Pty -TimeoutSeconds 1 ends by its deadline under a flood of output that never matches' {
            $pty = Start-Pty -FilePath yes -ArgumentList 'flood'
            try {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $result = Invoke-Bounded -Seconds 20 -ArgumentList $pty -Action {
                    param($pty)
                    Wait-Pty $pty -Pattern 'never printed' -TimeoutSeconds 1 -ErrorAction Stop
                }
                $clock.Stop()
                $result.TimedOut | Should -BeFalse -Because 'the timeout is a deadline for the whole wait, not for each read'
                $result.Error.Exception | Should -BeOfType [TimeoutException]
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            }
            finally {
                Close-Pty $pty
            }
            $script:attacks.Add('Wait-Pty under a flood')
        }
    }

    Context 'The id of a process that has ended' {
        BeforeAll {
            # Started, ended and reaped here: its pid is free until the kernel hands it out again, which the rows check.
            $reaped = Start-ChildProcess -FilePath true
            $null = Wait-ChildProcess $reaped -TimeoutSeconds 10
            $script:dead = $reaped.ProcessId
            Close-ChildProcess $reaped
            $script:pipe = New-Pipe
        }

        AfterAll {
            Close-Pipe $script:pipe
        }

        It '<Target> of an ended process: one error naming it and the errno, nothing else' -ForEach @(
            @{ Target = 'Get-ProcessLimit -Id'; Run = { param($dead) Get-ProcessLimit -Id $dead } }
            @{ Target = 'Get-ProcessMapping -Id'; Run = { param($dead) Get-ProcessMapping -Id $dead } }
            @{ Target = 'Get-ProcessScheduling -Id'; Run = { param($dead) Get-ProcessScheduling -Id $dead } }
            @{ Target = 'Get-ProcessScheduling -ThreadId'; Run = { param($dead) Get-ProcessScheduling -Id $PID -ThreadId $dead } }
            @{ Target = 'Get-ProcessSyscall -Id'; Run = { param($dead) Get-ProcessSyscall -Id $dead } }
            @{ Target = 'Get-ProcessSyscall -ThreadId'; Run = { param($dead) Get-ProcessSyscall -Id $PID -ThreadId $dead } }
            @{ Target = 'Get-ProgramBreak -Id'; Run = { param($dead) Get-ProgramBreak -Id $dead } }
            @{ Target = 'Read-ProcessMemory -Id'; Run = { param($dead) Read-ProcessMemory -Id $dead -Address 0x1000 -Count 1 } }
            @{ Target = 'Write-ProcessMemory -Id'; Run = { param($dead) Write-ProcessMemory -Id $dead -Address 0x1000 -Int32 1 -Force -Confirm:$false } }
            @{ Target = 'Set-ProcessLimit -Id'; Run = { param($dead) Set-ProcessLimit -Id $dead -Resource NoFile -Soft 100 -Confirm:$false } }
            @{ Target = 'Set-ProcessScheduling -Id'; Run = { param($dead) Set-ProcessScheduling -Id $dead -Nice 5 -Confirm:$false } }
            @{ Target = 'Set-ProcessScheduling -ThreadId'; Run = { param($dead) Set-ProcessScheduling -Id $PID -ThreadId $dead -Nice 5 -Confirm:$false } }
            @{ Target = 'Set-FileDescriptor -OwnerProcessId'; Run = { param($dead) Set-FileDescriptor $script:pipe.ReadEnd -SignalDriven $true -OwnerProcessId $dead -Confirm:$false } }
            @{ Target = 'Get-ChildProcess -Id'; Run = { param($dead) Get-ChildProcess -Id $dead } }
            @{ Target = 'Show-ProcessMapping -Id'; Run = { param($dead) Show-ProcessMapping -Id $dead } }
        ) {
            Add-Target $Target
            Test-Path -LiteralPath "/proc/$script:dead" | Should -BeFalse -Because 'the ended process''s pid must not have been handed out again'
            $before = Get-ProcessScheduling -Id $PID
            $outcome = Split-Outcome $Run $script:dead
            $outcome.Output | Should -BeNullOrEmpty
            $outcome.Errors | Should -HaveCount 1
            # A /proc entry that is gone is its open's ENOENT; a call on the pid is ESRCH; a child this session does
            # not hold is a named refusal (no call made).
            "$($outcome.Errors[0].FullyQualifiedErrorId)" | Should -Match '^(\w+\.(ESRCH|ENOENT)|NotFound),'
            $outcome.Errors[0].Exception.Message | Should -BeLike "*$script:dead*"
            (Get-ProcessScheduling -Id $PID).Nice | Should -Be $before.Nice
            $script:attacks.Add("$Target of an ended process")
        }

        It '<Target> of an ended process lists nothing and fails nothing (it filters)' -ForEach @(
            @{ Target = 'Get-FileLock -ProcessId'; Run = { param($dead) Get-FileLock -ProcessId $dead } }
            @{ Target = 'Get-Socket -ProcessId'; Run = { param($dead) Get-Socket -ProcessId $dead } }
        ) {
            Add-Target $Target
            $outcome = Split-Outcome $Run $script:dead
            $outcome.Errors | Should -BeNullOrEmpty
            $outcome.Output | Should -BeNullOrEmpty
            $script:attacks.Add("$Target of an ended process")
        }

        It 'sysprog <Words> (DEAD, an ended process): exit 1 naming it and the errno' -ForEach @(
            @{ Target = 'sysprog maps <pid>'; Words = 'maps', 'DEAD' }
            @{ Target = 'sysprog brk <pid>'; Words = 'brk', 'DEAD' }
            @{ Target = 'sysprog limits <pid>'; Words = 'limits', 'DEAD' }
            @{ Target = 'sysprog peek <pid>'; Words = 'peek', 'DEAD', '0x1000' }
            @{ Target = 'sysprog poke <pid>'; Words = 'poke', 'DEAD', '0x1000', '--int32', '1' }
            @{ Target = 'sysprog sched <pid>'; Words = 'sched', 'DEAD' }
            @{ Target = 'sysprog sched --thread'; Words = 'sched', 'SELF', '--thread', 'DEAD', '--nice', '5' }
            @{ Target = 'sysprog syscall <pid>'; Words = 'syscall', 'DEAD' }
            @{ Target = 'sysprog syscall --thread'; Words = 'syscall', 'SELF', '--thread', 'DEAD' }
            @{ Target = 'sysprog eventfd read --from-pid'; Words = 'eventfd', 'read', '--from-pid', 'DEAD', '--fd', '3', '--timeout', '0' }
            @{ Target = 'sysprog eventfd add --from-pid'; Words = 'eventfd', 'add', '--from-pid', 'DEAD', '--fd', '3', '--value', '1' }
        ) {
            Add-Target $Target
            $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('DEAD', "$script:dead").Replace('SELF', "$PID") })
            $run.ExitCode | Should -Be 1 -Because $run.Text
            $run.Text | Should -Match 'ESRCH|ENOENT'
            $run.Text | Should -BeLike "*$script:dead*"
            $script:attacks.Add("$Target of an ended process")
        }

        It 'sysprog <Words> (DEAD, an ended process): lists nothing, exit 0 (it filters)' -ForEach @(
            @{ Target = 'sysprog locks --pid'; Words = 'locks', '--pid', 'DEAD', '--json' }
            @{ Target = 'sysprog sockets --pid'; Words = 'sockets', '--pid', 'DEAD', '--json' }
        ) {
            Add-Target $Target
            $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('DEAD', "$script:dead") })
            $run.ExitCode | Should -Be 0 -Because $run.Text
            @($run.Text | ConvertFrom-Json) | Should -BeNullOrEmpty
            $script:attacks.Add("$Target of an ended process")
        }
    }

    # A folder like /tmp (sticky, world-writable) where nobody planted, before the session looks: a link to root's
    # file, a link to root's folder, a FIFO, a folder, and a regular file of nobody's. Root's victims sit where only
    # root writes; every row checks that the victim is as it was.
    Context 'Paths another user planted in a sticky world-writable folder' {
        BeforeAll {
            $script:shared = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "$($script:prefix)shared")).FullName
            & chmod 1777 $script:shared
            $script:private = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "$($script:prefix)private")).FullName
            & chmod 0700 $script:private
            $script:victim = Join-Path $script:private 'victim'
            Set-Content -LiteralPath $script:victim -Value "root's data"
            $script:planted = @{
                link = Join-Path $script:shared 'link'
                dirlink = Join-Path $script:shared 'dirlink'
                fifo = Join-Path $script:shared 'fifo'
                folder = Join-Path $script:shared 'folder'
                file = Join-Path $script:shared 'file'
                # Where a library search path (-LibraryPath, --library-path) would find libc.
                library = Join-Path $script:shared 'libc.so.6'
            }
            if ($script:isRoot) {
                Invoke-AsPlanter 'ln -s "$1" "$2" && ln -s "$3" "$4" && mkfifo -m 0666 "$5" && mkdir -m 0777 "$6" && echo nobody > "$7" && chmod 0666 "$7" && ln -s "$1" "$8"' @(
                    $script:victim, $script:planted.link, $script:private, $script:planted.dirlink, $script:planted.fifo, $script:planted.folder, $script:planted.file,
                    $script:planted.library)
            }
            else {
                # Unprivileged, this user plants the FIFO and the folder itself, for the rows whose point is the kind
                # of file rather than its owner (AnyOwner); the rest skip.
                Invoke-AsPlanter 'mkfifo -m 0666 "$1" && mkdir -m 0777 "$2"' @($script:planted.fifo, $script:planted.folder)
            }
        }

        AfterAll {
            # nobody's entries, removed as nobody (the sticky folder lets no one else but root), then the folders.
            if ($script:isRoot) { Invoke-AsPlanter 'rm -rf "$1"/*' @($script:shared) }
            Remove-Item -LiteralPath $script:shared, $script:private -Recurse -Force
        }

        It '<Target> at nobody''s <Planted>: a named error at once, nothing followed or waited for' -ForEach @(
            # A link of nobody's is never followed (the fs.protected_symlinks rule, whatever the sysctl says).
            @{ Target = 'Remove-InotifyWatch -Path'; Planted = 'link'; Id = '*'; Says = '*has no active watch on*'; Run = { param($p) $i = New-Inotify; try { Remove-InotifyWatch -InputObject $i -Path $p } finally { Close-Inotify $i } } }
            @{ Target = 'Add-InotifyWatch -Path'; Planted = 'link'; Run = { param($p) $i = New-Inotify; try { Add-InotifyWatch $i -Path $p } finally { Close-Inotify $i } } }
            @{ Target = 'New-Inotify -Path'; Planted = 'link'; Run = { param($p) New-Inotify -Path $p } }
            @{ Target = 'Get-ElfFile -Path'; Planted = 'link'; Run = { param($p) Get-ElfFile -Path $p } }
            @{ Target = 'Get-ElfFile -LiteralPath'; Planted = 'link'; Run = { param($p) Get-ElfFile -LiteralPath $p } }
            @{ Target = 'Get-ElfSymbol -Path'; Planted = 'link'; Run = { param($p) Get-ElfSymbol -Path $p } }
            @{ Target = 'Get-ElfSymbol -LiteralPath'; Planted = 'link'; Run = { param($p) Get-ElfSymbol -LiteralPath $p } }
            @{ Target = 'Resolve-ElfDependency -Path'; Planted = 'link'; Run = { param($p) Resolve-ElfDependency -Path $p } }
            @{ Target = 'Resolve-ElfDependency -LiteralPath'; Planted = 'link'; Run = { param($p) Resolve-ElfDependency -LiteralPath $p } }
            @{ Target = 'Get-FileResidency -Path'; Planted = 'link'; Run = { param($p) Get-FileResidency -Path $p } }
            @{ Target = 'Get-FileResidency -LiteralPath'; Planted = 'link'; Run = { param($p) Get-FileResidency -LiteralPath $p } }
            @{ Target = 'Set-FileAdvice -Path'; Planted = 'link'; Run = { param($p) Set-FileAdvice -Path $p -Advice WillNeed } }
            @{ Target = 'Set-FileAdvice -LiteralPath'; Planted = 'link'; Run = { param($p) Set-FileAdvice -LiteralPath $p -Advice DontNeed } }
            @{ Target = 'Get-TerminalSize -Path'; Planted = 'link'; Run = { param($p) Get-TerminalSize -Path $p } }
            @{ Target = 'Set-TerminalSize -Path'; Planted = 'link'; Run = { param($p) Set-TerminalSize -Path $p -Rows 10 -Columns 10 -Confirm:$false } }
            @{ Target = 'New-MemoryMap -Path'; Planted = 'link'; Run = { param($p) New-MemoryMap -Path $p } }
            @{ Target = 'Invoke-MemoryMap -Path'; Planted = 'link'; Run = { param($p) Invoke-MemoryMap -Path $p -ScriptBlock { $_.Length } } }
            @{ Target = 'Lock-File -Path'; Planted = 'link'; Run = { param($p) Lock-File -Path $p -TimeoutSeconds 0 } }
            # An SVG written where nobody's link stands: the link is not followed (nor would nobody's file be truncated).
            @{ Target = 'Show-ProcessMapping -Path'; Planted = 'link'; Run = { param($p) Show-ProcessMapping -Id $PID -Path $p } }
            @{ Target = 'Show-ProcessMapping -LiteralPath'; Planted = 'link'; Run = { param($p) Show-ProcessMapping -Id $PID -LiteralPath $p } }
            @{ Target = 'Show-TimerLatency -Path'; Planted = 'link'; Run = { param($p) Measure-TimerLatency -Count 5 | Show-TimerLatency -Path $p } }
            @{ Target = 'Show-TimerLatency -LiteralPath'; Planted = 'link'; Run = { param($p) Measure-TimerLatency -Count 5 | Show-TimerLatency -LiteralPath $p } }
            @{ Target = 'Test-FileLock -Path'; Planted = 'link'; Run = { param($p) Test-FileLock -Path $p } }
            @{ Target = 'Open-Fifo -Path'; Planted = 'link'; Run = { param($p) Open-Fifo -Path $p -Access Read -NonBlocking } }
            @{ Target = 'Open-SharedLibrary -Name'; Planted = 'link'; Run = { param($p) Open-SharedLibrary -Name $p } }
            @{ Target = 'Connect-Socket -Path'; Planted = 'link'; Run = { param($p) Connect-Socket -Path $p -TimeoutSeconds 2 } }
            @{ Target = 'Start-ChildProcess -FilePath'; Planted = 'link'; Run = { param($p) Start-ChildProcess -FilePath $p } }
            @{ Target = 'Start-ChildProcess -WorkingDirectory'; Planted = 'dirlink'; Run = { param($p) Start-ChildProcess -FilePath true -WorkingDirectory $p } }
            @{ Target = 'Start-ChildProcess -Descriptor'; Planted = 'link'; Run = { param($p) Start-ChildProcess -FilePath true -Descriptor @{ 1 = $p } } }
            @{ Target = 'Start-Pty -FilePath'; Planted = 'link'; Run = { param($p) Start-Pty -FilePath $p } }
            @{ Target = 'Start-Pty -WorkingDirectory'; Planted = 'dirlink'; Run = { param($p) Start-Pty -FilePath true -WorkingDirectory $p } }
            # Creating at the name never goes through it: the name is taken.
            @{ Target = 'New-Fifo -Path'; Planted = 'link'; Id = 'Mkfifoat.EEXIST'; Says = '*exists already*' }
            @{ Target = 'New-Socket -Path'; Planted = 'link'; Id = 'Bind.EADDRINUSE'; Says = '*' }
            # A FIFO where a file is wanted: a named error at once, never a wait for a writer.
            @{ Target = 'Get-ElfFile -Path'; Planted = 'fifo'; AnyOwner = $true; Id = 'ElfFormat'; Says = '*not a regular file*'; Run = { param($p) Get-ElfFile -Path $p } }
            @{ Target = 'Get-FileResidency -Path'; Planted = 'fifo'; AnyOwner = $true; Id = 'Mincore.EINVAL'; Says = '*Only a regular file*'; Run = { param($p) Get-FileResidency -Path $p } }
            @{ Target = 'Set-FileAdvice -Path'; Planted = 'fifo'; AnyOwner = $true; Id = 'PosixFadvise.ESPIPE'; Says = '*no page cache*'; Run = { param($p) Set-FileAdvice -Path $p -Advice WillNeed } }
            @{ Target = 'Get-TerminalSize -Path'; Planted = 'fifo'; AnyOwner = $true; Id = 'Open.EINVAL'; Says = '*is a FIFO*'; Run = { param($p) Get-TerminalSize -Path $p } }
            @{ Target = 'Set-TerminalSize -Path'; Planted = 'fifo'; AnyOwner = $true; Id = 'Open.EINVAL'; Says = '*is a FIFO*'; Run = { param($p) Set-TerminalSize -Path $p -Rows 10 -Columns 10 -Confirm:$false } }
            @{ Target = 'New-MemoryMap -Path'; Planted = 'fifo'; AnyOwner = $true; Id = '*'; Says = '*is a FIFO, which cannot be mapped*'; Run = { param($p) New-MemoryMap -Path $p } }
            @{ Target = 'Lock-File -Path'; Planted = 'fifo'; Id = 'Open.EACCES'; Says = '*FIFO owned by nobody (uid 65534)*'; Run = { param($p) Lock-File -Path $p -TimeoutSeconds 0 } }
            @{ Target = 'Start-ChildProcess -Descriptor'; Planted = 'fifo'; Id = 'Open.EACCES'; Says = '*FIFO owned by nobody (uid 65534)*'; Run = { param($p) Start-ChildProcess -FilePath true -Descriptor @{ 1 = $p } } }
            @{ Target = 'Open-SharedLibrary -Name'; Planted = 'fifo'; Id = 'Open.EACCES'; Says = '*FIFO owned by nobody (uid 65534)*'; Run = { param($p) Open-SharedLibrary -Name $p } }
            @{ Target = 'Connect-Socket -Path'; Planted = 'fifo'; AnyOwner = $true; Id = 'Connect.ECONNREFUSED'; Says = '*it is a FIFO, not a socket*'; Run = { param($p) Connect-Socket -Path $p -TimeoutSeconds 2 } }
            @{ Target = 'Start-ChildProcess -FilePath'; Planted = 'fifo'; Id = 'PosixSpawnp.EACCES'; Says = '*FIFO owned by nobody (uid 65534)*'; Run = { param($p) Start-ChildProcess -FilePath $p } }
            # A folder where a file is wanted.
            @{ Target = 'New-MemoryMap -Path'; Planted = 'folder'; AnyOwner = $true; Id = '*'; Says = '*is a directory; only files can be mapped*'; Run = { param($p) New-MemoryMap -Path $p } }
            @{ Target = 'Open-SharedLibrary -Name'; Planted = 'folder'; AnyOwner = $true; Id = 'Open.EINVAL'; Says = '*is a directory, and only a regular file*'; Run = { param($p) Open-SharedLibrary -Name $p } }
            @{ Target = 'Start-ChildProcess -Descriptor'; Planted = 'folder'; AnyOwner = $true; Id = 'Open.EISDIR'; Says = '*'; Run = { param($p) Start-ChildProcess -FilePath true -Descriptor @{ 1 = $p } } }
            # nobody's regular file, which a write or a create must not take over (fs.protected_regular).
            @{ Target = 'Start-ChildProcess -Descriptor'; Planted = 'file'; Id = 'Open.EACCES'; Says = '*owned by nobody (uid 65534)*'; Run = { param($p) Start-ChildProcess -FilePath true -Descriptor @{ 1 = $p } } }
            @{ Target = 'Lock-File -Path'; Planted = 'file'; Id = 'Open.EACCES'; Says = '*owned by nobody (uid 65534)*'; Run = { param($p) Lock-File -Path $p -TimeoutSeconds 0 } }
            @{ Target = 'Show-ProcessMapping -Path'; Planted = 'file'; Id = 'Open.EACCES'; Says = '*owned by nobody (uid 65534)*'; Run = { param($p) Show-ProcessMapping -Id $PID -Path $p } }
            @{ Target = 'Show-TimerLatency -LiteralPath'; Planted = 'fifo'; Id = 'Open.EACCES'; Says = '*FIFO owned by nobody (uid 65534)*'; Run = { param($p) Measure-TimerLatency -Count 5 | Show-TimerLatency -LiteralPath $p } }
            # nobody's folder where the lock file would be made: nobody could hold a lock on it for ever.
            @{ Target = 'Lock-File -Path'; Planted = 'folder'; Id = 'Open.EACCES'; Says = '*directory owned by nobody (uid 65534)*'; Run = { param($p) Lock-File -Path $p -TimeoutSeconds 0 } }
        ) {
            Add-Target $Target
            if (-not $script:isRoot -and -not $AnyOwner) { Skip-Attack "$Target at another user's $Planted" 'planting as another user (nobody) needs root to switch to it'; return }
            if (-not $Run) { $Run = [scriptblock]::Create("param(`$p) $($Target.Split(' ')[0]) $($Target.Split(' ')[1]) `$p") }
            if (-not $Id) { $Id = '*.EACCES'; $Says = '*symbolic link*owned by nobody (uid 65534)*' }
            $path = $script:planted[$Planted]
            $result = Invoke-Bounded -Seconds 10 -ArgumentList $path -Action ([scriptblock]::Create("`$ErrorActionPreference = 'Stop'; & { $Run } @args")) -Release { & timeout 5 sh -c ': > "$1"' sh $script:planted.fifo }
            $result.TimedOut | Should -BeFalse -Because "$Target must not wait on what was planted"
            $result.Output | Should -BeNullOrEmpty
            $result.Error | Should -Not -BeNullOrEmpty
            "$($result.Error.FullyQualifiedErrorId)" | Should -BeLike "$Id,*"
            $result.Error.Exception.Message | Should -BeLike $Says
            Get-Content -LiteralPath $script:victim | Should -Be "root's data"
            $script:attacks.Add("$Target at another user's $Planted")
        }

        It '<Target> at nobody''s <Planted>: lists nothing, fails nothing (it filters)' -ForEach @(
            @{ Target = 'Get-FileLock -Path'; Planted = 'link'; Run = { param($p) Get-FileLock -Path $p } }
            @{ Target = 'Get-Socket -Path'; Planted = 'link'; Run = { param($p) Get-Socket -Path $p } }
        ) {
            Add-Target $Target
            if (-not $script:isRoot) { Skip-Attack "$Target at another user's $Planted" 'planting as another user (nobody) needs root to switch to it'; return }
            $outcome = Split-Outcome $Run $script:planted[$Planted]
            $outcome.Errors | Should -BeNullOrEmpty
            $outcome.Output | Should -BeNullOrEmpty
            $script:attacks.Add("$Target at another user's $Planted")
        }

        It 'sysprog <Words> at nobody''s <Planted>: a named error at once' -ForEach @(
            @{ Target = 'sysprog elf <file>'; Planted = 'link'; Words = 'elf', 'PLANTED' }
            @{ Target = 'sysprog ldd <file>'; Planted = 'link'; Words = 'ldd', 'PLANTED' }
            @{ Target = 'sysprog dlopen <library>'; Planted = 'link'; Words = 'dlopen', 'PLANTED' }
            @{ Target = 'sysprog residency <file>'; Planted = 'link'; Words = 'residency', 'PLANTED' }
            @{ Target = 'sysprog watch <path>'; Planted = 'link'; Words = 'watch', 'PLANTED', '--count', '1', '--timeout', '1s' }
            @{ Target = 'sysprog lock <path>'; Planted = 'link'; Words = 'lock', 'PLANTED', '--timeout', '0', 'true' }
            @{ Target = 'sysprog map <path>'; Planted = 'link'; Words = 'map', 'PLANTED' }
            @{ Target = 'sysprog fifo read <path>'; Planted = 'link'; Words = 'fifo', 'read', 'PLANTED', '--nonblock' }
            @{ Target = 'sysprog fifo write <path>'; Planted = 'link'; Words = 'fifo', 'write', 'PLANTED', 'text', '--nonblock' }
            @{ Target = 'sysprog spawn <command>'; Planted = 'link'; Words = 'spawn', 'PLANTED' }
            @{ Target = 'sysprog spawn --fd'; Planted = 'link'; Words = 'spawn', '--fd', '1=PLANTED', 'true' }
            @{ Target = 'sysprog spawn --cwd'; Planted = 'dirlink'; Words = 'spawn', '--cwd', 'PLANTED', 'true' }
            @{ Target = 'sysprog pty <command>'; Planted = 'link'; Words = 'pty', 'PLANTED' }
            @{ Target = 'sysprog unix connect <address>'; Planted = 'link'; Words = 'unix', 'connect', 'PLANTED', '--timeout', '2s' }
            @{ Target = 'sysprog unix send <address>'; Planted = 'link'; Words = 'unix', 'send', 'PLANTED', 'text', '--timeout', '2s' }
            @{ Target = 'sysprog unix send --file'; Planted = 'link'; Words = 'unix', 'send', '@nothing-listens-here', 'text', '--file', 'PLANTED', '--timeout', '2s' }
            @{ Target = 'sysprog unix listen <address>'; Planted = 'link'; Words = 'unix', 'listen', 'PLANTED'; Says = 'EADDRINUSE' }
            @{ Target = 'sysprog fifo make <path>'; Planted = 'link'; Words = 'fifo', 'make', 'PLANTED'; Says = 'EEXIST' }
            @{ Target = 'sysprog elf <file>'; Planted = 'fifo'; AnyOwner = $true; Words = 'elf', 'PLANTED'; Says = 'not a regular file'; ExitCode = 2 }
            @{ Target = 'sysprog residency <file>'; Planted = 'fifo'; AnyOwner = $true; Words = 'residency', 'PLANTED'; Says = 'EINVAL' }
            @{ Target = 'sysprog map <path>'; Planted = 'fifo'; AnyOwner = $true; Words = 'map', 'PLANTED'; Says = 'is a FIFO, which cannot be mapped'; ExitCode = 2 }
            @{ Target = 'sysprog unix connect <address>'; Planted = 'fifo'; AnyOwner = $true; Words = 'unix', 'connect', 'PLANTED', '--timeout', '2s'; Says = 'it is a FIFO, not a socket' }
            @{ Target = 'sysprog lock <path>'; Planted = 'fifo'; Words = 'lock', 'PLANTED', '--timeout', '0', 'true'; Says = 'EACCES' }
            @{ Target = 'sysprog dlopen <library>'; Planted = 'fifo'; Words = 'dlopen', 'PLANTED'; Says = 'EACCES' }
            @{ Target = 'sysprog spawn --fd'; Planted = 'fifo'; Words = 'spawn', '--fd', '1=PLANTED', 'true'; Says = 'EACCES' }
            @{ Target = 'sysprog spawn --fd'; Planted = 'file'; Words = 'spawn', '--fd', '1=PLANTED', 'true'; Says = 'EACCES' }
            @{ Target = 'sysprog lock <path>'; Planted = 'file'; Words = 'lock', 'PLANTED', '--timeout', '0', 'true'; Says = 'EACCES' }
            @{ Target = 'sysprog lock <path>'; Planted = 'folder'; Words = 'lock', 'PLANTED', '--timeout', '0', 'true'; Says = 'EACCES' }
        ) {
            Add-Target $Target
            if (-not $script:isRoot -and -not $AnyOwner) { Skip-Attack "$Target at another user's $Planted" 'planting as another user (nobody) needs root to switch to it'; return }
            if (-not $Says) { $Says = 'EACCES' }
            # Exit 2 where what is there is not the kind of file the command reads (bad input), 1 where a call failed.
            if (-not $ExitCode) { $ExitCode = 1 }
            $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('PLANTED', $script:planted[$Planted]) })
            $run.ExitCode | Should -Be $ExitCode -Because "exit 124 is timeout(1) ending a wait: $($run.Text)"
            $run.Text | Should -BeLike "*$Says*"
            Get-Content -LiteralPath $script:victim | Should -Be "root's data"
            $script:attacks.Add("$Target at another user's $Planted")
        }

        It 'Resolve-ElfDependency -LibraryPath and sysprog ldd --library-path pass over nobody''s link to libc, naming it, and find the real one' {
            Add-Target 'Resolve-ElfDependency -LibraryPath', 'sysprog ldd --library-path'
            if (-not $script:isRoot) { Skip-Attack 'a library search path with another user''s link' 'planting as another user (nobody) needs root to switch to it'; return }
            $libc = Resolve-ElfDependency -LiteralPath /bin/true -LibraryPath $script:shared | Where-Object Name -EQ 'libc.so.6'
            $libc.IsFound | Should -BeTrue
            $libc.Path | Should -Not -BeLike "$($script:shared)*"
            "$($libc.Refused)" | Should -BeLike "*$($script:planted.library)*EACCES*"
            $run = Invoke-Sysprog 'ldd', '/bin/true', '--library-path', $script:shared
            $run.ExitCode | Should -Be 0 -Because $run.Text
            $run.Text | Should -BeLike "*passed over: $($script:planted.library): EACCES*"
            $script:attacks.Add('a library search path with another user''s link')
        }

        It 'sysprog <Words> at nobody''s <Planted>: lists nothing, exit 0 (it filters)' -ForEach @(
            @{ Target = 'sysprog locks --path'; Planted = 'link'; Words = 'locks', '--path', 'PLANTED', '--json' }
            @{ Target = 'sysprog sockets --path'; Planted = 'link'; Words = 'sockets', '--path', 'PLANTED', '--json' }
        ) {
            Add-Target $Target
            if (-not $script:isRoot) { Skip-Attack "$Target at another user's $Planted" 'planting as another user (nobody) needs root to switch to it'; return }
            $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('PLANTED', $script:planted[$Planted]) })
            $run.ExitCode | Should -Be 0 -Because $run.Text
            @($run.Text | ConvertFrom-Json) | Should -BeNullOrEmpty
            $script:attacks.Add("$Target at another user's $Planted")
        }
    }

    # Names with ESC, a newline and a byte that is no UTF-8, made by another user (nobody, when this is root): a
    # shared memory object of 4 KiB, a semaphore of value 0 and a queue, once for the cmdlets and once for the CLI.
    # Each is listed once, escaped, and its escaped name passed back reaches exactly that object.
    Context 'Objects another user named with control characters and invalid UTF-8' {
        BeforeAll {
            $script:mqueueFs = [Sysprog.MessageQueue]::IsMqueueFsMounted()
            $script:shown = @{}
            foreach ($user in 'cmdlet', 'cli') {
                $stem = "$($script:prefix)$user-"
                # printf makes the bytes inside sh: none of them passes through .NET's strings.
                Invoke-AsPlanter 'n="$1$(printf "c\033[31m\n\377")"; head -c 4096 /dev/zero > "/dev/shm/$n" && head -c 32 /dev/zero > "/dev/shm/sem.$n" && { [ "$2" = no ] || : > "/dev/mqueue/$n"; }' @(
                    $stem, $(if ($script:mqueueFs) { 'yes' } else { 'no' }))
                $script:shown[$user] = "/$($stem)c\x1b[31m\n\xff"
            }
        }

        AfterAll {
            if ($script:isRoot) { Invoke-AsPlanter 'rm -f /dev/mqueue/*"$1"*' @($script:prefix) }
            Get-ChildItem -LiteralPath /dev/mqueue -Filter "*$($script:prefix)*" -Force -ErrorAction Ignore | Remove-Item -Force
        }

        It '<Target> with the escaped name: <Expect>' -ForEach @(
            @{ Target = 'Get-SharedMemory -Name'; Expect = 'listed once, escaped'; Run = { param($name) @(Get-SharedMemory -Name "$($name.Substring(0, $name.Length - 14))*").Name } }
            @{ Target = 'Get-Semaphore -Name'; Expect = 'listed once, escaped'; Run = { param($name) @(Get-Semaphore -Name "$($name.Substring(0, $name.Length - 14))*").Name } }
            @{ Target = 'Get-MessageQueue -Name'; Queue = $true; Expect = 'listed once, escaped'; Run = { param($name) @(Get-MessageQueue -Name "$($name.Substring(0, $name.Length - 14))*").Name } }
            @{ Target = 'Get-IpcObject -Name'; Expect = 'listed once, escaped'; Run = { param($name) @(Get-IpcObject -Name ([WildcardPattern]::Escape($name)) -Kind SharedMemory).Name } }
            @{ Target = 'Open-SharedMemory -Name'; Expect = 'opened'; Run = { param($name) $m = Open-SharedMemory -Name $name; try { $m.Name } finally { Close-SharedMemory $m } } }
            @{ Target = 'New-MemoryMap -Name'; Expect = 'mapped'; Run = { param($name) $m = New-MemoryMap -Name $name -Protection Read -WarningAction SilentlyContinue; try { $name; $null = $m.Length } finally { Close-MemoryMap $m } } }
            @{ Target = 'Invoke-MemoryMap -Name'; Expect = 'mapped'; Run = { param($name) Invoke-MemoryMap -Name $name -Protection Read -WarningAction SilentlyContinue -ScriptBlock { $null = $_.Length }; $name } }
            @{ Target = 'Resize-SharedMemory -Name'; Expect = 'resized'; Run = { param($name) Resize-SharedMemory -Name $name -Size 8KB -Confirm:$false; if ((Get-SharedMemory -Name $name).Size -eq 8KB) { $name } } }
            @{ Target = 'Open-Semaphore -Name'; Expect = 'opened'; Run = { param($name) $s = Open-Semaphore -Name $name -WarningAction SilentlyContinue; try { $s.Name } finally { Close-Semaphore $s } } }
            @{ Target = 'Unlock-Semaphore -Name'; Expect = 'posted'; Run = { param($name) Unlock-Semaphore -Name $name -WarningAction SilentlyContinue; if ((Get-Semaphore -Name $name).Value -eq 1) { $name } } }
            @{ Target = 'Wait-Semaphore -Name'; Expect = 'taken'; Run = { param($name) Wait-Semaphore -Name $name -TimeoutSeconds 0 -WarningAction SilentlyContinue; if ((Get-Semaphore -Name $name).Value -eq 0) { $name } } }
            @{ Target = 'Open-MessageQueue -Name'; Queue = $true; Expect = 'opened'; Run = { param($name) $q = Open-MessageQueue -Name $name; try { $q.Name } finally { Close-MessageQueue $q } } }
            @{ Target = 'Send-MqMessage -Queue'; Queue = $true; Expect = 'sent'; Run = { param($name) Send-MqMessage -Queue $name -InputObject 'hello' -TimeoutSeconds 0; $name } }
            @{ Target = 'Receive-MqMessage -Queue'; Queue = $true; Expect = 'received'; Run = { param($name) if ((Receive-MqMessage -Queue $name -TimeoutSeconds 0).Text -eq 'hello') { $name } } }
            @{ Target = 'New-SharedMemory -Name'; Expect = 'EEXIST naming it'; Run = { param($name) New-SharedMemory -Name $name -Size 4KB } }
            @{ Target = 'New-Semaphore -Name'; Expect = 'EEXIST naming it'; Run = { param($name) New-Semaphore -Name $name } }
            @{ Target = 'New-MessageQueue -Name'; Queue = $true; Expect = 'EEXIST naming it'; Run = { param($name) New-MessageQueue -Name $name } }
            @{ Target = 'Remove-SharedMemory -Name'; Expect = 'removed'; Run = { param($name) Remove-SharedMemory -Name $name -Confirm:$false; if (-not (Get-SharedMemory -Name $name -ErrorAction SilentlyContinue)) { $name } } }
            @{ Target = 'Remove-Semaphore -Name'; Expect = 'removed'; Run = { param($name) Remove-Semaphore -Name $name -Confirm:$false; if (-not (Get-Semaphore -Name $name -ErrorAction SilentlyContinue)) { $name } } }
            @{ Target = 'Remove-MessageQueue -Name'; Queue = $true; Expect = 'removed'; Run = { param($name) Remove-MessageQueue -Name $name -Confirm:$false; if (-not (Get-MessageQueue -Name $name -ErrorAction SilentlyContinue)) { $name } } }
        ) {
            Add-Target $Target
            if ($Queue -and -not $script:mqueueFs) { Skip-Attack "$Target with another user's control characters" 'the mqueue filesystem is not mounted on /dev/mqueue'; return }
            $name = $script:shown.cmdlet
            $outcome = Split-Outcome $Run $name
            if ($Expect -eq 'EEXIST naming it') {
                $outcome.Output | Should -BeNullOrEmpty
                $outcome.Errors | Should -HaveCount 1
                "$($outcome.Errors[0].FullyQualifiedErrorId)" | Should -BeLike '*.EEXIST,*'
                $outcome.Errors[0].Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($name))*"
            }
            else {
                $outcome.Errors | Should -BeNullOrEmpty
                # Exactly the one object, by its escaped name, and no raw control character anywhere.
                $outcome.Output | Should -HaveCount 1
                $outcome.Output[0] | Should -BeExactly $name
            }
            $script:attacks.Add("$Target with another user's control characters")
        }

        It 'sysprog <Words> with the escaped name: exit <ExitCode>' -ForEach @(
            @{ Target = 'sysprog shm list <pattern>'; Words = 'shm', 'list', 'PATTERN'; Listed = 1 }
            @{ Target = 'sysprog sem list <pattern>'; Words = 'sem', 'list', 'PATTERN'; Listed = 1 }
            @{ Target = 'sysprog mq list <pattern>'; Words = 'mq', 'list', 'PATTERN'; Listed = 1; Queue = $true }
            @{ Target = 'sysprog shm read <name>'; Words = 'shm', 'read', 'NAME', '--count', '4' }
            @{ Target = 'sysprog shm write <name>'; Words = 'shm', 'write', 'NAME', 'text' }
            @{ Target = 'sysprog shm resize <name>'; Words = 'shm', 'resize', 'NAME', '--size', '8192' }
            @{ Target = 'sysprog shm increment <name>'; Words = 'shm', 'increment', 'NAME', '--offset', '64' }
            @{ Target = 'sysprog sem value <name>'; Words = 'sem', 'value', 'NAME'; Says = '0' }
            @{ Target = 'sysprog sem post <name>'; Words = 'sem', 'post', 'NAME' }
            @{ Target = 'sysprog shm increment --semaphore'; Words = 'shm', 'increment', 'NAME', '--offset', '64', '--semaphore', 'NAME' }
            @{ Target = 'sysprog sem wait <name>'; Words = 'sem', 'wait', 'NAME', '--timeout', '0' }
            # Opened by name, then refused at the address nothing listens at: the name reached the object (no ENOENT).
            @{ Target = 'sysprog unix send --shm'; Words = 'unix', 'send', '@nothing-listens-here', 'text', '--shm', 'NAME', '--timeout', '2s'; ExitCode = 1; Says = 'ECONNREFUSED' }
            @{ Target = 'sysprog unix send --mq'; Words = 'unix', 'send', '@nothing-listens-here', 'text', '--mq', 'NAME', '--timeout', '2s'; Queue = $true; ExitCode = 1; Says = 'ECONNREFUSED' }
            @{ Target = 'sysprog mq attributes <name>'; Words = 'mq', 'attributes', 'NAME'; Queue = $true; Listed = 1 }
            @{ Target = 'sysprog mq send <name>'; Words = 'mq', 'send', 'NAME', 'hello', '--timeout', '0'; Queue = $true }
            @{ Target = 'sysprog mq receive <name>'; Words = 'mq', 'receive', 'NAME', '--timeout', '0'; Queue = $true; Says = 'hello' }
            @{ Target = 'sysprog shm create <name>'; Words = 'shm', 'create', 'NAME', '--size', '4096'; ExitCode = 1; Says = 'EEXIST' }
            @{ Target = 'sysprog sem create <name>'; Words = 'sem', 'create', 'NAME'; ExitCode = 1; Says = 'EEXIST' }
            @{ Target = 'sysprog mq create <name>'; Words = 'mq', 'create', 'NAME'; Queue = $true; ExitCode = 1; Says = 'EEXIST' }
            @{ Target = 'sysprog shm remove <name>'; Words = 'shm', 'remove', 'NAME'; Gone = '/dev/shm/' }
            @{ Target = 'sysprog sem remove <name>'; Words = 'sem', 'remove', 'NAME'; Gone = '/dev/shm/sem.' }
            @{ Target = 'sysprog mq remove <name>'; Words = 'mq', 'remove', 'NAME'; Queue = $true; Gone = '/dev/mqueue/' }
        ) {
            Add-Target $Target
            if ($Queue -and -not $script:mqueueFs) { Skip-Attack "$Target with another user's control characters" 'the mqueue filesystem is not mounted on /dev/mqueue'; return }
            if ($null -eq $ExitCode) { $ExitCode = 0 }
            $name = $script:shown.cli
            $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('PATTERN', "$($name.Substring(0, $name.Length - 14))*").Replace('NAME', $name) })
            $run.ExitCode | Should -Be $ExitCode -Because $run.Text
            $run.Text | Should -Not -Match '[\x00-\x08\x0b-\x1f\x7f]' -Because 'no control character reaches the terminal raw'
            if ($Says) { $run.Text | Should -BeLike "*$Says*" }
            if ($Listed) { @($run.Lines | Where-Object { $_.Contains($name) }) | Should -HaveCount $Listed }
            if ($Gone) { @(Get-ChildItem -Path "$Gone$($script:prefix)cli-*" -Force -ErrorAction Ignore) | Should -BeNullOrEmpty }
            $script:attacks.Add("$Target with another user's control characters")
        }
    }

    # A neighbour (nobody, when this is root) listens on an abstract UNIX socket whose name holds a newline and, after
    # it, text shaped like a row of /proc/net/unix and of ss, and ends in two bytes that are no UTF-8. Every listing
    # shows it as one escaped entry, and the escaped name passed back reaches that socket.
    Context 'A neighbour''s UNIX socket whose name forges a row' {
        BeforeAll {
            $script:neighbourName = "$($script:prefix)neighbour`nu_str LISTEN 0 0 @forged 1 * 0"
            $script:neighbourShown = "@$($script:prefix)neighbour\nu_str LISTEN 0 0 @forged 1 * 0\xff\xfe"
            $start = [System.Diagnostics.ProcessStartInfo]::new($(if ($script:isRoot) { 'setpriv' } else { 'env' }))
            $bind = 'use Socket; socket(S, AF_UNIX, SOCK_STREAM, 0) or die; bind(S, pack_sockaddr_un("\0" . $ARGV[0] . "\xff\xfe")) or die "bind: $!"; listen(S, 8) or die; $| = 1; print "ready\n"; <STDIN>'
            $words = @('perl', '-e', $bind, $script:neighbourName)
            if ($script:isRoot) { $words = @('--reuid=65534', '--regid=65534', '--clear-groups') + $words }
            foreach ($word in $words) { $start.ArgumentList.Add($word) }
            $start.RedirectStandardInput = $true
            $start.RedirectStandardOutput = $true
            $script:neighbour = [System.Diagnostics.Process]::Start($start)
            $script:neighbour.StandardOutput.ReadLine() | Should -Be 'ready'
        }

        AfterAll {
            # Its stdin's end ends it.
            $script:neighbour.StandardInput.Close()
            $script:neighbour.WaitForExit(10000) | Should -BeTrue
        }

        It 'Get-Socket lists it once, escaped, and no forged socket' {
            Add-Target 'Get-Socket -Path'
            $listed = @(Get-Socket -Protocol Unix)
            @($listed | Where-Object LocalAddress -CEQ $script:neighbourShown) | Should -HaveCount 1
            @($listed | Where-Object LocalAddress -EQ '@forged') | Should -BeNullOrEmpty
            @(Get-Socket -Path "@$($script:prefix)neighbour*").LocalAddress | Should -BeExactly $script:neighbourShown
            $table = $listed | Out-String -Width 300
            $table | Should -Not -Match '[\x00-\x08\x0b-\x1f\x7f]'
            @($table -split "`n" | Where-Object { $_ -like 'u_str*' }) | Should -BeNullOrEmpty
            $script:attacks.Add('Get-Socket with a forged row in a socket name')
        }

        It 'sysprog sockets shows it on one line, escaped, and --json as one entry' {
            Add-Target 'sysprog sockets --path'
            $run = Invoke-Sysprog 'sockets', '--protocol', 'unix'
            $run.ExitCode | Should -Be 0 -Because $run.Text
            @($run.Lines | Where-Object { $_.Contains('@forged') }) | Should -HaveCount 1
            @($run.Lines | Where-Object { $_.Contains($script:neighbourShown) }) | Should -HaveCount 1
            $json = Invoke-Sysprog 'sockets', '--path', "@$($script:prefix)neighbour*", '--json'
            $json.ExitCode | Should -Be 0 -Because $json.Text
            @($json.Text | ConvertFrom-Json) | Should -HaveCount 1
            $script:attacks.Add('sysprog sockets with a forged row in a socket name')
        }

        It 'Connect-Socket -Name with the escaped name reaches it; New-Socket -Name there is EADDRINUSE naming it' {
            Add-Target 'Connect-Socket -Name', 'New-Socket -Name'
            $client = Connect-Socket -Name $script:neighbourShown.Substring(1) -TimeoutSeconds 10
            try {
                "$($client.RemoteEndpoint)" | Should -BeExactly $script:neighbourShown
            }
            finally {
                Close-Socket $client
            }
            New-Socket -Name $script:neighbourShown.Substring(1) -ErrorAction SilentlyContinue -ErrorVariable failed | Should -BeNullOrEmpty
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'Bind.EADDRINUSE,*'
            $failed[0].Exception.Message | Should -BeLike "*$([WildcardPattern]::Escape($script:neighbourShown))*"
            $script:attacks.Add('Connect-Socket and New-Socket with a forged row in a socket name')
        }

        It 'sysprog unix <Words> with the escaped name: exit <ExitCode>' -ForEach @(
            @{ Target = 'sysprog unix send <address>'; Words = 'unix', 'send', 'ADDRESS', 'hello', '--timeout', '5s'; ExitCode = 0 }
            @{ Target = 'sysprog unix listen <address>'; Words = 'unix', 'listen', 'ADDRESS'; ExitCode = 1; Says = 'EADDRINUSE' }
            @{ Target = 'sysprog demo echo <address>'; Words = 'demo', 'echo', 'ADDRESS', '--timeout', '1s'; ExitCode = 1; Says = 'EADDRINUSE' }
        ) {
            Add-Target $Target
            $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('ADDRESS', $script:neighbourShown) })
            $run.ExitCode | Should -Be $ExitCode -Because $run.Text
            $run.Text | Should -Not -Match '[\x00-\x08\x0b-\x1f\x7f]'
            if ($Says) { $run.Text | Should -BeLike "*$Says*" }
            $script:attacks.Add("$Target with a forged row in a socket name")
        }
    }

    # Descriptors given to a command: one already closed, a number this process has not open (what another process's
    # descriptor number is here), an object that holds no descriptor, and a descriptor of another kind. Each is a
    # named error before anything is started or sent.
    Context 'Descriptors that are closed, not open here, or of the wrong kind' {
        BeforeAll {
            $script:closedEventFd = New-EventFd
            Close-EventFd $script:closedEventFd
            # The highest number this process could have open, which it has not.
            $script:notOpen = [int](Get-ProcessLimit -Resource NoFile).Soft - 1
            $script:pair = New-SocketPair
            $script:mapping = New-MemoryMap -Anonymous -Size 4KB
        }

        AfterAll {
            Close-Socket $script:pair.First, $script:pair.Second
            Close-MemoryMap $script:mapping
        }

        It '<Target> given <What>: <Says>, nothing started or sent' -ForEach @(
            @{ Target = 'Start-ChildProcess -Descriptor'; What = 'a closed eventfd'; Id = 'ObjectClosed'; Says = '*closed*'; Run = { Start-ChildProcess -FilePath true -Descriptor @{ 3 = $script:closedEventFd } } }
            @{ Target = 'Start-ChildProcess -Descriptor'; What = 'a number not open here'; Id = '*.EBADF'; Says = '*EBADF*'; Run = { Start-ChildProcess -FilePath true -Descriptor @{ 3 = $script:notOpen } } }
            @{ Target = 'Start-ChildProcess -Descriptor'; What = 'a mapping (no descriptor)'; Id = '*'; Says = '*-Descriptor 3 is MemoryMapping*'; Run = { Start-ChildProcess -FilePath true -Descriptor @{ 3 = $script:mapping } } }
            @{ Target = 'Send-SocketMessage -Descriptor'; What = 'a closed eventfd'; Id = 'ObjectClosed'; Says = '*closed*'; Run = { Send-SocketMessage $script:pair.First 'x' -Descriptor $script:closedEventFd } }
            @{ Target = 'Send-SocketMessage -Descriptor'; What = 'a number (it passes objects, not numbers)'; Id = '*'; Says = '*Int32 has no descriptor to pass*'; Run = { Send-SocketMessage $script:pair.First 'x' -Descriptor $script:notOpen } }
            @{ Target = 'Send-SocketMessage -Descriptor'; What = 'a mapping (no descriptor)'; Id = '*'; Says = '*MemoryMapping has no descriptor to pass*'; Run = { Send-SocketMessage $script:pair.First 'x' -Descriptor $script:mapping } }
        ) {
            Add-Target $Target
            $children = @(Get-ChildProcess).Count
            $outcome = Split-Outcome $Run
            $outcome.Output | Should -BeNullOrEmpty
            $outcome.Errors | Should -HaveCount 1
            "$($outcome.Errors[0].FullyQualifiedErrorId)" | Should -BeLike "$Id,*"
            $outcome.Errors[0].Exception.Message | Should -BeLike $Says
            @(Get-ChildProcess).Count | Should -Be $children
            # With -TimeoutSeconds 0 an empty socket gives a WouldBlock record, not a message.
            Receive-SocketMessage $script:pair.Second -TimeoutSeconds 0 | Where-Object { $_ -is [Sysprog.SocketMessage] } | Should -BeNullOrEmpty -Because 'nothing was sent'
            $script:attacks.Add("$Target given $What")
        }

        It 'sysprog <Words> (<What>): exit <ExitCode>, naming the descriptor' -ForEach @(
            @{ Target = 'sysprog eventfd read --fd'; What = 'a number not open here'; Words = 'eventfd', 'read', '--fd', 'NOTOPEN', '--timeout', '0'; ExitCode = 1; Says = '*EBADF*' }
            @{ Target = 'sysprog eventfd add --fd'; What = 'a number not open here'; Words = 'eventfd', 'add', '--fd', 'NOTOPEN', '--value', '1'; ExitCode = 1; Says = '*EBADF*' }
            @{ Target = 'sysprog eventfd read --fd'; What = 'stdin, not an eventfd'; Words = 'eventfd', 'read', '--fd', '0', '--timeout', '0'; ExitCode = 2; Says = '*not an eventfd*' }
            @{ Target = 'sysprog eventfd read --from-pid'; What = 'another process''s stdin, not an eventfd'; Words = 'eventfd', 'read', '--from-pid', 'OTHER', '--fd', '0', '--timeout', '0'; ExitCode = 2; Says = '*not an eventfd*' }
            @{ Target = 'sysprog poll --fd'; What = 'a number not open here'; Words = 'poll', '--fd', 'NOTOPEN', '--timeout', '0'; ExitCode = 1; Says = '*EBADF*' }
            @{ Target = 'sysprog spawn --fd'; What = 'a number not open here'; Words = 'spawn', '--fd', '3=NOTOPEN', 'true'; ExitCode = 1; Says = '*EBADF*' }
        ) {
            Add-Target $Target
            $other = Start-ChildProcess -FilePath sleep -ArgumentList 60 -Descriptor @{ 0 = '/dev/null' }
            try {
                $run = Invoke-Sysprog @($Words | ForEach-Object { $_.Replace('NOTOPEN', "$script:notOpen").Replace('OTHER', "$($other.ProcessId)") })
            }
            finally {
                $other | Stop-ChildProcess -Signal KILL
                $null = $other | Wait-ChildProcess -TimeoutSeconds 10
                $other | Close-ChildProcess
            }
            $run.ExitCode | Should -Be $ExitCode -Because $run.Text
            $run.Text | Should -BeLike $Says
            $script:attacks.Add("$Target given $What")
        }
    }

    # The kinds whose waits tests/WaitEnding.Tests.ps1 does not end by a Close in another runspace: a Close there
    # ends the wait here within 300 ms with the ObjectClosed error, as for every kind that waits.
    Context 'A Close in another runspace, for the kinds the wait-ending table leaves out' {
        It 'ends <Command> on <Kind> when it is closed there, within 300 ms, with ObjectClosed' -ForEach @(
            @{ Kind = 'a poll set'; Command = 'Wait-PollSet'; BlockedIn = 'epoll_wait', 'epoll_pwait', 'epoll_pwait2' }
            @{ Kind = 'a pty, waiting for a pattern'; Command = 'Wait-Pty'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'a full queue'; Command = 'Send-MqMessage'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'a full pipe'; Command = 'Write-FileDescriptor'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'an eventfd at its maximum'; Command = 'Write-EventFd'; BlockedIn = 'poll', 'ppoll' }
            # A blocking socket's send waits inside sendmsg itself.
            @{ Kind = 'a full socket'; Command = 'Send-SocketMessage'; BlockedIn = 'sendmsg' }
            @{ Kind = 'a datagram socket'; Command = 'Receive-SocketMessage'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'a FIFO'; Command = 'Read-FileDescriptor'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'a pipe'; Command = 'Wait-FileDescriptor'; BlockedIn = 'epoll_wait', 'epoll_pwait', 'epoll_pwait2' }
            @{ Kind = 'a pty whose program never reads'; Command = 'Write-Pty'; BlockedIn = 'poll', 'ppoll' }
            @{ Kind = 'an event loop''s handle'; Command = 'Invoke-EventLoop'; BlockedIn = 'epoll_wait', 'epoll_pwait', 'epoll_pwait2' }
        ) {
            $cleanUp = $null
            switch ($Kind) {
                'a poll set' {
                    $eventFd = New-EventFd
                    $object = New-PollSet $eventFd
                    $parameters = @{ InputObject = $object }
                    $close = { Close-PollSet $object }
                    $cleanUp = { Close-EventFd $eventFd }
                }
                'a pty, waiting for a pattern' {
                    $object = Start-Pty cat
                    $parameters = @{ InputObject = $object; Pattern = 'never printed' }
                    $close = { Close-Pty $object }
                }
                'a full queue' {
                    $name = New-TestName
                    $object = New-MessageQueue -Name $name -MaxMessages 1 -MaxMessageSize 16
                    Send-MqMessage -Queue $object -InputObject 'fills it'
                    $parameters = @{ Queue = $object; InputObject = 'waits' }
                    $close = { Close-MessageQueue $object }
                    $cleanUp = { Remove-MessageQueue -Name $name -Confirm:$false }
                }
                'a full pipe' {
                    $pipe = New-Pipe
                    $capacity = (Set-Pipe $pipe -Capacity 4096 -PassThru).Capacity
                    Write-FileDescriptor $pipe.WriteEnd ('x' * $capacity) -NoNewline
                    $parameters = @{ InputObject = $pipe.WriteEnd; Value = 'waits' }
                    $close = { Close-Pipe $pipe.WriteEnd }
                    $cleanUp = { Close-Pipe $pipe }
                }
                'an eventfd at its maximum' {
                    $object = New-EventFd
                    Write-EventFd $object -Value ([uint64]::MaxValue - 1)
                    $parameters = @{ InputObject = $object; Value = 1 }
                    $close = { Close-EventFd $object }
                }
                'a full socket' {
                    $pair = New-SocketPair
                    # Filled until a send that may not wait writes a WouldBlock record (EAGAIN), so the next one waits.
                    foreach ($i in 1..1000) {
                        if (@(Send-SocketMessage $pair.First ('x' * 4096) -TimeoutSeconds 0 | Where-Object { $_ -is [Sysprog.WouldBlock] }).Count) { break }
                    }
                    $parameters = @{ Socket = $pair.First; Value = ('x' * 65536) }
                    $close = { Close-Socket $pair.First }
                    $cleanUp = { Close-Socket $pair.Second }
                }
                'a datagram socket' {
                    $object = New-Socket -Name (New-TestName).Substring(1) -Type Datagram
                    $parameters = @{ InputObject = $object; Wait = $true }
                    $close = { Close-Socket $object }
                }
                'a FIFO' {
                    $fifo = New-Fifo -Path (Join-Path ([IO.Path]::GetTempPath()) "$($script:prefix)fifo-close")
                    # Both ends opened without waiting for the other, then the read end made blocking, so a read waits.
                    $object = Open-Fifo -Path $fifo.FullName -Access Read -NonBlocking
                    $writer = Open-Fifo -Path $fifo.FullName -Access Write -NonBlocking
                    Set-FileDescriptor $object -NonBlocking $false
                    $parameters = @{ InputObject = $object }
                    $close = { Close-Pipe $object }
                    $cleanUp = { Close-Pipe $writer; Remove-Item -LiteralPath $fifo.FullName }
                }
                'a pty whose program never reads' {
                    # Raw, so the line discipline takes input until its buffer is full; filled until a write that may
                    # not wait writes a WouldBlock record, so the next one waits.
                    $object = Start-Pty sleep 60
                    Set-Pty $object -Raw
                    foreach ($i in 1..1000) {
                        if (@(Write-Pty $object ('x' * 4096) -NoNewline -TimeoutSeconds 0 | Where-Object { $_ -is [Sysprog.WouldBlock] }).Count) { break }
                    }
                    $parameters = @{ InputObject = $object; Text = ('y' * 65536); NoNewline = $true }
                    $close = { Close-Pty $object }
                }
                'an event loop''s handle' {
                    $object = New-EventFd
                    $timer = New-TimerFd
                    $parameters = @{ Handler = @{ $object = { Read-EventFd $_.Handle }; $timer = { Read-TimerFd $_.Handle } } }
                    $close = { Close-EventFd $object }
                    $cleanUp = { Close-TimerFd $timer }
                }
                'a pipe' {
                    $pipe = New-Pipe
                    $parameters = @{ InputObject = $pipe.ReadEnd }
                    $close = { Close-Pipe $pipe.ReadEnd }
                    $cleanUp = { Close-Pipe $pipe }
                }
            }
            try {
                $outcome = Measure-CloseElsewhere -Command $Command -Parameters $parameters -BlockedIn $BlockedIn -Close $close
            }
            finally {
                & $close
                if ($cleanUp) { & $cleanUp }
            }
            Assert-EndedByClose $outcome -Command $Command -BlockedIn $BlockedIn
            $script:attacks.Add("A Close in another runspace ending $Command on $Kind")
        }
    }

    # Every cmdlet and CLI command that takes a path, a name, a descriptor or a process id has a row above for each
    # such parameter. The list comes from the module and from the CLI's own command tree, so a new command or
    # parameter without a row fails here; what takes such a word but names nothing another user makes is left out
    # below, each with the reason (and a reason for something that no longer exists fails too).
    Context 'Every command that takes a path, a name, a descriptor or a process id has a row' {
        BeforeAll {
            $script:exempt = @{
                'Get-ElfSymbol -Name' = 'a filter over the symbols of the file -Path names (the file has its rows)'
                'Get-IpcLimit -Name' = 'the name of a limit, from a fixed list'
                'Get-SharedLibrary -Name' = 'a filter over the libraries this process has loaded'
                'Get-SharedLibrarySymbol -Name' = 'a symbol looked up in a library already loaded'
                'Invoke-SharedLibraryFunction -Name' = 'a symbol looked up in a library already loaded'
                'Get-Syscall -Name' = 'a system call''s name, from the kernel''s table'
                'sysprog syscalls <name>' = 'a system call''s name, from the kernel''s table'
                'sysprog peek <address>' = 'a memory address (or symbol) in the process <pid> names, which has its rows'
                'sysprog poke <address>' = 'a memory address (or symbol) in the process <pid> names, which has its rows'
            }
            $parameterWords = 'Path', 'LiteralPath', 'Name', 'FilePath', 'WorkingDirectory', 'LibraryPath', 'Queue', 'Descriptor', 'Id', 'ProcessId', 'ThreadId', 'OwnerProcessId'
            $handles = [Sysprog.MessageQueue].Assembly
            $script:cmdletTargets = @(foreach ($command in Get-Command -Module Sysprog -CommandType Cmdlet) {
                    foreach ($parameter in $command.Parameters.Values) {
                        # A handle object (a queue, a socket) given instead is not a word another user chooses.
                        if ($parameter.Name -in $parameterWords -and $parameter.ParameterType.Assembly -ne $handles) { "$($command.Name) -$($parameter.Name)" }
                    }
                })

            # The CLI's command tree, read from its assembly in a pwsh of its own (System.CommandLine is not loaded here):
            # each leaf command's words, its arguments and its options.
            $treeScript = Join-Path $TestDrive 'cli-tree.ps1'
            Set-Content -LiteralPath $treeScript -Value @'
param($cli)
$assembly = [System.Reflection.Assembly]::LoadFrom($cli)
$null = [System.Reflection.Assembly]::LoadFrom((Join-Path (Split-Path $cli) 'System.CommandLine.dll'))
$trace = [System.CommandLine.Option[bool]]::new('--trace')
function Write-Leaf($command, $above) {
    $words = "$above $($command.Name)".Trim()
    if ($command.Subcommands.Count -eq 0) { "$words|$(@($command.Arguments.Name) -join ',')|$(@($command.Options.Name) -join ',')" }
    foreach ($sub in $command.Subcommands) { Write-Leaf $sub $words }
}
foreach ($type in $assembly.GetTypes()) {
    foreach ($method in $type.GetMethods([System.Reflection.BindingFlags]'Public,Static')) {
        if ($method.Name -like 'Build*' -and $method.ReturnType.FullName -eq 'System.CommandLine.Command') { Write-Leaf ($method.Invoke($null, @($trace))) '' }
    }
}
'@
            $pwsh, $pwshArguments = Get-PwshCommand
            $leaves = @(& $pwsh $pwshArguments -NoProfile -NonInteractive -File $treeScript (Resolve-Path -LiteralPath $SysprogCliPath).ProviderPath)
            $LASTEXITCODE | Should -Be 0 -Because "the CLI's command tree is read from its assembly: $leaves"
            $argumentWords = 'path', 'file', 'library', 'address', 'name', 'pattern', 'pid'
            $optionWords = '--fd', '--cwd', '--library-path', '--file', '--path', '--shm', '--mq', '--pid', '--from-pid', '--thread', '--semaphore'
            $script:cliLeaves = $leaves
            $script:cliTargets = @(foreach ($leaf in $leaves) {
                    $words, $arguments, $options = $leaf -split '\|'
                    foreach ($argument in $arguments -split ',' | Where-Object { $_ -in $argumentWords }) { "sysprog $words <$argument>" }
                    foreach ($option in $options -split ',' | Where-Object { $_ -in $optionWords }) { "sysprog $words $option" }
                })
        }

        It 'the module and the CLI list what they take (the lists are not empty)' {
            $script:cmdletTargets.Count | Should -BeGreaterThan 50
            $script:cliLeaves.Count | Should -BeGreaterThan 40
            $script:cliTargets.Count | Should -BeGreaterThan 40
            Write-Host "hostile: $($script:cmdletTargets.Count) cmdlet parameters and $($script:cliTargets.Count) CLI arguments and options take a path, a name, a descriptor or a process id"
        }

        It 'every such cmdlet parameter has a row, or a reason here' {
            $missing = @($script:cmdletTargets | Where-Object { -not $script:targets.Contains($_) -and -not $script:exempt.ContainsKey($_) })
            $missing | Should -BeNullOrEmpty -Because 'each takes a path, a name, a descriptor or a process id: add a row that attacks it'
        }

        It 'every such CLI argument and option has a row, or a reason here' {
            $missing = @($script:cliTargets | Where-Object { -not $script:targets.Contains($_) -and -not $script:exempt.ContainsKey($_) })
            $missing | Should -BeNullOrEmpty -Because 'each takes a path, a name, a descriptor or a process id: add a row that attacks it'
        }

        It 'every reason given is for something the module or the CLI still takes, and every row attacks one' {
            $known = [System.Collections.Generic.HashSet[string]]::new([string[]] @($script:cmdletTargets + $script:cliTargets + 'sysprog spawn <command>', 'sysprog pty <command>'), [StringComparer]::Ordinal)
            @($script:exempt.Keys | Where-Object { -not $known.Contains($_) }) | Should -BeNullOrEmpty
            @($script:targets | Where-Object { -not $known.Contains($_) }) | Should -BeNullOrEmpty -Because 'a row names what it attacks as the module and the CLI spell it'
        }
    }
}
