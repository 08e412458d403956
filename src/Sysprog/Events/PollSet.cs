using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>What to wait for on each descriptor.</summary>
[Flags]
public enum Readiness
{
    /// <summary>EPOLLIN, POLLIN: something to read (or the end of the stream).</summary>
    Readable = 1,

    /// <summary>EPOLLOUT, POLLOUT: room to write.</summary>
    Writable = 2,

    /// <summary>EPOLLPRI, POLLPRI: an exceptional condition: TCP urgent data, a pty's packet-mode status change.</summary>
    Priority = 4,

    /// <summary>EPOLLRDHUP, POLLRDHUP: the stream socket's peer closed or shut down its sending side. Reported only when asked for.</summary>
    ReadHangUp = 8,
}

/// <summary>How an epoll set reports a member (epoll(7)); the default is level-triggered, reported at every wait while ready.</summary>
[Flags]
public enum PollOptions
{
    None = 0,

    /// <summary>
    /// EPOLLET: reported when it becomes ready, not while it stays so. A reader that does not drain the descriptor
    /// (until a read would block) is not told again until more arrives.
    /// </summary>
    EdgeTriggered = 1,

    /// <summary>EPOLLONESHOT: reported once, then disabled until re-armed with <see cref="PollSet.Modify"/>.</summary>
    OneShot = 2,

    /// <summary>
    /// EPOLLEXCLUSIVE: where several epoll sets (one per thread or process) watch the same descriptor with it, an
    /// event wakes one (or a few) of their waiters, not all. Only with Readable and Writable, never with OneShot, and
    /// it cannot be changed by <see cref="PollSet.Modify"/>.
    /// </summary>
    Exclusive = 4,
}

/// <summary>One ready descriptor: its position in the set, the object, and what it is ready for.</summary>
public readonly record struct ReadyHandle(int Index, IPollable Handle, bool Readable, bool Writable, bool Error, bool HangUp)
{
    /// <summary>EPOLLPRI: an exceptional condition (TCP urgent data).</summary>
    public bool Priority { get; init; }

    /// <summary>EPOLLRDHUP: the peer closed or shut down its sending side (asked for with <see cref="Readiness.ReadHangUp"/>).</summary>
    public bool ReadHangUp { get; init; }

    /// <summary>What was reported, as the kernel names it: IN, OUT, PRI, RDHUP, ERR, HUP.</summary>
    public string Events => string.Join('|', new[]
    {
        Readable ? "IN" : null, Writable ? "OUT" : null, Priority ? "PRI" : null, ReadHangUp ? "RDHUP" : null, Error ? "ERR" : null, HangUp ? "HUP" : null,
    }.OfType<string>());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ReadyHandle FromEvents(int index, IPollable handle, uint events) =>
        new(index, handle, (events & Libc.EPOLLIN) != 0, (events & Libc.EPOLLOUT) != 0, (events & Libc.EPOLLERR) != 0, (events & Libc.EPOLLHUP) != 0)
        {
            Priority = (events & Libc.EPOLLPRI) != 0,
            ReadHangUp = (events & Libc.EPOLLRDHUP) != 0,
        };
}

/// <summary>One member of a <see cref="PollSet"/>: its index (what <see cref="ReadyHandle.Index"/> reports), what is watched and how.</summary>
public sealed class PollSetMember
{
    internal PollSetMember(int index, IPollable handle, Readiness interest, PollOptions options) =>
        (Index, Handle, Interest, Options) = (index, handle, interest, options);

    public int Index { get; }

    public IPollable Handle { get; }

    public Readiness Interest { get; }

    public PollOptions Options { get; }

    public override string ToString() => $"{Index}: {Handle.Description} ({Interest}{(Options == PollOptions.None ? "" : $", {Options}")})";
}

