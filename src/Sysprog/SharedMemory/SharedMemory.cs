using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// An open POSIX shared memory object (shm_open), or an anonymous one (memfd_create: no name in /dev/shm, gone with
/// its last descriptor and mapping, shared by passing the descriptor). Disposing closes this process's fd; a named
/// object's name stays until <see cref="Unlink"/> removes it, as in C.
/// </summary>
public sealed class SharedMemory : IDescriptorObject, IDisposable
{
    /// <summary>Where Linux (glibc and musl) keeps shared memory objects: a tmpfs.</summary>
    public const string Directory = "/dev/shm";

    private readonly SafeFdHandle _fd;
    private long _lastKnownSize;

    private SharedMemory(SafeFdHandle fd, string name, bool isReadOnly, long size, bool isAnonymous = false)
    {
        _fd = fd;
        Name = name;
        IsReadOnly = isReadOnly;
        IsAnonymous = isAnonymous;
        _lastKnownSize = size;
    }

    /// <summary>The name, with its leading '/': <c>/demo</c>; for an anonymous object its memfd name, <c>memfd:demo</c>.</summary>
    public string Name { get; }

    /// <summary>Made by memfd_create: it has no path, and other processes get it only as a passed or inherited descriptor.</summary>
    public bool IsAnonymous { get; }

    /// <summary>The file behind the name: <c>/dev/shm/demo</c>; null for an anonymous object.</summary>
    public string? Path => IsAnonymous ? null : Directory + Name;

    string IDescriptorObject.Description => Name;

    SafeFdHandle IDescriptorObject.DescriptorHandle => _fd;

    public bool IsReadOnly { get; }

    public bool IsClosed => _fd.IsClosed;

    /// <summary>This process's file descriptor, or -1 once closed.</summary>
    public int Fd => _fd.IsClosed ? -1 : _fd.Fd;

    /// <summary>The current size (fstat), which another process may have changed; the last known size once closed.</summary>
    public long Size => _fd.IsClosed ? _lastKnownSize : CurrentSize(null);

    /// <summary>The permission bits as octal text, "0600" (fstat), as -Mode takes them; null once closed.</summary>
    public string? Mode => _fd.IsClosed ? null : FileModes.ToOctal(UnixFileMode);

    /// <summary>The permission bits as .NET's UnixFileMode, for bit tests (-band); None once closed.</summary>
    public UnixFileMode UnixFileMode => _fd.IsClosed ? 0 : (UnixFileMode)(FileStatus.OfFd(_fd, Name, null).Mode & 0xFFF);

    // The size now (statx), narrated where an operation reads it; the property has no trace to narrate to.
    private long CurrentSize(SyscallTrace? trace) => _lastKnownSize = (long)FileStatus.OfFd(_fd, Name, trace).Size;

    /// <summary>
    /// Creates a new object: shm_open(O_RDWR|O_CREAT|O_EXCL), fchmod to <paramref name="mode"/> (so the umask does not
    /// narrow it), ftruncate to <paramref name="size"/>. If a step fails, the name is unlinked again.
    /// </summary>
    public static SharedMemory Create(string name, long size, UnixFileMode mode = FileModes.OwnerReadWrite, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name);
        MemorySize.ValidateLength(size, nameof(size));
        FileModes.Validate(mode, nameof(mode));

