using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>What to wait for on each descriptor.</summary>
[Flags]
public enum Readiness
{
    Readable = 1,
    Writable = 2,
}

/// <summary>One ready descriptor: its position in the set, the object, and what it is ready for.</summary>
public readonly record struct ReadyHandle(int Index, IPollable Handle, bool Readable, bool Writable, bool Error, bool HangUp);

/// <summary>
/// The single-threaded event loop's core: an epoll(7) set of Sysprog handles (eventfd, timerfd, signalfd, message
/// queue) with a cancellation eventfd of its own, waited on with a timeout on the monotonic clock. Wait fills a
/// caller's span and allocates nothing. One thread waits on a set at a time. A Close of the set, or of any object in
/// it, on another thread ends a wait with <see cref="ObjectDisposedException"/>, and so does every later wait on a
/// set holding a closed object.
/// </summary>
public sealed class PollSet : IDisposable, IHandleWaiter
{
    private const ulong CancelMarker = ulong.MaxValue;

    private readonly SafeFdHandle _epoll;
    private readonly SafeFdHandle _cancel;
    private readonly List<(IPollable Handle, Readiness Interest)> _members = [];
    private readonly List<(int Index, IBufferedInput Source)> _readAhead = [];
    private readonly SyscallTrace? _trace;

    // Set by a Close of a member on any thread, which also signals the cancellation eventfd to wake a wait.
    private volatile SafeHandle? _closedMember;

