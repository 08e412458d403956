#Requires -Version 7.4
# A failure at a resource limit is an errno error that names the object and the limit, and leaves the object as it
# was. The limits are lowered in a child session only (never in this one): RLIMIT_NOFILE with its descriptors used
# up, RLIMIT_NPROC at 1 as a user other than root, which the kernel exempts from it.
Describe 'failures at a resource limit, in a child session' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:asRoot = (& id -u) -eq '0'
        $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
        $script:pwshHome = $PSHOME
        $script:readable = $null
        if ($script:asRoot) {
            # As nobody: copies of the module and of pwsh it may read, since the checkout may sit in a folder only
            # root may enter (mktemp -d) and the PowerShell dotnet tool lives under root's home.
            $script:readable = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-pester-limits-$PID"
            Copy-Item -LiteralPath (Split-Path $script:modulePath) -Destination $script:readable -Recurse
            Copy-Item -LiteralPath $PSHOME -Destination "$script:readable/pwsh" -Recurse
            & chmod -R a+rX $script:readable
            $script:modulePath = Join-Path $script:readable (Split-Path -Leaf $script:modulePath)
            $script:pwshHome = "$script:readable/pwsh"
        }

        function Invoke-ChildSession {
            # Runs $Command in a new pwsh with the module imported, as nobody when this session is root; returns
            # its output lines.
            param([Parameter(Mandatory)][string] $Command)
            $pwsh = Get-PwshCommand -PowerShellHome $script:pwshHome
            $drop = if ($script:asRoot) { @('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env') } else { @('env') }
            $program, $arguments = @($drop) + 'HOME=/tmp' + $pwsh
            & $program @arguments -NoProfile -NonInteractive -Command "Import-Module '$script:modulePath'; $Command" 2>&1 | ForEach-Object { "$_" }
        }
    }

    AfterAll {
        if ($script:readable) {
            Remove-Item -LiteralPath $script:readable -Recurse -Force
        }
    }

    It 'names EMFILE and RLIMIT_NOFILE when New-Inotify and New-SignalFd find no descriptor free' {
        $output = Invoke-ChildSession @'
Set-ProcessLimit -Resource NoFile -Soft 256 -Force -Confirm:$false
$held = [System.Collections.Generic.List[object]]::new()
try { while ($true) { $held.Add([System.IO.File]::OpenRead('/dev/null')) } } catch { }
New-Inotify -ErrorAction SilentlyContinue -ErrorVariable inotify
New-SignalFd -Signal USR1 -ErrorAction SilentlyContinue -ErrorVariable signalfd
$held | ForEach-Object Dispose
"inotify: $($inotify[0].FullyQualifiedErrorId) | $($inotify[0].Exception.Message)"
"signalfd: $($signalfd[0].FullyQualifiedErrorId) | $($signalfd[0].Exception.Message)"
'@
        $inotify = "$($output -like 'inotify: *')"
        $inotify | Should -BeLike 'inotify: InotifyInit1.EMFILE,*| inotify_init1(inotify) failed: EMFILE*RLIMIT_NOFILE (ulimit -n) is 256*'
        $signalfd = "$($output -like 'signalfd: *')"
        $signalfd | Should -BeLike 'signalfd: *.EMFILE,*| *(signalfd) failed: EMFILE*RLIMIT_NOFILE (ulimit -n) is 256*'
    }

    It 'names EAGAIN and RLIMIT_NPROC when no thread can start, and a queue that could not start watching is not watching' {
        $name = New-TestName
        try {
            $output = Invoke-ChildSession @"
`$queue = New-MessageQueue '$name'
Set-ProcessLimit -Resource NProc -Soft 1 -Force -Confirm:`$false
Measure-TimerLatency -Count 3 -ErrorAction SilentlyContinue -ErrorVariable latency
"latency: `$(`$latency[0].FullyQualifiedErrorId) | `$(`$latency[0].Exception.Message)"
try { `$queue.StartWatching() } catch { "watch: `$(`$_.Exception.InnerException.GetType().Name) | `$(`$_.Exception.InnerException.Message)" }
"watching: `$(`$queue.IsWatching)"
try { `$queue.Dispose(); "closed: `$(`$queue.IsClosed)" } catch { "dispose failed: `$_" }
"@
            "$($output -like 'latency: *')" | Should -BeLike 'latency: PthreadCreate.EAGAIN,*| pthread_create(timer latency thread) failed: EAGAIN*RLIMIT_NPROC (ulimit -u) is 1 *'
            "$($output -like 'watch: *')" | Should -BeLike "watch: SysprogException | pthread_create(watcher of $name) failed: EAGAIN*RLIMIT_NPROC*"
            $output | Should -Contain 'watching: False'
            $output | Should -Contain 'closed: True'
        }
        finally {
            Remove-MessageQueueIfPresent $name
        }
    }
}
