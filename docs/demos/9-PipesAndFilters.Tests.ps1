#Requires -Version 7.4
# Screenplay 9: pipes and filters. A shell's `ls | sort | wc -l` is three processes and two pipes, each end handed to
# a child by number; end of file comes only when the last write end closes; a writer with no reader left dies of
# SIGPIPE; a full pipe puts its writer to sleep; a FIFO is a pipe with a name that two sessions open.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'Pipes and filters: processes joined by pipes, and FIFOs between sessions' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:started = [System.Collections.Generic.List[object]]::new()
        $script:pipes = [System.Collections.Generic.List[object]]::new()
        function Start-Demo {
            $child = Start-ChildProcess @args
            $script:started.Add($child)
            $child
        }
        function New-DemoPipe {
            $pipe = New-Pipe @args
            $script:pipes.Add($pipe)
            $pipe
        }
        function Resolve-ProcLink([string] $Path) {
            # Where a /proc link (a descriptor of another process) leads, or nothing once it has gone.
            try { [System.IO.File]::ResolveLinkTarget($Path, $false).FullName } catch [System.IO.IOException] { }
        }
        $script:fifo = Join-Path $TestDrive 'jobs'
    }

    AfterAll {
        Stop-DemoChild $script:started
        foreach ($pipe in $script:pipes) { Close-Pipe $pipe }
    }

    It 'runs ls /usr/bin | sort | wc -l as three processes joined by two pipes' {
        $script:listing = New-DemoPipe
        $script:sorted = New-DemoPipe
        $script:count = New-DemoPipe
        $script:ls = Start-Demo ls -ArgumentList '/usr/bin' -Descriptor @{ 1 = $script:listing.WriteEnd }
        $script:sort = Start-Demo sort -Descriptor @{ 0 = $script:listing.ReadEnd; 1 = $script:sorted.WriteEnd }
        $script:wc = Start-Demo wc -ArgumentList '-l' -Descriptor @{ 0 = $script:sorted.ReadEnd; 1 = $script:count.WriteEnd }
        # As the shell does after each fork: the parent closes the ends its children now hold. The write end of the
        # pipe wc reads is kept for the next step.
        Close-Pipe $script:listing
        Close-Pipe $script:sorted.ReadEnd, $script:count.WriteEnd

        (Wait-ChildProcess $script:ls -TimeoutSeconds 30).ExitCode | Should -Be 0
        (Wait-ChildProcess $script:sort -TimeoutSeconds 30).ExitCode | Should -Be 0
        Wait-Until { @(Get-BlockedThread -ProcessId $script:wc.ProcessId -Syscall read).Count -gt 0 } | Should -BeTrue -Because 'wc waits for more input'
        $script:wc.HasExited | Should -BeFalse
        Write-Narration "ls (pid $($script:ls.ProcessId)) wrote to pipe 1, sort (pid $($script:sort.ProcessId)) read it and wrote pipe 2; both have ended with status 0."
        Write-Narration "Yet wc -l (pid $($script:wc.ProcessId)) still sleeps in read(2): this session holds a write end of pipe 2, and a reader sees end of file only when every write end is closed."
    }

    It 'closes its last write end: wc sees end of file and counts what sh counts' {
        Close-Pipe $script:sorted.WriteEnd
        (Wait-ChildProcess $script:wc -TimeoutSeconds 30).ExitCode | Should -Be 0
        $counted = (Read-FileDescriptor $script:count.ReadEnd -Wait -TimeoutSeconds 10) -join ''
        $shell = & sh -c 'ls /usr/bin | sort | wc -l'

        [int]$counted | Should -BeGreaterThan 0
        [int]$counted | Should -Be ([int]$shell)
        Write-Narration "read(2) returned 0, wc printed $([int]$counted); sh -c 'ls /usr/bin | sort | wc -l' prints $([int]$shell)."
    }

    It 'puts a writer to sleep when the pipe is full, and wakes it when a reader makes room' {
        $small = New-DemoPipe -Capacity 4096
        $writer = Start-Demo head -ArgumentList '-c', '100000', '/dev/zero' -Descriptor @{ 1 = $small.WriteEnd }
        Close-Pipe $small.WriteEnd

        Wait-Until { @(Get-BlockedThread -ProcessId $writer.ProcessId -Syscall write).Count -gt 0 } | Should -BeTrue -Because 'head fills the pipe and waits'
        $small.Capacity | Should -Be 4096
        $small.BytesAvailable | Should -Be $small.Capacity
        Write-Narration "head (pid $($writer.ProcessId)) sleeps in write(2): the pipe holds $($small.BytesAvailable) bytes, its whole capacity (F_GETPIPE_SZ)."

        $total = 0
        foreach ($chunk in Read-FileDescriptor $small.ReadEnd -Wait -AsByteStream -TimeoutSeconds 30) { $total += $chunk.Length }
        $total | Should -Be 100000
        (Wait-ChildProcess $writer -TimeoutSeconds 30).ExitCode | Should -Be 0
        Write-Narration "Each read made room and woke the writer: $total bytes went through a $($small.Capacity)-byte pipe, and head exited 0."
    }

    It 'kills a writer whose reader is gone with SIGPIPE; this session gets EPIPE instead' {
        $pipe = New-DemoPipe
        $yes = Start-Demo yes -Descriptor @{ 1 = $pipe.WriteEnd }
        Close-Pipe $pipe.WriteEnd
        Wait-Until { @(Get-BlockedThread -ProcessId $yes.ProcessId -Syscall write).Count -gt 0 } | Should -BeTrue -Because 'yes writes until the pipe is full'
        Close-Pipe $pipe.ReadEnd

        $end = Wait-ChildProcess $yes -TimeoutSeconds 30
        $end.SignalName | Should -Be 'SIGPIPE'
        Write-Narration "yes (pid $($yes.ProcessId)) filled the pipe and slept; the last read end closed, its write failed and the kernel sent SIGPIPE, which killed it: $end."

        $orphan = New-DemoPipe
        Close-Pipe $orphan.ReadEnd
        Write-FileDescriptor $orphan.WriteEnd 'anyone?' -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].Exception.GetBaseException().Errno | Should -Be ([Sysprog.Errno]::EPIPE)
        Write-Narration "The .NET runtime ignores SIGPIPE, so here the same write is an error and the session lives on: $($failed[0].Exception.Message)"
    }

    It 'makes a FIFO: a pipe with a name in the file system, and an open that waits for the other side' {
        $null = New-Fifo $script:fifo
        $made = Get-Item -LiteralPath $script:fifo
        $made.UnixMode | Should -Be 'prw-------'
        Open-Fifo $script:fifo Write -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable waited | Should -BeNullOrEmpty
        $waited[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        Write-Narration "mkfifo made $($script:fifo) ($($made.UnixMode)). Opening it to write waited in open(2) for a reader; none came in 0.2 s: $($waited[0].Exception.Message)"
    }

    It 'joins two sessions through the FIFO: the other pwsh blocks in open until this one opens it to read' {
        # Unrolled: a pwsh executable comes back as a list of one, which would bind to -FilePath as a list.
        $pwsh, $pwshArguments = Get-PwshCommand | ForEach-Object { $_ }
        $writerScript = "Import-Module '$SysprogModulePath'; `$w = Open-Fifo '$($script:fifo)' Write -TimeoutSeconds 60; Write-FileDescriptor `$w ""hello from pid `$PID""; Close-Pipe `$w"
        $other = Start-Demo $pwsh -ArgumentList (@($pwshArguments) + '-NoProfile', '-NonInteractive', '-Command', $writerScript | Where-Object { $_ })

        # The call must open this FIFO: a .NET process has a thread of its own asleep opening the runtime's debugger
        # FIFO. Open-Fifo opens the checked file through /proc/self/fd/N, followed here in the sleeper's own /proc.
        Wait-Until {
            $script:opening = Get-ProcessSyscall -Id $other.ProcessId | Where-Object {
                $_.State -eq 'S' -and $_.Name -in 'open', 'openat' -and $_.Call -match '"(/proc/self/[^"]+)"' -and
                    (Resolve-ProcLink ($Matches[1] -replace '^/proc/self/', "/proc/$($other.ProcessId)/")) -eq $script:fifo
            }
            $null -ne $script:opening
        } -TimeoutSeconds 60 | Should -BeTrue -Because 'the other session waits for a reader'
        Write-Narration "The other session (pid $($other.ProcessId)) sleeps in $($script:opening.Call), a descriptor of the FIFO: opened for writing, a FIFO waits for a reader."

        $reader = Open-Fifo $script:fifo Read -TimeoutSeconds 30
        try {
            $heard = (Read-FileDescriptor $reader -Wait -TimeoutSeconds 60) -join ''
        }
        finally {
            Close-Pipe $reader
        }
        $heard | Should -Be "hello from pid $($other.ProcessId)`n"
        (Wait-ChildProcess $other -TimeoutSeconds 60).ExitCode | Should -Be 0
        Write-Narration "This open met the waiting one; the other session wrote and closed, so the read ended at EOF with: $($heard.Trim())"

        Remove-Item -LiteralPath $script:fifo
        Test-Path -LiteralPath $script:fifo | Should -BeFalse
        Write-Narration 'The FIFO held no data of its own: removing the name is all that is left to do.'
    }
}
