#Requires -Version 7.4
# The cyclictest-style measurement from pwsh: every wake-up counted, the statistics in order, the histogram as bars
# that export as CSV, a realtime run that leaves the session's own thread as it was, and Ctrl+C.
Describe 'timer latency' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    It 'measures every wake-up, with statistics in order' -ForEach @(@{ Timer = 'ClockNanosleep' }, @{ Timer = 'TimerFd' }) {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $result = Measure-TimerLatency -IntervalMilliseconds 0.5 -Count 200 -Timer $Timer
        $elapsed = $clock.Elapsed

        # Real wake-ups: 200 absolute deadlines 0.5 ms apart take at least 100 ms, and no wake-up comes before its
        # deadline or costs nothing (200 zero samples would pass every check below but these).
        $elapsed.TotalMilliseconds | Should -BeGreaterOrEqual 100
        $result.LatenciesNanoseconds.Count | Should -Be 200
        @($result.LatenciesNanoseconds | Where-Object { $_ -le 0 }).Count | Should -Be 0
        $result.Minimum | Should -BeGreaterThan ([TimeSpan]::Zero)
        $result.Samples | Should -Be 200
        ($result.Histogram | Measure-Object Count -Sum).Sum | Should -Be 200
        $result.Minimum | Should -BeLessOrEqual $result.Median
        $result.Median | Should -BeLessOrEqual $result.P99
        $result.P99 | Should -BeLessOrEqual $result.P999
        $result.P999 | Should -BeLessOrEqual $result.Maximum
        $result.Interval.TotalMilliseconds | Should -Be 0.5
    }

    It 'writes the histogram as bars that export as CSV' {
        $bars = Measure-TimerLatency -Count 100 -Histogram
        ($bars | Measure-Object Count -Sum).Sum | Should -Be 100
        ($bars | Sort-Object Count -Descending | Select-Object -First 1).Bar | Should -Be ('#' * 40)

        $csv = $bars | Select-Object LowerMicroseconds, UpperMicroseconds, Count | ConvertTo-Csv
        $csv[0] | Should -Be '"LowerMicroseconds","UpperMicroseconds","Count"'
        $csv.Count | Should -Be ($bars.Count + 1)
    }

    It 'runs realtime on a thread of its own, leaving the session''s threads as they were' {
        $before = Get-ProcessScheduling -AllThreads | Where-Object Policy -NE 'Other'
        $hasSysNice = ([Convert]::ToUInt64(((Get-Content /proc/self/status | Where-Object { $_ -like 'CapEff:*' }) -split '\s+')[1], 16) -band (1 -shl 23)) -ne 0

        $result = Measure-TimerLatency -Count 20 -Policy Fifo -Priority 40 -ErrorAction SilentlyContinue -ErrorVariable refused

        if ($hasSysNice) {
            $result.Policy | Should -Be 'SCHED_FIFO 40'
        }
        else {
            $refused[0].Exception.Message | Should -BeLike '*RLIMIT_RTPRIO*'
        }
        @(Get-ProcessScheduling -AllThreads | Where-Object Policy -NE 'Other').Count | Should -Be @($before).Count
    }

    It 'ends at -DurationSeconds, before its count' {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $result = Measure-TimerLatency -IntervalMilliseconds 1 -DurationSeconds 0.6
        $clock.Elapsed.TotalMilliseconds | Should -BeGreaterOrEqual 600
        $result.Samples | Should -BeGreaterThan 0
        $result.Samples | Should -BeLessOrEqual 601
        $result.Stopped | Should -BeFalse
    }

    It 'keeps what it measured when stopped, in $SysprogStoppedLatency' {
        $ps = New-ModulePowerShell
        try {
            $null = $ps.AddScript('Measure-TimerLatency -IntervalMilliseconds 1 -Count 1000000')
            $async = $ps.BeginInvoke()
            # Progress says how many wake-ups were measured: stop once some were.
            Wait-Until { @($ps.Streams.Progress | Where-Object StatusDescription -Match '^[1-9][\d,]* of ').Count -gt 0 } | Should -BeTrue
            $ps.Stop()
            $async.IsCompleted | Should -BeTrue
            $kept = $ps.Runspace.SessionStateProxy.GetVariable('SysprogStoppedLatency')
            $kept.Stopped | Should -BeTrue
            $kept.Samples | Should -BeGreaterThan 0
            $kept.Samples | Should -BeLessThan 1000000
            $kept.LatenciesNanoseconds.Count | Should -Be $kept.Samples
        }
        finally {
            $ps.Dispose()
        }
    }

    It 'stops promptly when the pipeline is stopped' {
        Assert-StopsPromptly -Start { param($ps) $null = $ps.AddScript('Measure-TimerLatency -IntervalMilliseconds 1000 -Count 1000 -Verbose') } -BlockedIn futex `
            -IsBlocked { param($ps) @(Get-ChildItem /proc/$PID/task | Where-Object { (Get-Content "$($_.FullName)/comm") -eq 'latency' -and (Get-Content "$($_.FullName)/wchan") -like '*nanosleep*' }).Count -eq 1 }
    }
}

Describe 'Show-TimerLatency' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:rendering = $PSStyle.OutputRendering
        $PSStyle.OutputRendering = 'PlainText'
        $script:result = Measure-TimerLatency -IntervalMilliseconds 0.5 -Count 400
    }

    AfterAll {
        $PSStyle.OutputRendering = $script:rendering
    }

    It 'draws the histogram and the wake-ups over time at 80 columns, every statistic marked, in plain text' {
        $lines = $result | Show-TimerLatency -Width 80
        $lines | Where-Object Length -GT 80 | Should -BeNullOrEmpty
        ($lines -join "`n") | Should -Not -Match "`e"
        $us = { param($t) ($t.Ticks / 10.0).ToString('0.#', [cultureinfo]::InvariantCulture) }
        $lines[1] | Should -BeExactly ("min {0}  median {1}  p99 {2}  p99.9 {3}  max {4} us" -f (& $us $result.Minimum), (& $us $result.Median), (& $us $result.P99), (& $us $result.P999), (& $us $result.Maximum))
        # One histogram line per bucket, its count at the end (before any mark).
        $bars = @($lines | Where-Object { $_ -match '^\s*[\d.>= -]+ \| #* +(\d+)( <- .*)?$' })
        $bars | Should -HaveCount $result.Histogram.Count
        foreach ($mark in 'min', 'median', 'p99', 'p99.9', 'max') {
            $lines -match "(<- |,| )$([regex]::Escape($mark))(,|$)" | Should -Not -BeNullOrEmpty -Because "$mark is marked"
        }
    }

    It 'writes SVG with -Path: a bar per bucket with its count, and the five statistics' {
        $file = Join-Path $TestDrive 'latency.svg'
        Show-TimerLatency -InputObject $result -Path $file | Should -BeNullOrEmpty
        [xml]$svg = Get-Content -Raw -LiteralPath $file
        $groups = $svg.SelectNodes('//*[local-name()="g"]')
        @($groups | Where-Object class -EQ 'bucket' | ForEach-Object { [long]$_.'data-count' }) | Should -Be @($result.Histogram | ForEach-Object Count)
        @($groups | Where-Object class -EQ 'mark' | ForEach-Object 'data-name' | Select-Object -Unique) | Should -Be 'min', 'median', 'p99', 'p99.9', 'max'
    }

    It 'refuses a FIFO at -LiteralPath instead of waiting for a reader' {
        $fifo = Join-Path $TestDrive 'reader.fifo'
        New-Fifo -Path $fifo -Confirm:$false | Out-Null
        { Show-TimerLatency -InputObject $result -LiteralPath $fifo -ErrorAction Stop } | Should -Throw -ErrorId 'Open.ENXIO,Sysprog.PowerShell.Commands.ShowTimerLatencyCommand'
        Test-Path -LiteralPath $fifo | Should -BeTrue
    }
}