    public PollSet(SyscallTrace? trace = null)
    {
        _trace = trace;
        _epoll = new SafeFdHandle(Syscall.Check(Libc.epoll_create1(Libc.EPOLL_CLOEXEC), trace, "epoll_create1", "poll set", $"EPOLL_CLOEXEC"));
        try
        {
            _cancel = new SafeFdHandle(Syscall.Check(Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC), trace, "eventfd", "poll set",
                $"0, EFD_NONBLOCK|EFD_CLOEXEC"));
            Register(_cancel, "poll set", Libc.EPOLLIN, CancelMarker);
        }
        catch
        {
            _epoll.Dispose();
            throw;
        }
    }

    public int Count => _members.Count;

    public IPollable this[int index] => _members[index].Handle;

    /// <summary>Adds a handle; returns its index, which <see cref="ReadyHandle.Index"/> reports.</summary>
    public int Add(IPollable handle, Readiness interest = Readiness.Readable)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (interest == 0 || ((int)interest & ~3) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(interest), interest, "Readable, Writable or both.");
        }
        if (_members.Any(m => m.Handle.DescriptorHandle == handle.DescriptorHandle))
        {
            throw new ArgumentException($"{handle.Description} is in the set already.", nameof(handle));
        }
        int index = _members.Count;
        uint events = ((interest & Readiness.Readable) != 0 ? Libc.EPOLLIN : 0) | ((interest & Readiness.Writable) != 0 ? Libc.EPOLLOUT : 0);
        Register(handle.DescriptorHandle, handle.Description, events, (ulong)index);
        _members.Add((handle, interest));
        HandleWaiters.Add(handle.DescriptorHandle, this);
        if (handle is IBufferedInput source && (interest & Readiness.Readable) != 0)
        {
            _readAhead.Add((index, source));
        }
        return index;
    }

    /// <summary>
    /// Waits until at least one handle is ready, or <paramref name="timeout"/> passes; writes the ready ones into
    /// <paramref name="ready"/> and returns how many (0 on timeout). Throws <see cref="OperationCanceledException"/>
    /// as soon as <paramref name="cancellationToken"/> fires.
    /// </summary>
    // SkipLocalsInit: the event buffer is written by epoll_wait, so zeroing it first is wasted work.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public unsafe int Wait(Span<ReadyHandle> ready, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Timeouts.Validate(timeout);
        using HandleLease epoll = _epoll.Lease("poll set");
        // Held too, so that a Dispose on another thread, which signals it, cannot close it before this wait sees it.
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
                // What a member read ahead is ready already: then epoll only adds what else is ready now, without waiting.
                int readAhead = _readAhead.Count == 0 ? 0 : TakeReadAhead(ready);
                int timeoutMilliseconds = readAhead > 0 ? 0 : FdWait.TimeoutMilliseconds(deadline);
                SyscallResult result = Libc.epoll_wait(epoll.Fd, events, capacity, timeoutMilliseconds);
                if (result.Errno == Errno.EINTR)
                {
                    continue;
                }
                int count = Syscall.Check(result, _trace, "epoll_wait", "poll set", $"{epoll.Fd}, ..., {capacity}, {timeoutMilliseconds}");
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
                    if (written < ready.Length && (readAhead == 0 || !IsAmong(ready[..readAhead], (int)data)))
                    {
                        ready[written++] = new ReadyHandle((int)data, _members[(int)data].Handle, (flags & Libc.EPOLLIN) != 0,
                            (flags & Libc.EPOLLOUT) != 0, (flags & Libc.EPOLLERR) != 0, (flags & Libc.EPOLLHUP) != 0);
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
    /// seen ready during the wait). Returns the ready ones, empty on timeout.
    /// </summary>
    public static IReadOnlyList<ReadyHandle> WaitFor(IReadOnlyList<IPollable> handles, Readiness interest, bool all, TimeSpan timeout,
        CancellationToken cancellationToken = default, SyscallTrace? trace = null)
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
        using var set = new PollSet(trace);
        foreach (IPollable handle in handles)
        {
            set.Add(handle, interest);
        }
        var seen = new Dictionary<int, ReadyHandle>();
        var buffer = new ReadyHandle[handles.Count];
        long deadline = FdWait.Deadline(timeout);
        while (true)
        {
            int count = set.Wait(buffer, FdWait.Remaining(deadline), cancellationToken);
            if (count == 0)
            {
                return all ? [] : seen.Values.ToList();
            }
            foreach (ReadyHandle ready in buffer.AsSpan(0, count))
            {
                if (seen.TryAdd(ready.Index, ready) && all)
                {
                    // Level-triggered: stop watching what has been seen, or it would be reported again and again.
                    set.Unregister(ready.Handle);
                }
            }
            if (!all || seen.Count == handles.Count)
            {
                return seen.Values.OrderBy(r => r.Index).ToList();
            }
        }
    }

    private int TakeReadAhead(Span<ReadyHandle> ready)
    {
        int written = 0;
        foreach ((int index, IBufferedInput source) in _readAhead)
        {
            if (written < ready.Length && source.HasBufferedInput)
            {
                ready[written++] = new ReadyHandle(index, _members[index].Handle, Readable: true, Writable: false, Error: false, HangUp: false);
            }
        }
        return written;
    }

    private static bool IsAmong(ReadOnlySpan<ReadyHandle> ready, int index)
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

    public void Dispose()
    {
        if (_epoll.IsDisposed)
        {
            return;
        }
        foreach ((IPollable member, _) in _members)
        {
            HandleWaiters.Remove(member.DescriptorHandle, this);
        }
        // Marked closed first, then woken: a wait in progress on another thread sees the set closed and ends.
        _epoll.Close(_trace);
        _cancel.SignalEventFd();
        _cancel.Close(_trace);
    }

    void IHandleWaiter.HandleClosed(SafeHandle handle)
    {
        _closedMember = handle;
        _cancel.SignalEventFd();
    }

    private void ThrowIfMemberClosed()
    {
        if (_closedMember is SafeHandle closed)
        {
            string name = _members.FirstOrDefault(m => m.Handle.DescriptorHandle == closed).Handle?.Description ?? "an object in the poll set";
            throw new ObjectDisposedException(name, $"{name} was closed while in a poll set (Close on another thread or runspace): the set cannot wait on it.");
        }
    }

    private unsafe void Register(SafeFdHandle handle, string name, uint events, ulong data)
    {
        using HandleLease epoll = _epoll.Lease("poll set");
        using HandleLease member = handle.Lease(name);
        byte* ev = stackalloc byte[16];
        Libc.WriteEpollEvent(ev, events, data);
        Syscall.Check(Libc.epoll_ctl(epoll.Fd, Libc.EPOLL_CTL_ADD, member.Fd, ev), _trace, "epoll_ctl", name,
            $"{epoll.Fd}, EPOLL_CTL_ADD, {member.Fd}, {{events={Libc.PollEventsText((short)events)}}}");
    }

    private unsafe void Unregister(IPollable handle)
    {
        HandleWaiters.Remove(handle.DescriptorHandle, this);
        _readAhead.RemoveAll(r => ReferenceEquals(r.Source, handle));
        using HandleLease epoll = _epoll.Lease("poll set");
        using HandleLease member = handle.DescriptorHandle.Lease(handle.Description);
        byte* ev = stackalloc byte[16];
        Syscall.Check(Libc.epoll_ctl(epoll.Fd, Libc.EPOLL_CTL_DEL, member.Fd, ev), _trace, "epoll_ctl", handle.Description,
            $"{epoll.Fd}, EPOLL_CTL_DEL, {member.Fd}");
    }

    private unsafe void DrainCancellation()
    {
        using HandleLease cancel = _cancel.Lease("poll set");
        ulong value;
        Libc.read(cancel.Fd, (byte*)&value, sizeof(ulong));
    }
}
