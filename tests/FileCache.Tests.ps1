#Requires -Version 7.4
# The page cache and the heap from pwsh: posix_fadvise dropping and reading ahead a clean file, its residency as
# fincore counts it, ranges, refusals; the program break of this session and of a child.
Describe 'page cache and program break' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # On the disk the build is on: a tmpfs file is its own page cache, which no advice drops.
        $script:folder = Join-Path $PSScriptRoot '..' 'out' "filecache-$PID"
        $null = New-Item -ItemType Directory -Path $script:folder -Force
        function New-CleanFile([int] $Bytes) {
            $path = Join-Path $script:folder "$([guid]::NewGuid().ToString('N')).bin"
            $stream = [IO.FileStream]::new($path, 'CreateNew')
            try {
                $data = [byte[]]::new($Bytes)
                [Random]::Shared.NextBytes($data)
                $stream.Write($data, 0, $data.Length)
                $stream.Flush($true)
            }
            finally {
                $stream.Dispose()
            }
            $path
        }
    }

    AfterAll {
        Remove-Item -LiteralPath $script:folder -Recurse -Force
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'drops a clean file with DontNeed and reads it back with WillNeed' {
        $path = New-CleanFile -Bytes 4MB

        $dropped = Set-FileAdvice $path DontNeed -PassThru

        $dropped.ResidentPages | Should -Be 0
        $dropped.Pages | Should -Be 1024
        Set-FileAdvice $path WillNeed
        Wait-Until { (Get-FileResidency $path).Percent -eq 100 } -TimeoutSeconds 10 | Should -BeTrue
    }

    It 'counts the resident pages fincore counts, dropped and read back' {
        if (-not (Get-Command fincore -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'fincore (util-linux) is not installed: there is nothing to compare with'
            return
        }
        $path = New-CleanFile -Bytes 4MB
        Set-FileAdvice $path DontNeed
        [long](& fincore --noheadings --raw --output PAGES $path) | Should -Be 0
        (Get-FileResidency $path).ResidentPages | Should -Be 0
        Set-FileAdvice $path WillNeed
        Wait-Until { (Get-FileResidency $path).Percent -eq 100 } -TimeoutSeconds 10 | Should -BeTrue
        [long](& fincore --noheadings --raw --output PAGES $path) | Should -Be (Get-FileResidency $path).ResidentPages
    }

    It 'takes files from Get-ChildItem, and counts a range' {
        $path = New-CleanFile -Bytes 64KB
        $residency = Get-Item $path | Get-FileResidency -Offset 8KB -Length 16KB
        $residency.Pages | Should -Be 4
        $residency.Path | Should -Be (Resolve-Path $path).ProviderPath
    }

    It 'names what it cannot count' {
        Get-FileResidency $script:folder -ErrorAction SilentlyContinue -ErrorVariable folder
        $folder[0].FullyQualifiedErrorId | Should -BeLike 'Mincore.EINVAL,*'
        Get-FileResidency (Join-Path $script:folder 'missing') -ErrorAction SilentlyContinue -ErrorVariable missing
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        { Get-FileResidency /etc/passwd -Offset 100 -ErrorAction Stop } | Should -Throw '*multiple of the page size*'
    }

    It 'reads this session''s break from sbrk(0), at the end of its [heap]' {
        $lines = @(Get-ProgramBreak -Verbose 4>&1 | Select-SyscallLine)
        $brk = Get-ProgramBreak

        $lines[-1] | Should -BeLike 'sbrk(0) = 0x*'
        $brk.IsExact | Should -BeTrue
        $brk.HeapMapping.Path | Should -Be '[heap]'
        $brk.HeapMapping.Start | Should -Be $brk.HeapStart
        $brk.Break | Should -BeLessOrEqual $brk.HeapMapping.End
    }

    It 'reads a child''s break from its [heap] mapping' {
        $child = Start-ChildProcess sleep 30
        try {
            Wait-Until { (Get-ProcessSyscall $child.ProcessId).Name -eq 'clock_nanosleep' } | Should -BeTrue

            $brk = $child | Get-ProgramBreak

            $brk.IsExact | Should -BeFalse
            $brk.Break | Should -Be ((Get-ProcessMapping -Id $child.ProcessId | Where-Object Path -EQ '[heap]').End ?? $brk.HeapStart)
        }
        finally {
            Stop-ChildProcess $child -Signal KILL
            $null = Wait-ChildProcess $child
            Close-ChildProcess $child
        }
    }
}
