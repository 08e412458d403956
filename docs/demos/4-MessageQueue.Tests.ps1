#Requires -Version 7.4
# Screenplay 4: a message queue delivers the highest priority first, and in order within a priority.
Describe 'Message queues: priorities' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:name = New-TestName
        $script:queue = New-MessageQueue -Name $script:name -MaxMessages 10 -MaxMessageSize 256 -ErrorAction Stop
    }

    AfterAll {
        if ($script:queue) { Close-MessageQueue $script:queue }
        Remove-MessageQueueIfPresent $script:name
    }

    It 'takes messages of priorities 0, 5 and 9 in mixed order' {
        'routine 1' | Send-MqMessage -Queue $script:queue -Priority 0
        'urgent 1' | Send-MqMessage -Queue $script:queue -Priority 9
        'routine 2' | Send-MqMessage -Queue $script:queue -Priority 0
        'normal' | Send-MqMessage -Queue $script:queue -Priority 5
        'urgent 2' | Send-MqMessage -Queue $script:queue -Priority 9
        $script:queue.CurrentMessages | Should -Be 5
        Write-Narration 'Sent: routine 1 (0), urgent 1 (9), routine 2 (0), normal (5), urgent 2 (9).'
    }

    It 'hands them out highest priority first, FIFO within a priority' {
        $received = Receive-MqMessage -Queue $script:queue -Count 5
        $received.Text | Should -Be @('urgent 1', 'urgent 2', 'normal', 'routine 1', 'routine 2')
        Write-Narration "Received: $(($received | ForEach-Object { "$($_.Text) ($($_.Priority))" }) -join ', ')."
    }
}
