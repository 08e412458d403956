using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Sysprog;

/// <summary>
/// Choosing an IPC mechanism, measured where the user is: for each mechanism this process and a peer process it
/// starts exchange messages over that mechanism, timing round trips (this side sends, the peer echoes) and one-way
/// throughput (this side streams, the peer acknowledges once at the end, or every <see cref="IpcMeasurementOptions.UdpWindow"/>
/// datagrams for UDP, which drops what does not fit). The peer runs <see cref="ServePeer"/> in whatever host can load
/// this library (<see cref="IpcPeerCommand"/>). The objects are made here and handed over as a user's programs would:
/// inherited descriptors (pipes, socket pairs, a TCP connection, UDP sockets, eventfds), or names the peer opens
/// (FIFOs in a private folder, queues, a shared memory object), each name removed once the peer has opened it.
/// </summary>
public static class IpcMechanismBenchmark
{
    private const int SharedMemorySlots = 16;
    private const int QueueCapacity = 10;
    private static readonly TimeSpan PeerMessageTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PeerExitGrace = TimeSpan.FromSeconds(5);

    /// <summary>Measures <paramref name="mechanism"/> against a peer started with <paramref name="peerCommand"/>.</summary>
    public static IpcMeasurement Measure(IpcMechanism mechanism, IpcPeerCommand peerCommand, IpcMeasurementOptions? options = null,
        CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(peerCommand);
        options ??= new IpcMeasurementOptions();
        options.Validate();
        IpcMechanismTraits traits = IpcMechanismTraits.Of(mechanism);
        cancellationToken.ThrowIfCancellationRequested();
        int window = mechanism == IpcMechanism.Udp ? UdpWindow(options.MessageSize) : options.Messages;
        int roundTrips = options.WarmUpRoundTrips + options.RoundTrips;
        if (options.Cpu is not int cpu)
        {
            return MeasureHere(mechanism, traits, window, roundTrips, peerCommand, options, cancellationToken, trace);
        }
        // The peer inherits the affinity of the thread that spawns it: this one, pinned for the measurement only.
        int thread = Interop.Libc.gettid();
        IReadOnlyList<int> before = ProcessScheduling.Get(Environment.ProcessId, thread, trace).Affinity;
        ProcessScheduling.SetAffinity(Environment.ProcessId, [cpu], thread, trace);
        try
        {
            return MeasureHere(mechanism, traits, window, roundTrips, peerCommand, options, cancellationToken, trace);
        }
        finally
        {
            ProcessScheduling.SetAffinity(Environment.ProcessId, before.ToArray(), thread, trace);
        }
    }

    /// <summary>
    /// The CPU a measurement is pinned to unless told otherwise: the last this process may run on, the one
    /// bench/ pins to, away from CPU 0 where interrupts tend to land.
    /// </summary>
    public static int DefaultCpu() => ProcessScheduling.Get(Environment.ProcessId).Affinity.Max();

