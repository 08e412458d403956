using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// A region mapped with mmap(2): a file, an anonymous region, or a shared memory object. Access goes through spans
/// and typed reads, writes and atomics at byte offsets, all bounds-checked and checked against the protection this
/// object set, so a write to a read-only mapping is an exception rather than a SIGSEGV. Disposing unmaps it.
/// Every method holds the mapping for the length of its access, and <see cref="Close"/> and <see cref="Protect"/>
/// wait for the accesses in progress on other threads: memory is never unmapped under an access (it completes, or
/// fails with ObjectDisposedException), and an access never runs against protections it did not check. Spans from
/// <see cref="AsSpan"/> are the exception, as raw memory that must not outlive Close or a Protect that takes away
/// what they need.
/// </summary>
public sealed class MemoryMapping : IDisposable
{
    private readonly SafeMappingHandle _region;

    /// <summary>
    /// Accesses in progress (the low 31 bits) and, in the sign bit, a <see cref="Protect"/> that waits for them to
    /// end or runs: an access starts only while no Protect does, and a Protect calls mprotect only once no access is
    /// in progress, so the check an access made still holds while it touches the memory (otherwise: SIGSEGV).
    /// </summary>
    private int _accesses;

    /// <summary>
    /// Semaphore waits in progress in this mapping. A wait lasts as long as it lasts, so a Protect does not wait for
    /// it: it refuses to take away the read-write access the waiting C library touches the sem_t with on wake-up.
    /// </summary>
    private int _semaphoreWaits;

    /// <summary>How failures name this mapping: its file or object, or its address when it has neither.</summary>
    private readonly string _target;

    private MemoryMapping(SafeMappingHandle region, long length, MappingKind kind, string source, long fileOffset,
        MemoryProtection protection, MappingVisibility visibility)
    {
        _region = region;
        Length = length;
        Kind = kind;
        Source = source;
        FileOffset = fileOffset;
        Protection = protection;
        Visibility = visibility;
        _target = kind == MappingKind.Anonymous ? $"anonymous mapping at 0x{region.Address:x}" : source;
    }

    /// <summary>Where the region starts in this process's address space (as in /proc/PID/maps).</summary>
    public IntPtr Address => _region.Address;

    public long Length { get; }

    public MappingKind Kind { get; }

    /// <summary>The file path, the shared memory name, or "anonymous"; a path is escaped as listings write names (<see cref="NameEscaping"/>).</summary>
    public string Source { get; }

    /// <summary>The offset in the file or object where the mapping starts.</summary>
    public long FileOffset { get; }

    /// <summary>The protection as last set by mmap or <see cref="Protect"/>.</summary>
    public MemoryProtection Protection { get; private set; }

    public MappingVisibility Visibility { get; }

    public bool IsLocked { get; private set; }

    /// <summary>
    /// Who besides this user could shrink the mapped file or object, and what that would do (SIGBUS, which ends the
    /// process): its owner when that is another user, everyone when it is writable by others, its group's users when
    /// it is writable by a group not this user's own. Null when no one else can (this user's own object, mode 0600, or
    /// shared memory sealed against shrinking), and for anonymous memory. New-MemoryMap writes it as a warning.
    /// </summary>
    public string? ShrinkRisk { get; private init; }

    public bool IsClosed => _region.IsClosed;

    /// <summary>
    /// Maps a file, read-only and shared unless told otherwise. A shared writable mapping opens the file read-write;
    /// anything else opens it read-only.
    /// </summary>
    public static MemoryMapping MapFile(string path, MemoryProtection? protection = null, MappingVisibility? visibility = null,
        long offset = 0, long? length = null, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return MapFile(path, protection ?? MemoryProtection.Read, visibility ?? MappingVisibility.Shared, offset, length, trace);
    }

