#Requires -Version 7.4
<#
.SYNOPSIS
    The single-threaded event loop of the course, in PowerShell: one wait serves a timer, an eventfd and a message queue.

.DESCRIPTION
    Every second the timer fires; other sessions wake the loop through the eventfd (Write-EventFd) or send work
    through the queue (Send-MqMessage -Queue /loop-jobs). Wait-FileDescriptor blocks on all three at once (epoll)
    and returns the ready ones; Ctrl+C ends the loop at once, and the finally block releases everything.

.EXAMPLE
    ./event-loop.ps1 -Seconds 10
    # in another session:  Send-MqMessage -Queue /loop-jobs -InputObject 'hello'
#>
param(
    [ValidateRange(1, 3600)]
    [int] $Seconds = 10,

    [string] $QueueName = '/loop-jobs'
)

Import-Module Sysprog -ErrorAction Stop

$timer = New-TimerFd -Clock Monotonic
$wakeup = New-EventFd
$queue = New-MessageQueue -Name $QueueName -MaxMessages 10 -MaxMessageSize 1024
try {
    Set-TimerFd $timer -DelaySeconds 1 -IntervalSeconds 1
    Write-EventFd $wakeup -Value 1
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $ready = Wait-FileDescriptor -InputObject $timer, $wakeup, $queue -TimeoutSeconds 5 -ErrorAction SilentlyContinue
        foreach ($item in $ready) {
            switch ($item.Handle) {
                { $_ -is [Sysprog.TimerFd] } { "tick: $(Read-TimerFd $timer -TimeoutSeconds 0) expiration(s)" }
                { $_ -is [Sysprog.EventFd] } { "woken $(Read-EventFd $wakeup -TimeoutSeconds 0) time(s)" }
                { $_ -is [Sysprog.MessageQueue] } { Receive-MqMessage -Queue $queue | ForEach-Object { "job [$($_.Priority)]: $($_.Text)" } }
            }
        }
    }
}
finally {
    Close-TimerFd $timer
    Close-EventFd $wakeup
    Close-MessageQueue $queue
    Remove-MessageQueue -Name $QueueName -Confirm:$false
}
