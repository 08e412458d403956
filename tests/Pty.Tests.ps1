#Requires -Version 7.4
# Pseudoterminals from pwsh: the program sees a terminal of the size it was given, expect-style driving of an
# interactive bash, a resize it is told of (SIGWINCH), raw versus cooked input, exit statuses, errors that say what
# the output was, the environment and working directory it starts with, Ctrl+C during a wait, and no leaks.
Describe 'pseudoterminals' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # A bash without start-up files and with a prompt a pattern can find.
        function Start-TestBash {
            param([int] $Rows = 24, [int] $Columns = 80)
            $pty = Start-Pty bash -ArgumentList '--norc', '--noprofile' -Rows $Rows -Columns $Columns -Environment @{ PS1 = 'ready> ' }
            $null = Wait-Pty $pty 'ready> ' -TimeoutSeconds 10
            $pty
        }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
        $script:started = [System.Collections.Generic.List[object]]::new()
    }

    AfterEach {
        $script:started | Close-Pty
        foreach ($pty in $script:started) {
            Test-Path "/proc/$($pty.ProcessId)" | Should -BeFalse -Because "closing reaps $($pty.CommandLine)"
        }
        Assert-NoFdLeft -Since $script:fdsBefore -Because 'every primary side and pidfd is closed'
    }

    It 'starts the program on a terminal of the size given, as its controlling terminal' {
        # /dev/tty opens only for a process with a controlling terminal (ENXIO otherwise).
        $pty = Start-Pty sh -ArgumentList '-c', 'test -t 0 && test -t 1 && echo "tty=$(tty)"; echo "size=$(stty size)"; : >/dev/tty && echo controlling' -Rows 33 -Columns 111
        $script:started.Add($pty)

        $output = @(Read-Pty $pty -Wait -TimeoutSeconds 10) -join ''

        $output | Should -Match "tty=$([regex]::Escape($pty.SecondaryPath))\r\n"
        $output | Should -Match 'size=33 111\r\n'
        $output | Should -Match 'controlling\r\n'
        $pty.IsEnded | Should -BeTrue
    }

    It 'drives an interactive bash, expect-style, and asserts on its answers' {
        $bash = Start-TestBash
        $script:started.Add($bash)

        Write-Pty $bash 'echo "answer: $(( 6 * 7 ))"'
        $answer = Wait-Pty $bash 'answer: (\d+)' -TimeoutSeconds 10
        $null = Wait-Pty $bash 'ready> ' -TimeoutSeconds 10
        'x=5', 'echo "x is $x"' | Write-Pty $bash
        $assigned = Wait-Pty $bash 'x is (\d+)' -TimeoutSeconds 10
        Write-Pty $bash 'exit 3'
        $exit = Wait-Pty $bash -Exit -TimeoutSeconds 10

        $answer.Groups | Should -Be @('42')
        $answer.Before | Should -Match 'echo "answer: \$\(\( 6 \* 7 \)\)"' -Because 'the terminal echoes what was typed'
        $assigned.Groups | Should -Be @('5')
        $exit.ExitCode | Should -Be 3
        $bash.Exit.ExitCode | Should -Be 3
    }

    It 'interrupts a running command with Ctrl+C typed at the terminal' {
        $bash = Start-TestBash
        $script:started.Add($bash)
        Write-Pty $bash 'sleep 60; echo slept'
        Wait-Until { Get-ChildProcessId $bash.ProcessId sleep } | Should -BeTrue -Because 'Ctrl+C is typed while sleep runs'

        Write-Pty $bash "`u{3}" -NoNewline
        $next = Wait-Pty $bash 'ready> ' -TimeoutSeconds 10

        $next.Before | Should -Match '\^C' -Because 'the line discipline echoes ^C and SIGINT ends sleep'
        $next.Before | Should -Not -Match '\nslept'
    }

    It 'tells the program of a resize: it gets SIGWINCH and sees the new size' {
        $pty = Start-Pty bash -ArgumentList '-c', 'trap ''echo "winch $(stty size)"'' WINCH; echo armed; while :; do sleep 60 & wait $!; done'
        $script:started.Add($pty)
        $null = Wait-Pty $pty 'armed' -TimeoutSeconds 10

        Set-Pty $pty -Rows 40 -Columns 132

        (Wait-Pty $pty 'winch (\d+ \d+)' -TimeoutSeconds 10).Groups | Should -Be @('40 132')
        $pty.Size.Rows | Should -Be 40
        # A SIGWINCH that comes while bash starts the next sleep, before it is back in wait, waits for that sleep.
        Wait-Until { @(Get-BlockedThread -ProcessId $pty.ProcessId -Syscall wait4, waitid).Count -gt 0 } | Should -BeTrue -Because 'bash goes back to wait for its sleep'
        Set-Pty $pty -Columns 100 -PassThru | Should -Be $pty
        (Wait-Pty $pty 'winch (\d+ \d+)' -TimeoutSeconds 10).Groups | Should -Be @('40 100') -Because '-Rows keeps its value when only -Columns is given'
    }

    It 'gives the program input a line at a time when cooked, and byte by byte, untranslated, when raw' {
        # od shows what the program read: the Enter key (\r) arrives as \n when cooked (ICRNL), as \r when raw.
        $pty = Start-Pty sh -ArgumentList '-c', 'echo go; head -c 2 | od -An -c; echo go; head -c 2 | od -An -c'
        $script:started.Add($pty)
        $pty.Canonical | Should -BeTrue
        $pty.Echo | Should -BeTrue

        $null = Wait-Pty $pty 'go' -SimpleMatch -TimeoutSeconds 10
        Write-Pty $pty 'x'
        $cooked = Wait-Pty $pty 'x\s+\\n' -TimeoutSeconds 10
        $null = Wait-Pty $pty 'go' -SimpleMatch -TimeoutSeconds 10
        Set-Pty $pty -Raw
        Write-Pty $pty 'y'
        $raw = Wait-Pty $pty 'y\s+\\r' -TimeoutSeconds 10

        $cooked.Before | Should -Match '^\r\nx\r\n' -Because 'cooked mode echoes the line'
        $raw.Before | Should -Not -Match 'y' -Because 'raw mode does not echo'
        $pty.Canonical | Should -BeFalse
        $pty.Echo | Should -BeFalse
        Set-Pty $pty -Raw:$false -Echo:$false
        $pty.Canonical | Should -BeTrue
        $pty.Echo | Should -BeFalse
    }

    It 'reports an exit by signal, and Wait-Pty -Exit after the exit gives the same status' {
        $pty = Start-Pty sh -ArgumentList '-c', 'kill -TERM $$'
        $script:started.Add($pty)

        $exit = Wait-Pty $pty -Exit -TimeoutSeconds 10

        $exit.ExitCode | Should -BeNullOrEmpty
        $exit.SignalName | Should -Be 'SIGTERM'
        (Wait-Pty $pty -Exit -TimeoutSeconds 0) | Should -Be $exit
    }

    It 'fails a wait that times out naming the pattern and showing the output, and one that meets the end of the output' {
        $pty = Start-Pty sh -ArgumentList '-c', 'printf "partial\033[1m"; read line'
        $script:started.Add($pty)
        $null = Wait-Pty $pty 'partial' -TimeoutSeconds 10

        Wait-Pty $pty 'never' -TimeoutSeconds 0.2 -ErrorAction SilentlyContinue -ErrorVariable timedOut
        Write-Pty $pty 'done'
        Wait-Pty $pty 'never' -TimeoutSeconds 10 -ErrorAction SilentlyContinue -ErrorVariable ended

        $timedOut[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $timedOut[0].TargetObject | Should -Be $pty
        $timedOut[0].Exception.Message | Should -Be ('No output of {0} matched /never/ within 200ms; the output not yet taken: "\x1b[1m".' -f $pty.Description)
        $ended[0].FullyQualifiedErrorId | Should -BeLike 'EndOfStream,*'
        $ended[0].CategoryInfo.Category | Should -Be 'ReadError'
        $ended[0].Exception.Message | Should -BeLike '*the output ended without matching /never/*'
    }

    It 'matches case-insensitively unless -CaseSensitive, and -SimpleMatch takes the pattern as text' {
        $pty = Start-Pty sh -ArgumentList '-c', 'echo "Total: 3 (a+b)"; cat'
        $script:started.Add($pty)

        (Wait-Pty $pty '(a+b)' -SimpleMatch -TimeoutSeconds 10).Before | Should -BeLike '*Total: 3 '
        Write-Pty $pty 'ABC'
        { Wait-Pty $pty 'abc' -CaseSensitive -TimeoutSeconds 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'Timeout,*'
        (Wait-Pty $pty 'abc' -TimeoutSeconds 10).Value | Should -Be 'ABC'
        { Wait-Pty $pty '(unclosed' -ErrorAction Stop -Verbose 4>&1 } | Should -Throw -ErrorId 'InvalidArgument,Sysprog.PowerShell.Commands.WaitPtyCommand'
    }

    It 'reads what is there, -Wait follows to the end of the output, and a read at the end writes nothing' {
        $pty = Start-Pty sh -ArgumentList '-c', 'echo one; read line; echo two'
        $script:started.Add($pty)
        $null = Wait-Pty $pty 'one\r\n' -TimeoutSeconds 10
        Read-Pty $pty -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable nothing

        Write-Pty $pty 'go'
        $rest = @(Read-Pty $pty -Wait -TimeoutSeconds 10) -join ''
        $atEnd = @(Read-Pty $pty -TimeoutSeconds 1 -ErrorVariable quiet)

        $nothing[0].Exception.Message | Should -BeLike "Nothing to read from $($pty.Description) within 100ms*"
        $rest | Should -Match '^go\r\ntwo\r\n$'
        $atEnd.Count | Should -Be 0
        $quiet.Count | Should -Be 0
        $pty.IsEnded | Should -BeTrue
    }

    It 'starts in PowerShell''s location by default, with the environment given laid over this one' {
        $env:SYSPROG_PTY_TEST = 'inherited'
        $term = $env:TERM
        $env:TERM = $null
        try {
            Push-Location $TestDrive
            $here = Start-Pty sh -ArgumentList '-c', 'echo "in $(pwd) [$SYSPROG_PTY_TEST] [${HOME-unset}] [$EXTRA] [$TERM]"' -Environment @{ HOME = $null; EXTRA = 42 }
            Pop-Location
            $env:TERM = $term
            $there = Start-Pty pwd -WorkingDirectory '/'
            $script:started.Add($here)
            $script:started.Add($there)

            (Read-Pty $here -Wait -TimeoutSeconds 10) -join '' | Should -Be "in $((Get-Item $TestDrive).FullName) [inherited] [unset] [42] [dumb]`r`n"
            (Read-Pty $there -Wait -TimeoutSeconds 10) -join '' | Should -Be "/`r`n"
        }
        finally {
            Remove-Item Env:SYSPROG_PTY_TEST
            $env:TERM = $term
        }
    }

    It 'names a program or working directory that is not there, leaving no pty open' {
        Start-Pty sysprog-no-such-program -ErrorAction SilentlyContinue -ErrorVariable noProgram
        Start-Pty sh -WorkingDirectory (Join-Path $TestDrive 'missing') -ErrorAction SilentlyContinue -ErrorVariable noDirectory

        $noProgram[0].FullyQualifiedErrorId | Should -BeLike 'PosixSpawnp.ENOENT,*'
        $noProgram[0].TargetObject | Should -Be 'sysprog-no-such-program'
        $noProgram[0].Exception.Message | Should -BeLike "*No program 'sysprog-no-such-program' in PATH*"
        $noDirectory[0].FullyQualifiedErrorId | Should -BeLike 'PosixSpawnp.ENOENT,*'
    }

    It 'kills a program that outlives the hang-up when closed' {
        # The shell says which process it started, so the test need not find it among the machine's.
        $pty = Start-Pty sh -ArgumentList '-c', 'trap "" HUP; sleep 1000 & echo "immune $!"; wait'
        $script:started.Add($pty)
        $script:sleeper = [int](Wait-Pty $pty 'immune (\d+)' -TimeoutSeconds 10).Groups[0]
        Test-Path "/proc/$script:sleeper" | Should -BeTrue

        $lines = @(Close-Pty $pty -Verbose 4>&1 | ForEach-Object Message)

        $lines | Should -Contain "kill(-$($pty.ProcessId), SIGKILL) after 2s: it outlived the hang-up"
        $pty.Exit.SignalName | Should -Be 'SIGKILL'
        Test-Path "/proc/$($pty.ProcessId)" | Should -BeFalse
        Wait-Until { -not (Test-Path "/proc/$script:sleeper") } | Should -BeTrue -Because 'the kill reaches its process group, which ignored the hang-up too'
    }

    It 'stops a wait for a pattern promptly when the pipeline is stopped, and closes the pty in finally' {
        Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('$p = Start-Pty cat; try { Wait-Pty $p never -Verbose } finally { Close-Pty $p }') } `
            -BlockedIn poll, ppoll
    }
}
