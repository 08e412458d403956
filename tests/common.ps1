# Shared by the Pester tests: imports the module assembled by the build (out/Sysprog) once, then what the tests share
# with the screenplays (docs/demos/common.ps1: unique names, waiting on another process), and checks that no
# descriptor is left open (Get-FdListing, Assert-NoFdLeft).
$SysprogModulePath = Join-Path $PSScriptRoot '..' 'out' 'Sysprog' 'Sysprog.psd1'
if (-not (Get-Module -Name Sysprog)) {
    if (-not (Test-Path -LiteralPath $SysprogModulePath)) {
        throw "The module is not built: run 'dotnet build' (or ./build.ps1) first; expected $SysprogModulePath."
    }
    Import-Module -Name $SysprogModulePath -Force -ErrorAction Stop
}

. (Join-Path $PSScriptRoot '..' 'docs' 'demos' 'common.ps1')

# The sysprog CLI of the same build as the module (build.ps1 names its configuration; a plain dotnet build is Debug).
# Tests that need it fail when it is missing: it is built with the module, so its absence is a broken build.
$SysprogCliPath = Join-Path $PSScriptRoot '..' 'src' 'Sysprog.Cli' 'bin' ($env:SYSPROG_CONFIGURATION ?? 'Debug') 'net8.0' 'Sysprog.Cli.dll'

function Get-TestNameCount {
    # How many names New-TestName has handed out: a mark for Remove-TestObjectAll -HandedOutSince.
    $names = [AppDomain]::CurrentDomain.GetData('SysprogPesterNames')
    [System.Threading.Monitor]::Enter($names)
    try { $names.Count } finally { [System.Threading.Monitor]::Exit($names) }
}

function Test-MessageQueueName {
    # Whether a queue of this name exists, asked of mq_open: it needs no mqueue filesystem.
    param([Parameter(Mandatory)][string] $Name)
    try {
        ([Sysprog.MessageQueue]::Open($Name, [System.IO.FileAccess]::Read, $true)).Dispose()
        $true
    }
    catch {
        $failure = $_.Exception.GetBaseException()
        # A name no queue can have (not UTF-8, say) is refused before any call: there is no such queue.
        if ($failure -is [ArgumentException]) { return $false }
        if ($failure -isnot [Sysprog.SysprogException] -or $failure.Errno -ne [Sysprog.Errno]::ENOENT) { throw }
        $false
    }
}

function Remove-TestObject {
    param([Parameter(Mandatory, ValueFromPipeline)][string[]] $Name)
    process {
        foreach ($n in $Name) {
            if (Test-Path -LiteralPath "/dev/shm$n") {
                Remove-SharedMemory -Name $n -Confirm:$false
            }
        }
    }
}

function Select-SyscallLine {
    # The strace-style lines of a -Verbose stream merged with 4>&1, without PowerShell's own ShouldProcess line
    # ("Performing the operation ..."), which every cmdlet that supports -WhatIf writes first under -Verbose.
    param([Parameter(ValueFromPipeline)] $InputObject)
    process {
        if ($InputObject -is [System.Management.Automation.VerboseRecord] -and $InputObject.Message -match '^\w+\(.*\) = ') {
            $InputObject.Message
        }
    }
}

function Get-DevShmName {
    # The entries of /dev/shm as the module lists them (readdir, names escaped), not through Get-ChildItem, which
    # decodes names as UTF-8: a leftover whose name is not UTF-8 must be seen as it is. A semaphore shows as sem.NAME.
    param([string] $Filter = '*')
    @(Get-SharedMemory -Name $Filter -WarningAction SilentlyContinue | ForEach-Object { $_.Name.Substring(1) }) +
    @(Get-Semaphore -Name $Filter -WarningAction SilentlyContinue | ForEach-Object { "sem.$($_.Name.Substring(1))" })
}

