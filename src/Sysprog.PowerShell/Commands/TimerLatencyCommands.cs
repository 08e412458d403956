using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Measure-TimerLatency: cyclictest's measurement, on a thread of its own, optionally realtime and memory-locked.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "TimerLatency")]
[OutputType(typeof(TimerLatencyResult), typeof(LatencyBucket))]
public sealed class MeasureTimerLatencyCommand : SysprogCmdlet
{
    [Parameter(Position = 0)]
    [ValidateRange(0.01, 10000.0)]
    public double IntervalMilliseconds { get; set; } = 1;

    [Parameter(Position = 1)]
    [ValidateRange(1, 10_000_000)]
    public int Count { get; set; } = 1000;

    /// <summary>Stop after this many seconds even before -Count wake-ups (cyclictest's -D); alone, it bounds the run by itself.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400.0)]
    public double? DurationSeconds { get; set; }

    [Parameter]
    public LatencyTimer Timer { get; set; } = LatencyTimer.ClockNanosleep;

    /// <summary>Fifo or RR makes the measuring thread realtime.</summary>
    [Parameter]
    [ValidateSet("Other", "Fifo", "RR")]
    public SchedulingPolicy? Policy { get; set; }

    [Parameter]
    [ValidateRange(0, 99)]
    public int Priority { get; set; }

    /// <summary>mlockall for the run.</summary>
    [Parameter]
    public SwitchParameter LockMemory { get; set; }

    [Parameter]
    [ValidateRange(0, 8191)]
    public int? Cpu { get; set; }

    /// <summary>Write the histogram's bars instead of the statistics (they plot in the terminal and export as CSV).</summary>
    [Parameter]
    public SwitchParameter Histogram { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan interval = TimeSpan.FromMilliseconds(IntervalMilliseconds);
        TimeSpan? duration = DurationSeconds is double seconds ? TimeSpan.FromSeconds(seconds) : null;
        bool countGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Count));
        var options = new TimerLatencyOptions
        {
            Interval = interval,
            Count = duration is TimeSpan bound && !countGiven ? TimerLatencyOptions.CountFor(bound, interval) : Count,
            Duration = duration,
            Timer = Timer,
            Policy = Policy,
            Priority = Priority,
            LockMemory = LockMemory,
            Cpu = Cpu,
        };
        var progress = new ProgressRecord(1, "Measuring timer latency", "starting");
        _running = System.Diagnostics.Stopwatch.StartNew();
        TryRun($"{options.Count} wake-ups every {IntervalMilliseconds} ms", () =>
        {
            TimerLatencyResult result = TimerLatency.Measure(options, Cancellation, Trace, measured => ShowProgress(progress, measured, options));
            progress.RecordType = ProgressRecordType.Completed;
            ShowProgress(progress, result.Samples, options);
            if (result.Stopped)
            {
                // A stopped pipeline takes no more output: what was measured stays in the caller's scope instead.
                SessionState.PSVariable.Set(StoppedVariable, result);
            }
            if (Histogram)
            {
                WriteObject(result.Histogram, enumerateCollection: true);
            }
            else
            {
                WriteObject(result);
            }
        });
    }

    private System.Diagnostics.Stopwatch _running = new();

    /// <summary>Where a run Ctrl+C stopped leaves what it measured: $SysprogStoppedLatency.</summary>
    public const string StoppedVariable = "SysprogStoppedLatency";

    private void ShowProgress(ProgressRecord progress, int measured, TimerLatencyOptions options)
    {
        progress.StatusDescription = $"{measured:N0} of {options.Count:N0} wake-ups every {Units.FormatDuration(options.Interval)}" +
            (options.Duration is TimeSpan duration ? $", for {Units.FormatDuration(duration)} at most" : "");
        double done = Math.Max((double)measured / options.Count, options.Duration is TimeSpan bound ? _running.Elapsed / bound : 0);
        progress.PercentComplete = (int)Math.Min(100, 100 * done);
        try
        {
            WriteProgress(progress);
        }
        catch (PipelineStoppedException)
        {
            // Stopping: the core ends the run within a period and keeps what it measured.
        }
    }
}
