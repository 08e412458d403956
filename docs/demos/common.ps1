# Shared by the screenplays, where they are run from: the repository (docs/demos, the module from the build in
# out/Sysprog) or the installed module (its Demos folder, beside Sysprog.psd1). The tests share it too
# (tests/common.ps1): the module, unique names, waiting on another process's state, child sessions (another pwsh
# with signals blocked, its output on a pipe), and the narrator's voice.
#   Invoke-Pester (Join-Path (Get-Module Sysprog -ListAvailable)[0].ModuleBase Demos) -Output Detailed
if (-not (Get-Module -Name Sysprog)) {
    $installedManifest = Join-Path $PSScriptRoot '..' 'Sysprog.psd1'
    $builtManifest = Join-Path $PSScriptRoot '..' '..' 'out' 'Sysprog' 'Sysprog.psd1'
    $manifest = if (Test-Path -LiteralPath $installedManifest) { $installedManifest }
        elseif (Test-Path -LiteralPath $builtManifest) { $builtManifest }
        else { throw "Sysprog is neither installed beside these screenplays nor built: run 'dotnet build' first; expected $builtManifest." }
    Import-Module -Name $manifest -Force -ErrorAction Stop
}
# The module the screenplays run, for the other processes they start (Start-Job, a child pwsh) to import.
$SysprogModulePath = Join-Path (Get-Module -Name Sysprog).ModuleBase 'Sysprog.psd1'

. (Join-Path $PSScriptRoot 'PwshCommand.ps1')

# Every name New-TestName hands out in this process, whichever runspace asks (the bad-input cases run in one of their
# own): where the mqueue filesystem is not mounted nothing lists queues, so they are removed by name.
if ($null -eq [AppDomain]::CurrentDomain.GetData('SysprogPesterNames')) {
    [AppDomain]::CurrentDomain.SetData('SysprogPesterNames', [System.Collections.Generic.List[string]]::new())
}

function New-TestName {
    # Unique per run and per call, so parallel runs and leftovers from a crash never collide.
    $name = "/sysprog-pester-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    $names = [AppDomain]::CurrentDomain.GetData('SysprogPesterNames')
    [System.Threading.Monitor]::Enter($names)
    try { $names.Add($name) } finally { [System.Threading.Monitor]::Exit($names) }
    $name
}

function Remove-MessageQueueIfPresent {
    # mq_unlink, where ENOENT (nothing of that name) is no error; any other failure is.
    param([Parameter(Mandatory)][string] $Name)
    try {
        [Sysprog.MessageQueue]::Unlink($Name)
    }
    catch {
        $failure = $_.Exception.GetBaseException()
        if ($failure -isnot [Sysprog.SysprogException] -or $failure.Errno -ne [Sysprog.Errno]::ENOENT) { throw }
    }
}

function Wait-Until {
    # Polls a condition (a script block) until it holds or the deadline passes; returns whether it held. For waiting
    # on another process's state, never for timing: callers assert on the state itself afterwards.
    param([Parameter(Mandatory)][scriptblock] $Condition, [double] $TimeoutSeconds = 30)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -ge $deadline) { return $false }
        Start-Sleep -Milliseconds 10
    }
    $true
}

function Get-BlockedThread {
    # The threads of a process (this session by default, the caller's own thread aside) that sleep (state S) inside
    # one of the system calls named (/proc/PID/task/TID/syscall), optionally only those of one name (comm): the proof
    # that the other side of a test is blocked in the kernel, not just started. System calls, unlike wchan names, are
    # the same on every kernel; names this architecture lacks (poll on arm64) are left out.
    param([int] $ProcessId = $PID, [Parameter(Mandatory)][string[]] $Syscall, [string] $ThreadName)
    $numbers = @($Syscall | ForEach-Object { [Sysprog.SyscallTable]::Number($_, $null) } | Where-Object { $null -ne $_ })
    $self = Split-Path -Leaf ([System.IO.Directory]::ResolveLinkTarget('/proc/thread-self', $false).FullName)
    try {
        $tasks = [System.IO.Directory]::GetDirectories("/proc/$ProcessId/task")
    }
    catch [System.IO.IOException] {
        return  # the process has ended
    }
    foreach ($task in $tasks) {
        $threadId = Split-Path -Leaf $task
        if ($ProcessId -eq $PID -and $threadId -eq $self) { continue }
        try {
            if ($ThreadName -and [System.IO.File]::ReadAllText("$task/comm").Trim() -ne $ThreadName) { continue }
            $stat = [System.IO.File]::ReadAllText("$task/stat")
            $number = ([System.IO.File]::ReadAllText("$task/syscall").Trim() -split ' ')[0]
        }
        catch [System.IO.IOException] {
            continue  # the thread ended meanwhile
        }
        if ($stat.Substring($stat.LastIndexOf(')') + 2, 1) -eq 'S' -and $number -match '^\d+$' -and [int]$number -in $numbers) {
            [int]$threadId
        }
    }
}

