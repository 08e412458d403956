using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// An advisory lock held on a file: flock(2), an fcntl(2) POSIX record lock or an OFD lock (see
/// <see cref="FileLockKind"/>). Releasing it (or disposing it) unlocks it. A wait for a lock held elsewhere blocks in
/// the kernel, as in C, so the kernel queues it and detects POSIX deadlocks (EDEADLK); a timeout or a cancelled token
/// interrupts it (see <see cref="ThreadInterrupt"/>), and nothing spins while it waits.
/// </summary>
public sealed class FileLock : IDisposable
{
    private SafeFdHandle _fd = null!;
    private int _released;

    private FileLock(string path, FileLockKind kind, FileLockMode mode, long start, long length)
    {
        Path = path;
        Kind = kind;
        Mode = mode;
        Start = start;
        Length = length;
        Description = $"{kind} {mode.ToString().ToLowerInvariant()} lock on {ByteRanges.Describe(start, length)} of {NameEscaping.Escape(path)}";
    }

    /// <summary>The file's full path, as given when the lock was taken.</summary>
    public string Path { get; }

    public FileLockKind Kind { get; }

    public FileLockMode Mode { get; }

    /// <summary>The first byte locked (0 for flock, which locks whole files).</summary>
    public long Start { get; }

    /// <summary>How many bytes; 0 runs to the end of the file, however far it grows.</summary>
    public long Length { get; }

    public string Range => ByteRanges.Describe(Start, Length);

    public DateTime AcquiredAt { get; private set; }

    /// <summary>The descriptor the lock is held through; -1 once released. POSIX locks of one file share one.</summary>
    public int Fd => IsReleased ? -1 : _fd.Fd;

    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>"Flock exclusive lock on the whole file of /run/job.lock".</summary>
    public string Description { get; }

    /// <summary>Whether programs started from here inherit the descriptor. They then share a flock or OFD lock (it lasts while any of them keeps the descriptor); a POSIX lock is never inherited.</summary>
    public bool IsInheritable => _fd.IsInheritable(Description);

    public void SetInheritable(bool inheritable, SyscallTrace? trace = null) => _fd.SetInheritable(inheritable, trace, Description);

    /// <summary>The real-time signal that interrupts lock waits in this process; 0 until the first wait that had to block.</summary>
    public static int InterruptSignal => ThreadInterrupt.Signal;

    public override string ToString() => IsReleased ? $"{Description} (released)" : Description;

    /// <summary>
    /// Takes a lock on <paramref name="path"/>, creating the file (mode <paramref name="createMode"/>, exactly) when it
    /// does not exist, and waits up to <paramref name="timeout"/> while another holder conflicts; null on timeout.
    /// A zero timeout tries once. flock locks whole files, so it takes no range.
    /// </summary>
    public static FileLock? Acquire(string path, FileLockKind kind, FileLockMode mode, TimeSpan timeout, CancellationToken cancellationToken = default,
        long start = 0, long length = 0, UnixFileMode createMode = FileModes.OwnerReadWrite, SyscallTrace? trace = null)
    {
        string fullPath = ValidateRequest(path, kind, mode, start, length);
        Timeouts.Validate(timeout);
        FileModes.Validate(createMode, nameof(createMode));
        cancellationToken.ThrowIfCancellationRequested();
        var fileLock = new FileLock(fullPath, kind, mode, start, length);
        fileLock._fd = kind == FileLockKind.Posix
            ? FileLockTable.Join(fullPath, fileLock, () => OpenOrCreate(fullPath, createMode, trace), trace)
            : OpenOrCreate(fullPath, createMode, trace);
        bool taken = false;
        try
        {
            taken = fileLock.Take(timeout, cancellationToken, trace);
        }
        finally
        {
            if (!taken)
            {
                fileLock.End(unlock: false, trace);
            }
        }
        return taken ? fileLock : null;
    }

