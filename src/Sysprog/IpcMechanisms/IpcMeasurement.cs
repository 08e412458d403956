namespace Sysprog;

/// <summary>
/// Starts a process that runs <see cref="IpcMechanismBenchmark.ServePeer"/> with the arguments given, by whatever
/// host can load this library: the sysprog tool itself, or a pwsh. Sysprog adds the descriptors and the signal mask.
/// </summary>
public delegate ChildProcessStartInfo IpcPeerCommand(IReadOnlyList<string> peerArguments);

/// <summary>What an IPC measurement runs with.</summary>
public sealed class IpcMeasurementOptions
{
    /// <summary>Bytes in each message (both ways in a round trip; one way when measuring throughput).</summary>
    public int MessageSize { get; init; } = 64;

    /// <summary>Round trips timed (after <see cref="WarmUpRoundTrips"/> untimed ones).</summary>
    public int RoundTrips { get; init; } = 2000;

    /// <summary>Messages sent one way to time throughput (mechanisms that carry data).</summary>
    public int Messages { get; init; } = 20_000;

    public int WarmUpRoundTrips { get; init; } = 200;

    /// <summary>
    /// Runs this side and the peer on this one CPU (the measuring thread's affinity, which the peer inherits), so each
    /// message is a switch between the two on one CPU; null leaves both where the scheduler puts them, where each
    /// wake-up may cross CPUs and, on an idle virtual machine, wake a halted one (tens of microseconds of noise).
    /// </summary>
    public int? Cpu { get; init; }

    /// <summary>How long the peer may take to start and get ready (a pwsh takes a second or more on a loaded machine).</summary>
    public TimeSpan PeerStartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long any one message may take before the peer is taken to be stuck.</summary>
    public TimeSpan MessageTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>UDP drops what the receiver has no room for: at most this many datagrams (fewer for large ones) are in flight before an acknowledgement.</summary>
    public const int UdpWindow = 16;

    /// <summary>The largest message (a UDP datagram's payload).</summary>
    public const int MaxMessageSize = 65_507;

    internal const int MaxCount = 10_000_000;

    internal void Validate()
    {
        if (MessageSize is < 1 or > MaxMessageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(MessageSize), MessageSize, $"A message is 1 to {MaxMessageSize:N0} bytes (a UDP datagram's most).");
        }
        if (RoundTrips is < 1 or > MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(RoundTrips), RoundTrips, $"Time 1 to {MaxCount:N0} round trips.");
        }
        if (Messages is < 1 or > MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(Messages), Messages, $"Send 1 to {MaxCount:N0} messages.");
        }
        if (WarmUpRoundTrips is < 0 or > MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(WarmUpRoundTrips), WarmUpRoundTrips, $"Warm up with 0 to {MaxCount:N0} round trips.");
        }
        if (Cpu is < 0 or >= 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(Cpu), Cpu, "A CPU number is 0 to 8191.");
        }
        Timeouts.Validate(PeerStartTimeout, nameof(PeerStartTimeout));
        Timeouts.Validate(MessageTimeout, nameof(MessageTimeout));
        if (PeerStartTimeout <= TimeSpan.Zero || MessageTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(PeerStartTimeout <= TimeSpan.Zero ? nameof(PeerStartTimeout) : nameof(MessageTimeout), "Give the peer some time.");
        }
    }
}

/// <summary>
/// How one mechanism performed between this process and a peer process on this machine: round-trip latency of
/// <see cref="MessageSize"/>-byte messages, one-way throughput, and the mechanism's trade-offs beside them.
/// </summary>
public sealed class IpcMeasurement
{
    internal IpcMeasurement(IpcMechanismTraits traits, int messageSize, int peerProcessId, double[] roundTripMicroseconds,
        int messages, double throughputSeconds, int? cpu)
    {
        Traits = traits;
        Cpu = cpu;
        MessageSize = messageSize;
        PeerProcessId = peerProcessId;
        RoundTrips = roundTripMicroseconds.Length;
        Array.Sort(roundTripMicroseconds);
        RoundTripMinimumMicroseconds = roundTripMicroseconds[0];
        RoundTripMedianMicroseconds = Percentile(roundTripMicroseconds, 0.50);
        RoundTripP99Microseconds = Percentile(roundTripMicroseconds, 0.99);
        if (traits.CarriesData)
        {
            Messages = messages;
            MessagesPerSecond = messages / throughputSeconds;
            BytesPerSecond = (double)messages * messageSize / throughputSeconds;
        }
    }

    public IpcMechanism Mechanism => Traits.Mechanism;

    public int MessageSize { get; }

    /// <summary>The one CPU both sides ran on; null where they were not pinned.</summary>
    public int? Cpu { get; }

    /// <summary>The process at the other end (gone by the time this is read).</summary>
    public int PeerProcessId { get; }

    public int RoundTrips { get; }

    public double RoundTripMinimumMicroseconds { get; }

    public double RoundTripMedianMicroseconds { get; }

    public double RoundTripP99Microseconds { get; }

    /// <summary>Messages sent one way for throughput; null for a mechanism that carries no data.</summary>
    public int? Messages { get; }

    public double? MessagesPerSecond { get; }

    public double? BytesPerSecond { get; }

    public IpcMechanismTraits Traits { get; }

    public string NamedBy => Traits.NamedBy;

    public string Lifetime => Traits.Lifetime;

    public bool KeepsMessageBoundaries => Traits.KeepsMessageBoundaries;

    public bool HasPriorities => Traits.HasPriorities;

    public bool PassesDescriptors => Traits.PassesDescriptors;

    public bool CrossesHosts => Traits.CrossesHosts;

    /// <summary>The value at rank <paramref name="fraction"/> of sorted samples (nearest rank).</summary>
    internal static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];

    public override string ToString() =>
        $"{Mechanism}: round trip median {RoundTripMedianMicroseconds:0.0} us, p99 {RoundTripP99Microseconds:0.0} us" +
        (MessagesPerSecond is double rate ? $", {rate:N0} messages/s of {MessageSize} bytes" : "");
}