    private static MemoryMapping MapFile(string path, MemoryProtection protection, MappingVisibility visibility, long offset, long? length,
        SyscallTrace? trace)
    {
        string fullPath = PathArguments.Full(path);
        ValidateRequest(protection, visibility, offset, length);
        string shown = NameEscaping.Escape(fullPath);
        // One narrated statx tells a missing path and a folder apart from a file, so each gets its own error.
        StatX? found = FileStatus.OfPath(fullPath, trace, followLinks: true);
        if (found is null || (found.Value.Mode & FileStatus.TypeMask) == FileStatus.Directory)
        {
            throw new FileNotFoundException(found is null ? $"No file at {shown}." : $"{shown} is a directory; only files can be mapped.", fullPath);
        }
        bool needsWrite = visibility == MappingVisibility.Shared && protection.HasFlag(MemoryProtection.Write);
        // O_NONBLOCK: a FIFO at the path (planted, or made by mistake) would otherwise make open wait for a writer forever.
        int flags = (needsWrite ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_NONBLOCK;
        OpenedPath opened = PlantedPath.Open(fullPath, flags, 0, AcceptedFileTypes.Any, trace);
        using SafeFdHandle fd = opened.Fd;
        StatX status = opened.Status;
        if ((status.Mode & FileStatus.TypeMask) is FileStatus.Fifo or FileStatus.Socket)
        {
            throw new ArgumentException($"{shown} is a {((status.Mode & FileStatus.TypeMask) == FileStatus.Fifo ? "FIFO" : "socket")}, which cannot be mapped.", nameof(path));
        }
        long size = (long)status.Size;
        MemoryMapping mapping = MapFd(fd, shown, MappingKind.File, size, protection, visibility, offset, length, trace);
        fd.Close(trace);
        return mapping;
    }

    /// <summary>
    /// Maps zero-filled memory backed by no file, read-write and private unless told otherwise. Shared anonymous memory
    /// is shared with children after fork only.
    /// </summary>
    public static MemoryMapping MapAnonymous(long length, MemoryProtection? protection = null, MappingVisibility? visibility = null,
        SyscallTrace? trace = null) =>
        MapAnonymous(length, protection ?? MemoryProtection.ReadWrite, visibility ?? MappingVisibility.Private, trace);

    private static MemoryMapping MapAnonymous(long length, MemoryProtection protection, MappingVisibility visibility, SyscallTrace? trace)
    {
        MemorySize.ValidateLength(length, nameof(length));
        ValidateProtection(protection);
        ValidateVisibility(visibility);
        int flags = (int)visibility | Libc.MAP_ANONYMOUS;
        IntPtr address = Syscall.CheckPointer(Libc.mmap(IntPtr.Zero, (nuint)length, (int)protection, flags, -1, 0), trace, "mmap", "anonymous mapping",
            $"NULL, {length}, {Libc.ProtText((int)protection)}, {Libc.MapFlagsText(flags)}, -1, 0");
        return new MemoryMapping(new SafeMappingHandle(address, (ulong)length), length, MappingKind.Anonymous, "anonymous", 0, protection, visibility);
    }

    /// <summary>What can be refused before the object is opened: the protection, the visibility, the offset and a length given.</summary>
    private static void ValidateRequest(MemoryProtection protection, MappingVisibility visibility, long offset, long? length)
    {
        ValidateProtection(protection);
        ValidateVisibility(visibility);
        if (offset < 0 || offset % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"An mmap offset must be a non-negative multiple of the page size ({Environment.SystemPageSize}).");
        }
        if (length is long given)
        {
            MemorySize.ValidateLength(given, nameof(length));
        }
    }