    /// <summary>
    /// The lock that would stop <paramref name="mode"/> on the range now, or null when it could be taken. Locks of this
    /// process never conflict with its own POSIX requests (the kernel's rule), so those report null.
    /// </summary>
    public static FileLockConflict? FindConflict(string path, FileLockKind kind, FileLockMode mode, long start = 0, long length = 0,
        SyscallTrace? trace = null)
    {
        string fullPath = ValidateRequest(path, kind, mode, start, length);
        FileLockConflict? conflict = null;
        if (kind != FileLockKind.Flock && FileLockTable.TryUseShared(fullPath, fd => conflict = QueryRecordLock(fd, fullPath, kind, mode, start, length, trace)))
        {
            return conflict;
        }
        SafeFdHandle opened = PlantedPath.Open(fullPath, Libc.O_RDONLY | Libc.O_NONBLOCK, 0, LockFileTypes, trace).Fd;
        try
        {
            return kind == FileLockKind.Flock ? QueryFlock(opened, fullPath, mode, trace) : QueryRecordLock(opened, fullPath, kind, mode, start, length, trace);
        }
        finally
        {
            FileLockTable.CloseOrPark(opened, fullPath, trace);
        }
    }

    /// <summary>What to tell a user whose <see cref="Acquire"/> timed out: the request and, when it can be found, who holds the lock.</summary>
    public static string TimedOutMessage(string path, FileLockKind kind, FileLockMode mode, TimeSpan timeout, long start = 0, long length = 0)
    {
        string message = $"Could not lock {ByteRanges.Describe(start, length)} of {path} ({kind}, {mode.ToString().ToLowerInvariant()}) within {Units.FormatDuration(timeout)}";
        try
        {
            FileLockConflict? conflict = FindConflict(path, kind, mode, start, length);
            return conflict is null ? $"{message}." : $"{message}: in the way is a {conflict}.";
        }
        catch (Exception e) when (e is SysprogException or ArgumentException)
        {
            return $"{message}.";
        }
    }

    /// <summary>Unlocks and closes the descriptor (a POSIX lock's shared one once its file has no other). Releasing twice does nothing.</summary>
    public void Release(SyscallTrace? trace = null) => End(unlock: true, trace);

    /// <summary>
    /// Closes the descriptor without unlocking first: programs that inherited it keep a flock or OFD lock until the last
    /// of them closes its copy, as with flock(1) COMMAND. A POSIX lock is released as by <see cref="Release"/>.
    /// </summary>
    public void Close(SyscallTrace? trace = null) => End(unlock: Kind == FileLockKind.Posix, trace);

