#Requires -Version 7.4
# Screenplay 6: a script drives an interactive bash through a pseudoterminal, expect-style: wait for the prompt,
# type, read the answer, check it. Then the same with python3's REPL, where the machine has one.
Describe 'pseudoterminals: scripting an interactive program' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:bash = Start-Pty bash -ArgumentList '--norc', '--noprofile' -Rows 24 -Columns 80 -Environment @{ PS1 = 'demo$ ' }
    }

    AfterAll {
        Close-Pty $script:bash
    }

    It 'waits for the prompt: bash sees a terminal, so it prompts' {
        $prompt = Wait-Pty $script:bash 'demo$ ' -SimpleMatch -TimeoutSeconds 10
        $prompt.Value | Should -Be 'demo$ '
        Write-Narration "bash runs on $($script:bash.SecondaryPath), its controlling terminal, so it is interactive and prompts."
    }

    It 'types a question and reads the answer out of the output' {
        Write-Pty $script:bash 'echo "sum: $(( 19 + 23 ))"'
        $answer = Wait-Pty $script:bash 'sum: (\d+)' -TimeoutSeconds 10
        $answer.Groups[0] | Should -Be '42'
        $null = Wait-Pty $script:bash 'demo$ ' -SimpleMatch -TimeoutSeconds 10
        Write-Narration 'The terminal echoed the typed line (it is in Before), then bash answered 42 and prompted again.'
    }

    It 'resizes the window: the program is told (SIGWINCH) and sees the new size' {
        Set-Pty $script:bash -Rows 50 -Columns 132
        Write-Pty $script:bash 'stty size'
        (Wait-Pty $script:bash '(\d+ \d+)\r\n' -TimeoutSeconds 10).Groups[0] | Should -Be '50 132'
        $null = Wait-Pty $script:bash 'demo$ ' -SimpleMatch -TimeoutSeconds 10
        Write-Narration 'TIOCSWINSZ set the size; the kernel sent SIGWINCH; stty asks the terminal and says 50 132.'
    }

    It 'interrupts a long command with Ctrl+C, as a person would' {
        Write-Pty $script:bash 'sleep 600'
        Wait-Until { Get-ChildProcessId $script:bash.ProcessId sleep } | Should -BeTrue -Because 'Ctrl+C is typed while sleep runs'
        Write-Pty $script:bash "`u{3}" -NoNewline
        (Wait-Pty $script:bash 'demo$ ' -SimpleMatch -TimeoutSeconds 10).Before | Should -Match '\^C'
        Write-Narration 'Ctrl+C is a byte (0x03) to the line discipline, which sends SIGINT to the foreground job and echoes ^C.'
    }

    It 'ends the shell and reports how it ended' {
        Write-Pty $script:bash 'exit 3'
        (Wait-Pty $script:bash -Exit -TimeoutSeconds 10).ExitCode | Should -Be 3
        Write-Narration 'waitpid gave exit status 3; the terminal has no more output.'
    }

    It 'drives python3 the same way' {
        if (-not (Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'python3 is not installed here'
            return
        }
        $python = Start-Pty python3 -ArgumentList '-q'
        try {
            $null = Wait-Pty $python '>>> ' -SimpleMatch -TimeoutSeconds 20
            Write-Pty $python 'print(2 ** 100)'
            (Wait-Pty $python '(\d+)\r\n' -TimeoutSeconds 10).Groups[0] | Should -Be '1267650600228229401496703205376'
            Write-Pty $python 'exit(0)'
            (Wait-Pty $python -Exit -TimeoutSeconds 10).ExitCode | Should -Be 0
            Write-Narration 'python3 prompts only on a terminal; through the pty it is as interactive as in a window.'
        }
        finally {
            Close-Pty $python
        }
    }
}
