#Requires -Version 7.4
# Choosing an IPC mechanism from pwsh: each mechanism measured against a pwsh peer, the figures consistent and the
# trade-offs as the kernel has them, a mechanism that fails an error of its own while the others are measured,
# Ctrl+C ending the run with the peer killed, and nothing left behind. The figures themselves are the machine's.
Describe 'Measure-IpcMechanism' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')

        function Get-OurIpcName {
            # What a measurement by this session names: queues and shared memory, and the FIFOs' private folders.
            $mine = "sysprog-ipc-$PID-*"
            @(Get-ChildItem /dev/shm, /dev/mqueue -Filter $mine -ErrorAction SilentlyContinue) +
                @(Get-ChildItem ([IO.Path]::GetTempPath()) -Directory -Filter 'sysprog-ipc-*' | Where-Object { Test-Path (Join-Path $_.FullName 'request') }) |
                ForEach-Object FullName | Sort-Object
        }

        function Get-PeerProcess {
            # This session's children that run the core's peer.
            foreach ($entry in Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$') {
                try {
                    $status = [IO.File]::ReadAllText("/proc/$($entry.Name)/status")
                    $command = [IO.File]::ReadAllText("/proc/$($entry.Name)/cmdline")
                }
                catch { continue }
                if ($status -match "(?m)^PPid:\s+$PID$" -and $command.Contains('ServePeer')) { [int]$entry.Name }
            }
        }
        $script:namesBefore = Get-OurIpcName
    }

    AfterAll {
        Get-OurIpcName | Should -Be $script:namesBefore
    }

    It 'measures each mechanism asked for, in order, against a pwsh peer that is gone afterwards' {
        $verbose = $null
        $measured = @(Measure-IpcMechanism Signal, Pipe, SharedMemory, Fifo -RoundTrips 100 -Messages 1000 -Verbose 4>&1 |
            Tee-Object -Variable all | Where-Object { $_ -is [Sysprog.IpcMeasurement] })
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)

        $measured.Mechanism | Should -Be 'Signal', 'Pipe', 'SharedMemory', 'Fifo'
        foreach ($m in $measured) {
            $m.RoundTrips | Should -Be 100
            $m.RoundTripMinimumMicroseconds | Should -BeGreaterThan 0
            $m.RoundTripMedianMicroseconds | Should -BeGreaterOrEqual $m.RoundTripMinimumMicroseconds
            $m.RoundTripP99Microseconds | Should -BeGreaterOrEqual $m.RoundTripMedianMicroseconds
            $m.MedianUs | Should -Be $m.RoundTripMedianMicroseconds
            $m.PeerProcessId | Should -Not -Be $PID
            Test-Path "/proc/$($m.PeerProcessId)" | Should -BeFalse -Because 'the peer ended and was reaped'
        }
        # The peer is a pwsh like this one running the core's peer, one per mechanism.
        @($verbose | Where-Object { $_ -like 'posix_spawnp(*ServePeer*' }).Count | Should -Be 4
        $verbose | Should -Contain '300 round trips and 1000 one-way messages over Pipe, not narrated one by one'
        $verbose | Should -Contain '300 round trips and 0 one-way messages over Signal, not narrated one by one'
        # A signal carries no data; the others moved every message one way.
        $measured[0].MessagesPerSecond | Should -BeNullOrEmpty
        foreach ($m in $measured[1..3]) {
            $m.Messages | Should -Be 1000
            $m.BytesPerSecond | Should -BeGreaterThan 0
            [math]::Abs($m.BytesPerSecond - $m.MessagesPerSecond * 64) | Should -BeLessThan 1
        }
    }

    It 'pins both processes to the last CPU this session may use, unless told another or none' {
        $last = ((Get-ProcessScheduling).Affinity | Measure-Object -Maximum).Maximum
        (Measure-IpcMechanism EventFd -RoundTrips 5 -Messages 5).Cpu | Should -Be $last
        (Measure-IpcMechanism EventFd -RoundTrips 5 -Messages 5 -Cpu 0).Cpu | Should -Be 0
        (Measure-IpcMechanism EventFd -RoundTrips 5 -Messages 5 -AnyCpu).Cpu | Should -BeNullOrEmpty
    }

    It 'states the trade-offs as the kernel has them' {
        $traits = [Sysprog.IpcMechanism].GetEnumValues() | ForEach-Object { [Sysprog.IpcMechanismTraits]::Of($_) }
        ($traits | Where-Object PassesDescriptors).Mechanism | Should -Be 'UnixStream', 'UnixDatagram'
        ($traits | Where-Object HasPriorities).Mechanism | Should -Be 'MessageQueue'
        ($traits | Where-Object CrossesHosts).Mechanism | Should -Be 'Tcp', 'Udp'
        ($traits | Where-Object { -not $_.CarriesData }).Mechanism | Should -Be 'EventFd', 'Signal'
        ($traits | Where-Object Lifetime -EQ 'kernel').Mechanism | Should -Be 'MessageQueue', 'SharedMemory'
    }

    It 'reports a mechanism that cannot be measured as an error of its own, and measures the others' {
        # RLIMIT_MSGQUEUE of 0 refuses every queue (root too: the limit has no capability bypass); in a child session,
        # never in this one.
        $session = Start-ChildSession @'
Import-Module $args[0]
Set-ProcessLimit -Resource MsgQueue -Soft 0 -Force | Out-Null
$measured = Measure-IpcMechanism Pipe, MessageQueue, EventFd -RoundTrips 5 -Messages 5 -ErrorVariable failed -ErrorAction SilentlyContinue
foreach ($m in $measured) { "measured`t$($m.Mechanism)" }
foreach ($e in $failed) { "failed`t$($e.TargetObject)`t$($e.FullyQualifiedErrorId)`t$($e.CategoryInfo.Category)`t$($e.Exception.Message)" }
'@
        try {
            $run = Wait-ChildSession $session
        }
        finally {
            Stop-ChildSession $session
        }
        $lines = $run.Text -split "`n" | Where-Object { $_ }
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $lines | Where-Object { $_ -like "measured`t*" } | Should -Be "measured`tPipe", "measured`tEventFd"
        $failure = @($lines | Where-Object { $_ -like "failed`t*" })
        $failure.Count | Should -Be 1 -Because $run.Text
        $target, $id, $category, $message = ($failure[0] -split "`t")[1..4]
        $target | Should -Be 'MessageQueue'
        $id | Should -BeLike 'MqOpen.EMFILE*'
        $message | Should -BeLike '*RLIMIT_MSGQUEUE*'
    }

    It 'stops promptly on Ctrl+C, the peer killed and the names removed' {
        $stop = Measure-PipelineStop -Start {
            param($ps)
            $null = $ps.AddCommand('Measure-IpcMechanism').AddParameter('Mechanism', 'MessageQueue').AddParameter('RoundTrips', 10000000)
        } -BlockedIn 'poll', 'ppoll', 'mq_timedreceive', 'mq_timedsend'
        $stop.Blocked | Should -BeTrue -Because "the run was under way ($($stop.Seen))"
        $stop.Milliseconds | Should -BeLessThan 1000
        $stop.State | Should -Be 'Stopped'
        Wait-Until { @(Get-PeerProcess).Count -eq 0 } -TimeoutSeconds 10 | Should -BeTrue -Because 'the peer was killed and reaped'
        Get-OurIpcName | Should -Be $script:namesBefore
    }

    It 'refuses bad sizes and counts before starting anything' -ForEach @(
        @{ Parameter = 'MessageSize'; Value = 0 }
        @{ Parameter = 'MessageSize'; Value = 65508 }
        @{ Parameter = 'RoundTrips'; Value = 0 }
        @{ Parameter = 'Messages'; Value = -1 }
    ) {
        $arguments = @{ $Parameter = $Value }
        { Measure-IpcMechanism Pipe @arguments -ErrorAction Stop } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
        @(Get-PeerProcess).Count | Should -Be 0
    }
}
