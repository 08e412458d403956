#Requires -Version 7.4
# mq_notify from pwsh: a registration as a PowerShell event source across processes, one notification per arming,
# re-arming, the signal way, EBUSY for a second registration, and the end of the registration on close.
Describe 'New-, Enable-, Close-MqNotification' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # Whether a registration on the queue stands, in the kernel's word: mq_notify is EBUSY while any process is
        # registered, and only this one registers here. A probe that gets the registration gives it up at once. NOTIFY_PID
        # in /dev/mqueue would say the same, but the mqueue filesystem is not mounted everywhere.
        function Test-RegistrationStand([Sysprog.MessageQueue] $Queue) {
            $probe = New-MqNotification $Queue -ErrorAction SilentlyContinue -ErrorVariable busy
            if ($probe) {
                Close-MqNotification $probe
                return $false
            }
            if ($busy[0].FullyQualifiedErrorId -notlike 'MqNotify.EBUSY,*') { throw $busy[0] }
            $true
        }
        function Send-FromAnotherProcess([string] $Name, [string] $Text) { & dotnet $SysprogCliPath mq send $Name $Text; $LASTEXITCODE | Should -Be 0 }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
        $script:name = New-TestName
        $script:queue = New-MessageQueue -Name $script:name -MaxMessages 4 -MaxMessageSize 64 -ErrorAction Stop
    }

    AfterEach {
        Get-EventSubscriber | Unregister-Event
        Get-Event | Remove-Event
        if ($script:queue) { Close-MessageQueue $script:queue }
        Remove-TestObjectAll
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'raises Notified as a PowerShell event when another process sends to the empty queue, once per arming (<_>)' -ForEach @('thread', 'USR1') {
        $notification = if ($_ -eq 'thread') { New-MqNotification $script:queue } else { New-MqNotification $script:queue -Signal $_ }
        try {
            $null = Register-ObjectEvent -InputObject $notification -EventName Notified -SourceIdentifier mq
            Test-RegistrationStand $script:queue | Should -BeTrue

            Send-FromAnotherProcess $script:name 'one'
            $first = Wait-Event -SourceIdentifier mq -Timeout 10
            $first | Remove-Event

            $first.SourceEventArgs.Sequence | Should -Be 1
            $first.SourceEventArgs.QueueName | Should -Be $script:name
            Test-RegistrationStand $script:queue | Should -BeFalse -Because 'telling ends the registration'
            $notification.IsArmed | Should -BeFalse
            (Receive-MqMessage -Queue $script:queue -TimeoutSeconds 0).Text | Should -Be 'one'

            Enable-MqNotification $notification -PassThru | Should -Be $notification
            Send-FromAnotherProcess $script:name 'two'
            (Wait-Event -SourceIdentifier mq -Timeout 10).SourceEventArgs.Sequence | Should -Be 2
        }
        finally {
            Close-MqNotification $notification
        }
    }

    It 'refuses a second registration with EBUSY, and Close ends the first' {
        $notification = New-MqNotification $script:queue

        New-MqNotification $script:queue -ErrorAction SilentlyContinue -ErrorVariable busy
        Close-MqNotification $notification -Verbose 4>&1 | Select-SyscallLine | Should -BeLike 'mq_notify(*, NULL) = 0'

        $busy[0].FullyQualifiedErrorId | Should -BeLike 'MqNotify.EBUSY,*'
        $busy[0].Exception.Message | Should -BeLike '*This process is registered already*'
        Test-RegistrationStand $script:queue | Should -BeFalse
    }

    It 'is listed by Get-MessageQueue without ending the registration' {
        if (-not [Sysprog.MessageQueue]::IsMqueueFsMounted()) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $notification = New-MqNotification $script:queue
        try {
            (Get-MessageQueue $script:name).NotifyProcessId | Should -Be $PID
            Test-RegistrationStand $script:queue | Should -BeTrue
        }
        finally {
            Close-MqNotification $notification
        }
    }
}
