#Requires -Version 7.4
# Terminal sizes from pwsh, by path and from a pty through the pipeline: read, set (the program is told with
# SIGWINCH), -WhatIf, and what is not a terminal; bytes waiting on a socket in its view.
Describe 'terminal sizes' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'reads and sets a pty''s size by path, and the program sees the change' {
        $pty = Start-Pty sh -ArgumentList '-c', 'trap "stty size" WINCH; echo ready; while :; do sleep 0.02; done' -Rows 30 -Columns 100
        try {
            $null = Wait-Pty $pty ready -TimeoutSeconds 10

            $size = $pty | Get-TerminalSize
            $size.Rows | Should -Be 30
            $size.Columns | Should -Be 100
            $size.Path | Should -Be $pty.SecondaryPath

            $pty | Set-TerminalSize -Rows 45 -Columns 132 -PassThru | ForEach-Object Rows | Should -Be 45
            (Wait-Pty $pty '(\d+) (\d+)' -TimeoutSeconds 10).Value | Should -Be '45 132'
        }
        finally {
            Close-Pty $pty
        }
    }

    It 'changes nothing under -WhatIf' {
        $pty = Start-Pty cat -Rows 24 -Columns 80
        try {
            Set-TerminalSize $pty.SecondaryPath -Rows 50 -Columns 50 -WhatIf
            $pty.Size.Rows | Should -Be 24
        }
        finally {
            Close-Pty $pty
        }
    }

    It 'says what is not a terminal' {
        Get-TerminalSize /etc/passwd -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'Ioctl.ENOTTY,*'
        $failed[0].TargetObject | Should -Be '/etc/passwd'
    }

    It 'shows the bytes waiting on a socket (FIONREAD)' {
        $pair = New-SocketPair
        try {
            Send-SocketMessage $pair.First 'hello'
            $pair.Second.BytesAvailable | Should -Be 5
            ($pair.Second | Format-Table | Out-String -Width 160) | Should -Match 'Available'
        }
        finally {
            Close-Socket $pair
        }
    }
}