function Remove-TestObjectAll {
    # Everything this session's tests named (shared memory, semaphores, queues), whatever test made it. With
    # -HandedOutSince (a Get-TestNameCount), queues are looked for only among the names handed out since, which are
    # then forgotten: for a piece of work (a bad-input case) whose names nothing uses afterwards.
    param([int] $HandedOutSince = 0)
    foreach ($entry in Get-SharedMemory -Name "*sysprog-pester-$PID-*" -WarningAction SilentlyContinue) {
        # A planted directory is no object to unlink; its name is this run's own, plain.
        if (Test-Path -LiteralPath $entry.Path -PathType Container) { Remove-Item -LiteralPath $entry.Path -Recurse -Force }
        else { Remove-SharedMemory -Name $entry.Name -Confirm:$false }
    }
    foreach ($entry in Get-Semaphore -Name "*sysprog-pester-$PID-*" -WarningAction SilentlyContinue) {
        # A planted sem.* directory is listed as a semaphore with a Problem, and sem_unlink cannot remove it.
        if (Test-Path -LiteralPath $entry.Path -PathType Container) { Remove-Item -LiteralPath $entry.Path -Recurse -Force }
        else { $entry | Remove-Semaphore -Confirm:$false }
    }
    $names = [AppDomain]::CurrentDomain.GetData('SysprogPesterNames')
    [System.Threading.Monitor]::Enter($names)
    try {
        $since = [Math]::Min($HandedOutSince, $names.Count)
        $recent = $names.GetRange($since, $names.Count - $since).ToArray()
        if ($PSBoundParameters.ContainsKey('HandedOutSince')) { $names.RemoveRange($since, $recent.Count) }
    }
    finally {
        [System.Threading.Monitor]::Exit($names)
    }
    if ([Sysprog.MessageQueue]::IsMqueueFsMounted()) {
        Get-MessageQueue -Name "sysprog-pester-$PID-*" | Remove-MessageQueue -Confirm:$false
    }
    else {
        # A queue left here would count against this user's RLIMIT_MSGQUEUE unseen.
        foreach ($name in $recent) { Remove-MessageQueueIfPresent $name }
    }
}

