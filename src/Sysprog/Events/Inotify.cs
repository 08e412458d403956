using System.Globalization;
using System.Text;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// An inotify(7) instance: watches on files and directories, added and removed while it lives, and the events they
/// report, read as objects. One read(2) returns as many whole events as fit, so events read but not yet returned
/// wait here; poll sets (Wait-FileDescriptor) count those as readable too. A full kernel queue
/// (fs.inotify.max_queued_events) drops events and reports that once as a QueueOverflow event.
/// </summary>
public sealed class Inotify : FileDescriptorObject, IBufferedInput
{
    /// <summary>inotify signals its readiness (it has an fasync operation).</summary>
    private protected override bool CanSignalReadiness => true;

    // Enough for hundreds of events per read(2); one event is at most 16 + NAME_MAX + 1 bytes, padded.
    private const int BufferSize = 64 * 1024;

    // MovedFrom events whose MovedTo has not come yet; the kernel queues a rename's two events together, so a few suffice
    // (the rest were moves out of every watched directory).
    private const int UnpairedMovesKept = 16;

    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
    private readonly Queue<InotifyEvent> _pending = new();
    private readonly Dictionary<int, InotifyWatch> _watches = [];
    private readonly List<(uint Cookie, string Path)> _unpairedMoves = [];
    private readonly SemaphoreSlim _reading = new(1, 1);
    private int _pendingCount;
    private long _overflowCount;

    private Inotify(SafeFdHandle fd, int queueLimit, bool nonBlocking) : base(fd, nonBlocking: nonBlocking) => QueueLimit = queueLimit;

    private protected override string Describe() => $"inotify {Number}";

    /// <summary>fs.inotify.max_queued_events when the instance was made: the kernel queues at most this many events for it.</summary>
    public int QueueLimit { get; }

    /// <summary>How many times the kernel queue overflowed (events were lost) among the events read so far.</summary>
    public long OverflowCount => Interlocked.Read(ref _overflowCount);

    /// <summary>Events read from the kernel and not yet returned.</summary>
    public int BufferedCount => Volatile.Read(ref _pendingCount);

    bool IBufferedInput.HasBufferedInput => BufferedCount > 0;

    /// <summary>The active watches, in the order they were added.</summary>
    public IReadOnlyList<InotifyWatch> Watches
    {
        get
        {
            lock (_watches)
            {
                return _watches.Values.Where(w => w.IsActive).OrderBy(w => w.Descriptor).ToList();
            }
        }
    }

    /// <summary>
    /// inotify_init1; with <paramref name="nonBlocking"/> a read with no event queued returns nothing at once ("would
    /// block") instead of waiting.
    /// </summary>
    public static Inotify Create(bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        int flags = Libc.IN_NONBLOCK | (inheritable ? 0 : Libc.IN_CLOEXEC);
        // Read first: it takes a descriptor, and the instance's may be the last one.
        int queueLength = (int)(ProcFile.Sysctl("fs.inotify.max_queued_events", trace) ?? 16384);
        SyscallResult result = Libc.inotify_init1(flags);
        int fd = Syscall.Check(result, trace, "inotify_init1", "inotify", $"IN_NONBLOCK{(inheritable ? "" : "|IN_CLOEXEC")}",
            result.Errno == Errno.EMFILE ? InstanceLimitDetail() : null);
        return new Inotify(new SafeFdHandle(fd), queueLength, nonBlocking);
    }

