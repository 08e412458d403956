#Requires -Version 7.4
# Screenplay 5: one thread serves a timer, an eventfd and a message queue with a single wait (epoll).
Describe 'fd events: one wait over a timer, an eventfd and a queue' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:name = New-TestName
        $script:timer = New-TimerFd
        $script:wakeup = New-EventFd
        $script:queue = New-MessageQueue -Name $script:name -MaxMessages 4 -MaxMessageSize 64 -ErrorAction Stop
    }

    AfterAll {
        Close-TimerFd $script:timer
        Close-EventFd $script:wakeup
        if ($script:queue) { Close-MessageQueue $script:queue }
        Remove-MessageQueueIfPresent $script:name
    }

    It 'sees nothing ready before anything happens' {
        @(Wait-FileDescriptor $script:timer, $script:wakeup, $script:queue -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable waited).Count | Should -Be 0
        # Nothing ready is a timeout, and only that: any other error would mean the wait never happened.
        @($waited).Count | Should -Be 1
        $waited[0].Exception | Should -BeOfType [System.TimeoutException]
        $waited[0].Exception.Message | Should -BeLike 'None of the 3 handles was ready within*'
        Write-Narration 'epoll_wait timed out: no descriptor is ready.'
    }

    It 'reports exactly what became ready: the eventfd, then the queue, then the timer' {
        Write-EventFd $script:wakeup -Value 3
        (Wait-FileDescriptor $script:timer, $script:wakeup, $script:queue -TimeoutSeconds 5).Handle | Should -Be $script:wakeup
        Read-EventFd $script:wakeup -TimeoutSeconds 0 | Should -Be 3
        Write-Narration 'The eventfd was ready; reading it gave 3 and reset it.'

        'job' | Send-MqMessage -Queue $script:queue
        (Wait-FileDescriptor $script:timer, $script:wakeup, $script:queue -TimeoutSeconds 5).Handle | Should -Be $script:queue
        (Receive-MqMessage -Queue $script:queue).Text | Should -Be 'job'
        Write-Narration 'The queue was ready; it held "job".'

        Set-TimerFd $script:timer -DelaySeconds 0.05
        (Wait-FileDescriptor $script:timer, $script:wakeup, $script:queue -TimeoutSeconds 5).Handle | Should -Be $script:timer
        Read-TimerFd $script:timer -TimeoutSeconds 0 | Should -Be 1
        Write-Narration 'The timer expired once, 50 ms after it was armed.'
    }
}