function New-ModulePowerShell {
    # A [powershell] whose own runspace imports the module as it opens, so a test that stops it runs one statement.
    # A batch (Import-Module; AddStatement(); the command) stopped with Stop() races PowerShell's batch loop, which
    # reads a variable of the runspace on a pool thread, against Dispose closing it: an unhandled exception that
    # ends the whole process.
    $state = [initialsessionstate]::CreateDefault2()
    $state.ImportPSModule([string[]] @((Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath))
    [powershell]::Create($state)
}

function Protect-FromCollection {
    # Holds an object a test made until Close-ProtectedObject closes it: a handle that only a script block's local
    # variable refers to (a listener a valid call connects to) is otherwise collected, and its finalizer closes it
    # under the test's feet. Kept process-wide, whichever runspace asks.
    param([Parameter(Mandatory, ValueFromPipeline)] $InputObject)
    process {
        $kept = [AppDomain]::CurrentDomain.GetData('SysprogKeptAlive')
        if ($null -eq $kept) {
            [AppDomain]::CurrentDomain.SetData('SysprogKeptAlive', [System.Collections.Concurrent.ConcurrentQueue[object]]::new())
            $kept = [AppDomain]::CurrentDomain.GetData('SysprogKeptAlive')
        }
        $kept.Enqueue($InputObject)
        $InputObject
    }
}

function Close-ProtectedObject {
    # Closes what Protect-FromCollection held.
    $kept = [AppDomain]::CurrentDomain.GetData('SysprogKeptAlive')
    $object = $null
    while ($kept -and $kept.TryDequeue([ref] $object)) {
        if ($object -is [System.IDisposable]) { $object.Dispose() }
    }
}

function Measure-PipelineStop {
    # Starts what $Start adds to a module [powershell] (it gets the [powershell]), waits until its pipeline thread is
    # asleep in one of the system calls $BlockedIn names and $IsBlocked (given the [powershell] too; optional) says
    # the command is blocked, then stops it. Returns whether it was blocked and still running when stopped, how long
    # Stop() took, and the state it ended in.
    param([Parameter(Mandatory)][scriptblock] $Start, [Parameter(Mandatory)][string[]] $BlockedIn, [scriptblock] $IsBlocked = { $true })
    $ps = New-ModulePowerShell
    try {
        & $Start $ps
        $async = $ps.BeginInvoke()
        # PowerShell names the threads that run pipelines "Pipeline Execution Thread" (comm keeps 15 characters).
        $blocked = Wait-Until { @(Get-BlockedThread -Syscall $BlockedIn -ThreadName 'Pipeline Execut').Count -gt 0 -and (& $IsBlocked $ps) }
        $running = -not $async.IsCompleted
        # What the pipeline threads were in, for the failure message when they were not blocked as expected.
        $seen = @(Get-ProcessSyscall -Id $PID -ErrorAction SilentlyContinue | Where-Object ThreadName -EQ 'Pipeline Execut' | ForEach-Object { "$($_.ThreadId) $($_.State) $($_.Call)" }) -join '; '

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        [pscustomobject]@{ Blocked = $blocked; WasRunning = $running; Milliseconds = $clock.Elapsed.TotalMilliseconds; State = $ps.InvocationStateInfo.State; Seen = $seen }
    }
    finally {
        $ps.Dispose()
    }
}

function Measure-CloseElsewhere {
    # Runs $Command with $Parameters in a module [powershell] of its own, waits until its pipeline thread
    # sleeps in one of the system calls $BlockedIn names, then runs $Close here. Returns whether it was blocked
    # and still running then, how long it took to end after the Close began, and the errors it ended with.
    param([Parameter(Mandatory)][string] $Command, [Parameter(Mandatory)][hashtable] $Parameters, [Parameter(Mandatory)][string[]] $BlockedIn,
        [Parameter(Mandatory)][scriptblock] $Close)
    $ps = New-ModulePowerShell
    try {
        $null = $ps.AddCommand($Command).AddParameters($Parameters)
        $async = $ps.BeginInvoke()
        $blocked = Wait-Until { @(Get-BlockedThread -Syscall $BlockedIn -ThreadName 'Pipeline Execut').Count -gt 0 }
        $running = -not $async.IsCompleted
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        & $Close
        $ended = $async.AsyncWaitHandle.WaitOne(5000)
        $milliseconds = $clock.Elapsed.TotalMilliseconds
        if ($ended) {
            try { $null = $ps.EndInvoke($async) } catch { }
        }
        else {
            $ps.Stop()
        }
        [pscustomobject]@{ Blocked = $blocked; WasRunning = $running; Ended = $ended; Milliseconds = $milliseconds; Errors = @($ps.Streams.Error) }
    }
    finally {
        $ps.Dispose()
    }
}

function Assert-EndedByClose {
    # What Measure-CloseElsewhere must find for every kind that waits: the command was blocked in the kernel and
    # still running, and the Close ended it within 300 ms with the one ObjectClosed error.
    param([Parameter(Mandatory)] $Outcome, [Parameter(Mandatory)][string] $Command, [Parameter(Mandatory)][string[]] $BlockedIn)
    $Outcome.Blocked | Should -BeTrue -Because "$Command must be blocked in $($BlockedIn -join ' or ') before the Close"
    $Outcome.WasRunning | Should -BeTrue
    $Outcome.Ended | Should -BeTrue -Because 'the Close must end the wait'
    $Outcome.Milliseconds | Should -BeLessThan 300
    $Outcome.Errors.Count | Should -Be 1
    $Outcome.Errors[0].FullyQualifiedErrorId | Should -BeLike 'ObjectClosed,*'
    $Outcome.Errors[0].Exception.Message | Should -BeLike '*was closed while*'
}

function Get-FdListing {
    # Every descriptor this session has open (/proc/$PID/fd), by number: its target and what fdinfo adds to tell its
    # object apart from another of the same kind (" (ino: 4711)", a pty's tty-index, an eventfd's eventfd-id; fixed
    # for the descriptor's life). ino tells a new pidfd at a number listed before from the one listed then where
    # pidfs gives each its own (Linux 6.9); the kernel hands a freed tty-index or eventfd-id out again, so those tell
    # apart only objects that were open at once. Any kind counts: a path, /dev/ptmx, pipe:[I], socket:[I],
    # anon_inode:[pidfd], inotify, ...
    # Before listing, the garbage collector closes what the runtime leaves to finalizers (the stdio pipes of a
    # finished native command), and the C library is made to open what it keeps once used (Initialize-FdBaseline).
    # A Sysprog handle closed that way is counted (HandleAudit), and Get-FdOpenedSince reports it as a leak too.
    Initialize-FdBaseline
    [System.GC]::Collect()
    [System.GC]::WaitForPendingFinalizers()
    [System.GC]::Collect()
    $folder = "/proc/$PID/fd"
    $descriptors = [System.Collections.Generic.Dictionary[int, string[]]]::new()
    foreach ($entry in [System.IO.Directory]::GetFileSystemEntries($folder)) {
        try {
            $target = [System.IO.FileInfo]::new($entry).LinkTarget
        }
        catch [System.IO.IOException] {
            continue  # closed meanwhile
        }
        # Listing the folder holds a descriptor of it open: the listing's own, no one's leak.
        if (-not $target -or $target -eq $folder) { continue }
        $fd = [int][System.IO.Path]::GetFileName($entry)
        $identity = [System.Collections.Generic.List[string]]::new()
        try {
            foreach ($line in [System.IO.File]::ReadAllLines("/proc/$PID/fdinfo/$fd")) {
                if ($line.StartsWith('ino:') -or $line.StartsWith('tty-index:') -or $line.StartsWith('eventfd-id:')) {
                    $identity.Add(($line -replace '\s+', ' '))
                }
            }
        }
        catch [System.IO.IOException] {
            continue
        }
        $descriptors[$fd] = [string[]] @($target, $(if ($identity.Count) { " ($($identity -join ', '))" } else { '' }))
    }
    [pscustomobject]@{ Descriptors = $descriptors; ReleasedByFinalizer = [Sysprog.HandleAudit]::ReleasedByFinalizer }
}

function Get-FdOpenedSince {
    # What is open now that was not in the listing given ("12 -> pipe:[4711] (ino: 4711)"), and each Sysprog handle
    # left to the finalizer since. The runtime's own descriptors are told apart by what they are: the files of the
    # assemblies it has loaded, which it keeps open once loaded (PowerShell loads them lazily, during any test).
    param([Parameter(Mandatory)] $Listing)
    $now = Get-FdListing
    $assemblies = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
    foreach ($assembly in [AppDomain]::CurrentDomain.GetAssemblies()) {
        if ($assembly.IsDynamic -or -not $assembly.Location) { continue }
        $file = [System.IO.FileInfo]::new($assembly.Location).ResolveLinkTarget($true)
        $null = $assemblies.Add($(if ($file) { $file.FullName } else { $assembly.Location }))
    }
    foreach ($open in $now.Descriptors.GetEnumerator() | Sort-Object Key) {
        $then = $null
        if ($Listing.Descriptors.TryGetValue($open.Key, [ref] $then) -and $then[0] -eq $open.Value[0] -and $then[1] -eq $open.Value[1]) { continue }
        if ($assemblies.Contains($open.Value[0])) { continue }
        "$($open.Key) -> $($open.Value[0])$($open.Value[1])"
    }
    $finalized = $now.ReleasedByFinalizer - $Listing.ReleasedByFinalizer
    if ($finalized -gt 0) { "$finalized Sysprog handle(s) left undisposed, closed by the finalizer" }
}

function Assert-NoFdLeft {
    # The leak check: nothing open now that was not in the listing given (Get-FdListing), of any kind. PowerShell
    # opens and closes some of its own on other threads (the pipes of a background job, closed once its process has
    # ended); a leak never closes itself, so the check passes at the first listing with nothing new, and what is
    # still open when the deadline passes is reported.
    param([Parameter(Mandatory)] $Since, [string] $Because = 'every descriptor opened is closed')
    $left = [ref] $null
    $null = Wait-Until { $left.Value = @(Get-FdOpenedSince $Since); $left.Value.Count -eq 0 } -TimeoutSeconds 5
    $left.Value | Should -BeNullOrEmpty -Because $Because
}

function Assert-TableView {
    # An object's table view as a terminal of 80 columns (the default) shows it, asked for or by default: no line
    # wider, every column there and none but the last (the widest, unsized) cut short with '…', every column label a
    # property of the object (so what the table shows can be filtered on); and the same table, from the same
    # properties, for the object as a job or a remote call brings it back (serialized at the depth they use, 1 unless
    # the type asks for more: its Deserialized.* type name selects the same view).
    param([Parameter(Mandatory)] $InputObject)
    $typeName = $InputObject.GetType().FullName
    $table = (Get-FormatData -TypeName $typeName).FormatViewDefinition.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] }
    $table | Should -Not -BeNullOrEmpty -Because "$typeName needs a table view"
    $labels = @($table.Headers.Label)
    # PowerShell shows a getter's exception as $null; reflection lets it through.
    $given = @($labels | Where-Object {
            $member = $InputObject.PSObject.Properties[$_]
            $name = if ($member -is [System.Management.Automation.PSAliasProperty]) { $member.ReferencedMemberName } else { $_ }
            $property = $InputObject.GetType().GetProperty($name)
            try { if ($property) { $null = $property.GetValue($InputObject) }; $true } catch { $false }
        })
    $shown = $InputObject | Format-Table | Out-String -Width 80
    $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($InputObject, 1))
    $copy.PSObject.TypeNames[0] | Should -Be "Deserialized.$typeName"
    foreach ($form in @{ Object = $InputObject; Name = $typeName }, @{ Object = $copy; Name = "Deserialized.$typeName" }) {
        $text = $form.Object | Format-Table | Out-String -Width 80
        foreach ($line in $text -split '\r?\n') {
            $line.Length | Should -BeLessOrEqual 80 -Because "the $($form.Name) view fits 80 columns: $line"
        }
        # Only the last column, unsized, may be cut short (a long path): it is the one that takes what is left.
        $text | Should -Not -Match '…(?!\s*$)' -Because "no column but the last of the $($form.Name) view is cut short at 80 columns: $text"
        foreach ($label in $labels) {
            # A closed object has no value for some (a closed pipe's Capacity): the view shows none, and there is none
            # to serialize.
            if ($form.Object -eq $copy -and $label -notin $given) { continue }
            $label | Should -BeIn $form.Object.PSObject.Properties.Name -Because "the $label column of the $($form.Name) view is a property"
            $text | Should -Match "(?m)^.*\b$([regex]::Escape($label))\b" -Because "the $($form.Name) view shows its $label column at 80 columns"
        }
        $text | Should -Be $shown -Because "the $($form.Name) view shows what the live object's does"
        ($form.Object | Out-String -Width 80) | Should -Be $shown -Because "the $($form.Name) view is what PowerShell shows by default"
    }
}

