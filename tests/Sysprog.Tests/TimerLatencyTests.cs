using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>The cyclictest-style measurement: its statistics on known input, and real runs, not the machine's numbers.</summary>
public sealed class TimerLatencyTests
{
    [Fact]
    public void TheStatistics_OfKnownLatencies_AreNearestRank()
    {
        long[] latencies = Enumerable.Range(1, 1000).Select(us => us * 1000L).Reverse().ToArray();

        TimerLatencyResult result = TimerLatency.Summarize(latencies, TimeSpan.FromMilliseconds(1));

        Assert.Equal(1000, result.Samples);
        Assert.Equal(TimeSpan.FromMicroseconds(1), result.Minimum);
        Assert.Equal(TimeSpan.FromMicroseconds(500), result.Median);
        Assert.Equal(TimeSpan.FromMicroseconds(990), result.P99);
        Assert.Equal(TimeSpan.FromMicroseconds(999), result.P999);
        Assert.Equal(TimeSpan.FromMicroseconds(1000), result.Maximum);
        Assert.Equal(TimeSpan.FromMicroseconds(500.5), result.Average);
        Assert.Equal(1000, result.Histogram.Sum(b => b.Count));
        // 1 to 999 us in bars of 50 us: 20 of them, and one for what lies beyond p99.9.
        Assert.Equal(21, result.Histogram.Count);
        Assert.All(result.Histogram.SkipLast(1), b => Assert.Equal(50, b.UpperMicroseconds - b.LowerMicroseconds));
        Assert.True(double.IsPositiveInfinity(result.Histogram[^1].UpperMicroseconds));
        Assert.Equal(1.0, result.Histogram.Max(b => b.Share));
        Assert.Equal(latencies, result.LatenciesNanoseconds);
    }

