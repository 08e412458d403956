#Requires -Version 7.4
# Screenplay 11: the alternative I/O models. A non-blocking read that has nothing to read says "would block"
# instead of waiting; poll(2) is handed every descriptor at every call, epoll registers them once; level-triggered
# epoll reports what is ready at every wait, edge-triggered only when something changes, one-shot once until
# re-armed; signal-driven I/O has the kernel send a signal when a descriptor becomes ready; and an event loop serves
# many clients and a timer on one thread.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'I/O models: non-blocking, poll and epoll, edge and one-shot, signal-driven, an event loop' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # Everything a step opens, closed in AfterAll even when a step fails half-way.
        $script:opened = [System.Collections.Generic.List[System.IDisposable]]::new()
        function Open-Demo([Parameter(Mandatory)] $Handle) {
            $script:opened.Add($Handle)
            $Handle
        }
        # The strace-style lines of a -Verbose stream merged with 4>&1 (not PowerShell's "Performing the operation").
        function Select-Call([Parameter(ValueFromPipeline)] $Record) {
            process { if ($Record -is [System.Management.Automation.VerboseRecord] -and $Record.Message -match '^\w+\(.*\) = ') { $Record.Message } }
        }
        $script:sessions = [System.Collections.Generic.List[object]]::new()
        $script:socketPath = Join-Path ([System.IO.Path]::GetTempPath()) "sysprog-demo-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 8)).sock"
    }

    AfterAll {
        foreach ($session in $script:sessions) { Stop-ChildSession $session }
        # The server removes its socket file when it stops; a server killed half-way cannot.
        if (Test-Path -LiteralPath $script:socketPath) { Remove-Item -LiteralPath $script:socketPath }
        for ($i = $script:opened.Count - 1; $i -ge 0; $i--) { $script:opened[$i].Dispose() }
    }

    It 'reads an empty non-blocking pipe: a WouldBlock record at once, not an error and not a wait' {
        $pipe = Open-Demo (New-Pipe -NonBlocking)
        $records = @(Read-FileDescriptor $pipe -Verbose -ErrorVariable failed 4>&1)

        $failed | Should -BeNullOrEmpty
        $blocked = $records | Where-Object { $_ -is [Sysprog.WouldBlock] }
        $blocked.Errno | Should -Be 'EAGAIN'
        $blocked.Operation | Should -Be 'read'
        $call = @($records | Select-Call)
        $call | Should -Be "read($($pipe.ReadEnd.Fd), ..., 65536) = -1 EAGAIN (Resource temporarily unavailable)"
        Write-Narration "$call"
        Write-Narration 'O_NONBLOCK: the read returned at once with EAGAIN, which the module writes as a WouldBlock record, not an error.'

        Write-FileDescriptor $pipe 'now there is data'
        Read-FileDescriptor $pipe | Should -Be "now there is data`n"
        Write-Narration 'Once something is written, the same read returns it.'
    }

    It 'finds the same two ready eventfds of five with poll and with epoll; poll is handed all five every time' {
        $handles = @(1..5 | ForEach-Object { Open-Demo (New-EventFd) })
        Write-EventFd $handles[1]
        Write-EventFd $handles[3]

        $byPoll = @(Wait-FileDescriptor $handles -Mechanism Poll -TimeoutSeconds 5 -Verbose 4>&1)
        $set = Open-Demo (New-PollSet $handles)
        $byEpoll = @(Wait-PollSet $set -TimeoutSeconds 5 -Verbose 4>&1)

        ($byPoll | Where-Object { $_ -is [Sysprog.ReadyHandle] }).Index | Should -Be 1, 3
        ($byEpoll | Where-Object { $_ -is [Sysprog.ReadyHandle] }).Index | Should -Be 1, 3
        $pollCall = @($byPoll | Select-Call) -match '^poll\('
        $epollCall = @($byEpoll | Select-Call)
        foreach ($handle in $handles) { "$pollCall" | Should -BeLike "*{fd=$($handle.Fd), events=POLLIN*" }
        $epollCall | Should -HaveCount 1
        $epollCall | Should -Match "^epoll_wait\($($set.Fd), \[\{events=EPOLLIN, data=1\}, \{events=EPOLLIN, data=3\}\], "
        Write-Narration "poll: $pollCall"
        Write-Narration "epoll: $epollCall"
        Write-Narration 'poll copies the whole list in (the five, and the eventfd that Ctrl+C wakes) and scans it at every call, so its cost grows with the list; epoll_wait names only the ready members of a set registered once with epoll_ctl.'
    }

    It 'reports a ready pipe at every wait when level-triggered, and only once when edge-triggered, until more arrives' {
        $pipe = Open-Demo (New-Pipe -NonBlocking)
        $level = Open-Demo (New-PollSet $pipe.ReadEnd)
        $edge = Open-Demo (New-PollSet)
        $null = Add-PollSetMember $edge $pipe.ReadEnd -EdgeTriggered
        Write-FileDescriptor $pipe '0123456789' -NoNewline

        (Wait-PollSet $level -TimeoutSeconds 5).Events | Should -Be 'IN'
        (Wait-PollSet $level -TimeoutSeconds 0).Events | Should -Be 'IN'
        Write-Narration 'Level-triggered: the unread pipe is reported at every wait.'

        (Wait-PollSet $edge -TimeoutSeconds 5).Events | Should -Be 'IN'
        Read-FileDescriptor $pipe -Count 1 | Should -Be '0'
        Wait-PollSet $edge -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable quiet | Should -BeNullOrEmpty
        $quiet[0].Exception | Should -BeOfType [System.TimeoutException]
        Write-Narration 'Edge-triggered (EPOLLET): reported once; after reading 1 byte of 10 the next wait times out, though 9 bytes wait.'

        $drained = @(while (($piece = Read-FileDescriptor $pipe) -isnot [Sysprog.WouldBlock]) { $piece })
        $drained -join '' | Should -Be '123456789'
        Write-FileDescriptor $pipe 'more'
        (Wait-PollSet $edge -TimeoutSeconds 5).Events | Should -Be 'IN'
        Write-Narration 'The rule: read until WouldBlock. New data is a new edge, and the wait reports the pipe again.'
    }

    It 'reports a one-shot member once, and again only after Set-PollSetMember re-arms it (EPOLL_CTL_MOD)' {
        $wakeup = Open-Demo (New-EventFd -InitialValue 1)
        $set = Open-Demo (New-PollSet)
        $null = Add-PollSetMember $set $wakeup -OneShot

        (Wait-PollSet $set -TimeoutSeconds 5).Handle | Should -Be $wakeup
        Wait-PollSet $set -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $wakeup.Count | Should -Be 1
        Write-Narration 'EPOLLONESHOT: reported once, then disabled although the eventfd still holds 1.'

        $rearm = @(Set-PollSetMember $set $wakeup -OneShot -Verbose 4>&1 | Select-Call)
        (Wait-PollSet $set -TimeoutSeconds 5).Handle | Should -Be $wakeup
        $rearm | Should -Be "epoll_ctl($($set.Fd), EPOLL_CTL_MOD, $($wakeup.Fd), {events=EPOLLIN|EPOLLONESHOT, data=0}) = 0"
        Write-Narration "$rearm re-armed it: the next wait reports it again. One thread of many gets each event, the pattern of a thread pool."
    }

    It 'sends SIGIO when a signal-driven pipe becomes readable; the signalfd record names the descriptor and the band' {
        # A child session started with SIGIO blocked: its signalfd is the kernel's, and carries the siginfo.
        $script = @'
param($ModulePath)
Import-Module $ModulePath
$signals = New-SignalFd -Signal IO
$p = New-Pipe
Set-FileDescriptor $p.ReadEnd -SignalDriven $true
"before the write: $((Read-SignalFd $signals -TimeoutSeconds 0).GetType().Name)"
Write-FileDescriptor $p.WriteEnd 'ready'
$r = Read-SignalFd $signals -TimeoutSeconds 30
"signal=$($r.Name) fd=$($r.Fd) readEnd=$($p.ReadEnd.Fd) code=$($r.CodeName) band=$($r.BandName)"
Close-Pipe $p; Close-SignalFd $signals
'@
        $session = Start-ChildSession -Script $script -BlockSignal IO
        $script:sessions.Add($session)
        $ended = Wait-ChildSession $session

        $ended.ExitCode | Should -Be 0 -Because $ended.Text
        $ended.Text | Should -Match 'before the write: WouldBlock'
        $ended.Text -match 'signal=SIGIO fd=(\d+) readEnd=(\d+) code=POLL_IN band=(\S+)' | Should -BeTrue -Because $ended.Text
        $Matches[1] | Should -Be $Matches[2]
        $Matches[3] | Should -Be 'POLLIN|POLLRDNORM'
        Write-Narration "Child pid $($session.Child.ProcessId): O_ASYNC with F_SETOWN_EX and F_SETSIG; no signal before the write, then SIGIO for fd $($Matches[1]), band $($Matches[3])."
    }

    It 'serves three clients and a timer on one thread with Invoke-EventLoop, driven from this session, until SIGTERM' {
        $path = $script:socketPath
        $server = @'
param($ModulePath, $Path)
Import-Module $ModulePath
$listener = New-Socket -Path $Path
$term = New-SignalFd -Signal TERM
$tick = New-TimerFd
$null = Set-TimerFd $tick -DelaySeconds 0.2 -IntervalSeconds 0.2
$script:echoed = 0
Invoke-EventLoop @{
    $listener = {
        $client = Receive-SocketConnection $_.Handle
        $_.Loop.Add($client, {
            $message = Receive-SocketMessage $_.Handle -TimeoutSeconds 0
            if ($message.Length -gt 0) { Send-SocketMessage $_.Handle $message.Data; $script:echoed++ }
            else { $_.Loop.Remove($_.Handle); Close-Socket $_.Handle }
        })
    }
    $tick = { $null = Read-TimerFd $_.Handle; "tick" }
    $term = { "stopped by $((Read-SignalFd $_.Handle).Name); echoed=$script:echoed"; $_.Loop.Stop() }
}
Close-Socket $listener; Close-SignalFd $term; Close-TimerFd $tick
Remove-Item -LiteralPath $Path
'@
        $session = Start-ChildSession -Script $server -ArgumentList $path -BlockSignal TERM
        $script:sessions.Add($session)
        $child = $session.Child
        # Its one thread asleep in epoll_wait: the loop is up, with nothing to do.
        Wait-Until { @(Get-BlockedThread -ProcessId $child.ProcessId -Syscall epoll_wait, epoll_pwait, epoll_pwait2 -ThreadName 'Pipeline Execut').Count -gt 0 } -TimeoutSeconds 60 |
            Should -BeTrue -Because 'the server starts its loop and waits'
        Write-Narration "Server pid $($child.ProcessId): one thread asleep in epoll_wait over a listening socket, a timerfd and a signalfd."

        $clients = @(foreach ($i in 1..3) { Open-Demo (Connect-Socket -Path $path) })
        foreach ($i in 0..2) { Send-SocketMessage $clients[$i] "hello from client $i" }
        foreach ($i in 0..2) { (Receive-SocketMessage $clients[$i] -TimeoutSeconds 30).Text | Should -Be "hello from client $i" }
        Write-Narration 'Three clients connected and each got its own message back: the loop accepted them and added each to its set.'

        Read-FileDescriptor $session.Output -Delimiter "`n" -TimeoutSeconds 30 | Should -Match '^tick'
        Write-Narration 'Between clients the same thread ran the timer''s handler: "tick".'

        Stop-ChildProcess $child -Signal TERM -Confirm:$false
        $ended = Wait-ChildSession $session
        $ended.ExitCode | Should -Be 0 -Because $ended.Text
        $ended.Text | Should -Match 'stopped by SIGTERM; echoed=3'
        Test-Path -LiteralPath $path | Should -BeFalse
        Write-Narration 'SIGTERM arrived as one more ready descriptor (its signalfd): the handler stopped the loop, and the server closed everything and removed its socket file.'
    }
}