    private static IpcMeasurement MeasureHere(IpcMechanism mechanism, IpcMechanismTraits traits, int window, int roundTrips, IpcPeerCommand peerCommand,
        IpcMeasurementOptions options, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        using var setup = Prepare(mechanism, options, trace);
        using Pipe errors = Pipe.Create(trace: trace);
        using FileDescriptor input = FileDescriptor.Open("/dev/null", FileAccess.Read, trace);
        using FileDescriptor output = FileDescriptor.Open("/dev/null", FileAccess.Write, trace);
        string[] peerArguments =
        [
            mechanism.ToString(), Text(options.MessageSize), Text(roundTrips), Text(traits.CarriesData ? options.Messages : 0), Text(window),
            Text(Environment.ProcessId), setup.PeerName ?? "",
        ];
        ChildProcessStartInfo command = peerCommand(peerArguments) ?? throw new InvalidOperationException("The peer command gave nothing to start.");
        var descriptors = new Dictionary<int, IDescriptorObject>(setup.PeerDescriptors) { [0] = input, [1] = output, [2] = errors.WriteEnd };
        var info = new ChildProcessStartInfo(command.Program, command.Arguments)
        {
            Environment = command.Environment,
            WorkingDirectory = command.WorkingDirectory,
            Descriptors = descriptors,
            BlockedSignals = setup.PeerBlockedSignals,
        };
        using ChildProcess peer = ChildProcess.Start(info, trace);
        errors.WriteEnd.Close(trace);
        setup.ClosePeerSide(trace);
        try
        {
            IpcChannel connected;
            try
            {
                connected = setup.Connect(peer, options.PeerStartTimeout, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException && peer.HasExited)
            {
                throw PeerFailed(peer, peer.WaitForExit(TimeSpan.Zero)!, errors);
            }
            using IpcChannel channel = connected;
            Span<byte> one = stackalloc byte[1];
            AwaitReady(channel, one, peer, errors, options.PeerStartTimeout, cancellationToken);
            setup.RemoveNames(trace);
            trace?.Invoke($"{roundTrips} round trips and {(traits.CarriesData ? options.Messages : 0)} one-way messages over {mechanism}, not narrated one by one");

            // Every message carries its sequence number, and each side checks what it gets: a measurement over a
            // mechanism that lost, reordered or damaged a message is a failure, never a figure.
            byte[] message = new byte[options.MessageSize];
            byte[] echo = new byte[options.MessageSize];
            int sequence = 0;
            for (int i = 0; i < options.WarmUpRoundTrips; i++)
            {
                RoundTrip(channel, message, echo, sequence++, traits.CarriesData, options.MessageTimeout, cancellationToken);
            }
            double[] timed = new double[options.RoundTrips];
            double microsecondsPerTick = 1e6 / Stopwatch.Frequency;
            for (int i = 0; i < timed.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                RoundTrip(channel, message, echo, sequence++, traits.CarriesData, options.MessageTimeout, cancellationToken);
                timed[i] = (Stopwatch.GetTimestamp() - start) * microsecondsPerTick;
            }

            double seconds = 0;
            if (traits.CarriesData)
            {
                sequence = 0;
                long start = Stopwatch.GetTimestamp();
                for (int left = options.Messages; left > 0; left -= window)
                {
                    for (int i = Math.Min(window, left); i > 0; i--)
                    {
                        Stamp(message, sequence++);
                        channel.Send(message, options.MessageTimeout, cancellationToken);
                    }
                    channel.Receive(one, options.MessageTimeout, cancellationToken);
                }
                seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            channel.Close(trace);
            ProcessExit exit = peer.WaitForExit(options.MessageTimeout, cancellationToken, trace)
                ?? throw new TimeoutException($"The peer process {peer.ProcessId} did not exit within {Units.FormatDuration(options.MessageTimeout)} of the last message.");
            if (!exit.Succeeded)
            {
                throw PeerFailed(peer, exit, errors);
            }
            setup.Close(trace);
            foreach (IDisposable used in new IDisposable[] { errors, input, output, peer })
            {
                CloseTraced(used, trace);
            }
            return new IpcMeasurement(traits, options.MessageSize, peer.ProcessId, timed, options.Messages, seconds, options.Cpu);
        }
        catch
        {
            if (!peer.HasExited)
            {
                peer.Signal(Signals.SIGKILL);
            }
            peer.WaitForExit(TimeSpan.FromSeconds(5));
            throw;
        }
    }

    /// <summary>
    /// The peer's side, run in the process <see cref="IpcPeerCommand"/> starts: echoes each round trip, takes the
    /// one-way messages and acknowledges them. Returns the exit code (0, or 1 with the failure on standard error).
    /// </summary>
    public static int ServePeer(string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        try
        {
            if (arguments.Length != 7 || !Enum.TryParse(arguments[0], out IpcMechanism mechanism))
            {
                throw new ArgumentException($"The peer takes: mechanism, message size, round trips, messages, window, parent pid, name; got {arguments.Length} arguments.");
            }
            int size = Number(arguments[1]), roundTrips = Number(arguments[2]), messages = Number(arguments[3]), window = Number(arguments[4]), parent = Number(arguments[5]);
            using IpcChannel channel = ConnectPeer(mechanism, size, parent, arguments[6]);
            bool carriesData = IpcMechanismTraits.Of(mechanism).CarriesData;
            byte[] message = new byte[size];
            byte[] one = new byte[1];
            channel.Send(one, PeerMessageTimeout, default);
            for (int i = 0; i < roundTrips; i++)
            {
                channel.Receive(message, PeerMessageTimeout, default);
                Check(message, i, carriesData, "round trip");
                channel.Send(message, PeerMessageTimeout, default);
            }
            int sequence = 0;
            for (int left = messages; left > 0; left -= window)
            {
                for (int i = Math.Min(window, left); i > 0; i--)
                {
                    channel.Receive(message, PeerMessageTimeout, default);
                    Check(message, sequence++, carriesData, "one-way message");
                }
                channel.Send(one, PeerMessageTimeout, default);
            }
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"sysprog IPC peer {Environment.ProcessId}: {e.Message}");
            return 1;
        }

        static int Number(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static void RoundTrip(IpcChannel channel, byte[] message, byte[] echo, int sequence, bool carriesData, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Stamp(message, sequence);
        channel.Send(message, timeout, cancellationToken);
        channel.Receive(echo, timeout, cancellationToken);
        Check(echo, sequence, carriesData, "echo");
    }

    /// <summary>The sequence number in the message's first bytes (as many of its 4 bytes as fit), little-endian.</summary>
    private static void Stamp(Span<byte> message, int sequence)
    {
        for (int i = 0; i < Math.Min(4, message.Length); i++)
        {
            message[i] = (byte)(sequence >> (8 * i));
        }
    }

    private static void Check(ReadOnlySpan<byte> message, int sequence, bool carriesData, string what)
    {
        if (!carriesData)
        {
            return;
        }
        Span<byte> expected = stackalloc byte[Math.Min(4, message.Length)];
        Stamp(expected, sequence);
        if (!message[..expected.Length].SequenceEqual(expected))
        {
            throw new InvalidDataException($"The {what} numbered {sequence} came as {Convert.ToHexString(message[..expected.Length])}: a message was lost, reordered or damaged.");
        }
    }

    /// <summary>
    /// Datagrams in flight before an acknowledgement: what the receiver's buffer surely holds. The kernel charges each
    /// datagram more than its payload (its sk_buff), so half the default receive buffer is counted, at most 16.
    /// </summary>
    private static int UdpWindow(int messageSize)
    {
        long buffer = ProcFile.Sysctl("net.core.rmem_default") ?? 212_992;
        return (int)Math.Clamp(buffer / 2 / (messageSize + 1024), 1, IpcMeasurementOptions.UdpWindow);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Waits for the peer's first message, checking that it still runs, so a peer that dies at start is a named failure at once.</summary>
    private static void AwaitReady(IpcChannel channel, Span<byte> one, ChildProcess peer, Pipe errors, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                channel.Receive(one, ReadyPoll, cancellationToken);
                return;
            }
            catch (Exception e) when (e is TimeoutException or EndOfStreamException or IOException or SysprogException)
            {
                // A peer that died closed its ends as it went: the end of the stream can come before its pidfd says
                // it ended, so the exit is waited for (briefly) before the failure is named.
                if ((e is TimeoutException ? peer.WaitForExit(TimeSpan.Zero) : peer.WaitForExit(PeerExitGrace)) is ProcessExit ended)
                {
                    throw PeerFailed(peer, ended, errors);
                }
                if (e is not TimeoutException || deadline.Elapsed >= timeout)
                {
                    throw;
                }
            }
        }
    }

    private static InvalidOperationException PeerFailed(ChildProcess peer, ProcessExit exit, Pipe errors)
    {
        string said = (errors.ReadEnd.ReadAvailableText(null, TimeSpan.FromSeconds(1)) ?? "").Trim();
        return new InvalidOperationException($"The peer process {peer.ProcessId} ended ({exit}){(said.Length > 0 ? $": {NameEscaping.Escape(said)}" : " and said nothing")}.");
    }

    /// <summary>Closes one of the objects a measurement uses, narrating the close; closing one twice does nothing.</summary>
    internal static void CloseTraced(IDisposable used, SyscallTrace? trace)
    {
        switch (used)
        {
            case FileDescriptorObject descriptor: descriptor.Close(trace); break;
            case Pipe pipe: pipe.Close(trace); break;
            case SocketPair pair: pair.Close(trace); break;
            case MessageQueue queue: queue.Close(trace); break;
            case MemoryMapping mapping: mapping.Close(trace); break;
            default: used.Dispose(); break;
        }
    }

    /// <summary>This side's objects for one mechanism, what the peer inherits, and the name it opens.</summary>
    private sealed class Setup : IDisposable
    {
        public Dictionary<int, IDescriptorObject> PeerDescriptors { get; } = [];

        public List<IDisposable> Owned { get; } = [];

        public string? PeerName { get; init; }

        public int[] PeerBlockedSignals { get; init; } = [];

        public required Func<ChildProcess, TimeSpan, CancellationToken, IpcChannel> Connect { get; init; }

        public Action<SyscallTrace?>? Unname { get; init; }

        public void Give(int number, FileDescriptorObject descriptor)
        {
            PeerDescriptors[number] = descriptor;
            Owned.Add(descriptor);
        }

        /// <summary>Closes this process's copies of what the peer inherited: an end left open here would hide the peer's exit.</summary>
        public void ClosePeerSide(SyscallTrace? trace)
        {
            foreach (IDescriptorObject given in PeerDescriptors.Values)
            {
                ((FileDescriptorObject)given).Close(trace);
            }
        }

        public void RemoveNames(SyscallTrace? trace)
        {
            Unname?.Invoke(trace);
            _unnamed = true;
        }

        private bool _unnamed;

        public void Dispose() => Close(null);

        /// <summary>Removes the names if the peer never opened them, and closes what this side made.</summary>
        public void Close(SyscallTrace? trace)
        {
            if (!_unnamed)
            {
                _unnamed = true;
                try
                {
                    Unname?.Invoke(trace);
                }
                catch (SysprogException e) when (e.Errno == Errno.ENOENT)
                {
                }
            }
            foreach (IDisposable owned in Owned)
            {
                CloseTraced(owned, trace);
            }
        }
    }

    private static Setup Prepare(IpcMechanism mechanism, IpcMeasurementOptions options, SyscallTrace? trace)
    {
        string name = $"/sysprog-ipc-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        switch (mechanism)
        {
            case IpcMechanism.Pipe:
            {
                Pipe toPeer = Pipe.Create(trace: trace), fromPeer = Pipe.Create(trace: trace);
                var setup = new Setup { Connect = (_, _, _) => new DescriptorChannel(fromPeer.ReadEnd, toPeer.WriteEnd, keepsBoundaries: false) };
                setup.Owned.Add(toPeer);
                setup.Owned.Add(fromPeer);
                setup.Give(3, toPeer.ReadEnd);
                setup.Give(4, fromPeer.WriteEnd);
                return setup;
            }
            case IpcMechanism.Fifo:
            {
                DirectoryInfo folder = Directory.CreateTempSubdirectory("sysprog-ipc-");
                trace?.Invoke($"mkdtemp(\"{NameEscaping.Escape(Path.Combine(Path.GetTempPath(), "sysprog-ipc-XXXXXX"))}\") = \"{NameEscaping.Escape(folder.FullName)}\" (mode 0700)");
                string request = Path.Combine(folder.FullName, "request"), reply = Path.Combine(folder.FullName, "reply");
                try
                {
                    Fifo.Create(request, trace: trace);
                    Fifo.Create(reply, trace: trace);
                }
                catch
                {
                    folder.Delete(recursive: true);
                    throw;
                }
                return new Setup
                {
                    PeerName = folder.FullName,
                    Connect = (peer, timeout, token) =>
                    {
                        PipeEnd outgoing = OpenFifoWhileRunning(request, FileAccess.Write, peer, timeout, token, trace);
                        try
                        {
                            return new DescriptorChannel(OpenFifoWhileRunning(reply, FileAccess.Read, peer, timeout, token, trace), outgoing, keepsBoundaries: false);
                        }
                        catch
                        {
                            outgoing.Dispose();
                            throw;
                        }
                    },
                    Unname = t =>
                    {
                        File.Delete(request);
                        File.Delete(reply);
                        folder.Delete();
                        t?.Invoke($"unlink(\"{NameEscaping.Escape(request)}\"), unlink(\"{NameEscaping.Escape(reply)}\"), rmdir(\"{NameEscaping.Escape(folder.FullName)}\"): the peer has them open");
                    },
                };
            }
            case IpcMechanism.UnixStream or IpcMechanism.UnixDatagram:
            {
                SocketPair pair = Socket.CreatePair(mechanism == IpcMechanism.UnixStream ? SocketKind.Stream : SocketKind.Datagram, trace: trace);
                var setup = new Setup { Connect = (_, _, _) => new DescriptorChannel(pair.First, pair.First, mechanism == IpcMechanism.UnixDatagram) };
                setup.Owned.Add(pair);
                setup.Give(3, pair.Second);
                return setup;
            }
            case IpcMechanism.Tcp:
            {
                using Socket listener = Socket.CreateBound(SocketEndpoint.Internet(IPAddress.Loopback, 0), trace: trace);
                Socket client = Socket.CreateConnected(listener.LocalEndpoint, timeout: options.MessageTimeout, trace: trace)
                    ?? throw new TimeoutException($"Connecting to {listener.LocalEndpoint} took longer than {Units.FormatDuration(options.MessageTimeout)}.");
                var setup = new Setup { Connect = (_, _, _) => new DescriptorChannel(client, client, keepsBoundaries: false) };
                setup.Owned.Add(client);
                Socket accepted = listener.Accept(options.MessageTimeout, default, trace)
                    ?? throw new TimeoutException($"{listener.Description} had no connection to accept within {Units.FormatDuration(options.MessageTimeout)}.");
                setup.Give(3, accepted);
                return setup;
            }
            case IpcMechanism.Udp:
            {
                Socket mine = Socket.Create(SocketFamily.IPv4, SocketKind.Datagram, trace: trace);
                var setup = new Setup { Connect = (_, _, _) => new DescriptorChannel(mine, mine, keepsBoundaries: true) };
                setup.Owned.Add(mine);
                Socket theirs = Socket.Create(SocketFamily.IPv4, SocketKind.Datagram, trace: trace);
                setup.Give(3, theirs);
                mine.Bind(SocketEndpoint.Internet(IPAddress.Loopback, 0), trace: trace);
                theirs.Bind(SocketEndpoint.Internet(IPAddress.Loopback, 0), trace: trace);
                mine.Connect(theirs.LocalEndpoint, options.MessageTimeout, default, trace);
                theirs.Connect(mine.LocalEndpoint, options.MessageTimeout, default, trace);
                return setup;
            }
            case IpcMechanism.MessageQueue:
            {
                long capacity = Math.Min(QueueCapacity, MessageQueueLimits.MessageCountMax ?? QueueCapacity);
                MessageQueue toPeer = MessageQueue.Create(name + "-to-peer", capacity, options.MessageSize, trace: trace);
                MessageQueue fromPeer;
                try
                {
                    fromPeer = MessageQueue.Create(name + "-from-peer", capacity, options.MessageSize, trace: trace);
                }
                catch
                {
                    toPeer.Dispose();
                    MessageQueue.Unlink(name + "-to-peer", trace);
                    throw;
                }
                var setup = new Setup
                {
                    PeerName = name,
                    Connect = (_, _, _) => new QueueChannel(toPeer, fromPeer, options.MessageSize),
                    Unname = t =>
                    {
                        MessageQueue.Unlink(name + "-to-peer", t);
                        MessageQueue.Unlink(name + "-from-peer", t);
                    },
                };
                setup.Owned.Add(toPeer);
                setup.Owned.Add(fromPeer);
                return setup;
            }
            case IpcMechanism.SharedMemory:
            {
                MemoryMapping mapping;
                using (SharedMemory shared = SharedMemory.Create(name, SharedMemoryChannel.Size(options.MessageSize, SharedMemorySlots), trace: trace))
                {
                    try
                    {
                        mapping = shared.Map(trace: trace);
                    }
                    catch
                    {
                        SharedMemory.Unlink(name, trace);
                        throw;
                    }
                }
                var setup = new Setup
                {
                    PeerName = name,
                    Connect = (_, _, _) => SharedMemoryChannel.Open(mapping, options.MessageSize, SharedMemorySlots, creator: true, trace),
                    Unname = t => SharedMemory.Unlink(name, t),
                };
                setup.Owned.Add(mapping);
                return setup;
            }
            case IpcMechanism.EventFd:
            {
                EventFd toPeer = EventFd.Create(trace: trace), fromPeer = EventFd.Create(trace: trace);
                var setup = new Setup { Connect = (_, _, _) => new EventFdChannel(toPeer, fromPeer) };
                setup.Owned.Add(toPeer);
                setup.Owned.Add(fromPeer);
                // The peer inherits copies: the channel here keeps these open, and what the peer was given is closed here.
                FileDescriptor peerIn = FileDescriptor.Duplicate(toPeer.Fd, trace), peerOut = FileDescriptor.Duplicate(fromPeer.Fd, trace);
                setup.Give(3, peerIn);
                setup.Give(4, peerOut);
                return setup;
            }
            case IpcMechanism.Signal:
            {
                SignalFd incoming = SignalFd.Create([Signals.SIGUSR2], trace);
                var setup = new Setup
                {
                    PeerBlockedSignals = [Signals.SIGUSR1],
                    Connect = (peer, _, _) => new SignalChannel(peer.ProcessId, Signals.SIGUSR1, incoming, peer),
                };
                setup.Owned.Add(incoming);
                return setup;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, $"One of {string.Join(", ", Enum.GetNames<IpcMechanism>())}.");
        }
    }

    /// <summary>Opens this side of a FIFO, which waits for the peer to open the other side; in slices, so a peer that died is noticed.</summary>
    private static PipeEnd OpenFifoWhileRunning(string path, FileAccess access, ChildProcess peer, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (Fifo.Open(path, access, timeout: ReadyPoll, cancellationToken: cancellationToken, trace: trace) is PipeEnd opened)
            {
                return opened;
            }
            if (peer.HasExited || waited.Elapsed >= timeout)
            {
                throw new TimeoutException(peer.HasExited
                    ? $"The peer process {peer.ProcessId} ended before it opened {NameEscaping.Escape(path)}."
                    : Fifo.DescribeTimeout(path, access, timeout));
            }
        }
    }

    private static IpcChannel ConnectPeer(IpcMechanism mechanism, int size, int parent, string name)
    {
        TimeSpan timeout = PeerMessageTimeout;
        switch (mechanism)
        {
            case IpcMechanism.Pipe:
                return new DescriptorChannel(FileDescriptor.Duplicate(3), FileDescriptor.Duplicate(4), keepsBoundaries: false);
            case IpcMechanism.Fifo:
            {
                PipeEnd incoming = Fifo.Open(Path.Combine(name, "request"), FileAccess.Read, timeout: timeout)
                    ?? throw new TimeoutException(Fifo.DescribeTimeout(Path.Combine(name, "request"), FileAccess.Read, timeout));
                PipeEnd outgoing = Fifo.Open(Path.Combine(name, "reply"), FileAccess.Write, timeout: timeout)
                    ?? throw new TimeoutException(Fifo.DescribeTimeout(Path.Combine(name, "reply"), FileAccess.Write, timeout));
                return new DescriptorChannel(incoming, outgoing, keepsBoundaries: false);
            }
            case IpcMechanism.UnixStream or IpcMechanism.UnixDatagram or IpcMechanism.Tcp or IpcMechanism.Udp:
            {
                FileDescriptor socket = FileDescriptor.Duplicate(3);
                return new DescriptorChannel(socket, socket, IpcMechanismTraits.Of(mechanism).KeepsMessageBoundaries);
            }
            case IpcMechanism.MessageQueue:
                return new QueueChannel(MessageQueue.Open(name + "-from-peer", FileAccess.Write), MessageQueue.Open(name + "-to-peer", FileAccess.Read), size);
            case IpcMechanism.SharedMemory:
            {
                using SharedMemory shared = SharedMemory.Open(name);
                return SharedMemoryChannel.Open(shared.Map(), size, SharedMemorySlots, creator: false, null);
            }
            case IpcMechanism.EventFd:
                return new EventFdChannel(EventFd.FromDescriptor(4), EventFd.FromDescriptor(3));
            case IpcMechanism.Signal:
                return new SignalChannel(parent, Signals.SIGUSR2, SignalFd.Create([Signals.SIGUSR1]), null);
            default:
                throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, null);
        }
    }
}
