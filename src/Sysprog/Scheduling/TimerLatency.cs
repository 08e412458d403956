using System.Globalization;
using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>How the measuring thread waits for each deadline.</summary>
public enum LatencyTimer
{
    /// <summary>clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME): cyclictest's default.</summary>
    ClockNanosleep,

    /// <summary>A timerfd armed with an absolute first expiry and the interval, read each period.</summary>
    TimerFd,
}

/// <summary>What a latency measurement runs with.</summary>
public sealed class TimerLatencyOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(1);

    public int Count { get; init; } = 1000;

    /// <summary>Stop after this long even if <see cref="Count"/> wake-ups have not come (cyclictest's -D); null: only the count bounds the run.</summary>
    public TimeSpan? Duration { get; init; }

    public LatencyTimer Timer { get; init; } = LatencyTimer.ClockNanosleep;

    /// <summary>Fifo or RR makes the measuring thread realtime at <see cref="Priority"/>; null leaves it SCHED_OTHER.</summary>
    public SchedulingPolicy? Policy { get; init; }

    public int Priority { get; init; }

    /// <summary>mlockall(MCL_CURRENT|MCL_FUTURE) for the run, so no page fault lands in a wake-up; undone after unless memory was locked already.</summary>
    public bool LockMemory { get; init; }

    /// <summary>Pins the measuring thread to this CPU.</summary>
    public int? Cpu { get; init; }

    internal const int MaxCount = 10_000_000;

    /// <summary>The most wake-ups <paramref name="duration"/> can hold at <paramref name="interval"/>: the count for a run bounded by its duration alone.</summary>
    public static int CountFor(TimeSpan duration, TimeSpan interval) =>
        interval <= TimeSpan.Zero ? MaxCount : (int)Math.Clamp(Math.Ceiling(duration / interval), 1, MaxCount);

    internal void Validate()
    {
        if (Interval < TimeSpan.FromMicroseconds(10) || Interval > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, "The interval is 10 us to 10 s.");
        }
        if (Count is < 1 or > MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(Count), Count, $"Measure 1 to {MaxCount:N0} wake-ups.");
        }
        if (Duration is TimeSpan duration && (duration <= TimeSpan.Zero || duration > TimeSpan.FromDays(1)))
        {
            throw new ArgumentOutOfRangeException(nameof(Duration), duration, "A run lasts more than 0 and at most a day.");
        }
        if (!Enum.IsDefined(Timer))
        {
            throw new ArgumentOutOfRangeException(nameof(Timer), Timer, "ClockNanosleep or TimerFd.");
        }
        if (Policy is SchedulingPolicy policy)
        {
            if (policy is not (SchedulingPolicy.Fifo or SchedulingPolicy.RR or SchedulingPolicy.Other))
            {
                throw new ArgumentException("The measuring thread runs Other, Fifo or RR.", nameof(Policy));
            }
            ProcessScheduling.ValidatePriority(policy, Priority);
        }
        else if (Priority != 0)
        {
            throw new ArgumentException("A priority goes with a policy (Fifo or RR).", nameof(Priority));
        }
        if (Cpu is < 0 or >= 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(Cpu), Cpu, "A CPU number is 0 to 8191.");
        }
    }
}

/// <summary>One bar of a latency histogram: the wake-ups that came [Lower, Upper) microseconds late.</summary>
public sealed record LatencyBucket(double LowerMicroseconds, double UpperMicroseconds, long Count, double Share)
{
    /// <summary>The bar as the terminal shows it: Share of 40 characters.</summary>
    public string Bar => new('#', (int)Math.Round(Share * 40));

    public override string ToString() => $"{LowerMicroseconds}-{UpperMicroseconds} us: {Count}";
}

