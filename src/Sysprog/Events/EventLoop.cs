using Sysprog.Interop;

namespace Sysprog;

/// <summary>Why <see cref="EventLoop.Run(TimeSpan, CancellationToken, SyscallTrace?)"/> returned.</summary>
public enum EventLoopEnd
{
    /// <summary>A handler called <see cref="EventLoop.Stop"/>.</summary>
    Stopped,

    /// <summary>The loop's time ran out.</summary>
    TimedOut,

    /// <summary>No handle was left to wait on: every one was removed or closed.</summary>
    NoHandles,
}

/// <summary>What a handler is given: the loop it runs in and the handle that is ready, with what it is ready for.</summary>
public sealed class EventLoopEvent
{
    internal EventLoopEvent(EventLoop loop, ReadyHandle ready)
    {
        Loop = loop;
        Ready = ready;
    }

    /// <summary>The loop: a handler adds, removes and stops through it.</summary>
    public EventLoop Loop { get; }

    /// <summary>The handle that is ready.</summary>
    public IPollable Handle => Ready.Handle;

    /// <summary>What epoll reported for it.</summary>
    public ReadyHandle Ready { get; }

    public bool Readable => Ready.Readable;

    public bool Writable => Ready.Writable;

    public bool HangUp => Ready.HangUp;

    public bool Error => Ready.Error;

    /// <summary>What was reported, as the kernel names it: IN, OUT, PRI, RDHUP, ERR, HUP.</summary>
    public string Events => Ready.Events;

    public override string ToString() => $"{Handle.Description}: {Events}";
}

/// <summary>
/// A single-threaded event loop, the shape of the course's "event driven" servers: one epoll set (level-triggered)
/// over many handles, each with a handler; <see cref="Run(TimeSpan, CancellationToken, SyscallTrace?)"/> waits, and calls the handler of each ready handle on the
/// thread that runs the loop, one at a time, until a handler calls <see cref="Stop"/>, the token fires (Ctrl+C), the
/// loop's time runs out or no handle is left. Handlers may add and remove handles and close them: a handle removed or
/// closed by an earlier handler of the same round is not handed to its own, and a closed handle leaves the loop before
/// the next wait (the kernel took it out of the epoll set with its last descriptor). A handler that throws ends the
/// loop with its exception; the handles stay open and in the loop, to be run again or disposed.
/// <para>
/// A handler is whatever the dispatch given to <see cref="Run(Action{object, EventLoopEvent}, TimeSpan, CancellationToken, SyscallTrace?)"/>
/// knows how to call: an <see cref="Action{EventLoopEvent}"/> for the plain <see cref="Run(TimeSpan, CancellationToken, SyscallTrace?)"/>,
/// a script block for Invoke-EventLoop, so that a PowerShell handler adds another script block as it is.
/// </para>
/// <para>
/// Remove a handle before closing it when its descriptor may have a duplicate (one passed to a child, say): epoll
/// drops a descriptor only with the last one of its open file, and until then a closed handle's events wake the loop
/// for nothing.
/// </para>
/// </summary>
public sealed class EventLoop : IDisposable
{
    private readonly PollSet _set;
    private readonly Dictionary<IPollable, object> _handlers = new(ReferenceEqualityComparer.Instance);
    private readonly List<IPollable> _closed = [];
    private bool _stopRequested;
    private bool _running;

    /// <summary>Makes the loop's epoll set (epoll_create1, and the eventfd that cancels its waits).</summary>
    public EventLoop(SyscallTrace? trace = null) => _set = new PollSet(trace);

    /// <summary>The handles in the loop.</summary>
    public IReadOnlyCollection<IPollable> Handles => _handlers.Keys;

    /// <summary>How many handles are in the loop.</summary>
    public int Count => _handlers.Count;

    /// <summary>How many handler calls the loop has made, over every <see cref="Run(TimeSpan, CancellationToken, SyscallTrace?)"/>.</summary>
    public long Dispatched { get; private set; }

    /// <summary>The epoll descriptor the loop waits on.</summary>
    public PollSet PollSet => _set;

