using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// One side of a two-way conversation over one mechanism: messages of a size both sides know, so a stream is read
/// until the whole message is there and a message-based mechanism takes one message per receive. The timing loops
/// of <see cref="IpcMechanismBenchmark"/> are written once against this; nothing here allocates per message.
/// </summary>
internal abstract class IpcChannel : IDisposable
{
    public abstract void Send(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Fills <paramref name="message"/> with the next message, which must be exactly that long.</summary>
    public abstract void Receive(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Closes what the channel uses, narrating each close.</summary>
    public abstract void Close(SyscallTrace? trace);

    public void Dispose() => Close(null);

    protected static TimeoutException Late(string what, TimeSpan timeout) =>
        new($"{what}: nothing came from the other process within {Units.FormatDuration(timeout)}.");
}

/// <summary>Pipes, FIFOs and sockets: read(2) and write(2) on a descriptor each way (or one socket both ways).</summary>
internal sealed class DescriptorChannel(StreamDescriptor input, StreamDescriptor output, bool keepsBoundaries) : IpcChannel
{
    public override void Send(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken) =>
        output.Write(message, timeout, cancellationToken);

    public override void Receive(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        int filled = 0;
        do
        {
            int got = input.Read(message[filled..], timeout, cancellationToken) ?? throw Late(input.Description, timeout);
            if (got == 0)
            {
                throw new EndOfStreamException($"{input.Description}: the other process closed its end after {filled} of {message.Length} bytes.");
            }
            if (keepsBoundaries && got != message.Length)
            {
                throw new InvalidDataException($"{input.Description}: a message of {got} bytes came where {message.Length} were expected.");
            }
            filled += got;
        }
        while (filled < message.Length);
    }

    public override void Close(SyscallTrace? trace)
    {
        input.Close(trace);
        output.Close(trace);
    }
}

/// <summary>A POSIX message queue each way.</summary>
internal sealed class QueueChannel(MessageQueue outgoing, MessageQueue incoming, int maxMessageSize) : IpcChannel
{
    // mq_receive refuses a buffer smaller than the queue's message size, so one of that size is kept for every receive.
    private readonly byte[] _received = new byte[maxMessageSize];

    public override void Send(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!outgoing.Send(message, 0, timeout, cancellationToken))
        {
            throw new TimeoutException($"{outgoing.Name}: stayed full for {Units.FormatDuration(timeout)}: the other process takes nothing.");
        }
    }

    public override void Receive(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!incoming.Receive(_received, out int length, out _, timeout, cancellationToken))
        {
            throw Late(incoming.Name, timeout);
        }
        if (length != message.Length)
        {
            throw new InvalidDataException($"{incoming.Name}: a message of {length} bytes came where {message.Length} were expected.");
        }
        _received.AsSpan(0, length).CopyTo(message);
    }

    public override void Close(SyscallTrace? trace)
    {
        IpcMechanismBenchmark.CloseTraced(outgoing, trace);
        IpcMechanismBenchmark.CloseTraced(incoming, trace);
    }
}

/// <summary>
/// Shared memory with a ring of slots each way. A slot is handed over with two process-shared semaphores per ring,
/// the textbook bounded buffer: the writer waits for an empty slot and posts a full one, the reader the reverse.
/// </summary>
internal sealed class SharedMemoryChannel : IpcChannel
{
    private const int SemaphoreStride = 64;

    private readonly MemoryMapping _mapping;
    private readonly Ring _outgoing;
    private readonly Ring _incoming;

    private SharedMemoryChannel(MemoryMapping mapping, Ring outgoing, Ring incoming) => (_mapping, _outgoing, _incoming) = (mapping, outgoing, incoming);

    /// <summary>Bytes the object needs for two rings of <paramref name="slots"/> slots of <paramref name="messageSize"/> bytes.</summary>
    public static long Size(int messageSize, int slots) => 4 * SemaphoreStride + 2L * slots * SlotSize(messageSize);

    private static int SlotSize(int messageSize) => (messageSize + 63) & ~63;

