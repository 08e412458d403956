using System.Diagnostics;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Choosing an IPC mechanism: each mechanism measured for real against the CLI as the peer process, every message
/// checked on both sides, nothing left behind; a peer that fails or never answers is a named failure, promptly.
/// What the figures are is the machine's business: only their consistency is asserted.
/// </summary>
public sealed class IpcMechanismTests
{
    private static readonly IpcMeasurementOptions Short = new() { RoundTrips = 200, Messages = 2000, WarmUpRoundTrips = 10 };

    internal static ChildProcessStartInfo CliPeer(IReadOnlyList<string> peerArguments) =>
        new(Peer.DotnetHost, [Peer.CliPath, "ipc-peer", .. peerArguments]);

    public static TheoryData<IpcMechanism> Mechanisms => new(Enum.GetValues<IpcMechanism>());

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public void EachMechanism_IsMeasuredAgainstAPeerProcess_AndLeavesNothingBehind(IpcMechanism mechanism)
    {
        FdListing before = OpenFds.Snapshot();
        string[] namesBefore = OurNames();
        var trace = new List<string>();

        IpcMeasurement measured = IpcMechanismBenchmark.Measure(mechanism, CliPeer, Short, default, trace.Add);

        Assert.Equal(mechanism, measured.Mechanism);
        Assert.Equal(200, measured.RoundTrips);
        Assert.True(measured.RoundTripMinimumMicroseconds > 0);
        Assert.True(measured.RoundTripMinimumMicroseconds <= measured.RoundTripMedianMicroseconds);
        Assert.True(measured.RoundTripMedianMicroseconds <= measured.RoundTripP99Microseconds);
        Assert.Equal(IpcMechanismTraits.Of(mechanism), measured.Traits);
        if (measured.Traits.CarriesData)
        {
            Assert.Equal(2000, measured.Messages);
            Assert.True(measured.MessagesPerSecond > 0);
            Assert.Equal(measured.MessagesPerSecond!.Value * 64, measured.BytesPerSecond!.Value, 6);
        }
        else
        {
            Assert.Null(measured.Messages);
            Assert.Null(measured.MessagesPerSecond);
            Assert.Null(measured.BytesPerSecond);
        }
        // The peer really was another process, started as a child of this one and reaped.
        Assert.NotEqual(Environment.ProcessId, measured.PeerProcessId);
        Assert.Contains(trace, l => l.StartsWith("posix_spawnp(", StringComparison.Ordinal) && l.Contains("ipc-peer " + mechanism, StringComparison.Ordinal));
        Assert.False(Directory.Exists($"/proc/{measured.PeerProcessId}"), "the peer was left running or unreaped");
        Assert.Empty(OpenFds.OpenedSince(before));
        Assert.Equal(namesBefore, OurNames());
    }

    [Fact]
    public void TinyAndHugeMessages_CrossIntact()
    {
        // 3 bytes: the sequence stamp is cut to what fits, and still checked on both sides.
        var tiny = new IpcMeasurementOptions { MessageSize = 3, RoundTrips = 50, Messages = 300, WarmUpRoundTrips = 1 };
        foreach (IpcMechanism mechanism in new[] { IpcMechanism.Pipe, IpcMechanism.Tcp, IpcMechanism.Udp, IpcMechanism.SharedMemory })
        {
            Assert.Equal(300, IpcMechanismBenchmark.Measure(mechanism, CliPeer, tiny).Messages);
        }
        // A stream has no boundaries: 65,000-byte messages arrive in pieces the channel puts back together; UDP takes them
        // whole, fewer at a time.
        var large = new IpcMeasurementOptions { MessageSize = 65_000, RoundTrips = 20, Messages = 200, WarmUpRoundTrips = 1 };
        Assert.Equal(200, IpcMechanismBenchmark.Measure(IpcMechanism.UnixStream, CliPeer, large).Messages);
        Assert.Equal(200, IpcMechanismBenchmark.Measure(IpcMechanism.Udp, CliPeer, large).Messages);
    }

