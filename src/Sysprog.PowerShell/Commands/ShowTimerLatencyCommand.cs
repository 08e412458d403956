using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Show-TimerLatency: Measure-TimerLatency's result drawn, the histogram with counts on a log scale and the wake-ups
/// over time, min, median, p99, p99.9 and max marked; as text lines, or as SVG with -Path.
/// </summary>
[Cmdlet(VerbsCommon.Show, "TimerLatency")]
[OutputType(typeof(string))]
public sealed class ShowTimerLatencyCommand : PictureCmdlet
{
    private readonly List<TimerLatencyResult> _results = [];

    /// <summary>A result of Measure-TimerLatency (without -Histogram).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public TimerLatencyResult[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (TimerLatencyResult result in InputObject)
        {
            if (OutputFile() is null)
            {
                TryRun(result, () => WriteObject(LatencyPicture.ToText(result, PictureWidth(), ColorWanted()).TrimEnd('\n').Split('\n'), enumerateCollection: true));
            }
            else
            {
                _results.Add(result);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (OutputFile() is not string file || _results.Count == 0)
        {
            return;
        }
        if (_results.Count > 1)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"An SVG holds one result, but {_results.Count} came in."), "OnePicturePerFile", ErrorCategory.InvalidArgument, file));
        }
        TryRun(file, () => WriteFile(file, LatencyPicture.ToSvg(_results[0])));
    }
}