function Get-ChildProcessId {
    # The children of a process with a given command name, from /proc (not Get-Process: .NET's process support opens
    # descriptors of its own the first time it is used, which the leak checks would count).
    param([Parameter(Mandatory)][int] $ParentId, [Parameter(Mandatory)][string] $Name)
    foreach ($stat in Get-ChildItem -Path /proc/[0-9]*/stat -ErrorAction SilentlyContinue) {
        $fields = (Get-Content -LiteralPath $stat.FullName -Raw -ErrorAction SilentlyContinue) -split '\) ' | Select-Object -Last 1
        if ($fields -and [int]($fields -split ' ')[1] -eq $ParentId -and (Get-Content -LiteralPath "$($stat.Directory)/comm" -ErrorAction SilentlyContinue) -eq $Name) {
            [int]$stat.Directory.Name
        }
    }
}

function Start-ChildSession {
    # Another pwsh running $Script (its text; the module's manifest is its first argument, $ArgumentList the rest),
    # with its stdout and stderr on a pipe whose read end this session keeps, optionally started with signals
    # blocked (Start-ChildProcess -BlockSignal) so that its signalfds are the kernel's. Stop-ChildSession ends it and
    # removes what this made.
    param([Parameter(Mandatory)][string] $Script, [string[]] $ArgumentList = @(), [string[]] $BlockSignal = @())
    $folder = Join-Path ([System.IO.Path]::GetTempPath()) "child-session-$([guid]::NewGuid().ToString('N'))"
    $null = New-Item -ItemType Directory -Path $folder
    $scriptPath = Join-Path $folder 'session.ps1'
    Set-Content -LiteralPath $scriptPath -Value $Script
    # Unrolled: a pwsh executable comes back as a list of one, which would bind to -FilePath as a list.
    $pwsh, $pwshArguments = Get-PwshCommand | ForEach-Object { $_ }
    $output = New-Pipe
    try {
        $arguments = @(@($pwshArguments) + @('-NoProfile', '-NonInteractive', '-File', $scriptPath, (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath) + $ArgumentList | Where-Object { $_ })
        $blocked = if ($BlockSignal.Count -gt 0) { @{ BlockSignal = $BlockSignal } } else { @{} }
        $child = Start-ChildProcess $pwsh -ArgumentList $arguments -Descriptor @{ 1 = $output.WriteEnd; 2 = $output.WriteEnd } @blocked
    }
    catch {
        Close-Pipe $output
        Remove-Item -LiteralPath $folder -Recurse -Force
        throw
    }
    # The child holds the write end now: this session's copy would keep the pipe from ending.
    Close-Pipe $output.WriteEnd
    [pscustomobject]@{ Child = $child; Output = $output.ReadEnd; Folder = $folder }
}

function Wait-ChildSession {
    # Waits for a child session to end; its exit code and everything it wrote.
    param([Parameter(Mandatory)] $Session, [double] $TimeoutSeconds = 120)
    $exit = Wait-ChildProcess $Session.Child -TimeoutSeconds $TimeoutSeconds
    [pscustomobject]@{ ExitCode = $exit.ExitCode; Text = (Read-FileDescriptor $Session.Output -Wait -TimeoutSeconds 30) -join '' }
}

function Stop-ChildSession {
    # Kills a child session still running, and closes and removes what Start-ChildSession made.
    param([Parameter(Mandatory)] $Session)
    if (-not $Session.Child.HasExited) {
        Stop-ChildProcess $Session.Child -Signal KILL -Confirm:$false
        $null = Wait-ChildProcess $Session.Child -TimeoutSeconds 30
    }
    Close-ChildProcess $Session.Child
    Close-Pipe $Session.Output
    Remove-Item -LiteralPath $Session.Folder -Recurse -Force
}

function Write-Narration {
    # What happened, in the words a trainer would use, indented under the step.
    param([Parameter(Mandatory)][string] $Text)
    Write-Host "      $Text" -ForegroundColor DarkCyan
}

function Stop-DemoChild {
    # Ends (SIGKILL) and reaps each child process a screenplay started that is still running, then closes it: what a
    # screenplay's AfterAll does, whether its steps passed or not.
    param([Parameter(Mandatory)][AllowEmptyCollection()][object[]] $Child)
    foreach ($started in $Child) {
        if (-not $started.IsClosed -and -not $started.Exit) {
            Stop-ChildProcess $started -Signal KILL -Confirm:$false
            $null = Wait-ChildProcess $started -TimeoutSeconds 30
        }
        Close-ChildProcess $started
    }
}