function Initialize-FdBaseline {
    # Once a process: makes the C library open what it opens on first use and keeps for the life of the process, so
    # no test that happens to be first to use it is blamed for it: mq_notify(SIGEV_THREAD) opens a netlink socket for
    # its helper thread. Where queues cannot be made (no kernel support, no room under RLIMIT_MSGQUEUE) there is
    # nothing to warm: the queue tests say why.
    if ([AppDomain]::CurrentDomain.GetData('SysprogPesterFdBaseline')) { return }
    [AppDomain]::CurrentDomain.SetData('SysprogPesterFdBaseline', $true)
    $name = New-TestName
    try {
        $queue = [Sysprog.MessageQueue]::Create($name, 1, 8)
        try { [Sysprog.MqNotification]::ByThread($queue).Close() } finally { $queue.Dispose() }
    }
    catch [Sysprog.SysprogException] {
    }
    finally {
        Remove-MessageQueueIfPresent $name
    }
}

function Assert-StopsPromptly {
    # The assertion every "stops promptly" test makes: what $Start runs was blocked in the kernel (in one of the
    # system calls $BlockedIn names, and as $IsBlocked says where given) and still running when the pipeline was
    # stopped, and Stop() ended it, in the Stopped state, within a second.
    param([Parameter(Mandatory)][scriptblock] $Start, [Parameter(Mandatory)][string[]] $BlockedIn, [scriptblock] $IsBlocked = { $true })
    $stop = Measure-PipelineStop -Start $Start -BlockedIn $BlockedIn -IsBlocked $IsBlocked
    $stop.Blocked | Should -BeTrue -Because "the command must be blocked in $($BlockedIn -join ' or ') before it is stopped (pipeline threads: $($stop.Seen))"
    $stop.WasRunning | Should -BeTrue
    $stop.Milliseconds | Should -BeLessThan 1000
    $stop.State | Should -Be 'Stopped'
}