    internal static MemoryMapping MapFd(SafeFdHandle fd, string source, MappingKind kind, long objectSize, MemoryProtection protection,
        MappingVisibility visibility, long offset, long? length, SyscallTrace? trace)
    {
        ValidateRequest(protection, visibility, offset, length);
        if (objectSize == 0)
        {
            throw new ArgumentException($"{source} is empty: there is nothing to map (resize it first).", nameof(length));
        }
        if (offset >= objectSize)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Offset {offset} is at or past the end of {source} ({objectSize} bytes).");
        }
        long mapLength = length ?? objectSize - offset;
        MemorySize.ValidateLength(mapLength, nameof(length));
        if (offset + mapLength > objectSize)
        {
            // Touching pages past the end of the object raises SIGBUS, which would kill the process.
            throw new ArgumentOutOfRangeException(nameof(length), mapLength,
                $"Offset {offset} + length {mapLength} goes past the end of {source} ({objectSize} bytes).");
        }
        int flags = (int)visibility;
        using HandleLease lease = fd.Lease(source);
        ReserveBlocks(lease.Fd, source, offset, mapLength, trace);
        string? shrinkRisk = Sysprog.ShrinkRisk.Of(fd, source, trace);
        IntPtr address = Syscall.CheckPointer(Libc.mmap(IntPtr.Zero, (nuint)mapLength, (int)protection, flags, lease.Fd, offset), trace, "mmap", source,
            $"NULL, {mapLength}, {Libc.ProtText((int)protection)}, {Libc.MapFlagsText(flags)}, {lease.Fd}, {offset}");
        return new MemoryMapping(new SafeMappingHandle(address, (ulong)mapLength), mapLength, kind, source, offset, protection, visibility) { ShrinkRisk = shrinkRisk };
    }

    /// <summary>
    /// Touching a mapped page that has no block behind it (a hole: ftruncate makes new objects all hole) makes the
    /// kernel allocate one then, reads included on tmpfs; on a full filesystem (a 64 MiB /dev/shm in a container)
    /// that fails as SIGBUS, which ends the process. So the mapped range gets its blocks first (fallocate with
    /// FALLOC_FL_KEEP_SIZE: nothing is written, the size stays), and a full filesystem is ENOSPC here instead. A
    /// descriptor opened read-only cannot allocate: the range's holes are measured (SEEK_HOLE) against the free space.
    /// </summary>
    private static void ReserveBlocks(int fd, string source, long offset, long length, SyscallTrace? trace)
    {
        int status = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), trace, "fcntl", source, $"{fd}, F_GETFL");
        if ((status & Libc.O_ACCMODE) != Libc.O_RDONLY)
        {
            SyscallResult reserved = Libc.fallocate(fd, Libc.FALLOC_FL_KEEP_SIZE, offset, length);
            if (reserved.Errno is Errno.EOPNOTSUPP or Errno.ENOSYS)
            {
                // A filesystem that cannot allocate ahead (some network and FUSE ones): there is nothing to reserve with.
                Syscall.Traced(reserved, trace, "fallocate", $"{fd}, FALLOC_FL_KEEP_SIZE, {offset}, {length}");
                return;
            }
            Syscall.Check(reserved, trace, "fallocate", source, $"{fd}, FALLOC_FL_KEEP_SIZE, {offset}, {length}",
                reserved.Errno == Errno.ENOSPC ? NoSpaceDetail(fd, length, trace) : null);
            return;
        }
        long holes = HoleBytes(fd, offset, length, trace);
        if (holes > 0 && FreeSpace(fd, trace) is FileSystemStatus fs && (long)fs.AvailableBlocks * fs.BlockSize < holes)
        {
            throw new SysprogException(Errno.ENOSPC, "mmap", source,
                $"{holes} bytes of the range have no blocks yet and the filesystem has {(long)fs.AvailableBlocks * fs.BlockSize} bytes free: reading them would allocate blocks, " +
                "and failing to raises SIGBUS. " + NoSpaceDetail(fd, holes, trace));
        }
    }

    /// <summary>The bytes of [offset, offset + length) that are holes; 0 where the filesystem cannot tell (no SEEK_HOLE).</summary>
    private static long HoleBytes(int fd, long offset, long length, SyscallTrace? trace)
    {
        long end = offset + length;
        long holes = 0;
        for (long position = offset; position < end;)
        {
            long hole = Syscall.Traced(Libc.lseek(fd, position, Libc.SEEK_HOLE), trace, "lseek", $"{fd}, {position}, SEEK_HOLE").Value;
            if (hole < 0 || hole >= end)
            {
                break;
            }
            long data = Syscall.Traced(Libc.lseek(fd, hole, Libc.SEEK_DATA), trace, "lseek", $"{fd}, {hole}, SEEK_DATA").Value;
            long holeEnd = data < 0 || data > end ? end : data;
            holes += holeEnd - hole;
            position = holeEnd;
        }
        return holes;
    }

    /// <summary>The filesystem's counts (fstatfs); null where it cannot tell, which only leaves a message less precise.</summary>
    private static FileSystemStatus? FreeSpace(int fd, SyscallTrace? trace)
    {
        SyscallResult result = Syscall.Traced(Libc.fstatfs(fd, out FileSystemStatus fs), trace, "fstatfs", $"{fd}, {{...}}");
        return result.Failed ? null : fs;
    }

    private static string NoSpaceDetail(int fd, long needed, SyscallTrace? trace) =>
        FreeSpace(fd, trace) is FileSystemStatus fs && fs.Type == Libc.TMPFS_MAGIC
            ? $"The tmpfs has {(long)fs.AvailableBlocks * fs.BlockSize} bytes free of {(long)fs.Blocks * fs.BlockSize} and the mapping needs up to {needed}. " +
                "Remove unused objects (Get-SharedMemory, Remove-SharedMemory) or give it more room (docker run --shm-size=1g; as root mount -o remount,size=1G /dev/shm)."
            : $"The filesystem has no room for the {needed} bytes the mapping may need.";

    // ---- Bulk access ----

    /// <summary>
    /// The bytes from <paramref name="offset"/> on, writable; the mapping must be readable and writable. A span is
    /// raw memory: it must not outlive <see cref="Close"/> (the methods below hold the mapping while they copy).
    /// </summary>
    public Span<byte> AsSpan(long offset = 0, int? length = null)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        return Bytes(region.Address, offset, length, nameof(length));
    }

    public ReadOnlySpan<byte> AsReadOnlySpan(long offset = 0, int? length = null)
    {
        using MappingAccess region = Access(MemoryProtection.Read);
        return Bytes(region.Address, offset, length, nameof(length));
    }

    public byte[] Read(long offset, int count)
    {
        using MappingAccess region = Access(MemoryProtection.Read);
        return Bytes(region.Address, offset, count, nameof(count)).ToArray();
    }

    public void Read(long offset, Span<byte> destination)
    {
        using MappingAccess region = Access(MemoryProtection.Read);
        Bytes(region.Address, offset, destination.Length, nameof(destination)).CopyTo(destination);
    }

    public void Write(long offset, ReadOnlySpan<byte> source) => Write(offset, source, nameof(source));

    /// <summary>Writes the whole mapping to <paramref name="destination"/>, in parts, so mappings past 2 GiB are copied whole.</summary>
    public void CopyTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("The stream cannot be written to.", nameof(destination));
        }
        // A Protect waits until the copy ends: the stream is written from the mapping's memory.
        using MappingAccess region = Access(MemoryProtection.Read);
        const int part = 1 << 30;
        for (long offset = 0; offset < Length; offset += part)
        {
            destination.Write(Bytes(region.Address, offset, (int)Math.Min(part, Length - offset), nameof(destination)));
        }
    }

    /// <summary>For callers that cannot pass spans (PowerShell).</summary>
    public void Write(long offset, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Write(offset, data, nameof(data));
    }

    private void Write(long offset, ReadOnlySpan<byte> source, string sourceName)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        source.CopyTo(Bytes(region.Address, offset, source.Length, sourceName));
    }

    /// <summary>Decodes <paramref name="byteCount"/> bytes (all up to the end by default) as text, UTF-8 unless told.</summary>
    public string ReadString(long offset = 0, int byteCount = -1, Encoding? encoding = null)
    {
        using MappingAccess region = Access(MemoryProtection.Read);
        return (encoding ?? Encoding.UTF8).GetString(Bytes(region.Address, offset, byteCount < 0 ? null : byteCount, nameof(byteCount)));
    }

    /// <summary>Encodes <paramref name="value"/> at <paramref name="offset"/>; returns the number of bytes written.</summary>
    public int WriteString(long offset, string value, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        Encoding chosen = encoding ?? Encoding.UTF8;
        int byteCount = chosen.GetByteCount(value);
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        return chosen.GetBytes(value, Bytes(region.Address, offset, byteCount, nameof(value)));
    }

    // ---- Typed cells: naturally aligned 32/64-bit integers ----

    public int ReadInt32(long offset)
    {
        using MappingAccess region = Access(MemoryProtection.Read);
        return Volatile.Read(ref Cell<int>(region.Address, offset));
    }

    public long ReadInt64(long offset)
    {
        using MappingAccess region = Access(MemoryProtection.Read);
        return Volatile.Read(ref Cell<long>(region.Address, offset));
    }

    public void WriteInt32(long offset, int value)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        Volatile.Write(ref Cell<int>(region.Address, offset), value);
    }

    public void WriteInt64(long offset, long value)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        Volatile.Write(ref Cell<long>(region.Address, offset), value);
    }

    /// <summary>Atomically adds (lock xadd); correct across processes sharing the mapping. Returns the new value.</summary>
    public int AddInt32(long offset, int value)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        return Interlocked.Add(ref Cell<int>(region.Address, offset), value);
    }

    public long AddInt64(long offset, long value)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        return Interlocked.Add(ref Cell<long>(region.Address, offset), value);
    }

    public int IncrementInt32(long offset) => AddInt32(offset, 1);

    public long IncrementInt64(long offset) => AddInt64(offset, 1);

    /// <summary>Stores <paramref name="value"/> if the cell holds <paramref name="comparand"/>; returns what the cell held.</summary>
    public int CompareExchangeInt32(long offset, int value, int comparand)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        return Interlocked.CompareExchange(ref Cell<int>(region.Address, offset), value, comparand);
    }

    public long CompareExchangeInt64(long offset, long value, long comparand)
    {
        using MappingAccess region = Access(MemoryProtection.ReadWrite);
        return Interlocked.CompareExchange(ref Cell<long>(region.Address, offset), value, comparand);
    }

    // ---- Calls on the region ----

    /// <summary>mprotect(2): changes the protection of the whole mapping.</summary>
    /// <remarks>
    /// Waits for the accesses in progress on other threads to end, and holds new ones back while it runs. Taking
    /// read or write away while a semaphore in the mapping is being waited on is refused (EBUSY): the waiter touches
    /// the sem_t when it wakes.
    /// </remarks>
    public void Protect(MemoryProtection protection, SyscallTrace? trace = null)
    {
        ValidateProtection(protection);
        using HandleLease region = Lease();
        IntPtr address = region.Value;
        BeginProtect();
        try
        {
            int waits = Volatile.Read(ref _semaphoreWaits);
            if (waits > 0 && (protection & MemoryProtection.ReadWrite) != MemoryProtection.ReadWrite)
            {
                throw new SysprogException(Errno.EBUSY, "mprotect", _target,
                    $"{waits} semaphore wait{(waits == 1 ? " is" : "s are")} in progress in this mapping in this process, and a waiter touches the sem_t " +
                    $"when it wakes: making it {ProtectionText(protection)} would end the process with SIGSEGV. Post the semaphore or cancel the wait first.");
            }
            Syscall.Check(Libc.mprotect(address, (nuint)Length, (int)protection), trace, "mprotect", _target,
                $"{Pointer(address)}, {Length}, {Libc.ProtText((int)protection)}");
            Protection = protection;
        }
        finally
        {
            EndProtect();
        }
    }

    /// <summary>msync(2): writes dirty pages of a shared file mapping back to the file.</summary>
    public void Sync(MemorySyncOptions options = MemorySyncOptions.Synchronous, SyscallTrace? trace = null)
    {
        bool sync = (options & MemorySyncOptions.Synchronous) != 0, async = (options & MemorySyncOptions.Asynchronous) != 0;
        if (sync == async || ((int)options & ~7) != 0)
        {
            throw new ArgumentException("Choose exactly one of Synchronous or Asynchronous (optionally with Invalidate).", nameof(options));
        }
        using HandleLease region = Lease();
        IntPtr address = region.Value;
        Syscall.Check(Libc.msync(address, (nuint)Length, (int)options), trace, "msync", _target,
            $"{Pointer(address)}, {Length}, {Libc.MsyncFlagsText((int)options)}");
    }

    /// <summary>madvise(2): tells the kernel how the mapping will be used.</summary>
    public void Advise(MemoryAdvice advice, SyscallTrace? trace = null)
    {
        if (!Enum.IsDefined(advice))
        {
            throw new ArgumentOutOfRangeException(nameof(advice), advice, "Not a known madvise advice.");
        }
        using HandleLease region = Lease();
        IntPtr address = region.Value;
        Syscall.Check(Libc.madvise(address, (nuint)Length, (int)advice), trace, "madvise", _target,
            $"{Pointer(address)}, {Length}, {AdviceName(advice)}");
    }

    /// <summary>mlock(2): keeps the pages in RAM. Failure over RLIMIT_MEMLOCK says what the limit is.</summary>
    public void Lock(SyscallTrace? trace = null)
    {
        using HandleLease region = Lease();
        IntPtr address = region.Value;
        SyscallResult rc = Libc.mlock(address, (nuint)Length);
        string? detail = MemoryLock.LimitDetail(rc.Errno, Length);
        Syscall.Check(rc, trace, "mlock", _target, $"{Pointer(address)}, {Length}", detail);
        IsLocked = true;
    }

    public void Unlock(SyscallTrace? trace = null)
    {
        using HandleLease region = Lease();
        IntPtr address = region.Value;
        Syscall.Check(Libc.munlock(address, (nuint)Length), trace, "munlock", _target, $"{Pointer(address)}, {Length}");
        IsLocked = false;
    }

    /// <summary>
    /// munmap(2). Idempotent. Waits for the accesses in progress on other threads (a semaphore wait excepted: the
    /// region is unmapped when it ends).
    /// </summary>
    public void Close(SyscallTrace? trace = null)
    {
        if (_region.IsClosed)
        {
            return;
        }
        BeginProtect();
        try
        {
            _region.Unmap(trace);
        }
        finally
        {
            EndProtect();
        }
    }

    public void Dispose() => Close();

    public override string ToString() =>
        IsClosed ? $"{Source} (unmapped)" : $"{Source} at 0x{Address:x} ({Length} bytes, {ProtectionText(Protection)}, {Visibility})";

    /// <summary>"rw-", as in /proc/PID/maps.</summary>
    public static string ProtectionText(MemoryProtection protection) => string.Create(3, protection, static (text, p) =>
    {
        text[0] = p.HasFlag(MemoryProtection.Read) ? 'r' : '-';
        text[1] = p.HasFlag(MemoryProtection.Write) ? 'w' : '-';
        text[2] = p.HasFlag(MemoryProtection.Execute) ? 'x' : '-';
    });

    private HandleLease Lease() => _region.Lease(_target);

    private HandleLease Lease(string user) => _region.Lease(user);

    /// <summary>The checked span of <paramref name="length"/> bytes (all up to the end by default) at <paramref name="offset"/>.</summary>
    private unsafe Span<byte> Bytes(IntPtr start, long offset, int? length, string lengthName)
    {
        if (offset < 0 || offset > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Offset must be within the {Length}-byte mapping.");
        }
        long count = length ?? Length - offset;
        if (count < 0 || offset + count > Length)
        {
            throw new ArgumentOutOfRangeException(lengthName, count, $"{count} bytes at offset {offset} go past the end of the {Length}-byte mapping.");
        }
        if (count > int.MaxValue)
        {
            // A span holds at most 2^31-1 bytes; capping silently would hand back part of the mapping as if it were all.
            throw new ArgumentOutOfRangeException(lengthName, count,
                $"The {count} bytes from offset {offset} are more than one span holds ({int.MaxValue}); take the mapping in parts with an offset and a length.");
        }
        return new Span<byte>((void*)(start + (nint)offset), (int)count);
    }

    private unsafe ref T Cell<T>(IntPtr start, long offset) where T : unmanaged
    {
        // Signed: a mapping shorter than the cell makes Length - sizeof(T) negative, and every offset fails.
        if (!IsCell<T>(offset))
        {
            ThrowBadCell(offset, sizeof(T), nameof(offset));
        }
        return ref Unsafe.AsRef<T>((void*)(start + (nint)offset));
    }

    // ---- Ordering accesses and Protect ----

    /// <summary>
    /// Holds the mapping (against Close) and its protection (against Protect) for one access that needs
    /// <paramref name="needed"/>, checked here. Both wait for the accesses in progress, so no reference on the
    /// handle is taken: one interlocked operation to enter, one to leave. Allocates nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MappingAccess Access(MemoryProtection needed)
    {
        EnterAccess();
        if (_region.IsClosed || (Protection & needed) != needed)
        {
            ExitAccess();
            ThrowNoAccess(needed, _target);
        }
        return new MappingAccess(_region.Address, this);
    }

    /// <summary>
    /// For a semaphore at an offset of this mapping: holds it for one semaphore call, or refuses with EACCES,
    /// naming the semaphore and the call, when the mapping is not read-write now. A <paramref name="lasting"/> one
    /// (a wait, which Close and Protect do not wait for) holds a reference on the handle instead, so a Close unmaps
    /// only once the wait ends, and keeps Protect from taking read-write away.
    /// </summary>
    internal MappingAccess AccessSemaphore(bool lasting, string call, string semaphore)
    {
        EnterAccess();
        if (_region.IsClosed || (Protection & MemoryProtection.ReadWrite) != MemoryProtection.ReadWrite)
        {
            ExitAccess();
            ThrowSemaphoreNoAccess(call, semaphore);
        }
        if (!lasting)
        {
            return new MappingAccess(_region.Address, this);
        }
        HandleLease region;
        try
        {
            region = Lease(semaphore);
        }
        catch
        {
            ExitAccess();
            throw;
        }
        // Counted before the access ends: a Protect that starts after this sees the wait.
        Interlocked.Increment(ref _semaphoreWaits);
        ExitAccess();
        return new MappingAccess(region, this);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterAccess()
    {
        int seen = Volatile.Read(ref _accesses);
        if (seen < 0 || Interlocked.CompareExchange(ref _accesses, seen + 1, seen) != seen)
        {
            EnterAccessWhenNoProtect();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterAccessWhenNoProtect()
    {
        var spin = new SpinWait();
        while (true)
        {
            int seen = Volatile.Read(ref _accesses);
            if (seen >= 0 && Interlocked.CompareExchange(ref _accesses, seen + 1, seen) == seen)
            {
                return;
            }
            spin.SpinOnce();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ExitAccess() => Interlocked.Decrement(ref _accesses);

    internal void EndSemaphoreWait() => Interlocked.Decrement(ref _semaphoreWaits);

    /// <summary>Holds new accesses back (the sign bit) and waits for those in progress to end.</summary>
    private void BeginProtect()
    {
        var spin = new SpinWait();
        while (true)
        {
            int seen = Volatile.Read(ref _accesses);
            if (seen >= 0 && Interlocked.CompareExchange(ref _accesses, seen | int.MinValue, seen) == seen)
            {
                break;
            }
            spin.SpinOnce();
        }
        while (Volatile.Read(ref _accesses) != int.MinValue)
        {
            spin.SpinOnce();
        }
    }

    private void EndProtect() => Volatile.Write(ref _accesses, 0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNoAccess(MemoryProtection needed, string target)
    {
        if (_region.IsClosed)
        {
            ClosedObject.Throw(target);
        }
        throw new UnauthorizedAccessException(
            $"The mapping of {Source} is {ProtectionText(Protection)} ({Libc.ProtText((int)Protection)}); this access needs {ProtectionText(needed)}. " +
            "Change it with Protect (Set-MemoryProtection) first.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowSemaphoreNoAccess(string call, string semaphore)
    {
        if (_region.IsClosed)
        {
            ClosedObject.Throw(semaphore);
        }
        throw new SysprogException(Errno.EACCES, call, semaphore,
            $"The mapping of {Source} is {ProtectionText(Protection)} ({Libc.ProtText((int)Protection)}) and a semaphore is read and written in place: " +
            "touching it now would end the process with SIGSEGV. Make the mapping read-write again (Set-MemoryProtection ReadWrite) first.");
    }

    private unsafe bool IsCell<T>(long offset) where T : unmanaged => offset >= 0 && offset <= Length - sizeof(T) && offset % sizeof(T) == 0;

    /// <summary>Refuses an offset that is no aligned cell of this mapping, naming the caller's parameter (for helpers that take offsets to use later).</summary>
    internal unsafe void ValidateCell<T>(long offset, string paramName) where T : unmanaged
    {
        if (!IsCell<T>(offset))
        {
            ThrowBadCell(offset, sizeof(T), paramName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadCell(long offset, int size, string paramName) => throw new ArgumentOutOfRangeException(paramName, offset,
        $"A {size * 8}-bit cell needs an offset that is a multiple of {size} and within the {Length}-byte mapping.");

    private static void ValidateProtection(MemoryProtection protection)
    {
        if (((int)protection & ~7) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(protection), protection, "Protection is a combination of Read, Write and Execute (or None).");
        }
    }

    private static void ValidateVisibility(MappingVisibility visibility)
    {
        if (visibility is not (MappingVisibility.Shared or MappingVisibility.Private))
        {
            throw new ArgumentOutOfRangeException(nameof(visibility), visibility, "A mapping is Shared or Private.");
        }
    }

    private static string AdviceName(MemoryAdvice advice) => advice switch
    {
        MemoryAdvice.WillNeed => "MADV_WILLNEED",
        MemoryAdvice.DontNeed => "MADV_DONTNEED",
        MemoryAdvice.DontFork => "MADV_DONTFORK",
        MemoryAdvice.DoFork => "MADV_DOFORK",
        MemoryAdvice.HugePage => "MADV_HUGEPAGE",
        MemoryAdvice.NoHugePage => "MADV_NOHUGEPAGE",
        MemoryAdvice.DontDump => "MADV_DONTDUMP",
        MemoryAdvice.DoDump => "MADV_DODUMP",
        MemoryAdvice.PageOut => "MADV_PAGEOUT",
        MemoryAdvice.PopulateRead => "MADV_POPULATE_READ",
        MemoryAdvice.PopulateWrite => "MADV_POPULATE_WRITE",
        _ => "MADV_" + advice.ToString().ToUpperInvariant(),
    };
}

/// <summary>
/// One access to a mapping, from <see cref="MemoryMapping"/>'s Access: while it is held the region stays mapped and
/// keeps the protection the access was checked against. A lasting one (a semaphore wait) holds a reference on the
/// region and keeps Protect from taking read-write away instead; one without a mapping is only the lease (a named
/// semaphore's).
/// </summary>
internal ref struct MappingAccess
{
    private HandleLease _region;
    private readonly IntPtr _address;
    private MemoryMapping? _mapping;
    private readonly bool _lasting;

    /// <summary>A short access: the mapping's gate, entered already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal MappingAccess(IntPtr address, MemoryMapping mapping)
    {
        _address = address;
        _mapping = mapping;
    }

    /// <summary>A lease: a lasting access to <paramref name="mapping"/>, or a named semaphore's (no mapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal MappingAccess(HandleLease region, MemoryMapping? mapping)
    {
        _region = region;
        _address = region.Value;
        _mapping = mapping;
        _lasting = true;
    }

    public readonly IntPtr Address
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _address;
    }

    /// <summary>The handle a lasting access holds (the region, or the named semaphore's): what a wait under it waits on.</summary>
    public readonly SafeHandle? Held => _region.Handle;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Dispose()
    {
        if (_mapping is MemoryMapping mapping)
        {
            _mapping = null;
            if (_lasting)
            {
                mapping.EndSemaphoreWait();
            }
            else
            {
                mapping.ExitAccess();
            }
        }
        _region.Dispose();
    }
}