/// <summary>
/// What a read, write, receive, send or accept gives instead of waiting, on a non-blocking handle or when told not to
/// wait: the call's EAGAIN ("would block"), which is no failure. <see cref="Transferred"/> says how many bytes a
/// write or send took before it would have had to wait.
/// </summary>
public sealed class WouldBlock
{
    public WouldBlock(IPollable handle, string operation, long transferred = 0)
    {
        PollSet.ThrowIfClosed(handle);
        ArgumentException.ThrowIfNullOrEmpty(operation);
        ArgumentOutOfRangeException.ThrowIfNegative(transferred);
        (Handle, Operation, Transferred) = (handle, operation, transferred);
        Source = handle.Description;
        IsNonBlocking = handle.IsNonBlocking;
    }

    /// <summary>The handle the call was made on.</summary>
    public IPollable Handle { get; }

    /// <summary>How the handle is named ("pipe:[4711] (read end)").</summary>
    public string Source { get; }

    /// <summary>read, write, receive, send, accept.</summary>
    public string Operation { get; }

    /// <summary>Bytes a write or send took before it would have had to wait (0 for reads).</summary>
    public long Transferred { get; }

    /// <summary>Why it did not wait: the handle is non-blocking (true), or the call was given no time to wait (false).</summary>
    public bool IsNonBlocking { get; }

    /// <summary>The errno the call got.</summary>
    public string Errno => "EAGAIN";

    public override string ToString() =>
        $"{Operation} on {Source} would block (EAGAIN){(Transferred > 0 ? $" after {Transferred} bytes" : "")}";
}

/// <summary>The mechanisms a wait over several handles can use.</summary>
public enum WaitMechanism
{
    /// <summary>epoll(7): the interest list lives in the kernel; a wait costs the ready descriptors, not all of them.</summary>
    Epoll,

    /// <summary>poll(2): the whole list goes to the kernel at every wait, which looks at every descriptor in it.</summary>
    Poll,
}

/// <summary>What <see cref="PollSet"/> and <see cref="PollList"/> share, so one wait over many handles can use either.</summary>
internal interface IWaitSet : IDisposable
{
    int Add(IPollable handle, Readiness interest, SyscallTrace? trace);

    void Remove(IPollable handle, SyscallTrace? trace);

    int Wait(Span<ReadyHandle> ready, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace);
}

/// <summary>
/// What poll and epoll sets share about members that read ahead (<see cref="IBufferedInput"/>): bytes a member holds
/// and has not returned yet make it readable, though its descriptor may not be.
/// </summary>
internal static class ReadAhead
{
    internal readonly record struct Source(int Index, IBufferedInput Input, IPollable Handle);

    /// <summary>Writes a readable ReadyHandle for each source holding input; how many.</summary>
    public static int Take(ReadOnlySpan<Source> sources, Span<ReadyHandle> ready)
    {
        int written = 0;
        foreach (Source source in sources)
        {
            if (written < ready.Length && source.Input.HasBufferedInput)
            {
                ready[written++] = new ReadyHandle(source.Index, source.Handle, Readable: true, Writable: false, Error: false, HangUp: false);
            }
        }
        return written;
    }

