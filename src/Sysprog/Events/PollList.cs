using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// poll(2) over a list of handles, beside <see cref="PollSet"/>'s epoll: the same handles, the same
/// <see cref="ReadyHandle"/>s, the other mechanism. The list is an array of struct pollfd that goes to the kernel
/// whole at every wait, and the kernel looks at every descriptor in it, ready or not, so a wait costs in proportion
/// to the list's length; epoll keeps its list in the kernel and costs in proportion to what is ready. Always
/// level-triggered. A removed member's entry stays with fd -1, which poll ignores, so the others keep their indexes.
/// Every member's descriptor is held (leased) for the length of each wait, so a Close on another thread waits for
/// the wait to end rather than let poll see a number that is reused meanwhile. Wait allocates nothing; one thread
/// waits on a list at a time.
/// </summary>
public sealed unsafe class PollList : IWaitSet, IDisposable
{
    private readonly SafeFdHandle _cancel;
    private readonly List<(IPollable Handle, Readiness Interest)?> _members = [];
    private readonly List<ReadAhead.Source> _readAhead = [];
    // Entry 0 is the cancellation eventfd; member i is entry i + 1. A managed array, so a Dispose on another thread
    // while a wait runs can never free what poll is reading.
    private PollFd[] _entries = new PollFd[8];
    // The handles a wait holds, by member index: released from here, not from the members, so a member removed
    // meanwhile (Remove from another thread breaks the one-waiter rule, but must not leak) is still released.
    private SafeHandle?[] _held = new SafeHandle?[8];
    private int _disposed;

