#Requires -Version 7.4
# Invoke-EventLoop: one thread, one epoll set, a script block per handle. The echo server of the course's "single
# threaded, event driven" chapter, run in another process and driven from this one, and the loop's rules in this
# session (handlers add, remove and stop; a closed handle leaves; an error ends the loop; Ctrl+C stops it).
Describe 'Invoke-EventLoop' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'serves an echo server on one thread: clients of another process, a timer, and SIGTERM that ends it' {
        $path = Join-Path ([System.IO.Path]::GetTempPath()) "eventloop-$([guid]::NewGuid().ToString('N')).sock"
        $server = @'
param($ModulePath, $Path)
Import-Module $ModulePath
$listener = New-Socket -Path $Path
$term = New-SignalFd -Signal TERM
$tick = New-TimerFd
$null = Set-TimerFd $tick -DelaySeconds 0.2 -IntervalSeconds 0.2
$script:ticks = 0; $script:echoed = 0; $script:clients = 0
Invoke-EventLoop @{
    $listener = {
        $client = Receive-SocketConnection $_.Handle
        $script:clients++
        $_.Loop.Add($client, {
            $message = Receive-SocketMessage $_.Handle -TimeoutSeconds 0
            if ($message.Length -gt 0) { Send-SocketMessage $_.Handle $message.Data; $script:echoed++ }
            else { $_.Loop.Remove($_.Handle); Close-Socket $_.Handle }
        })
    }
    $tick = { $script:ticks += (Read-TimerFd $_.Handle); "tick $script:ticks" }
    $term = { $signal = Read-SignalFd $_.Handle; "stopped by $($signal.Name) from $($signal.SenderPid)"; $_.Loop.Stop() }
}
"clients=$script:clients echoed=$script:echoed ticks=$script:ticks"
Close-Socket $listener; Close-SignalFd $term; Close-TimerFd $tick
Remove-Item -LiteralPath $Path
'@
        $session = Start-ChildSession -Script $server -ArgumentList $path -BlockSignal TERM
        $child = $session.Child
        try {
            # Its one thread is asleep in epoll_wait: the loop is up, nothing to do.
            Wait-Until { @(Get-BlockedThread -ProcessId $child.ProcessId -Syscall epoll_wait, epoll_pwait -ThreadName 'Pipeline Execut').Count -gt 0 } -TimeoutSeconds 60 |
                Should -BeTrue -Because 'the server starts its loop and waits'

            $clients = foreach ($i in 1..3) { Connect-Socket -Path $path }
            try {
                foreach ($round in 1..2) {
                    foreach ($i in 0..2) { Send-SocketMessage $clients[$i] "client $i round $round" }
                    foreach ($i in 0..2) { (Receive-SocketMessage $clients[$i] -TimeoutSeconds 30).Text | Should -Be "client $i round $round" }
                }
            }
            finally {
                Close-Socket $clients
            }
            # The timer's handler runs on the same thread between clients: three of its lines come through.
            $ticks = @(foreach ($i in 1..3) { Read-FileDescriptor $session.Output -Delimiter "`n" -TimeoutSeconds 30 })
            $ticks | Should -Match '^tick \d+'

            Stop-ChildProcess $child -Signal TERM -Confirm:$false
            $ended = Wait-ChildSession $session
            $text = $ended.Text -replace '(?m)^tick \d+\r?\n', ''
            $ended.ExitCode | Should -Be 0 -Because $text
            $text | Should -Match "stopped by SIGTERM from $PID"
            $text -match 'clients=3 echoed=6 ticks=(\d+)' | Should -BeTrue -Because $text
            [int]$Matches[1] | Should -BeGreaterOrEqual 3
            Test-Path -LiteralPath $path | Should -BeFalse
        }
        finally {
            Stop-ChildSession $session
        }
    }

    It 'calls each ready handle''s script block with $_, writes what handlers write, and stops when one calls Stop()' {
        $a = New-EventFd 1
        $b = New-EventFd
        try {
            $out = Invoke-EventLoop @{
                $a = { "a read $(Read-EventFd $_.Handle)"; Write-EventFd $b 2 }
                $b = { "b read $(Read-EventFd $_.Handle) ($($_.Events))"; $_.Loop.Stop() }
            } -TimeoutSeconds 30
            $out | Should -Be 'a read 1', 'b read 2 (IN)'
        }
        finally {
            Close-EventFd $a, $b
        }
    }

    It 'lets a handler add and remove handles; the loop ends when none is left' {
        $first = New-EventFd 1
        $second = New-EventFd 1
        try {
            $out = Invoke-EventLoop @{
                $first = {
                    $null = Read-EventFd $_.Handle
                    $_.Loop.Remove($_.Handle)
                    $_.Loop.Add($second, { $null = Read-EventFd $_.Handle; "second, added by first; $($_.Loop.Count) in the loop"; $_.Loop.Remove($_.Handle) })
                    "first removed itself"
                }
            } -TimeoutSeconds 30
            $out | Should -Be 'first removed itself', 'second, added by first; 1 in the loop'
        }
        finally {
            Close-EventFd $first, $second
        }
    }

    It 'forgets a handle a handler closed, and ends after -TimeoutSeconds with nothing ready' {
        $closed = New-EventFd 1
        $quiet = New-EventFd
        try {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $out = Invoke-EventLoop @{ $closed = { Close-EventFd $_.Handle; 'closed it' }; $quiet = { 'never' } } -TimeoutSeconds 0.5
            $clock.Stop()
            $out | Should -Be 'closed it'
            $closed.IsClosed | Should -BeTrue
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.45
        }
        finally {
            Close-EventFd $quiet
        }
    }

    It 'ends with the error of a handler that throws, the handles still open' {
        $e = New-EventFd 1
        try {
            { Invoke-EventLoop @{ $e = { throw 'handler failed' } } -TimeoutSeconds 30 } | Should -Throw 'handler failed'
            $e.IsClosed | Should -BeFalse
            Read-EventFd $e -TimeoutSeconds 0 | Should -Be 1
        }
        finally {
            Close-EventFd $e
        }
    }

    It 'refuses a key that is no handle, or a value that is no script block, before any call' {
        $e = New-EventFd
        try {
            $out = Invoke-EventLoop @{ 'text' = {} } -Verbose -ErrorVariable failed -ErrorAction SilentlyContinue 4>&1
            $out | Should -BeNullOrEmpty
            $failed.FullyQualifiedErrorId | Should -Be 'InvalidArgument,Sysprog.PowerShell.Commands.InvokeEventLoopCommand'
            $failed.CategoryInfo.Category | Should -Be InvalidArgument
            $failed.TargetObject | Should -Be 'text'
            $null = Invoke-EventLoop @{ $e = 'not a script block' } -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed.TargetObject | Should -Be $e
        }
        finally {
            Close-EventFd $e
        }
    }

    It 'stops promptly on Ctrl+C while its thread is asleep in epoll_wait' {
        Assert-StopsPromptly -BlockedIn epoll_wait, epoll_pwait -Start {
            param($ps)
            $null = $ps.AddScript('$e = New-EventFd; try { Invoke-EventLoop @{ $e = { "never" } } } finally { Close-EventFd $e }')
        }
    }
}