        const int flags = Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC;
        SyscallResult rawFd = Libc.shm_open(canonical, flags, (int)mode);
        var fd = new SafeFdHandle(Syscall.Check(rawFd, trace, "shm_open", canonical,
            $"{QuoteName(canonical)}, {Libc.OpenFlagsText(flags)}, {Octal((int)mode)}"));
        ExclusiveCreation.CompleteOrUndo(
            () =>
            {
                ExclusiveCreation.ChangeMode(fd, canonical, mode, trace);
                Truncate(fd, canonical, size, trace);
            },
            () => fd.Close(trace),
            () => Unlink(canonical, trace));
        return new SharedMemory(fd, canonical, isReadOnly: false, size);
    }

    /// <summary>
    /// An anonymous object (memfd_create with MFD_CLOEXEC and MFD_ALLOW_SEALING) of <paramref name="size"/> bytes,
    /// with <paramref name="seals"/> added once it is sized (F_SEAL_WRITE and F_SEAL_FUTURE_WRITE are better added
    /// after filling it). <paramref name="name"/> only labels it in /proc/PID/maps and /proc/PID/fd (memfd:NAME):
    /// nothing can open it by name.
    /// </summary>
    public static SharedMemory CreateAnonymous(string name, long size, MemorySeals seals = MemorySeals.None, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxAnonymousNameBytes || name.Contains('\0') || name.Contains('/'))
        {
            throw new ArgumentException($"A memfd name is at most {MaxAnonymousNameBytes} bytes, without '/' or NUL.", nameof(name));
        }
        MemorySize.ValidateLength(size, nameof(size));
        ValidateSeals(seals);
        const int flags = Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING;
        var fd = new SafeFdHandle(Syscall.Check(Libc.memfd_create(name, flags), trace, "memfd_create", $"memfd:{name}",
            $"{Quote(name)}, MFD_CLOEXEC|MFD_ALLOW_SEALING"));
        var memory = new SharedMemory(fd, $"memfd:{name}", isReadOnly: false, size, isAnonymous: true);
        try
        {
            Truncate(fd, memory.Name, size, trace);
            if (seals != MemorySeals.None)
            {
                memory.AddSeals(seals, trace);
            }
        }
        catch
        {
            fd.Close(trace);
            throw;
        }
        return memory;
    }

    /// <summary>memfd_create takes names of up to 249 bytes (NAME_MAX less the "memfd:" prefix).</summary>
    public const int MaxAnonymousNameBytes = 249;

    /// <summary>
    /// The seals on the object (F_GET_SEALS). An object made without sealing allowed (every named one) shows
    /// <see cref="MemorySeals.Seal"/>: nothing can be added.
    /// </summary>
    public MemorySeals Seals => ReadSeals(null);

    private MemorySeals ReadSeals(SyscallTrace? trace)
    {
        using HandleLease lease = _fd.Lease(Name);
        return (MemorySeals)Syscall.Check(Libc.fcntl(lease.Fd, Libc.F_GET_SEALS, 0), trace, "fcntl", Name, $"{lease.Fd}, F_GET_SEALS");
    }

    /// <summary>
    /// Adds seals (F_ADD_SEALS); they can never be removed. Sealed against shrinking, the object cannot make its
    /// mappings raise SIGBUS in any process, which is what makes a passed memfd safe to map.
    /// </summary>
    public void AddSeals(MemorySeals seals, SyscallTrace? trace = null)
    {
        ValidateSeals(seals);
        if (seals == MemorySeals.None)
        {
            throw new ArgumentException("Name at least one seal: Shrink, Grow, Write, FutureWrite or Seal.", nameof(seals));
        }
        using HandleLease lease = _fd.Lease(Name);
        SyscallResult result = Libc.fcntl(lease.Fd, Libc.F_ADD_SEALS, (int)seals);
        string? detail = result.Errno switch
        {
            Errno.EPERM => IsAnonymous
                ? "The object is sealed against further seals (Seal)."
                : "Only anonymous objects (memfd_create with sealing allowed, New-SharedMemory -Anonymous) take seals.",
            Errno.EBUSY => "A writable shared mapping of the object exists (in some process): the Write seal needs every one of them closed first; FutureWrite does not.",
            Errno.EINVAL => "The kernel does not know one of these seals (FutureWrite needs Linux 5.1).",
            _ => null,
        };
        Syscall.Check(result, trace, "fcntl", Name, $"{lease.Fd}, F_ADD_SEALS, {MemorySealsText(seals)}", detail);
    }

    private bool IsWriteSealed(SyscallTrace? trace) => IsAnonymous && (ReadSeals(trace) & (MemorySeals.Write | MemorySeals.FutureWrite)) != 0;

    private static void ValidateSeals(MemorySeals seals)
    {
        if ((seals & ~MemorySeals.All) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(seals), seals, "Seals are Seal, Shrink, Grow, Write and FutureWrite.");
        }
    }

    internal static string MemorySealsText(MemorySeals seals) => TraceFormat.Flags((long)seals, SealNames, "0");

    private static readonly (long, string)[] SealNames =
    [
        ((long)MemorySeals.Seal, "F_SEAL_SEAL"), ((long)MemorySeals.Shrink, "F_SEAL_SHRINK"), ((long)MemorySeals.Grow, "F_SEAL_GROW"),
        ((long)MemorySeals.Write, "F_SEAL_WRITE"), ((long)MemorySeals.FutureWrite, "F_SEAL_FUTURE_WRITE"),
    ];

    /// <summary>
    /// Takes over a descriptor passed to this process: a /dev/shm object (<paramref name="name"/> "/NAME") or a memfd
    /// ("memfd:NAME").
    /// </summary>
    internal static SharedMemory Adopt(SafeFdHandle fd, string name, bool isReadOnly, bool isAnonymous, SyscallTrace? trace) =>
        new(fd, name, isReadOnly, (long)FileStatus.OfFd(fd, name, trace).Size, isAnonymous);

    /// <summary>Opens an existing object without changing its size.</summary>
    public static SharedMemory Open(string name, bool readOnly = false, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name);
        // O_NONBLOCK: anyone can plant a FIFO in /dev/shm, and a read-only open of one would wait for a writer
        // forever, uncancellable; the type is then checked on what was opened (a directory opens read-only too).
        // On a regular file O_NONBLOCK changes nothing.
        int flags = (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_NONBLOCK | Libc.O_CLOEXEC;
        SyscallResult rawFd = Libc.shm_open(canonical, flags, 0);
        string? hint = rawFd.Errno switch
        {
            Errno.ENOENT => "No shared memory object has that name; create it first (New-SharedMemory, sysprog shm create).",
            // A directory: EISDIR from open(2), which glibc's shm_open turns into EINVAL.
            Errno.EISDIR or Errno.EINVAL when FileStatus.OfEscapedPath(Directory + canonical) is StatX found && FileProblem(found) is string problem =>
                $"{Directory}{canonical} is {problem}.",
            _ => null,
        };
        var fd = new SafeFdHandle(Syscall.Check(rawFd, trace, "shm_open", canonical, $"{QuoteName(canonical)}, {Libc.OpenFlagsText(flags)}, 0", hint));
        StatX status;
        try
        {
            status = FileStatus.OfFd(fd, canonical, trace);
            if (FileProblem(status) is string problem)
            {
                throw new SysprogException(Errno.EINVAL, "shm_open", canonical, $"{Directory}{canonical} is {problem}.");
            }
        }
        catch
        {
            fd.Close(trace);
            throw;
        }
        return new SharedMemory(fd, canonical, readOnly, (long)status.Size);
    }

    /// <summary>Removes the name; processes that have it open or mapped keep their access until they close it.</summary>
    public static void Unlink(string name, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name);
        Syscall.Check(Libc.shm_unlink(canonical), trace, "shm_unlink", canonical, $"{QuoteName(canonical)}");
    }

    /// <summary>The objects in /dev/shm (semaphores, "sem.*", excluded), optionally filtered by a wildcard pattern.</summary>
    public static IReadOnlyList<SharedMemoryInfo> List(string? pattern = null, SyscallTrace? trace = null)
    {
        NamePattern wanted = IpcName.Pattern(pattern);
        if (!System.IO.Directory.Exists(Directory))
        {
            throw new SysprogException(Errno.ENOENT, "opendir", Directory, "POSIX shared memory needs a tmpfs mounted on /dev/shm.");
        }
        var found = new List<SharedMemoryInfo>();
        foreach (string fileName in DirectoryEntries.Read(Directory, trace))
        {
            if (fileName.StartsWith("sem.", StringComparison.Ordinal) || !wanted.Matches("/" + fileName))
            {
                continue;
            }
            if (FileStatus.OfEscapedPath(Directory + "/" + fileName, trace) is StatX status)
            {
                found.Add(new SharedMemoryInfo("/" + fileName, status, FileProblem(status)));
            }
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return found;
    }

    /// <summary>Why an entry of /dev/shm is not a shared memory object shm_open would give, or null when it is one.</summary>
    private static string? FileProblem(in StatX status) => (status.Mode & FileStatus.TypeMask) switch
    {
        FileStatus.Regular => null,
        FileStatus.Directory => "a directory, not a shared memory object",
        FileStatus.SymbolicLink => "a symbolic link, which shm_open refuses (O_NOFOLLOW)",
        int type => $"a {FileStatus.KindOf(type)}, not a regular file, so not a shared memory object",
    };

    /// <summary>
    /// Changes the size with ftruncate; shrinking discards the bytes past the new end for every process. Shrinking
    /// below the end of a mapping this process holds of the object is refused, naming the mapping, since touching the
    /// pages past the new end would raise SIGBUS and end the process; <paramref name="force"/> skips that check.
    /// Another process's mappings cannot be checked from here: see about_Sysprog.
    /// </summary>
    public void Resize(long size, bool force = false, SyscallTrace? trace = null)
    {
        MemorySize.ValidateLength(size, nameof(size));
        ClosedObject.ThrowIf(_fd.IsClosed, Name);
        if (!force && MappingPastEnd(size, trace) is ProcessMapping mapped)
        {
            throw new InvalidOperationException(
                $"{Name} is mapped in this process at 0x{mapped.Start:x}-0x{mapped.End:x} (its bytes {mapped.Offset} to {mapped.Offset + mapped.Size}); " +
                $"shrinking it to {size} bytes would make that memory raise SIGBUS when touched, which ends the process. " +
                "Close the mapping first, or force the resize (-Force) if nothing will touch it again.");
        }
        try
        {
            Truncate(_fd, Name, size, trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.EPERM && IsAnonymous)
        {
            throw new SysprogException(e.Errno, e.Call, Name, $"The object is sealed against this change ({Seals}).");
        }
        _lastKnownSize = size;
    }

    /// <summary>
    /// A mapping of this object, in this process, that reaches past the last page a file of <paramref name="size"/>
    /// bytes keeps (pages that still hold part of the file stay readable). /proc/self/maps is the one list that knows
    /// every mapping, whoever made it.
    /// </summary>
    private ProcessMapping? MappingPastEnd(long size, SyscallTrace? trace)
    {
        StatX status = FileStatus.OfFd(_fd, Name, trace);
        if ((long)status.Size <= size)
        {
            return null;
        }
        long page = Environment.SystemPageSize;
        ulong keptEnd = (ulong)((size + page - 1) / page * page);
        return ProcessMaps.Read(Environment.ProcessId)
            .FirstOrDefault(m => m.MapsFile(status) && m.Offset + m.Size > keptEnd);
    }

    /// <summary>
    /// Maps the object (or a page-aligned part of it). The default protection is read-write, or read-only for an
    /// object opened read-only or sealed against writing.
    /// </summary>
    public MemoryMapping Map(MemoryProtection? protection = null, MappingVisibility? visibility = null,
        long offset = 0, long? length = null, SyscallTrace? trace = null)
    {
        ClosedObject.ThrowIf(_fd.IsClosed, Name);
        MemoryProtection effective = protection ?? (IsReadOnly || IsWriteSealed(trace) ? MemoryProtection.Read : MemoryProtection.ReadWrite);
        return MemoryMapping.MapFd(_fd, Name, MappingKind.SharedMemory, CurrentSize(trace), effective, visibility ?? MappingVisibility.Shared, offset, length, trace);
    }

    /// <summary>Closes this process's fd (mappings made from it stay valid).</summary>
    public void Close(SyscallTrace? trace = null)
    {
        if (!_fd.IsClosed)
        {
            CurrentSize(trace);
        }
        _fd.Close(trace);
    }

    public void Dispose() => Close();

    public override string ToString() => IsClosed ? $"{Name} (closed)" : $"{Name} ({Size} bytes, fd {Fd})";

    internal static void Truncate(SafeFdHandle fd, string name, long size, SyscallTrace? trace)
    {
        using HandleLease lease = fd.Lease(name);
        SyscallResult rc;
        do
        {
            rc = Libc.ftruncate(lease.Fd, size);
        }
        while (rc.Errno == Errno.EINTR);
        Syscall.Check(rc, trace, "ftruncate", name, $"{lease.Fd}, {size}");
    }
}

/// <summary>File seals of an anonymous shared memory object (F_SEAL_*): each forbids one kind of change, for every process, forever.</summary>
[Flags]
public enum MemorySeals
{
    None = 0,

    /// <summary>No more seals can be added.</summary>
    Seal = Libc.F_SEAL_SEAL,

    /// <summary>The size cannot go down: no mapping of it can ever raise SIGBUS.</summary>
    Shrink = Libc.F_SEAL_SHRINK,

    /// <summary>The size cannot go up.</summary>
    Grow = Libc.F_SEAL_GROW,

    /// <summary>The contents cannot change: no write, no writable shared mapping.</summary>
    Write = Libc.F_SEAL_WRITE,

    /// <summary>No new write access (writable mappings that exist keep writing): the sender keeps writing, receivers only read.</summary>
    FutureWrite = Libc.F_SEAL_FUTURE_WRITE,

    All = Seal | Shrink | Grow | Write | FutureWrite,
}

/// <summary>One entry of /dev/shm, as listed (nothing is opened).</summary>
public sealed class SharedMemoryInfo : NamedObjectInfo
{
    internal SharedMemoryInfo(string name, StatX status, string? problem) : base(name, status, problem)
    {
        Size = (long)status.Size;
        LastAccessTime = status.AccessTime.ToDateTimeOffset().LocalDateTime;
        ChangeTime = status.ChangeTime.ToDateTimeOffset().LocalDateTime;
    }

    public long Size { get; }
    public DateTime LastAccessTime { get; }
    public DateTime ChangeTime { get; }
    public override string Path => SharedMemory.Directory + Name;

    public override string ToString() => $"{Name} ({Size} bytes, {Mode}, {Owner})";
}
