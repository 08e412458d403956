#Requires -Version 7.4
Describe 'Message queue cmdlets' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:names = [System.Collections.Generic.List[string]]::new()
        function New-Name {
            $n = New-TestName
            $script:names.Add($n)
            $n
        }
        $script:modulePath = (Resolve-Path -LiteralPath $SysprogModulePath).ProviderPath
        $script:mqueueMounted = [Sysprog.MessageQueue]::IsMqueueFsMounted()
    }

    AfterAll {
        foreach ($n in $script:names) {
            Remove-MessageQueueIfPresent $n
        }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'creates a queue with its capacity, and refuses an existing name with MqOpen.EEXIST' {
        $name = New-Name
        $q = New-MessageQueue -Name $name -MaxMessages 5 -MaxMessageSize 256 -ErrorAction Stop
        try {
            $q | Should -BeOfType ([Sysprog.MessageQueue])
            $q.MaxMessages | Should -Be 5
            $q.MaxMessageSize | Should -Be 256
            { New-MessageQueue -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'MqOpen.EEXIST,Sysprog.PowerShell.Commands.NewMessageQueueCommand'
        }
        finally {
            if ($q) { Close-MessageQueue $q }
        }
    }

    It 'sends the pipeline and receives highest priority first, FIFO within a priority' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        'a', 'b' | Send-MqMessage -Queue $name -Priority 1
        'urgent' | Send-MqMessage -Queue $name -Priority 9
        1..3 | Send-MqMessage -Queue $name
        $messages = Receive-MqMessage -Queue $name -Count 6
        $messages.Text | Should -Be @('urgent', 'a', 'b', '1', '2', '3')
        $messages.Priority | Should -Be @(9, 1, 1, 0, 0, 0)
        $messages[0].Queue | Should -Be $name
        $messages[0].Length | Should -Be 6
        Receive-MqMessage -Queue $name | Should -BeNullOrEmpty
    }

    It 'takes an open queue object as -Queue, and raw bytes as a body' {
        $name = New-Name
        $q = New-MessageQueue -Name $name -MaxMessageSize 16
        try {
            Send-MqMessage -Queue $q -InputObject ([byte[]](0, 1, 255))
            (Receive-MqMessage -Queue $q).Body | Should -Be @(0, 1, 255)
        }
        finally {
            $q.Dispose()
        }
    }

    It 'refuses a body larger than the queue takes, naming both sizes' {
        $name = New-Name
        New-MessageQueue -Name $name -MaxMessageSize 8 | Close-MessageQueue
        Send-MqMessage -Queue $name -InputObject 'nine char' -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidArgument,Sysprog.PowerShell.Commands.SendMqMessageCommand'
        $err[0].Exception.Message | Should -BeLike '*9 bytes*at most 8 bytes*'
    }

    It 'round-trips objects with -AsObject' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        [pscustomobject]@{ Id = 7; Tags = 'x', 'y' } | Send-MqMessage -Queue $name -AsObject
        $object = Receive-MqMessage -Queue $name -AsObject
        $object.Id | Should -Be 7
        $object.Tags | Should -Be @('x', 'y')
    }

    It 'reports a body that is not CLIXML as an error on that message alone, and goes on with the next' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        Send-MqMessage -Queue $name -InputObject 'plain text'
        42 | Send-MqMessage -Queue $name -AsObject
        $objects = Receive-MqMessage -Queue $name -Count 2 -AsObject -ErrorAction SilentlyContinue -ErrorVariable err
        $objects | Should -Be 42
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'NotClixml,Sysprog.PowerShell.Commands.ReceiveMqMessageCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject.Text | Should -Be 'plain text'
    }

    It 'reports an input that cannot be made into a message as an error on that input, and sends the rest' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        $broken = [pscustomobject]@{ Id = 1 } | Add-Member -MemberType ScriptMethod -Name ToString -Value { throw 'no text for this one' } -Force -PassThru
        'first', $broken, 'last' | Send-MqMessage -Queue $name -ErrorAction SilentlyContinue -ErrorVariable err
        (Receive-MqMessage -Queue $name -Count 2).Text | Should -Be @('first', 'last')
        Receive-MqMessage -Queue $name | Should -BeNullOrEmpty
        Receive-MqMessage -Queue $name -TimeoutSeconds 0 | Should -BeOfType ([Sysprog.WouldBlock])
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'NotSerializable,Sysprog.PowerShell.Commands.SendMqMessageCommand'
        $err[0].Exception.Message | Should -BeLike '*no text for this one*'
        $err[0].TargetObject.Id | Should -Be 1
    }

    It 'decodes with -Encoding' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        Send-MqMessage -Queue $name -InputObject 'héllo' -Encoding unicode
        $message = Receive-MqMessage -Queue $name -Encoding unicode
        $message.Text | Should -Be 'héllo'
        $message.Length | Should -Be 10
    }

    It 'reports a receive that times out as OperationTimeout, and a send to a full queue likewise' {
        $name = New-Name
        New-MessageQueue -Name $name -MaxMessages 1 | Close-MessageQueue
        Receive-MqMessage -Queue $name -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        'one' | Send-MqMessage -Queue $name
        'two' | Send-MqMessage -Queue $name -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable err2
        $err2[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.SendMqMessageCommand'
    }

    It 'sets O_NONBLOCK with Set-MessageQueue' {
        $q = New-MessageQueue -Name (New-Name) -MaxMessages 1 -ErrorAction Stop
        try {
            Set-MessageQueue $q -NonBlocking
            $q.IsNonBlocking | Should -BeTrue
            Set-MessageQueue $q -NonBlocking:$false
            $q.IsNonBlocking | Should -BeFalse
        }
        finally {
            if ($q) { Close-MessageQueue $q }
        }
    }

    It 'lists queues with their counts' {
        if (-not $script:mqueueMounted) {
            Set-ItResult -Skipped -Because 'the mqueue filesystem is not mounted on /dev/mqueue'
            return
        }
        $name = New-Name
        New-MessageQueue -Name $name -MaxMessages 4 | Close-MessageQueue
        'x', 'yy' | Send-MqMessage -Queue $name
        $info = Get-MessageQueue -Name $name
        $info.CurrentMessages | Should -Be 2
        $info.MaxMessages | Should -Be 4
        $info.QueueBytes | Should -Be 3
        $info | Remove-MessageQueue -Confirm:$false
        Get-MessageQueue -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'streams with -Wait until -Count, from concurrent producer jobs, losing nothing' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        $producer = {
            param($ModulePath, $Name, $Id)
            Import-Module $ModulePath
            1..50 | ForEach-Object { "$Id-$_" } | Send-MqMessage -Queue $Name -TimeoutSeconds 60
        }
        $jobs = 1..3 | ForEach-Object { Start-Job -ScriptBlock $producer -ArgumentList $script:modulePath, $name, $_ }
        $received = Receive-MqMessage -Queue $name -Wait -Count 150 -TimeoutSeconds 120
        $jobs | Wait-Job -Timeout 120 | Receive-Job -ErrorAction Stop
        $jobs | Remove-Job
        # Job objects hold their processes' pipes while they live: let go of them, so the leak check sees them closed.
        $jobs = $null
        $received.Count | Should -Be 150
        ($received.Text | Sort-Object -Unique).Count | Should -Be 150
        foreach ($id in 1..3) {
            $sequence = @($received.Text | Where-Object { $_ -like "$id-*" } | ForEach-Object { [int]($_ -split '-')[1] })
            $sequence | Should -Be (1..50)
        }
    }

    It 'raises MessageReceived for Register-ObjectEvent while watching' {
        $name = New-Name
        $q = New-MessageQueue -Name $name
        try {
            $null = Register-ObjectEvent -InputObject $q -EventName MessageReceived -SourceIdentifier "mq-$name"
            $q.StartWatching()
            'ping' | Send-MqMessage -Queue $name
            $arrived = Wait-Event -SourceIdentifier "mq-$name" -Timeout 10
            $arrived.SourceEventArgs.Message.Text | Should -Be 'ping'
        }
        finally {
            Unregister-Event -SourceIdentifier "mq-$name" -ErrorAction SilentlyContinue
            Remove-Event -SourceIdentifier "mq-$name" -ErrorAction SilentlyContinue
            $q.Dispose()
        }
    }

    It 'stops a blocked Receive-MqMessage -Wait promptly when the pipeline is stopped' {
        $name = New-Name
        New-MessageQueue -Name $name | Close-MessageQueue
        Assert-StopsPromptly -Start { param($ps) $null = $ps.AddCommand('Receive-MqMessage').AddParameter('Queue', $name).AddParameter('Wait', $true).AddParameter('Verbose', $true) } `
            -BlockedIn poll, ppoll
    }
}