/// <summary>
/// How late periodic wake-ups came (cyclictest's measurement): each deadline is absolute on CLOCK_MONOTONIC, one
/// interval after the last, and the latency is how long after it the thread ran again. Min, median, p99, p99.9, max
/// and average, a histogram, and the overruns (deadlines missed entirely, skipped).
/// </summary>
public sealed record TimerLatencyResult(TimeSpan Interval, LatencyTimer Timer, string Policy, bool MemoryLocked, int? Cpu, int Samples,
    TimeSpan Minimum, TimeSpan Median, TimeSpan P99, TimeSpan P999, TimeSpan Maximum, TimeSpan Average, long Overruns,
    IReadOnlyList<LatencyBucket> Histogram, IReadOnlyList<long> LatenciesNanoseconds)
{
    /// <summary>True when cancellation (Ctrl+C) ended the run early: the statistics are of the wake-ups measured until then.</summary>
    public bool Stopped { get; init; }

    /// <summary>The histogram as text, one bar per line, as the terminal shows it.</summary>
    public string FormatHistogram()
    {
        var text = new StringBuilder();
        int labelWidth = Histogram.Max(b => Label(b).Length);
        foreach (LatencyBucket bucket in Histogram)
        {
            text.Append(Label(bucket).PadLeft(labelWidth)).Append(" us | ").Append(bucket.Bar.PadRight(40)).Append(' ')
                .AppendLine(bucket.Count.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();

        static string Label(LatencyBucket b) => double.IsPositiveInfinity(b.UpperMicroseconds)
            ? $">= {b.LowerMicroseconds.ToString(CultureInfo.InvariantCulture)}"
            : $"{b.LowerMicroseconds.ToString(CultureInfo.InvariantCulture)}-{b.UpperMicroseconds.ToString(CultureInfo.InvariantCulture)}";
    }
}

/// <summary>The cyclictest-style measurement, and its statistics.</summary>
public static class TimerLatency
{
    /// <summary>
    /// Runs <see cref="TimerLatencyOptions.Count"/> periods (or fewer, when <see cref="TimerLatencyOptions.Duration"/>
    /// passes first) on a thread of its own (so the realtime policy and CPU pinning are that thread's alone) and returns
    /// the statistics. Cancellation ends it within a period and keeps what was measured (<see cref="TimerLatencyResult.Stopped"/>);
    /// it throws only when no wake-up was measured yet. <paramref name="progress"/> is called on the caller's thread
    /// about four times a second with the wake-ups measured so far.
    /// </summary>
    public static TimerLatencyResult Measure(TimerLatencyOptions options, CancellationToken cancellationToken = default, SyscallTrace? trace = null,
        Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        long[] latencies = new long[options.Count];
        var run = new LatencyRun();
        long overruns = 0;
        Exception? failure = null;
        bool locked = false;
        bool wasLocked = options.LockMemory && LockedBytes() > 0;
        if (options.LockMemory && !wasLocked)
        {
            MemoryLock.LockAll(MemoryLockAllOptions.Current | MemoryLockAllOptions.Future, trace);
            locked = true;
        }
        try
        {
            // Trace lines are gathered and written by the caller's thread: a cmdlet's verbose stream is its own.
            var lines = new List<string>();
            SyscallTrace? threadTrace = trace is null ? null : lines.Add;
            var thread = new Thread(() =>
            {
                try
                {
                    Prepare(options, threadTrace);
                    overruns = options.Timer == LatencyTimer.TimerFd
                        ? RunTimerFd(options, latencies, run, cancellationToken, threadTrace)
                        : RunClockNanosleep(options, latencies, run, cancellationToken, threadTrace);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }) { IsBackground = true, Name = "latency" };
            ResourceShortage.StartThread(thread, "timer latency thread");
            while (!thread.Join(ProgressEvery))
            {
                progress?.Invoke(Volatile.Read(ref run.Measured));
            }
            lines.ForEach(line => trace!(line));
        }
        finally
        {
            if (locked)
            {
                MemoryLock.UnlockAll(trace);
            }
        }
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        int measured = Volatile.Read(ref run.Measured);
        if (measured == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
        string policy = options.Policy is SchedulingPolicy p && p != SchedulingPolicy.Other ? $"{ProcessScheduling.NameOf(p)} {options.Priority}" : "SCHED_OTHER";
        // Cut only a run that ended early: Summarize copies what it keeps, and a full run's samples can be tens of MB.
        return Summarize(measured == latencies.Length ? latencies : latencies[..measured], options.Interval, options.Timer, policy, options.LockMemory, options.Cpu, overruns)
            with { Stopped = run.Stopped };
    }

    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>What the measuring thread shares with the caller's while it runs: wake-ups measured, and whether cancellation ended it.</summary>
    private sealed class LatencyRun
    {
        public int Measured;
        public bool Stopped;

        /// <summary>Counts one wake-up; false when the run is over (the duration passed, or cancellation came).</summary>
        public bool Counted(int measured, long now, long endAt, CancellationToken cancellationToken)
        {
            Volatile.Write(ref Measured, measured);
            if (cancellationToken.IsCancellationRequested)
            {
                Stopped = true;
                return false;
            }
            return now < endAt;
        }
    }

    private static long LockedBytes()
    {
        string? locked = ProcFile.Field("/proc/self/status", "VmLck");
        return locked is null ? 0 : long.Parse(locked.Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static void Prepare(TimerLatencyOptions options, SyscallTrace? trace)
    {
        int thread = Libc.gettid();
        if (options.Cpu is int cpu)
        {
            ProcessScheduling.SetAffinity(Environment.ProcessId, [cpu], thread, trace);
        }
        if (options.Policy is SchedulingPolicy policy && policy != SchedulingPolicy.Other)
        {
            ProcessScheduling.SetPolicy(Environment.ProcessId, policy, options.Priority, resetOnFork: false, thread, trace);
        }
    }

    private static long Now()
    {
        Libc.clock_gettime(Libc.CLOCK_MONOTONIC, out Timespec now);
        return now.Seconds * 1_000_000_000 + now.Nanoseconds;
    }

    private static Timespec At(long nanoseconds) => new() { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };

    /// <summary>The measuring loop: nothing in it allocates, so no collection lands in a period.</summary>
    private static long RunClockNanosleep(TimerLatencyOptions options, long[] latencies, LatencyRun run, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        long interval = options.Interval.Ticks * 100;
        long overruns = 0;
        using ThreadInterrupt? interrupt = cancellationToken.CanBeCanceled ? ThreadInterrupt.TryArm(cancellationToken, null, trace, "latency") : null;
        long next = Now() + interval;
        long endAt = EndAt(options);
        int i = 0;
        for (; i < latencies.Length; i++)
        {
            int result = 0;
            do
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    run.Stopped = true;
                    break;
                }
                result = Libc.clock_nanosleep(Libc.CLOCK_MONOTONIC, Libc.TIMER_ABSTIME, At(next), IntPtr.Zero);
            }
            while (result == (int)Errno.EINTR);
            if (run.Stopped)
            {
                break;
            }
            // Only the first period is narrated: a line per period would be the measurement's own latency.
            Syscall.Check(SyscallResult.FromErrorNumber(result), i == 0 ? trace : null, "clock_nanosleep", "latency", $"CLOCK_MONOTONIC, TIMER_ABSTIME, {At(next)}, NULL");
            long now = Now();
            latencies[i] = now - next;
            next += interval;
            while (next <= now)
            {
                next += interval;
                overruns++;
            }
            if (!run.Counted(i + 1, now, endAt, cancellationToken))
            {
                i++;
                break;
            }
        }
        trace?.Invoke($"... {Math.Max(0, i - 1)} more clock_nanosleep calls, one per period, not narrated");
        return overruns;
    }

    /// <summary>The CLOCK_MONOTONIC time (ns) the run's duration ends, or never.</summary>
    private static long EndAt(TimerLatencyOptions options) => options.Duration is TimeSpan duration ? Now() + duration.Ticks * 100 : long.MaxValue;

    private static unsafe long RunTimerFd(TimerLatencyOptions options, long[] latencies, LatencyRun run, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        long interval = options.Interval.Ticks * 100;
        using var timer = new SafeFdHandle(Syscall.Check(Libc.timerfd_create(Libc.CLOCK_MONOTONIC, Libc.TFD_CLOEXEC), trace, "timerfd_create", "latency",
            $"CLOCK_MONOTONIC, TFD_CLOEXEC"));
        long start = Now() + interval;
        var spec = new TimerSpec { Interval = At(interval), Value = At(start) };
        Syscall.Check(Libc.timerfd_settime(timer.Fd, Libc.TFD_TIMER_ABSTIME, spec, out _), trace, "timerfd_settime", "latency",
            $"{timer.Fd}, TFD_TIMER_ABSTIME, {{it_interval={spec.Interval}, it_value={spec.Value}}}, ...");
        using ThreadInterrupt? interrupt = cancellationToken.CanBeCanceled ? ThreadInterrupt.TryArm(cancellationToken, null, trace, "latency") : null;
        long expired = 0;
        long overruns = 0;
        long endAt = EndAt(options);
        int i = 0;
        for (; i < latencies.Length; i++)
        {
            ulong expirations = 0;
            SyscallResult read = default;
            do
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    run.Stopped = true;
                    break;
                }
                read = Libc.read(timer.Fd, (byte*)&expirations, sizeof(ulong));
            }
            while (read.Errno == Errno.EINTR);
            if (run.Stopped)
            {
                break;
            }
            // Only the first period is narrated: a line per period would be the measurement's own latency.
            Syscall.CheckCount(read, i == 0 ? trace : null, "read", "latency timerfd", $"{timer.Fd}, [{expirations}], 8");
            long now = Now();
            // The expiry read now is the last of those that passed: the ones before it were missed.
            expired += (long)expirations;
            overruns += (long)expirations - 1;
            latencies[i] = now - (start + (expired - 1) * interval);
            if (!run.Counted(i + 1, now, endAt, cancellationToken))
            {
                i++;
                break;
            }
        }
        trace?.Invoke($"... {Math.Max(0, i - 1)} more reads, one per period, not narrated");
        timer.Close(trace);
        return overruns;
    }

    /// <summary>The statistics of measured latencies (nanoseconds), and a histogram of about 20 bars up to p99.9 and one beyond.</summary>
    public static TimerLatencyResult Summarize(IReadOnlyList<long> latenciesNanoseconds, TimeSpan interval, LatencyTimer timer = LatencyTimer.ClockNanosleep,
        string policy = "SCHED_OTHER", bool memoryLocked = false, int? cpu = null, long overruns = 0)
    {
        ArgumentNullException.ThrowIfNull(latenciesNanoseconds);
        if (latenciesNanoseconds.Count == 0)
        {
            throw new ArgumentException("There is nothing to summarize.", nameof(latenciesNanoseconds));
        }
        long[] sorted = latenciesNanoseconds.Order().ToArray();
        long Rank(double fraction) => sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
        static TimeSpan Span(double nanoseconds) => TimeSpan.FromTicks((long)Math.Round(nanoseconds / 100));
        IReadOnlyList<LatencyBucket> histogram = Buckets(sorted, Rank(0.999));
        return new TimerLatencyResult(interval, timer, policy, memoryLocked, cpu, sorted.Length, Span(sorted[0]), Span(Rank(0.5)), Span(Rank(0.99)),
            Span(Rank(0.999)), Span(sorted[^1]), Span(sorted.Average()), overruns, histogram, latenciesNanoseconds.ToArray());
    }

    /// <summary>Bars of 1, 2 or 5 times a power of ten microseconds, as many as make about 20 up to <paramref name="upTo"/>, then one for the rest.</summary>
    private static List<LatencyBucket> Buckets(long[] sorted, long upTo)
    {
        double span = Math.Max(1, (upTo - Math.Min(0, sorted[0])) / 1000.0);
        double width = 1;
        foreach (double candidate in Enumerable.Range(-1, 8).SelectMany(power => new[] { 1, 2, 5 }.Select(step => step * Math.Pow(10, power))))
        {
            width = candidate;
            if (span / candidate <= 20)
            {
                break;
            }
        }
        double first = Math.Floor(sorted[0] / 1000.0 / width) * width;
        double last = Math.Floor(upTo / 1000.0 / width) * width + width;
        var counts = new List<(double Lower, double Upper, long Count)>();
        for (double lower = first; lower < last - width / 2; lower += width)
        {
            counts.Add((Math.Round(lower, 3), Math.Round(lower + width, 3), 0));
        }
        long beyond = 0;
        foreach (long latency in sorted)
        {
            double microseconds = latency / 1000.0;
            int index = (int)Math.Floor((microseconds - first) / width);
            if (index >= 0 && index < counts.Count)
            {
                counts[index] = counts[index] with { Count = counts[index].Count + 1 };
            }
            else
            {
                beyond++;
            }
        }
        if (beyond > 0)
        {
            counts.Add((Math.Round(last, 3), double.PositiveInfinity, beyond));
        }
        long most = counts.Max(c => c.Count);
        return counts.Select(c => new LatencyBucket(c.Lower, c.Upper, c.Count, most == 0 ? 0 : (double)c.Count / most)).ToList();
    }
}