    [Theory]
    [InlineData(IpcMechanism.MessageQueue)]
    [InlineData(IpcMechanism.Fifo)]
    [InlineData(IpcMechanism.Pipe)]
    [InlineData(IpcMechanism.Signal)]
    public void APeerThatDiesAtStart_IsANamedFailureAtOnce_WithWhatItSaid(IpcMechanism mechanism)
    {
        string[] namesBefore = OurNames();
        var watch = Stopwatch.StartNew();

        var failure = Assert.Throws<InvalidOperationException>(() => IpcMechanismBenchmark.Measure(mechanism,
            _ => new ChildProcessStartInfo("sh", ["-c", "echo 'no such peer' >&2; exit 3"]), Short));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}: the peer's end was not noticed");
        Assert.Contains("exit code 3", failure.Message, StringComparison.Ordinal);
        Assert.Contains("no such peer", failure.Message, StringComparison.Ordinal);
        Assert.Equal(namesBefore, OurNames());
    }

    [Fact]
    public void APeerThatNeverAnswers_IsStoppedByTheToken_AndKilled()
    {
        string[] namesBefore = OurNames();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        int? peer = null;
        var watch = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => IpcMechanismBenchmark.Measure(IpcMechanism.SharedMemory,
            _ => new ChildProcessStartInfo("sleep", ["60"]), Short, cancel.Token, line => peer ??= Spawned(line)));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.NotNull(peer);
        Assert.False(Directory.Exists($"/proc/{peer}"), "the silent peer was left running (or unreaped)");
        Assert.Equal(namesBefore, OurNames());
    }

    [Fact]
    public void PinnedToOneCpu_BothSidesRunThere_AndThisThreadGetsItsCpusBack()
    {
        IReadOnlyList<int> before = ProcessScheduling.Get(Environment.ProcessId, ThreadWait.CurrentThreadId()).Affinity;
        int cpu = before.Max();
        var trace = new List<string>();

        IpcMeasurement measured = IpcMechanismBenchmark.Measure(IpcMechanism.Pipe, CliPeer, new IpcMeasurementOptions { RoundTrips = 50, Messages = 50, Cpu = cpu }, default, trace.Add);

        Assert.Equal(cpu, measured.Cpu);
        Assert.Equal(before, ProcessScheduling.Get(Environment.ProcessId, ThreadWait.CurrentThreadId()).Affinity);
        // Pinned before the spawn (the peer inherits it), given back after.
        int pinned = trace.FindIndex(l => l.StartsWith("sched_setaffinity(", StringComparison.Ordinal));
        int spawned = trace.FindIndex(l => l.StartsWith("posix_spawnp(", StringComparison.Ordinal));
        Assert.InRange(pinned, 0, spawned);
        Assert.True(trace.FindLastIndex(l => l.StartsWith("sched_setaffinity(", StringComparison.Ordinal)) > spawned);
        Assert.Null(IpcMechanismBenchmark.Measure(IpcMechanism.EventFd, CliPeer, new IpcMeasurementOptions { RoundTrips = 5, Messages = 5 }).Cpu);
    }

    [Fact]
    public void BadOptions_AreRefusedBeforeAnyProcessStarts()
    {
        var spawned = new List<string>();
        foreach ((IpcMeasurementOptions options, string parameter) in new[]
        {
            (new IpcMeasurementOptions { MessageSize = 0 }, "MessageSize"),
            (new IpcMeasurementOptions { MessageSize = 65_508 }, "MessageSize"),
            (new IpcMeasurementOptions { RoundTrips = 0 }, "RoundTrips"),
            (new IpcMeasurementOptions { Messages = -1 }, "Messages"),
            (new IpcMeasurementOptions { WarmUpRoundTrips = -1 }, "WarmUpRoundTrips"),
            (new IpcMeasurementOptions { MessageTimeout = TimeSpan.Zero }, "MessageTimeout"),
            (new IpcMeasurementOptions { PeerStartTimeout = TimeSpan.FromSeconds(-5) }, "PeerStartTimeout"),
            (new IpcMeasurementOptions { Cpu = -1 }, "Cpu"),
        })
        {
            var refused = Assert.ThrowsAny<ArgumentException>(() => IpcMechanismBenchmark.Measure(IpcMechanism.Pipe, CliPeer, options, default, spawned.Add));
            Assert.Equal(parameter, refused.ParamName);
        }
        Assert.Empty(spawned);
        Assert.Throws<ArgumentOutOfRangeException>(() => IpcMechanismTraits.Of((IpcMechanism)99));
    }

    [Fact]
    public void ThePeer_RefusesArgumentsItCannotServe_WithExitCode1()
    {
        Peer.Result result = Peer.Run("ipc-peer", "Pipe", "64");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("got 2 arguments", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCli_PrintsATableAUserCanChooseFrom_WithTheTradeOffs()
    {
        Peer.Result result = Peer.Run("measure-ipc", "--mechanism", "pipe", "messagequeue", "signal", "--round-trips", "50", "--messages", "500");

        Assert.True(result.ExitCode == 0, result.Error);
        string[] lines = result.Output.Split('\n');
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"wider than 80 columns: {l}"));
        Assert.Contains(lines, l => l.StartsWith("Mechanism", StringComparison.Ordinal) && l.Contains("Lifetime", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Pipe ", StringComparison.Ordinal) && l.EndsWith(" process", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("MessageQueue ", StringComparison.Ordinal) && l.Contains(" yes    yes ", StringComparison.Ordinal) && l.EndsWith(" kernel", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Signal ", StringComparison.Ordinal) && l.Contains(" - ", StringComparison.Ordinal));

        Peer.Result json = Peer.Run("measure-ipc", "--mechanism", "eventfd", "--round-trips", "20", "--json");
        Assert.True(json.ExitCode == 0, json.Error);
        using var parsed = System.Text.Json.JsonDocument.Parse(json.Output);
        System.Text.Json.JsonElement only = Assert.Single(parsed.RootElement.EnumerateArray());
        Assert.Equal("EventFd", only.GetProperty("mechanism").GetString());
        Assert.Equal(20, only.GetProperty("roundTrips").GetInt32());
    }

    private static int? Spawned(string line) =>
        line.StartsWith("posix_spawnp([", StringComparison.Ordinal) ? int.Parse(line["posix_spawnp([".Length..line.IndexOf(']', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The names a measurement of this process makes: queues, shared memory, the FIFOs' folder.</summary>
    private static string[] OurNames()
    {
        string mine = $"sysprog-ipc-{Environment.ProcessId}-";
        IEnumerable<string> named = new[] { "/dev/shm", MessageQueue.Directory }.Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFileSystemEntries).Where(e => Path.GetFileName(e).StartsWith(mine, StringComparison.Ordinal));
        IEnumerable<string> folders = Directory.EnumerateDirectories(Path.GetTempPath(), "sysprog-ipc-*")
            .Where(d => File.Exists(Path.Combine(d, "request")) || File.Exists(Path.Combine(d, "reply")));
        return named.Concat(folders).Order().ToArray();
    }
}
