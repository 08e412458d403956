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
        var options = new TimerLatencyOptions
        {
            Interval = TimeSpan.FromMilliseconds(IntervalMilliseconds),
            Count = Count,
            Timer = Timer,
            Policy = Policy,
            Priority = Priority,
            LockMemory = LockMemory,
            Cpu = Cpu,
        };
        TryRun($"{Count} wake-ups every {IntervalMilliseconds} ms", () =>
        {
            TimerLatencyResult result = TimerLatency.Measure(options, Cancellation, Trace);
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
}