    /// <summary>
    /// Watches <paramref name="path"/> (a file, or a directory and the names in it) for <paramref name="events"/>.
    /// The kernel gives an object one watch per instance: adding a path to an object watched already returns that
    /// watch with its events replaced (or, with MaskAdd, extended; with MaskCreate, EEXIST).
    /// </summary>
    public InotifyWatch AddWatch(string path, InotifyEvents events = InotifyEvents.Changes, InotifyWatchOptions options = InotifyWatchOptions.None,
        SyscallTrace? trace = null)
    {
        PathArguments.Validate(path);
        if (events == InotifyEvents.None || ((uint)events & ~(uint)InotifyEvents.All) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(events), events,
                "Watch for at least one event, and only those a watch can ask for (Unmount, QueueOverflow and Ignored are reported, never asked for).");
        }
        const InotifyWatchOptions known = InotifyWatchOptions.OnlyDir | InotifyWatchOptions.DontFollow | InotifyWatchOptions.ExclUnlink |
            InotifyWatchOptions.MaskCreate | InotifyWatchOptions.MaskAdd | InotifyWatchOptions.OneShot;
        if ((options & ~known) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "Unknown watch options.");
        }
        if ((options & (InotifyWatchOptions.MaskAdd | InotifyWatchOptions.MaskCreate)) == (InotifyWatchOptions.MaskAdd | InotifyWatchOptions.MaskCreate))
        {
            throw new ArgumentException("MaskAdd extends an existing watch and MaskCreate refuses one: choose one.", nameof(options));
        }
        string fullPath = System.IO.Path.GetFullPath(path);
        uint mask = (uint)events | (uint)options;
        using HandleLease lease = Lease();
        int descriptor;
        SafeFdHandle watched = Reach(fullPath, (options & InotifyWatchOptions.DontFollow) != 0, trace, out string name);
        try
        {
            using HandleLease watchedLease = watched.Lease(fullPath);
            string through = PlantedPath.DescriptorPath(watchedLease.Fd) + name;
            SyscallResult result = Libc.inotify_add_watch(lease.Fd, through, mask);
            descriptor = Syscall.Check(result, trace, "inotify_add_watch", NameEscaping.Escape(fullPath), $"{lease.Fd}, {Quote(through)}, {MaskText(mask)}",
                result.Errno == Errno.ENOENT ? PlantedPath.NeedsProc : AddWatchDetail(result.Errno, options));
        }
        finally
        {
            // Closed with the trace: the watch outlives the descriptor it was added through, and the close is narrated.
            watched.Close(trace);
        }
        lock (_watches)
        {
            if (_watches.TryGetValue(descriptor, out InotifyWatch? existing) && existing.IsActive)
            {
                existing.Path = fullPath;
                existing.Events = (options & InotifyWatchOptions.MaskAdd) != 0 ? existing.Events | events : events;
                existing.Options = options;
                return existing;
            }
            var watch = new InotifyWatch(this, descriptor, fullPath, events, options);
            _watches[descriptor] = watch;
            return watch;
        }
    }

    /// <summary>
    /// What a watch on <paramref name="fullPath"/> is added through, by the planted-path rule (inotify_add_watch
    /// follows links, and another user's link in /tmp could point a watch anywhere): an O_PATH descriptor of the file
    /// itself, or with <paramref name="dontFollow"/> of the folder the last name is in, that name then appended
    /// (<paramref name="name"/>, "/name") and left to IN_DONT_FOLLOW. A path that cannot be reached fails as
    /// inotify_add_watch would have, with the same errno.
    /// </summary>
    private static SafeFdHandle Reach(string fullPath, bool dontFollow, SyscallTrace? trace, out string name)
    {
        try
        {
            if (dontFollow)
            {
                NameInFolder at = PlantedPath.FolderOf(fullPath, trace);
                name = "/" + at.Name;
                return at.Folder;
            }
            name = "";
            return PlantedPath.Open(fullPath, Libc.O_PATH, 0, AcceptedFileTypes.Any, trace).Fd;
        }
        catch (SysprogException e)
        {
            throw PlantedPath.AsFailureOf(e, "inotify_add_watch", fullPath);
        }
    }

    /// <summary>Ends a watch (inotify_rm_watch); the kernel then queues an Ignored event for it, which Read returns.</summary>
    public void RemoveWatch(InotifyWatch watch, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(watch);
        using HandleLease lease = Lease();
        if (watch.Instance != this)
        {
            throw new ArgumentException($"Watch {watch.Descriptor} ({watch.Path}) belongs to {watch.Instance.Description}, not {Description}.", nameof(watch));
        }
        if (!watch.IsActive)
        {
            throw new InvalidOperationException($"Watch {watch.Descriptor} ({watch.Path}) of {Description} has ended already.");
        }
        SyscallResult result = Libc.inotify_rm_watch(lease.Fd, watch.Descriptor);
        Syscall.Check(result, trace, "inotify_rm_watch", watch.Path, $"{lease.Fd}, {watch.Descriptor}",
            result.Errno == Errno.EINVAL ? "The kernel ended this watch already: its file was deleted or its filesystem unmounted (an Ignored event is queued)." : null);
        watch.IsActive = false;
    }

    /// <summary>The active watch on <paramref name="path"/> (made absolute), or null.</summary>
    public InotifyWatch? FindWatch(string path)
    {
        ClosedObject.ThrowIf(IsClosed, Description);
        string fullPath = PathArguments.Full(path);
        lock (_watches)
        {
            return _watches.Values.FirstOrDefault(w => w.IsActive && w.Path == fullPath);
        }
    }

    /// <summary>The next event, waiting up to <paramref name="timeout"/>; null on timeout, and at once when none is queued and the instance is non-blocking.</summary>
    public InotifyEvent? Read(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null) =>
        Next(timeout, cancellationToken, trace, all: false).FirstOrDefault();

    /// <summary>Waits up to <paramref name="timeout"/> for an event, then returns it with every other event read with it; empty on timeout.</summary>
    public IReadOnlyList<InotifyEvent> ReadAvailable(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null) =>
        Next(timeout, cancellationToken, trace, all: true);

    private List<InotifyEvent> Next(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace, bool all)
    {
        Timeouts.Validate(timeout);
        long deadline = FdWait.Deadline(timeout);
        if (!_reading.Wait(FdWait.Remaining(deadline), cancellationToken))
        {
            return [];
        }
        try
        {
            if (_pending.Count == 0 && !Fill(FdWait.Remaining(deadline), cancellationToken, trace))
            {
                return [];
            }
            var taken = new List<InotifyEvent>(all ? _pending.Count : 1);
            do
            {
                taken.Add(_pending.Dequeue());
            }
            while (all && _pending.Count > 0);
            Volatile.Write(ref _pendingCount, _pending.Count);
            return taken;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>One read(2) into the buffer, waiting until the deadline, and every event in it parsed into the queue; false on timeout.</summary>
    private unsafe bool Fill(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        using HandleLease lease = Lease();
        long count;
        fixed (byte* buffer = _buffer)
        {
            count = ReadWaiting(lease.Fd, buffer, BufferSize, !IsNonBlocking, timeout, cancellationToken, trace, out _);
        }
        if (count < 0)
        {
            return false;
        }
        int parsed = Parse(_buffer.AsSpan(0, (int)count));
        Syscall.CheckCount(count, trace, "read", Description, $"{lease.Fd}, [{parsed} events], {BufferSize}");
        Volatile.Write(ref _pendingCount, _pending.Count);
        return true;
    }

    /// <summary>Queues every event in what one read returned; how many there were.</summary>
    private int Parse(ReadOnlySpan<byte> events)
    {
        int parsed = 0;
        while (events.Length >= Libc.InotifyEventHeaderSize)
        {
            int watchDescriptor = BitConverter.ToInt32(events);
            uint mask = BitConverter.ToUInt32(events[4..]);
            uint cookie = BitConverter.ToUInt32(events[8..]);
            int nameLength = (int)Math.Min(BitConverter.ToUInt32(events[12..]), (uint)(events.Length - Libc.InotifyEventHeaderSize));
            ReadOnlySpan<byte> nameBytes = events.Slice(Libc.InotifyEventHeaderSize, nameLength);
            int end = nameBytes.IndexOf((byte)0);
            string? name = nameLength == 0 ? null : Encoding.UTF8.GetString(end < 0 ? nameBytes : nameBytes[..end]);
            events = events[(Libc.InotifyEventHeaderSize + nameLength)..];
            _pending.Enqueue(MakeEvent(watchDescriptor, mask, cookie, name));
            parsed++;
        }
        return parsed;
    }

    private InotifyEvent MakeEvent(int watchDescriptor, uint mask, uint cookie, string? name)
    {
        if ((mask & (uint)InotifyEvents.QueueOverflow) != 0)
        {
            Interlocked.Increment(ref _overflowCount);
            return new InotifyEvent(null, watchDescriptor, mask, cookie, name, null, null);
        }
        InotifyWatch? watch;
        lock (_watches)
        {
            _watches.TryGetValue(watchDescriptor, out watch);
            if (watch is not null && (mask & (uint)InotifyEvents.Ignored) != 0)
            {
                watch.IsActive = false;
                _watches.Remove(watchDescriptor);
            }
        }
        string? path = watch is null ? null : name is null ? watch.Path : System.IO.Path.Join(watch.Path, name);
        string? movedFrom = null;
        if (cookie != 0 && path is not null)
        {
            if ((mask & (uint)InotifyEvents.MovedFrom) != 0)
            {
                if (_unpairedMoves.Count == UnpairedMovesKept)
                {
                    _unpairedMoves.RemoveAt(0);
                }
                _unpairedMoves.Add((cookie, path));
            }
            else if ((mask & (uint)InotifyEvents.MovedTo) != 0)
            {
                int paired = _unpairedMoves.FindIndex(m => m.Cookie == cookie);
                if (paired >= 0)
                {
                    movedFrom = _unpairedMoves[paired].Path;
                    _unpairedMoves.RemoveAt(paired);
                }
            }
        }
        return new InotifyEvent(watch, watchDescriptor, mask, cookie, name, path, movedFrom);
    }

    private protected override void OnClosing(SyscallTrace? trace)
    {
        lock (_watches)
        {
            foreach (InotifyWatch watch in _watches.Values)
            {
                watch.IsActive = false;
            }
        }
    }

    private static string MaskText(uint mask) => Flags(mask, MaskNames, "0");

    private static readonly (long Bit, string Name)[] MaskNames =
    [
        ((long)InotifyEvents.All, "IN_ALL_EVENTS"), (0x1, "IN_ACCESS"), (0x2, "IN_MODIFY"), (0x4, "IN_ATTRIB"), (0x8, "IN_CLOSE_WRITE"),
        (0x10, "IN_CLOSE_NOWRITE"), (0x20, "IN_OPEN"), (0x40, "IN_MOVED_FROM"), (0x80, "IN_MOVED_TO"), (0x100, "IN_CREATE"),
        (0x200, "IN_DELETE"), (0x400, "IN_DELETE_SELF"), (0x800, "IN_MOVE_SELF"), (0x01000000, "IN_ONLYDIR"), (0x02000000, "IN_DONT_FOLLOW"),
        (0x04000000, "IN_EXCL_UNLINK"), (0x10000000, "IN_MASK_CREATE"), (0x20000000, "IN_MASK_ADD"), (0x80000000, "IN_ONESHOT"),
    ];

    private static string? AddWatchDetail(Errno errno, InotifyWatchOptions options) => errno switch
    {
        Errno.ENOSPC => WatchLimitDetail(),
        Errno.ENOTDIR when (options & InotifyWatchOptions.OnlyDir) != 0 => "OnlyDir (IN_ONLYDIR) was asked for and the path is not a directory.",
        Errno.EEXIST => "MaskCreate (IN_MASK_CREATE) was asked for and this instance watches that object already.",
        _ => null,
    };

    /// <summary>
    /// The per-user limit in force: the user namespace's user.max_inotify_* (which is fs.inotify.max_user_* in the
    /// initial namespace, and can only be lower in a nested one).
    /// </summary>
    private static string Limit(string userNamespaceName, string hostName, string what, string freeSome)
    {
        long? host = ProcFile.Sysctl(hostName);
        long? here = ProcFile.Sysctl(userNamespaceName);
        string value = here?.ToString(CultureInfo.InvariantCulture) ?? "?";
        return here is not null && host is not null && here != host
            ? $"This user has as many {what} as this user namespace allows: {userNamespaceName} = {value} ({hostName} = {host} on the host). " +
                $"{freeSome}, or raise it as this namespace's root with 'sysctl {userNamespaceName}=N' (up to the host's limit)"
            : $"This user has as many {what} as allowed: {hostName} = {value}. {freeSome}, or raise it as root with 'sysctl {hostName}=N' " +
                "(and a file in /etc/sysctl.d/ to keep it)";
    }

    private static string WatchLimitDetail() =>
        Limit("user.max_inotify_watches", "fs.inotify.max_user_watches", "inotify watches", "Remove unused watches") + "; each watch costs about 1 KiB of kernel memory.";

    /// <summary>EMFILE from inotify_init1 is either limit: this process's descriptors, or this user's instances.</summary>
    private static string InstanceLimitDetail() => ResourceShortage.NoDescriptorFree()
        ? ResourceShortage.DescriptorDetail()
        : Limit("user.max_inotify_instances", "fs.inotify.max_user_instances", "inotify instances", "Close unused instances") + ".";
}

/// <summary>A pollable object that reads ahead: what it has read and not yet returned makes it readable though its descriptor is not.</summary>
internal interface IBufferedInput
{
    bool HasBufferedInput { get; }
}