    /// <summary>Lets go of the descriptor, unlocking first if asked (not for a lock never taken).</summary>
    private void End(bool unlock, SyscallTrace? trace)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }
        if (Kind == FileLockKind.Posix)
        {
            // The shared descriptor stays open for the file's other POSIX locks, so the range is unlocked explicitly.
            FileLockTable.Leave(this, unlock ? fd => Unlock(fd, trace) : null, trace);
            return;
        }
        try
        {
            if (unlock)
            {
                // Explicitly, so that a program that inherited the descriptor does not keep holding it.
                Unlock(_fd, trace);
            }
        }
        finally
        {
            FileLockTable.CloseOrPark(_fd, Path, trace);
        }
    }

    public void Dispose() => Release();

    private static string ValidateRequest(string path, FileLockKind kind, FileLockMode mode, long start, long length)
    {
        PathArguments.Validate(path);
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "A lock is Flock, Posix or Ofd.");
        }
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "A lock is Shared or Exclusive.");
        }
        ByteRanges.Validate(start, length);
        if (kind == FileLockKind.Flock && (start, length) != (0, 0))
        {
            throw new ArgumentException("flock locks whole files; for a byte range use a Posix or Ofd lock.", start != 0 ? nameof(start) : nameof(length));
        }
        return PathArguments.Full(path);
    }

    /// <summary>
    /// Opens read-write, or read-only where writing is refused (a directory, a file without write permission: enough
    /// for flock and shared locks), creating the file when it is missing. A lock file is a regular file, a
    /// directory or a FIFO; what another user planted at the path in a shared folder (/tmp) is refused, and a symbolic link to
    /// nothing is an error at once, never a retry (see <see cref="PlantedPath"/>).
    /// </summary>
    private static SafeFdHandle OpenOrCreate(string path, UnixFileMode createMode, SyscallTrace? trace)
    {
        // O_NONBLOCK stays on: locks do not look at it (F_SETLKW and flock without LOCK_NB still wait).
        const int flags = Libc.O_RDWR | Libc.O_CREAT | Libc.O_NONBLOCK | Libc.O_CLOEXEC;
        OpenedPath opened = PlantedPath.Open(path, flags, (int)createMode, LockFileTypes, trace, readOnlyWhereRefused: true);
        if (opened.Created)
        {
            ExclusiveCreation.CompleteOrUndo(
                () => ExclusiveCreation.ChangeMode(opened.Fd, path, createMode, trace),
                opened.Fd.Dispose,
                () => Syscall.Check(Libc.unlink(path), trace, "unlink", path, $"{Quote(path)}"));
        }
        return opened.Fd;
    }

    /// <summary>What a lock is taken on: a FIFO too (its O_NONBLOCK open never waits, and flock and fcntl locks work on it), but no device.</summary>
    private const AcceptedFileTypes LockFileTypes = AcceptedFileTypes.Regular | AcceptedFileTypes.Directory | AcceptedFileTypes.Fifo;

    /// <summary>One try without waiting, then (unless the timeout is 0) the blocking call, interrupted at the deadline or on cancellation.</summary>
    private bool Take(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        SyscallResult first = Attempt(wait: false, trace);
        if (!first.Failed)
        {
            return Acquired();
        }
        bool heldElsewhere = first.Errno == Errno.EAGAIN || (first.Errno == Errno.EACCES && Kind != FileLockKind.Flock);
        if (!heldElsewhere)
        {
            throw Failure(first.Errno, trace);
        }
        if (timeout == TimeSpan.Zero)
        {
            return false;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(timeout);
        }
        using ThreadInterrupt interrupt = ThreadInterrupt.Arm(deadline.Token, null, trace, Description);
        while (true)
        {
            if (deadline.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return false;
            }
            SyscallResult waited = Attempt(wait: true, trace);
            if (!waited.Failed)
            {
                return Acquired();
            }
            if (waited.Errno != Errno.EINTR)
            {
                throw Failure(waited.Errno, trace);
            }
        }
    }

    private bool Acquired()
    {
        AcquiredAt = DateTime.Now;
        return true;
    }

    private unsafe SyscallResult Attempt(bool wait, SyscallTrace? trace)
    {
        using HandleLease lease = _fd.Lease(Description);
        int fd = lease.Fd;
        if (Kind == FileLockKind.Flock)
        {
            int operation = (Mode == FileLockMode.Exclusive ? Libc.LOCK_EX : Libc.LOCK_SH) | (wait ? 0 : Libc.LOCK_NB);
            return Syscall.Traced(Libc.flock(fd, operation), trace, "flock", $"{fd}, {Libc.FlockOperationText(operation)}");
        }
        int command = (Kind, wait) switch
        {
            (FileLockKind.Posix, false) => Libc.F_SETLK,
            (FileLockKind.Posix, true) => Libc.F_SETLKW,
            (_, false) => Libc.F_OFD_SETLK,
            _ => Libc.F_OFD_SETLKW,
        };
        RecordLock record = Record(Mode == FileLockMode.Exclusive ? Libc.F_WRLCK : Libc.F_RDLCK, Start, Length);
        return Syscall.Traced(Libc.fcntl_lock(fd, command, &record), trace, "fcntl", $"{fd}, {Libc.LockCommandText(command)}, {record}");
    }

    private unsafe void Unlock(SafeFdHandle handle, SyscallTrace? trace)
    {
        using HandleLease lease = handle.Lease(Description);
        int fd = lease.Fd;
        if (Kind == FileLockKind.Flock)
        {
            Syscall.Check(Libc.flock(fd, Libc.LOCK_UN), trace, "flock", Description, $"{fd}, LOCK_UN");
            return;
        }
        int command = Kind == FileLockKind.Posix ? Libc.F_SETLK : Libc.F_OFD_SETLK;
        RecordLock record = Record(Libc.F_UNLCK, Start, Length);
        Syscall.Check(Libc.fcntl_lock(fd, command, &record), trace, "fcntl", Description, $"{fd}, {Libc.LockCommandText(command)}, {record}");
    }

    private static RecordLock Record(short type, long start, long length) =>
        new() { Type = type, Whence = Libc.SEEK_SET, Start = start, Length = length, ProcessId = 0 };

    private SysprogException Failure(Errno errno, SyscallTrace? trace)
    {
        string call = Kind == FileLockKind.Flock ? "flock" : "fcntl";
        string? detail = errno switch
        {
            Errno.EDEADLK => DeadlockDetail(trace),
            Errno.EBADF when Mode == FileLockMode.Exclusive => "The file could only be opened read-only here (no write permission), and an exclusive fcntl lock needs it open for writing.",
            Errno.ENOLCK => "The kernel's lock table is full, or the filesystem (NFS without lockd, say) does not support locks.",
            Errno.EINVAL when Kind == FileLockKind.Ofd => "OFD locks need Linux 3.15 or later.",
            _ => null,
        };
        return new SysprogException(errno, call, Description, detail);
    }

    /// <summary>Names both ranges of the cycle: the one asked for, held by another process, and what that process waits for here.</summary>
    private string DeadlockDetail(SyscallTrace? trace)
    {
        FileLockConflict? holder;
        try
        {
            holder = QueryRecordLock(_fd, Path, Kind, Mode, Start, Length, trace);
        }
        catch (SysprogException)
        {
            holder = null;
        }
        if (holder?.ProcessId is not int pid)
        {
            return $"Waiting for {Range} would deadlock: its holder waits, directly or through others, for a lock this process holds.";
        }
        FileLockInfo? waiting = FileLockInfo.List().FirstOrDefault(l => l.IsWaiting && l.ProcessId == pid);
        string wants = waiting is null ? "a lock this process holds" : $"{waiting.Range} of {(waiting.Path is null ? "a file" : NameEscaping.Escape(waiting.Path))}, which this process holds";
        return $"This process wants {Range}; process {pid} ({ProcFile.ProcessName(pid) ?? "?"}) holds {holder.Range} ({holder.Mode.ToString().ToLowerInvariant()}) and is itself waiting for {wants}, so neither could ever go on.";
    }

    private static unsafe FileLockConflict? QueryRecordLock(SafeFdHandle handle, string path, FileLockKind kind, FileLockMode mode, long start, long length,
        SyscallTrace? trace)
    {
        using HandleLease lease = handle.Lease(path);
        int fd = lease.Fd;
        int command = kind == FileLockKind.Posix ? Libc.F_GETLK : Libc.F_OFD_GETLK;
        RecordLock record = Record(mode == FileLockMode.Exclusive ? Libc.F_WRLCK : Libc.F_RDLCK, start, length);
        Syscall.Check(Libc.fcntl_lock(fd, command, &record), trace, "fcntl", path, $"{fd}, {Libc.LockCommandText(command)}, {record}");
        if (record.Type == Libc.F_UNLCK)
        {
            return null;
        }
        // POSIX and OFD locks share one space: a conflict reported with pid -1 is an OFD lock.
        return new FileLockConflict(path, record.ProcessId == -1 ? FileLockKind.Ofd : FileLockKind.Posix,
            record.Type == Libc.F_WRLCK ? FileLockMode.Exclusive : FileLockMode.Shared, record.Start, record.Length,
            record.ProcessId == -1 ? null : record.ProcessId);
    }

    /// <summary>flock has no query: try the lock on a descriptor of our own, and on a conflict name a holder from /proc/locks.</summary>
    private static FileLockConflict? QueryFlock(SafeFdHandle handle, string path, FileLockMode mode, SyscallTrace? trace)
    {
        using HandleLease lease = handle.Lease(path);
        int fd = lease.Fd;
        int operation = (mode == FileLockMode.Exclusive ? Libc.LOCK_EX : Libc.LOCK_SH) | Libc.LOCK_NB;
        SyscallResult tried = Syscall.Traced(Libc.flock(fd, operation), trace, "flock", $"{fd}, {Libc.FlockOperationText(operation)}");
        if (!tried.Failed)
        {
            Syscall.Check(Libc.flock(fd, Libc.LOCK_UN), trace, "flock", path, $"{fd}, LOCK_UN");
            return null;
        }
        if (tried.Errno != Errno.EAGAIN)
        {
            throw new SysprogException(tried.Errno, "flock", path);
        }
        FileLockInfo? holder = FileLockInfo.List(path).FirstOrDefault(l => l.Kind == FileLockKind.Flock && !l.IsWaiting
            && (mode == FileLockMode.Exclusive || l.Mode == FileLockMode.Exclusive));
        return new FileLockConflict(path, FileLockKind.Flock, holder?.Mode ?? FileLockMode.Exclusive, 0, 0, holder?.ProcessId);
    }
}