    /// <summary>Whether <paramref name="ready"/> reports <paramref name="index"/> already.</summary>
    public static bool IsAmong(ReadOnlySpan<ReadyHandle> ready, int index)
    {
        foreach (ReadyHandle handle in ready)
        {
            if (handle.Index == index)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// The single-threaded event loop's core: an epoll(7) set of Sysprog handles (eventfd, timerfd, signalfd, message
/// queue, pipe end, socket, pty, child) with a cancellation eventfd of its own, waited on with a timeout on the
/// monotonic clock. Members are level-triggered unless told otherwise (<see cref="PollOptions"/>): edge-triggered,
/// one-shot (re-armed with <see cref="Modify"/>), exclusive. Wait fills a caller's span and allocates nothing. One
/// thread waits on a set at a time. Each call narrates its system calls to the trace it is given.
/// <para>
/// The kernel keeps an open file description in the set, not a descriptor number: a member closed while a duplicate
/// of it is open elsewhere (dup, an inherited copy, one passed over a socket) is still reported, as the closed
/// object, and cannot be removed any more, since removal names it by a number it no longer has. A set passed to a
/// child (it is a descriptor like any other) is one set in both processes: what either adds, removes or consumes
/// (a one-shot event, an edge) is so for both.
/// </para>
/// <para>
/// A Close of the set, or of any object in it, on another thread or runspace while a wait is in progress ends that
/// wait with <see cref="ObjectDisposedException"/> naming what was closed. A later wait goes by the kernel's rule
/// above.
/// </para>
/// </summary>
public sealed class PollSet : IDescriptorObject, IWaitSet, IDisposable, IHandleWaiter
{
    private const ulong CancelMarker = ulong.MaxValue;

    private readonly SafeFdHandle _epoll;
    private readonly SafeFdHandle _cancel;
    private readonly int _number;
    // By index; a removed member leaves its slot empty, so the indexes of the others never change. Both arrays are
    // replaced whole under _changing, never changed in place, so a wait on another thread reads a consistent snapshot
    // without a lock (a member added while a thread waits is the usual epoll pattern).
    private readonly object _changing = new();
    private PollSetMember?[] _members = [];
    private ReadAhead.Source[] _readAhead = [];

    // While a wait is in progress (1), a Close of a member on any thread sets _closedMember and signals the
    // cancellation eventfd, which wakes the wait to fail naming it.
    private volatile int _waiting;
    private volatile SafeHandle? _closedMember;

    /// <summary>epoll_create1, and the eventfd that cancels a wait; <paramref name="trace"/> narrates these two alone.</summary>
    public PollSet(SyscallTrace? trace = null)
    {
        _epoll = new SafeFdHandle(Syscall.Check(Libc.epoll_create1(Libc.EPOLL_CLOEXEC), trace, "epoll_create1", "poll set", $"EPOLL_CLOEXEC"));
        _number = _epoll.Fd;
        try
        {
            _cancel = new SafeFdHandle(Syscall.Check(Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC), trace, "eventfd", "poll set",
                $"0, EFD_NONBLOCK|EFD_CLOEXEC"));
            Control(Libc.EPOLL_CTL_ADD, _cancel, "poll set", Libc.EPOLLIN, CancelMarker, trace);
        }
        catch
        {
            _cancel?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    /// <summary>The epoll descriptor, or -1 once closed.</summary>
    public int Fd => _epoll.IsClosed ? -1 : _epoll.Fd;

    public bool IsClosed => _epoll.IsClosed;

    /// <summary>"epoll 7", as messages and traces name the set.</summary>
    public string Description => $"epoll {_number}";

    SafeFdHandle IDescriptorObject.DescriptorHandle => _epoll;

    /// <summary>How many handles are in the set.</summary>
    public int Count => Volatile.Read(ref _members).Count(m => m is not null);

    /// <summary>The member at <paramref name="index"/> (as <see cref="ReadyHandle.Index"/> reports it).</summary>
    public IPollable this[int index] => Member(index).Handle;

    /// <summary>The members, in the order they were added.</summary>
    public IReadOnlyList<PollSetMember> Members => Volatile.Read(ref _members).OfType<PollSetMember>().ToList();

    /// <summary>The member that holds <paramref name="handle"/>; null when it is not in the set.</summary>
    public PollSetMember? Find(IPollable handle)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        ArgumentNullException.ThrowIfNull(handle);
        return Volatile.Read(ref _members).FirstOrDefault(m => m is not null && ReferenceEquals(m.Handle, handle));
    }

    /// <summary>
    /// Adds a handle (EPOLL_CTL_ADD), watched for <paramref name="interest"/> as <paramref name="options"/> say;
    /// returns its index, which <see cref="ReadyHandle.Index"/> reports.
    /// </summary>
    public int Add(IPollable handle, Readiness interest = Readiness.Readable, PollOptions options = PollOptions.None, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        Validate(interest, options, adding: true);
        lock (_changing)
        {
            if (_members.Any(m => m is not null && m.Handle.DescriptorHandle == handle.DescriptorHandle))
            {
                throw new ArgumentException($"{handle.Description} is in the set already: change how it is watched with Modify (EPOLL_CTL_MOD).", nameof(handle));
            }
            int index = _members.Length;
            // In the snapshot before the kernel can report it, so a wait on another thread knows what it reports.
            Volatile.Write(ref _members, [.. _members, new PollSetMember(index, handle, interest, options)]);
            try
            {
                Control(Libc.EPOLL_CTL_ADD, handle.DescriptorHandle, handle.Description, EventsOf(interest, options), (ulong)index, trace);
            }
            catch
            {
                Volatile.Write(ref _members, _members[..index]);
                throw;
            }
            UpdateReadAhead(index, handle, interest, options);
            HandleWaiters.Add(handle.DescriptorHandle, this);
            return index;
        }
    }

    int IWaitSet.Add(IPollable handle, Readiness interest, SyscallTrace? trace) => Add(handle, interest, PollOptions.None, trace);

    /// <summary>
    /// Changes what a member is watched for and how (EPOLL_CTL_MOD); the way to re-arm a one-shot member that has
    /// fired. <see cref="PollOptions.Exclusive"/> cannot be set or kept this way (the kernel refuses it): remove the
    /// member and add it again.
    /// </summary>
    public void Modify(IPollable handle, Readiness interest, PollOptions options = PollOptions.None, SyscallTrace? trace = null)
    {
        ThrowIfClosed(handle);
        Validate(interest, options, adding: false);
        lock (_changing)
        {
            PollSetMember member = Find(handle) ?? throw NotAMember(handle);
            if ((member.Options & PollOptions.Exclusive) != 0)
            {
                throw new InvalidOperationException($"{handle.Description} was added with Exclusive, which EPOLL_CTL_MOD refuses (EINVAL): remove it and add it again.");
            }
            Control(Libc.EPOLL_CTL_MOD, handle.DescriptorHandle, handle.Description, EventsOf(interest, options), (ulong)member.Index, trace);
            PollSetMember?[] members = [.. _members];
            members[member.Index] = new PollSetMember(member.Index, handle, interest, options);
            Volatile.Write(ref _members, members);
            UpdateReadAhead(member.Index, handle, interest, options);
        }
    }

    /// <summary>
    /// Takes a handle out of the set (EPOLL_CTL_DEL); the others keep their indexes. A closed handle cannot be removed
    /// (the call names it by its descriptor): its open file description leaves the set when every descriptor of it is
    /// closed, or when the set is.
    /// </summary>
    public void Remove(IPollable handle, SyscallTrace? trace = null)
    {
        ThrowIfClosed(handle);
        lock (_changing)
        {
            PollSetMember member = Find(handle) ?? throw NotAMember(handle);
            Control(Libc.EPOLL_CTL_DEL, handle.DescriptorHandle, handle.Description, 0, 0, trace);
            HandleWaiters.Remove(handle.DescriptorHandle, this);
            PollSetMember?[] members = [.. _members];
            members[member.Index] = null;
            Volatile.Write(ref _members, members);
            Volatile.Write(ref _readAhead, _readAhead.Where(r => r.Index != member.Index).ToArray());
        }
    }

    /// <summary>
    /// Waits until at least one handle is ready, or <paramref name="timeout"/> passes; writes the ready ones into
    /// <paramref name="ready"/> and returns how many (0 on timeout). Throws <see cref="OperationCanceledException"/>
    /// as soon as <paramref name="cancellationToken"/> fires.
    /// </summary>
    public int Wait(Span<ReadyHandle> ready, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        _closedMember = null;
        _waiting = 1;
        try
        {
            return WaitCore(ready, timeout, cancellationToken, trace);
        }
        finally
        {
            _waiting = 0;
        }
    }

    // SkipLocalsInit: the event buffer is written by epoll_wait, so zeroing it first is wasted work.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private unsafe int WaitCore(Span<ReadyHandle> ready, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        Timeouts.Validate(timeout);
        using HandleLease epoll = _epoll.Lease("poll set");
        // Held too, so that a Close on another thread, which signals it, cannot close it before this wait sees it.
        using HandleLease wakeUp = _cancel.Lease("poll set");
        if (ready.Length == 0)
        {
            throw new ArgumentException("Give room for at least one ready handle.", nameof(ready));
        }
        cancellationToken.ThrowIfCancellationRequested();
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((SafeFdHandle)state!).SignalEventFd(), _cancel)
            : default;
        try
        {
            long deadline = FdWait.Deadline(timeout);
            int capacity = Math.Min(ready.Length + 1, 256);
            byte* events = stackalloc byte[capacity * Libc.EpollEventSize];
            while (true)
            {
                PollSetMember?[] members = Volatile.Read(ref _members);
                // What a member read ahead is ready already: then epoll only adds what else is ready now, without waiting.
                ReadAhead.Source[] sources = Volatile.Read(ref _readAhead);
                int readAhead = sources.Length == 0 ? 0 : ReadAhead.Take(sources, ready);
                int timeoutMilliseconds = readAhead > 0 ? 0 : FdWait.TimeoutMilliseconds(deadline);
                SyscallResult result = Libc.epoll_wait(epoll.Fd, events, capacity, timeoutMilliseconds);
                if (result.Errno == Errno.EINTR)
                {
                    continue;
                }
                int count = Syscall.Check(result, trace, "epoll_wait", "poll set", $"{epoll.Fd}, {EventsText(events, result.Value)}, {capacity}, {timeoutMilliseconds}");
                int written = readAhead;
                bool cancelled = false;
                for (int i = 0; i < count; i++)
                {
                    (uint flags, ulong data) = Libc.ReadEpollEvent(events + i * Libc.EpollEventSize);
                    if (data == CancelMarker)
                    {
                        cancelled = true;
                        continue;
                    }
                    // A member removed here may still be reported by a set shared with another process; it is not this object's any more.
                    if (written < ready.Length && data < (ulong)members.Length && members[(int)data] is PollSetMember member
                        && (readAhead == 0 || !ReadAhead.IsAmong(ready[..readAhead], (int)data)))
                    {
                        ready[written++] = ReadyHandle.FromEvents((int)data, member.Handle, flags);
                    }
                }
                if (cancelled)
                {
                    HandleWaiters.ThrowIfClosed(_epoll, "poll set");
                    ThrowIfMemberClosed();
                    DrainCancellation();
                    cancellationToken.ThrowIfCancellationRequested();
                }
                if (written > 0 || (count == 0 && FdWait.Expired(deadline)))
                {
                    return written;
                }
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    /// <summary>
    /// Waits on <paramref name="handles"/> until any is ready (or, with <paramref name="all"/>, until each has been
    /// seen ready during the wait), with epoll or poll as <paramref name="mechanism"/> says. Returns the ready ones,
    /// empty on timeout.
    /// </summary>
    public static IReadOnlyList<ReadyHandle> WaitFor(IReadOnlyList<IPollable> handles, Readiness interest, bool all, TimeSpan timeout,
        CancellationToken cancellationToken = default, SyscallTrace? trace = null, WaitMechanism mechanism = WaitMechanism.Epoll)
    {
        ArgumentNullException.ThrowIfNull(handles);
        if (handles.Count == 0)
        {
            throw new ArgumentException("Give at least one handle to wait on.", nameof(handles));
        }
        if (handles.Any(h => h is null))
        {
            throw new ArgumentException("A handle in the list is null.", nameof(handles));
        }
        if (!Enum.IsDefined(mechanism))
        {
            throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, "Epoll or Poll.");
        }
        Timeouts.Validate(timeout);
        using IWaitSet set = mechanism == WaitMechanism.Poll ? new PollList(trace) : new PollSet(trace);
        foreach (IPollable handle in handles)
        {
            set.Add(handle, interest, trace);
        }
        var seen = new Dictionary<int, ReadyHandle>();
        var buffer = new ReadyHandle[handles.Count];
        long deadline = FdWait.Deadline(timeout);
        while (true)
        {
            int count = set.Wait(buffer, FdWait.Remaining(deadline), cancellationToken, trace);
            if (count == 0)
            {
                return all ? [] : seen.Values.ToList();
            }
            foreach (ReadyHandle ready in buffer.AsSpan(0, count))
            {
                if (seen.TryAdd(ready.Index, ready) && all)
                {
                    // Level-triggered: stop watching what has been seen, or it would be reported again and again.
                    set.Remove(ready.Handle, trace);
                }
            }
            if (!all || seen.Count == handles.Count)
            {
                return seen.Values.OrderBy(r => r.Index).ToList();
            }
        }
    }

    private PollSetMember Member(int index) =>
        Volatile.Read(ref _members) is var members && index >= 0 && index < members.Length && members[index] is PollSetMember member
            ? member
            : throw new ArgumentOutOfRangeException(nameof(index), index, "No member of the set has that index.");

    /// <summary>A closed handle is named by no descriptor any more, so nothing can be asked of the kernel about it.</summary>
    internal static void ThrowIfClosed(IPollable handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.DescriptorHandle.IsClosed)
        {
            throw new ObjectDisposedException(handle.Description, $"{handle.Description} is closed.");
        }
    }

    private ArgumentException NotAMember(IPollable handle) => new($"{handle.Description} is not in {Description}.", nameof(handle));

    /// <summary>Bad interests and options refused before any system call, each with the kernel's reason.</summary>
    private static void Validate(Readiness interest, PollOptions options, bool adding)
    {
        if (interest == 0 || ((int)interest & ~0xf) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(interest), interest, "Readable, Writable, Priority, ReadHangUp, or several.");
        }
        if (((int)options & ~0x7) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "None, EdgeTriggered, OneShot, Exclusive, or several.");
        }
        if ((options & PollOptions.Exclusive) == 0)
        {
            return;
        }
        if (!adding)
        {
            throw new ArgumentException("Exclusive cannot be set by EPOLL_CTL_MOD (the kernel refuses it): remove the member and add it again.", nameof(options));
        }
        if ((options & PollOptions.OneShot) != 0 || (interest & (Readiness.Priority | Readiness.ReadHangUp)) != 0)
        {
            throw new ArgumentException("Exclusive goes with Readable, Writable and EdgeTriggered only: the kernel refuses it with OneShot, Priority or ReadHangUp (EINVAL).",
                nameof(options));
        }
    }