    /// <summary>Adds a handle (EPOLL_CTL_ADD) with the handler called each time it is ready for <paramref name="interest"/>.</summary>
    public void Add(IPollable handle, object handler, Readiness interest = Readiness.Readable, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_set.IsClosed, this);
        if (_handlers.ContainsKey(handle))
        {
            throw new ArgumentException($"{handle.Description} is in the event loop already.", nameof(handle));
        }
        _set.Add(handle, interest, PollOptions.None, trace);
        _handlers.Add(handle, handler);
    }

    /// <summary>
    /// Takes a handle out of the loop (EPOLL_CTL_DEL), before it is closed: a closed one cannot be named to the kernel
    /// any more (it leaves the loop by itself before the next wait). No error when the handle is not in the loop: a
    /// handler may remove what another handler removed.
    /// </summary>
    public void Remove(IPollable handle, SyscallTrace? trace = null)
    {
        ObjectDisposedException.ThrowIf(_set.IsClosed, this);
        PollSet.ThrowIfClosed(handle);
        if (_handlers.Remove(handle))
        {
            _set.Remove(handle, trace);
        }
    }

    /// <summary>Ends <see cref="Run(TimeSpan, CancellationToken, SyscallTrace?)"/> once the handler that calls it returns; the other handles ready in that round wait for the next run.</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>
    /// Runs the loop on the calling thread for at most <paramref name="timeout"/> (infinite: until stopped), calling
    /// each ready handle's handler, an <see cref="Action{EventLoopEvent}"/>. Throws
    /// <see cref="OperationCanceledException"/> when the token fires, and whatever a handler throws.
    /// </summary>
    public EventLoopEnd Run(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null) =>
        Run(static (handler, ready) => (handler as Action<EventLoopEvent> ?? throw new InvalidOperationException(
            $"The handler of {ready.Handle.Description} is a {handler.GetType().Name}, not an Action<EventLoopEvent>: run the loop with a dispatch that calls it.")).Invoke(ready),
            timeout, cancellationToken, trace);

    /// <summary>
    /// Runs the loop as <see cref="Run(TimeSpan, CancellationToken, SyscallTrace?)"/> does, calling each ready
    /// handle's handler through <paramref name="call"/>.
    /// </summary>
    public EventLoopEnd Run(Action<object, EventLoopEvent> call, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(call);
        Timeouts.Validate(timeout);
        ObjectDisposedException.ThrowIf(_set.IsClosed, this);
        if (_running)
        {
            throw new InvalidOperationException("The event loop is running already: a handler cannot run it again.");
        }
        _running = true;
        _stopRequested = false;
        try
        {
            long deadline = FdWait.Deadline(timeout);
            var ready = new ReadyHandle[64];
            while (true)
            {
                ForgetClosed();
                if (_handlers.Count == 0)
                {
                    return EventLoopEnd.NoHandles;
                }
                int count = _set.Wait(ready, FdWait.Remaining(deadline), cancellationToken, trace);
                if (count == 0)
                {
                    return EventLoopEnd.TimedOut;
                }
                for (int i = 0; i < count; i++)
                {
                    IPollable handle = ready[i].Handle;
                    // An earlier handler of this round may have removed or closed it.
                    if (handle.DescriptorHandle.IsClosed || !_handlers.TryGetValue(handle, out object? handler))
                    {
                        continue;
                    }
                    Dispatched++;
                    call(handler, new EventLoopEvent(this, ready[i]));
                    if (_stopRequested)
                    {
                        return EventLoopEnd.Stopped;
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                }
                if (FdWait.Expired(deadline))
                {
                    return EventLoopEnd.TimedOut;
                }
            }
        }
        finally
        {
            _running = false;
        }
    }

    // A handle a handler closed without removing: the kernel dropped it from the epoll set with its last descriptor.
    // Runs before every wait: gathered into a list kept for the purpose, so a round allocates nothing.
    private void ForgetClosed()
    {
        foreach (IPollable handle in _handlers.Keys)
        {
            if (handle.DescriptorHandle.IsClosed)
            {
                _closed.Add(handle);
            }
        }
        foreach (IPollable closed in _closed)
        {
            _handlers.Remove(closed);
        }
        _closed.Clear();
    }

    /// <summary>Closes the loop's epoll set; the handles stay open (they are the caller's).</summary>
    public void Dispose() => _set.Dispose();

    public override string ToString() => $"event loop ({Count} handles)";
}
