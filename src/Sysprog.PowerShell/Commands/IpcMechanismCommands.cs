using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Measure-IpcMechanism: round-trip latency and throughput of each IPC mechanism between this session and a peer
/// process (a pwsh like this one, running the core's peer), with each mechanism's trade-offs beside the numbers.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "IpcMechanism", DefaultParameterSetName = "Pinned")]
[OutputType(typeof(IpcMeasurement))]
public sealed class MeasureIpcMechanismCommand : SysprogCmdlet
{
    /// <summary>Which to measure; all of them by default.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public IpcMechanism[]? Mechanism { get; set; }

    [Parameter]
    [ValidateRange(1, IpcMeasurementOptions.MaxMessageSize)]
    public int MessageSize { get; set; } = 64;

    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public int RoundTrips { get; set; } = 2000;

    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public int Messages { get; set; } = 20_000;

    /// <summary>Both processes on this CPU; by default the last this session may use.</summary>
    [Parameter(ParameterSetName = "Pinned")]
    [ValidateRange(0, 8191)]
    public int? Cpu { get; set; }

    /// <summary>Pin neither process.</summary>
    [Parameter(ParameterSetName = "AnyCpu", Mandatory = true)]
    public SwitchParameter AnyCpu { get; set; }

    protected override void ProcessRecord()
    {
        int? cpu = null;
        if (!AnyCpu && !TryRun("CPU affinity", () => cpu = Cpu ?? IpcMechanismBenchmark.DefaultCpu()))
        {
            return;
        }
        var options = new IpcMeasurementOptions { MessageSize = MessageSize, RoundTrips = RoundTrips, Messages = Messages, Cpu = cpu };
        IpcMechanism[] chosen = Mechanism is { Length: > 0 } given ? given.Distinct().ToArray() : Enum.GetValues<IpcMechanism>();
        var progress = new ProgressRecord(1, "Measuring IPC mechanisms", "starting");
        for (int i = 0; i < chosen.Length; i++)
        {
            IpcMechanism mechanism = chosen[i];
            progress.StatusDescription = $"{mechanism} ({i + 1} of {chosen.Length}): {RoundTrips:N0} round trips of {MessageSize} bytes, then {Messages:N0} messages one way";
            progress.PercentComplete = 100 * i / chosen.Length;
            WriteProgress(progress);
            TryRun(mechanism, () => WriteObject(IpcMechanismBenchmark.Measure(mechanism, PeerCommand, options, Cancellation, Trace)));
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }

    /// <summary>
    /// A pwsh like this one that loads this module's core and runs its peer. pwsh is not always an executable called
    /// pwsh: the PowerShell dotnet tool runs as "dotnet .../pwsh.dll".
    /// </summary>
    private ChildProcessStartInfo PeerCommand(IReadOnlyList<string> peerArguments)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable runs this session.");
        var words = new List<string>();
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            words.Add(Path.Combine((string)SessionState.PSVariable.GetValue("PSHOME"), "pwsh.dll"));
        }
        string core = typeof(IpcMechanismBenchmark).Assembly.Location;
        string quotedArguments = string.Join(", ", peerArguments.Select(Quote));
        words.AddRange(["-NoProfile", "-NonInteractive", "-NoLogo", "-Command",
            $"Add-Type -LiteralPath {Quote(core)}; exit [Sysprog.IpcMechanismBenchmark]::ServePeer([string[]] @({quotedArguments}))"]);
        return new ChildProcessStartInfo(host, words);

        // PowerShell's own escaping: it also doubles the typographic quotes that end a single-quoted string.
        static string Quote(string text) => $"'{System.Management.Automation.Language.CodeGeneration.EscapeSingleQuotedStringContent(text)}'";
    }
}