    private static uint EventsOf(Readiness interest, PollOptions options) =>
        ((interest & Readiness.Readable) != 0 ? Libc.EPOLLIN : 0)
        | ((interest & Readiness.Writable) != 0 ? Libc.EPOLLOUT : 0)
        | ((interest & Readiness.Priority) != 0 ? Libc.EPOLLPRI : 0)
        | ((interest & Readiness.ReadHangUp) != 0 ? Libc.EPOLLRDHUP : 0)
        | ((options & PollOptions.EdgeTriggered) != 0 ? Libc.EPOLLET : 0)
        | ((options & PollOptions.OneShot) != 0 ? Libc.EPOLLONESHOT : 0)
        | ((options & PollOptions.Exclusive) != 0 ? Libc.EPOLLEXCLUSIVE : 0);

    /// <summary>
    /// Bytes a member read ahead count as readable only for a level-triggered member, as the kernel would report its
    /// descriptor; an edge-triggered or one-shot one is reported as the kernel reports it, so a reader drains it until a
    /// read would block, which takes what was read ahead first.
    /// </summary>
    private void UpdateReadAhead(int index, IPollable handle, Readiness interest, PollOptions options)
    {
        var sources = _readAhead.Where(r => r.Index != index).ToList();
        if (handle is IBufferedInput source && (interest & Readiness.Readable) != 0 && (options & (PollOptions.EdgeTriggered | PollOptions.OneShot)) == 0)
        {
            sources.Add(new ReadAhead.Source(index, source, handle));
        }
        Volatile.Write(ref _readAhead, sources.ToArray());
    }

