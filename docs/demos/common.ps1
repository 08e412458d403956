# Shared by the screenplays, where they are run from: the repository (docs/demos, the module from the build in
# out/Sysprog) or the installed module (its Demos folder, beside Sysprog.psd1). The tests share it too
# (tests/common.ps1): the module, unique names, waiting on another process's state, and the narrator's voice.
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

function Write-Narration {
    # What happened, in the words a trainer would use, indented under the step.
    param([Parameter(Mandatory)][string] $Text)
    Write-Host "      $Text" -ForegroundColor DarkCyan
}