    /// <summary>The eventfd that cancels a wait; <paramref name="trace"/> narrates its making alone.</summary>
    public PollList(SyscallTrace? trace = null)
    {
        _cancel = new SafeFdHandle(Syscall.Check(Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC), trace, "eventfd", "poll list",
            $"0, EFD_NONBLOCK|EFD_CLOEXEC"));
        _entries[0] = new PollFd { Fd = _cancel.Fd, Events = Libc.POLLIN };
    }

    /// <summary>How many handles are in the list.</summary>
    public int Count => _members.Count(m => m is not null);

    public bool IsClosed => _disposed != 0;

    /// <summary>The member at <paramref name="index"/> (as <see cref="ReadyHandle.Index"/> reports it).</summary>
    public IPollable this[int index] =>
        index >= 0 && index < _members.Count && _members[index] is { } member
            ? member.Handle
            : throw new ArgumentOutOfRangeException(nameof(index), index, "No member of the list has that index.");

    /// <summary>Adds a handle, watched for <paramref name="interest"/>; returns its index. No system call: the list is this process's until a wait.</summary>
    public int Add(IPollable handle, Readiness interest = Readiness.Readable)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        ArgumentNullException.ThrowIfNull(handle);
        ValidateInterest(interest);
        if (_members.Any(m => m is not null && m.Value.Handle.DescriptorHandle == handle.DescriptorHandle))
        {
            throw new ArgumentException($"{handle.Description} is in the list already.", nameof(handle));
        }
        using HandleLease lease = handle.DescriptorHandle.Lease(handle.Description);
        int index = _members.Count;
        if (index + 2 > _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
            Array.Resize(ref _held, _entries.Length);
        }
        _entries[index + 1] = new PollFd { Fd = lease.Fd, Events = EventsOf(interest) };
        _members.Add((handle, interest));
        if (handle is IBufferedInput source && (interest & Readiness.Readable) != 0)
        {
            _readAhead.Add(new ReadAhead.Source(index, source, handle));
        }
        return index;
    }

    /// <summary>Changes what a member is watched for: its entry's events. No system call.</summary>
    public void Modify(IPollable handle, Readiness interest)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        ValidateInterest(interest);
        int index = IndexOf(handle);
        _entries[index + 1].Events = EventsOf(interest);
        _members[index] = (handle, interest);
    }

    /// <summary>Takes a handle out of the list: its entry's fd becomes -1, which poll ignores. No system call.</summary>
    public void Remove(IPollable handle)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        int index = IndexOf(handle);
        _entries[index + 1] = new PollFd { Fd = -1 };
        _members[index] = null;
        _readAhead.RemoveAll(r => r.Index == index);
    }

    /// <summary>
    /// Waits until at least one handle is ready, or <paramref name="timeout"/> passes; writes the ready ones into
    /// <paramref name="ready"/> and returns how many (0 on timeout). Throws <see cref="OperationCanceledException"/>
    /// as soon as <paramref name="cancellationToken"/> fires, and <see cref="ObjectDisposedException"/> when a member
    /// was closed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Wait(Span<ReadyHandle> ready, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        Timeouts.Validate(timeout);
        ObjectDisposedException.ThrowIf(IsClosed, this);
        if (ready.Length == 0)
        {
            throw new ArgumentException("Give room for at least one ready handle.", nameof(ready));
        }
        cancellationToken.ThrowIfCancellationRequested();
        using HandleLease cancel = _cancel.Lease("poll list");
        int leased = 0;
        CancellationTokenRegistration registration = default;
        try
        {
            // Every number in the list stays this member's until the wait ends.
            for (; leased < _members.Count; leased++)
            {
                LeaseMember(leased);
            }
            registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((SafeFdHandle)state!).SignalEventFd(), _cancel)
                : default;
            long deadline = FdWait.Deadline(timeout);
            int entries = _members.Count + 1;
            PollFd[] list = _entries;
            while (true)
            {
                int readAhead = _readAhead.Count == 0 ? 0 : ReadAhead.Take(CollectionsMarshal.AsSpan(_readAhead), ready);
                int timeoutMilliseconds = readAhead > 0 ? 0 : FdWait.TimeoutMilliseconds(deadline);
                SyscallResult result;
                fixed (PollFd* start = list)
                {
                    result = Libc.poll(start, (nuint)entries, timeoutMilliseconds);
                }
                if (result.Errno == Errno.EINTR)
                {
                    continue;
                }
                int count = Syscall.Check(result, trace, "poll", "poll list", $"{EntriesText(list, entries)}, {entries}, {timeoutMilliseconds}");
                int written = readAhead;
                if (count > 0)
                {
                    for (int i = 1; i < entries && written < ready.Length; i++)
                    {
                        short returned = list[i].ReturnedEvents;
                        if (returned != 0 && _members[i - 1] is { } member && (readAhead == 0 || !ReadAhead.IsAmong(ready[..readAhead], i - 1)))
                        {
                            ready[written++] = ReadyHandle.FromEvents(i - 1, member.Handle, (uint)(ushort)returned);
                        }
                    }
                    if (list[0].ReturnedEvents != 0)
                    {
                        DrainCancellation(cancel.Fd);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
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
            for (int i = 0; i < leased; i++)
            {
                ReleaseMember(i);
            }
        }
    }

    int IWaitSet.Add(IPollable handle, Readiness interest, SyscallTrace? trace) => Add(handle, interest);

    void IWaitSet.Remove(IPollable handle, SyscallTrace? trace) => Remove(handle);

    // Inlined into the wait, as every call of a descriptor hot path is: a wait over 10,000 members makes 20,000 of these.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LeaseMember(int index)
    {
        if (_members[index] is not { } member)
        {
            return;
        }
        bool added = false;
        try
        {
            member.Handle.DescriptorHandle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            ThrowClosedMember(member.Handle);
        }
        _held[index] = member.Handle.DescriptorHandle;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowClosedMember(IPollable handle) =>
        throw new ObjectDisposedException(handle.Description, $"{handle.Description} was closed while in the poll list: remove it first.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseMember(int index)
    {
        if (_held[index] is SafeHandle held)
        {
            _held[index] = null;
            held.DangerousRelease();
        }
    }

    private int IndexOf(IPollable handle)
    {
        PollSet.ThrowIfClosed(handle);
        int index = _members.FindIndex(m => m is not null && ReferenceEquals(m.Value.Handle, handle));
        return index >= 0 ? index : throw new ArgumentException($"{handle.Description} is not in the poll list.", nameof(handle));
    }

    private static void ValidateInterest(Readiness interest)
    {
        if (interest == 0 || ((int)interest & ~0xf) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(interest), interest, "Readable, Writable, Priority, ReadHangUp, or several.");
        }
    }

    private static short EventsOf(Readiness interest) => (short)(
        ((interest & Readiness.Readable) != 0 ? Libc.POLLIN : 0)
        | ((interest & Readiness.Writable) != 0 ? Libc.POLLOUT : 0)
        | ((interest & Readiness.Priority) != 0 ? Libc.POLLPRI : 0)
        | ((interest & Readiness.ReadHangUp) != 0 ? Libc.POLLRDHUP : 0));

    /// <summary>The list as strace shows it, the first few entries in full.</summary>
    private static string EntriesText(PollFd[] list, int entries)
    {
        const int Shown = 8;
        IEnumerable<string> shown = list.Take(Math.Min(entries, Shown)).Select(e =>
            $"{{fd={e.Fd}, events={Libc.PollEventsText(e.Events)}{(e.ReturnedEvents == 0 ? "" : $", revents={Libc.PollEventsText(e.ReturnedEvents)}")}}}");
        return $"[{string.Join(", ", shown)}{(entries > Shown ? $", ... {entries - Shown} more" : "")}]";
    }

    private static void DrainCancellation(int fd)
    {
        ulong value;
        Libc.read(fd, (byte*)&value, sizeof(ulong));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _cancel.Close(null);
    }
}
