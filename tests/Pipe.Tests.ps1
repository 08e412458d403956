#Requires -Version 7.4
Describe 'Pipes and FIFOs' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    Context 'New-Pipe, Read-FileDescriptor, Write-FileDescriptor' {
        It 'carries text through a pipe, and a read at the end writes nothing' {
            $p = New-Pipe
            try {
                $p | Should -BeOfType ([Sysprog.Pipe])
                $p.Capacity | Should -Be 64KB
                'one', 'two' | Write-FileDescriptor $p
                $p.BytesAvailable | Should -Be 8
                Read-FileDescriptor $p -Delimiter "`n" -TimeoutSeconds 5 | Should -Be "one`n"
                # What came with the first line waits in the read end for the next read.
                $p.ReadEnd.BufferedCount | Should -Be 4
                Read-FileDescriptor $p -TimeoutSeconds 5 | Should -Be "two`n"
                Close-Pipe $p.WriteEnd
                Read-FileDescriptor $p -TimeoutSeconds 5 | Should -BeNullOrEmpty
                $p.ReadEnd.IsEnded | Should -BeTrue
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'reads a count of bytes, and bytes as a byte[] that pipes into Format-Hex' {
            $p = New-Pipe
            try {
                Write-FileDescriptor $p ([byte[]](1, 2, 3, 255))
                $bytes = Read-FileDescriptor $p -Count 4 -AsByteStream -TimeoutSeconds 5
                $bytes.GetType() | Should -Be ([byte[]])
                $bytes | Should -Be @(1, 2, 3, 255)
                ($bytes | Format-Hex | Out-String) | Should -Match '01 02 03 FF'
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'follows a writer with -Wait until every write end is closed' {
            $p = New-Pipe -Inheritable
            try {
                & bash -c "printf 'a\nb\n' >&$($p.WriteEnd.Fd)"
                $LASTEXITCODE | Should -Be 0
                Close-Pipe $p.WriteEnd
                (Read-FileDescriptor $p -Delimiter "`n" -Wait -TimeoutSeconds 10) | Should -Be @("a`n", "b`n")
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'is a timeout error, targeting the end, when nothing comes; what did come is kept' {
            $p = New-Pipe
            try {
                Read-FileDescriptor $p -TimeoutSeconds 0.05 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
                $err[0].FullyQualifiedErrorId | Should -Be 'Timeout,Sysprog.PowerShell.Commands.ReadFileDescriptorCommand'
                $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
                $err[0].TargetObject | Should -Be $p.ReadEnd
                Write-FileDescriptor $p 'abc' -NoNewline
                Read-FileDescriptor $p -Count 5 -TimeoutSeconds 0.05 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                Write-FileDescriptor $p 'de' -NoNewline
                Read-FileDescriptor $p -Count 5 -TimeoutSeconds 5 | Should -Be 'abcde'
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'reports a write with no reader left as EPIPE, and PowerShell lives on' {
            $p = New-Pipe
            try {
                Close-Pipe $p.ReadEnd
                Write-FileDescriptor $p 'x' -ErrorAction SilentlyContinue -ErrorVariable err
                # A cmdlet's write may be stopped, so it asks not to wait (pwritev2 with RWF_NOWAIT) and polls.
                $err[0].FullyQualifiedErrorId | Should -Be 'Pwritev2.EPIPE,Sysprog.PowerShell.Commands.WriteFileDescriptorCommand'
                $err[0].CategoryInfo.Category | Should -Be 'WriteError'
                $err[0].Exception.Message | Should -Match 'every read end is closed'
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'times out a write into a full pipe, saying how much went' {
            $p = New-Pipe
            try {
                Write-FileDescriptor $p ([byte[]]::new(70000)) -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
                $err[0].Exception.Message | Should -Match 'took 65536 of 70000 bytes'
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'refuses the wrong end before any system call' {
            $p = New-Pipe
            try {
                Write-FileDescriptor $p.ReadEnd 'x' -Verbose -ErrorAction SilentlyContinue -ErrorVariable err 4>&1 | Should -BeNullOrEmpty
                $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
                $err[0].Exception.Message | Should -Match 'is a read end'
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'keeps a child''s end blocking: a program that inherits it reads as from any pipe' {
            $p = New-Pipe -Inheritable
            $reader = $null
            try {
                $flags = ((Get-Content "/proc/self/fdinfo/$($p.ReadEnd.Fd)" | Select-String '^flags:').Line -split '\s+')[1]
                [Convert]::ToInt32($flags, 8) -band 0x800 | Should -Be 0 -Because 'O_NONBLOCK on the shared description would make a child''s read fail with EAGAIN'
                $reader = Start-ThreadJob { param($fd) & bash -c "exec head -c 5 <&$fd" } -ArgumentList $p.ReadEnd.Fd
                # head is blocked reading the inherited end before anything is written.
                Wait-Until {
                    $head = Get-ChildProcessId -ParentId $PID -Name head
                    $head -and (Get-Content "/proc/$head/wchan" -ErrorAction SilentlyContinue) -match 'pipe_read'
                } | Should -BeTrue
                Write-FileDescriptor $p 'hello' -NoNewline
                $reader | Wait-Job -Timeout 10 | Receive-Job | Should -Be 'hello'
            }
            finally {
                Close-Pipe $p
                if ($reader) { $reader | Remove-Job -Force }
            }
        }

        It 'stops a waiting read promptly on Ctrl+C' {
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$p = New-Pipe -Verbose; try { Read-FileDescriptor $p -Verbose } finally { Close-Pipe $p }') } `
                -BlockedIn poll, ppoll
        }

        It 'sets the capacity, rounded up, and refuses to shrink below what the pipe holds' {
            $p = New-Pipe -Capacity 10000
            try {
                $p.Capacity | Should -Be 16KB
                Set-Pipe $p -Capacity 1MB -PassThru | Should -Be $p
                $p.Capacity | Should -Be 1MB
                Write-FileDescriptor $p ([byte[]]::new(20000))
                Set-Pipe $p 4KB -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
                $err[0].FullyQualifiedErrorId | Should -Be 'Fcntl.EBUSY,Sysprog.PowerShell.Commands.SetPipeCommand'
            }
            finally {
                Close-Pipe $p
            }
        }

        It 'is ready for Wait-FileDescriptor when written to' {
            $p = New-Pipe
            try {
                Write-FileDescriptor $p 'x'
                (Wait-FileDescriptor $p.ReadEnd -TimeoutSeconds 5).Readable | Should -BeTrue
            }
            finally {
                Close-Pipe $p
            }
        }
    }

    Context 'New-Fifo, Open-Fifo' {
        It 'makes a FIFO of mode 0600 and never over an existing name' {
            $path = Join-Path $TestDrive 'jobs'
            $fifo = New-Fifo $path
            $fifo | Should -BeOfType ([System.IO.FileInfo])
            (Get-Item $path).UnixMode | Should -Be 'prw-------'
            New-Fifo $path -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'Mkfifoat.EEXIST,Sysprog.PowerShell.Commands.NewFifoCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        }

        It 'opens both ends and carries data; a non-blocking writer without a reader is ENXIO' {
            $path = (New-Fifo (Join-Path $TestDrive 'nb')).FullName
            Open-Fifo $path Write -NonBlocking -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].FullyQualifiedErrorId | Should -Be 'Open.ENXIO,Sysprog.PowerShell.Commands.OpenFifoCommand'
            $err[0].Exception.Message | Should -Match 'No process has the FIFO open for reading'
            $reader = Open-Fifo $path Read -NonBlocking
            $writer = Open-Fifo $path Write -NonBlocking
            try {
                $reader.End | Should -Be 'Read'
                $reader.FifoPath | Should -Be $path
                Write-FileDescriptor $writer 'over the FIFO'
                Read-FileDescriptor $reader -TimeoutSeconds 5 | Should -Be "over the FIFO`n"
            }
            finally {
                Close-Pipe $reader, $writer
            }
        }

        It 'waits for the other side: a shell writing to the FIFO' {
            $path = (New-Fifo (Join-Path $TestDrive 'shell')).FullName
            $writer = Start-ThreadJob { param($f) & bash -c "echo from-bash > '$f'" } -ArgumentList $path
            $reader = Open-Fifo $path Read -TimeoutSeconds 10
            try {
                Read-FileDescriptor $reader -Wait -TimeoutSeconds 10 | Should -Be "from-bash`n"
                $writer | Wait-Job -Timeout 10 | Receive-Job
            }
            finally {
                Close-Pipe $reader
            }
        }

        It 'times out an open that nobody answers' {
            $path = (New-Fifo (Join-Path $TestDrive 'alone')).FullName
            Open-Fifo $path Read -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].Exception.Message | Should -Match 'No process opened .* for writing'
        }

        It 'stops a waiting open promptly on Ctrl+C' {
            $path = (New-Fifo (Join-Path $TestDrive 'stop')).FullName
            Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript("Open-Fifo '$path' Write -Verbose") } `
                -BlockedIn open, openat
        }

        It 'refuses what is not a FIFO before opening it' {
            $file = Join-Path $TestDrive 'plain'
            Set-Content $file 'x'
            Open-Fifo $file Read -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err[0].Exception.Message | Should -Match 'not a FIFO'
        }
    }
}