    public void Close(SyscallTrace? trace = null)
    {
        if (_epoll.IsDisposed)
        {
            return;
        }
        foreach (PollSetMember? member in _members)
        {
            if (member is not null)
            {
                HandleWaiters.Remove(member.Handle.DescriptorHandle, this);
            }
        }
        // Marked closed first, then woken: a wait in progress on another thread sees the set closed and ends.
        _epoll.Close(trace);
        _cancel.SignalEventFd();
        _cancel.Close(trace);
    }

    void IHandleWaiter.HandleClosed(SafeHandle handle)
    {
        if (_waiting != 0)
        {
            _closedMember = handle;
            _cancel.SignalEventFd();
        }
    }

    private void ThrowIfMemberClosed()
    {
        if (_closedMember is SafeHandle closed)
        {
            string name = _members.FirstOrDefault(m => m is not null && m.Handle.DescriptorHandle == closed)?.Handle.Description ?? "an object in the poll set";
            throw new ObjectDisposedException(name, $"{name} was closed while in a poll set (Close on another thread or runspace): the set cannot wait on it.");
        }
    }

    /// <summary>What epoll_wait returned, as strace shows it: each event's flags and data, the first few in full.</summary>
    private static unsafe string EventsText(byte* events, long count)
    {
        const int Shown = 8;
        var parts = new List<string>();
        for (int i = 0; i < Math.Min(count, Shown); i++)
        {
            (uint flags, ulong data) = Libc.ReadEpollEvent(events + i * Libc.EpollEventSize);
            parts.Add($"{{events={Libc.EpollEventsText(flags)}, data={(data == CancelMarker ? "cancel" : data.ToString(System.Globalization.CultureInfo.InvariantCulture))}}}");
        }
        return $"[{string.Join(", ", parts)}{(count > Shown ? $", ... {count - Shown} more" : "")}]";
    }