    /// <summary>
    /// The creator's side or the other's (the first ring is the creator's outgoing one); the semaphores are set up with
    /// sem_init (only the creator, <paramref name="creator"/>, runs it, before the other process attaches).
    /// </summary>
    public static SharedMemoryChannel Open(MemoryMapping mapping, int messageSize, int slots, bool creator, SyscallTrace? trace)
    {
        long ringBytes = (long)slots * SlotSize(messageSize);
        PosixSemaphore Semaphore(int index, int initialValue) => creator
            ? PosixSemaphore.Initialize(mapping, index * SemaphoreStride, initialValue, trace)
            : PosixSemaphore.Attach(mapping, index * SemaphoreStride);
        var first = new Ring(mapping, Semaphore(0, 0), Semaphore(1, slots), 4 * SemaphoreStride, slots, SlotSize(messageSize));
        var second = new Ring(mapping, Semaphore(2, 0), Semaphore(3, slots), 4 * SemaphoreStride + ringBytes, slots, SlotSize(messageSize));
        return creator ? new SharedMemoryChannel(mapping, first, second) : new SharedMemoryChannel(mapping, second, first);
    }

    public override void Send(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken) =>
        _outgoing.Put(message, timeout, cancellationToken);

    public override void Receive(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken) =>
        _incoming.Take(message, timeout, cancellationToken);

    public override void Close(SyscallTrace? trace) => _mapping.Close(trace);

    private sealed class Ring(MemoryMapping mapping, PosixSemaphore full, PosixSemaphore empty, long start, int slots, int slotSize)
    {
        private int _nextPut;
        private int _nextTake;

        public void Put(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (!empty.Wait(timeout, cancellationToken))
            {
                throw new TimeoutException($"{mapping}: no slot came free within {Units.FormatDuration(timeout)}: the other process takes nothing.");
            }
            mapping.Write(start + (long)_nextPut * slotSize, message);
            _nextPut = (_nextPut + 1) % slots;
            full.Post();
        }

        public void Take(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (!full.Wait(timeout, cancellationToken))
            {
                throw Late(mapping.ToString(), timeout);
            }
            mapping.Read(start + (long)_nextTake * slotSize, message);
            _nextTake = (_nextTake + 1) % slots;
            empty.Post();
        }
    }
}

/// <summary>An eventfd each way: a message is an increment of 1, and its contents are not carried.</summary>
internal sealed class EventFdChannel(EventFd outgoing, EventFd incoming) : IpcChannel
{
    public override void Send(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!outgoing.Add(1, timeout, cancellationToken))
        {
            throw new TimeoutException($"{outgoing.Description}: its counter stayed full for {Units.FormatDuration(timeout)}.");
        }
    }

    public override void Receive(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (incoming.Read(timeout, cancellationToken) is null)
        {
            throw Late(incoming.Description, timeout);
        }
    }

    public override void Close(SyscallTrace? trace)
    {
        IpcMechanismBenchmark.CloseTraced(outgoing, trace);
        IpcMechanismBenchmark.CloseTraced(incoming, trace);
    }
}

/// <summary>A signal each way: to the other process's pid, received from a signalfd (or the runtime's handler); nothing is carried.</summary>
internal sealed class SignalChannel(int otherProcessId, int outgoingSignal, SignalFd incoming, ChildProcess? other) : IpcChannel
{
    public override void Send(ReadOnlySpan<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (other is not null)
        {
            other.Signal(outgoingSignal);
            return;
        }
        // The peer signals its parent, which it holds no pidfd of; the parent outlives it (it waits for the exit).
        SyscallResult sent = Libc.kill(otherProcessId, outgoingSignal);
        Syscall.Check(sent, null, "kill", $"process {otherProcessId}", $"{otherProcessId}, {Signals.Name(outgoingSignal)}");
    }

    public override void Receive(Span<byte> message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (incoming.Read(timeout, cancellationToken) is null)
        {
            throw Late(incoming.Description, timeout);
        }
    }

    public override void Close(SyscallTrace? trace) => incoming.Close(trace);
}