    [Fact]
    public void OneLatency_IsEveryStatistic_AndTheHistogramPlotsAsText()
    {
        TimerLatencyResult result = TimerLatency.Summarize([7_000], TimeSpan.FromMilliseconds(1));

        Assert.Equal([TimeSpan.FromMicroseconds(7)], new[] { result.Minimum, result.Median, result.P99, result.P999, result.Maximum }.Distinct());
        string[] lines = result.FormatHistogram().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(result.Histogram.Count, lines.Length);
        Assert.Contains(lines, l => l.Contains(new string('#', 40) + " 1", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => TimerLatency.Summarize([], TimeSpan.FromMilliseconds(1)));
    }

    [Theory]
    [InlineData(LatencyTimer.ClockNanosleep)]
    [InlineData(LatencyTimer.TimerFd)]
    public void ARun_MeasuresEveryWakeUp(LatencyTimer timer)
    {
        var lines = new List<string>();

        TimerLatencyResult result = TimerLatency.Measure(new TimerLatencyOptions { Count = 100, Interval = TimeSpan.FromMilliseconds(1), Timer = timer }, default, lines.Add);

        Assert.Equal(100, result.Samples);
        Assert.Equal(100, result.Histogram.Sum(b => b.Count));
        Assert.True(result.Minimum >= TimeSpan.Zero);
        Assert.True(result.Minimum <= result.Median && result.Median <= result.P99 && result.P99 <= result.P999 && result.P999 <= result.Maximum);
        (string first, string last) = timer == LatencyTimer.TimerFd ? ("read(", "], 8) = 8") : ("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {", "}, NULL) = 0");
        Assert.Single(lines, l => l.StartsWith(first, StringComparison.Ordinal) && l.EndsWith(last, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("... 99 more", StringComparison.Ordinal));
    }

    [Fact]
    public void ARealtimeRun_SetsTheMeasuringThreadAlone_OrSaysWhyItCannot()
    {
        int caller = ThreadWait.CurrentThreadId();
        ProcessScheduling before = ProcessScheduling.Get(0, caller);
        var lines = new List<string>();
        var options = new TimerLatencyOptions { Count = 20, Policy = SchedulingPolicy.Fifo, Priority = 50, Cpu = 0 };

        if (Privileges.MayUseRealtimePriority(50))
        {
            TimerLatencyResult result = TimerLatency.Measure(options, default, lines.Add);
            Assert.Equal("SCHED_FIFO 50", result.Policy);
            Assert.Contains(lines, l => l.StartsWith("sched_setscheduler(", StringComparison.Ordinal) && l.EndsWith(", SCHED_FIFO, [50]) = 0", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("sched_setaffinity(", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(Errno.EPERM, Assert.Throws<SysprogException>(() => TimerLatency.Measure(options)).Errno);
        }
        ProcessScheduling after = ProcessScheduling.Get(0, caller);
        Assert.Equal((before.Policy, before.Priority), (after.Policy, after.Priority));
        Assert.Equal(before.Affinity, after.Affinity);
    }

    [Fact]
    public async Task ARun_StopsAtOnce_OnCancellation()
    {
        using var cancellation = new CancellationTokenSource();
        Task<TimerLatencyResult> run = Task.Factory.StartNew(() => TimerLatency.Measure(new TimerLatencyOptions { Count = 100_000, Interval = TimeSpan.FromSeconds(1) }, cancellation.Token),
            TaskCreationOptions.LongRunning);
        // The measuring thread is named latency: wait until it sleeps to its first deadline.
        var clock = Stopwatch.StartNew();
        string? task = null;
        while (task is null && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            task = Directory.GetDirectories("/proc/self/task").FirstOrDefault(t => File.ReadAllText(Path.Combine(t, "comm")).TrimEnd() == "latency"
                && File.ReadAllText(Path.Combine(t, "wchan")).Contains("nanosleep", StringComparison.Ordinal));
            Thread.Sleep(1);
        }
        Assert.NotNull(task);
        clock.Restart();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void ARunStoppedAfterSomeWakeUps_KeepsWhatItMeasured()
    {
        using var cancellation = new CancellationTokenSource();
        var seen = new List<int>();

        // Progress comes on this thread while the measuring thread runs: cancel once it reports wake-ups measured.
        TimerLatencyResult result = TimerLatency.Measure(new TimerLatencyOptions { Count = 100_000, Interval = TimeSpan.FromMilliseconds(1) }, cancellation.Token,
            progress: measured =>
            {
                seen.Add(measured);
                if (measured >= 20)
                {
                    cancellation.Cancel();
                }
            });

        Assert.True(result.Stopped);
        Assert.InRange(result.Samples, 20, 99_999);
        Assert.Equal(result.Samples, result.LatenciesNanoseconds.Count);
        Assert.Equal(result.Samples, result.Histogram.Sum(b => b.Count));
        Assert.Equal(seen.Order(), seen);
        Assert.InRange(result.Samples, seen[^1], int.MaxValue);
    }

    [Theory]
    [InlineData(LatencyTimer.ClockNanosleep)]
    [InlineData(LatencyTimer.TimerFd)]
    public void ADuration_EndsTheRunBeforeItsCount(LatencyTimer timer)
    {
        var clock = Stopwatch.StartNew();

        TimerLatencyResult result = TimerLatency.Measure(new TimerLatencyOptions
        {
            Count = 100_000, Interval = TimeSpan.FromMilliseconds(1), Duration = TimeSpan.FromMilliseconds(300), Timer = timer,
        });

        Assert.False(result.Stopped);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30));
        // At most one wake-up per period of the 300 ms, the last one at or after the end.
        Assert.InRange(result.Samples, 1, 301);
        Assert.Equal(1000, TimerLatencyOptions.CountFor(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1)));
        Assert.Equal(1, TimerLatencyOptions.CountFor(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("interval")]
    [InlineData("duration")]
    [InlineData("count")]
    [InlineData("priority")]
    [InlineData("policy")]
    [InlineData("cpu")]
    public void BadOptions_AreRefused_BeforeAnySystemCall(string problem)
    {
        TimerLatencyOptions options = problem switch
        {
            "interval" => new TimerLatencyOptions { Interval = TimeSpan.FromMicroseconds(1) },
            "count" => new TimerLatencyOptions { Count = 0 },
            "duration" => new TimerLatencyOptions { Duration = TimeSpan.Zero },
            "priority" => new TimerLatencyOptions { Priority = 5 },
            "policy" => new TimerLatencyOptions { Policy = SchedulingPolicy.Idle },
            _ => new TimerLatencyOptions { Cpu = -1 },
        };
        var lines = new List<string>();

        Assert.ThrowsAny<ArgumentException>(() => TimerLatency.Measure(options, default, lines.Add));

        Assert.Empty(lines);
    }

    [Fact]
    public void TheCli_WritesJsonWithEverySample_AndTheHistogramAsCsv()
    {
        Peer.Result json = Peer.Run("latency", "--count", "50", "--interval", "500us", "--json", "--samples");
        Peer.Result csv = Peer.Run("latency", "--count", "50", "--csv");

        Assert.Equal(0, json.ExitCode);
        using JsonDocument document = JsonDocument.Parse(json.Output);
        Assert.Equal(50, document.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal(500, document.RootElement.GetProperty("intervalUs").GetDouble());
        Assert.Equal(50, document.RootElement.GetProperty("latenciesNs").GetArrayLength());
        Assert.Equal(0, csv.ExitCode);
        string[] rows = csv.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("lower_us,upper_us,count", rows[0]);
        Assert.Equal(50, rows.Skip(1).Sum(r => int.Parse(r.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)));
    }
}