    public void Dispose() => Close();

    public override string ToString() => IsClosed ? $"{Description} (closed)" : $"{Description} ({Count} members)";

    private unsafe void Control(int operation, SafeFdHandle handle, string name, uint events, ulong data, SyscallTrace? trace)
    {
        using HandleLease epoll = _epoll.Lease("poll set");
        using HandleLease member = handle.Lease(name);
        byte* ev = stackalloc byte[16];
        Libc.WriteEpollEvent(ev, events, data);
        string operationName = operation switch { Libc.EPOLL_CTL_ADD => "EPOLL_CTL_ADD", Libc.EPOLL_CTL_MOD => "EPOLL_CTL_MOD", _ => "EPOLL_CTL_DEL" };
        SyscallResult result = Libc.epoll_ctl(epoll.Fd, operation, member.Fd, operation == Libc.EPOLL_CTL_DEL ? null : ev);
        string? detail = result.Errno switch
        {
            Errno.EPERM => $"{name} is a kind of file epoll cannot watch (a regular file or a directory: those are always ready).",
            Errno.ELOOP => "Adding it would make a loop of epoll sets watching each other.",
            Errno.ENOENT => $"{name} is not in the set (it was closed, or removed by another process that shares the set).",
            _ => null,
        };
        Syscall.Check(result, trace, "epoll_ctl", name,
            $"{epoll.Fd}, {operationName}, {member.Fd}{(operation == Libc.EPOLL_CTL_DEL ? ", NULL" : $", {{events={Libc.EpollEventsText(events)}, data={data}}}")}", detail);
    }

    private unsafe void DrainCancellation()
    {
        using HandleLease cancel = _cancel.Lease("poll set");
        ulong value;
        Libc.read(cancel.Fd, (byte*)&value, sizeof(ulong));
    }
}
