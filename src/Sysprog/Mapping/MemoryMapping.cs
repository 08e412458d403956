using System.Runtime.CompilerServices;
using System.Text;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// A region mapped with mmap(2): a file, an anonymous region, or a shared memory object. Access goes through spans
/// and typed reads, writes and atomics at byte offsets, all bounds-checked and checked against the protection this
/// object set, so a write to a read-only mapping is an exception rather than a SIGSEGV. Disposing unmaps it.
/// Every method holds the mapping for the length of its access, so a <see cref="Close"/> on another thread never
/// unmaps memory under it (the access completes, or fails with ObjectDisposedException); spans from
/// <see cref="AsSpan"/> are the exception, as raw memory that must not outlive Close.
/// </summary>
public sealed class MemoryMapping : IDisposable
{
    private readonly SafeMappingHandle _region;

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

    /// <summary>The file path, the shared memory name, or "anonymous".</summary>
    public string Source { get; }

    /// <summary>The offset in the file or object where the mapping starts.</summary>
    public long FileOffset { get; }

    /// <summary>The protection as last set by mmap or <see cref="Protect"/>.</summary>
    public MemoryProtection Protection { get; private set; }

    public MappingVisibility Visibility { get; }

    public bool IsLocked { get; private set; }

    public bool IsClosed => _region.IsClosed;

    /// <summary>For objects that live inside the mapping (a semaphore) and must hold it while they use it.</summary>
    internal SafeMappingHandle Region => _region;

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
        ValidateProtection(protection);
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException(System.IO.Directory.Exists(fullPath) ? $"{fullPath} is a directory; only files can be mapped." : $"No file at {fullPath}.", fullPath);
        }
        bool needsWrite = visibility == MappingVisibility.Shared && protection.HasFlag(MemoryProtection.Write);
        // O_NONBLOCK: a FIFO at the path (planted, or made by mistake) would otherwise make open wait for a writer forever.
        int flags = (needsWrite ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_NONBLOCK;
        OpenedPath opened = PlantedPath.Open(fullPath, flags, 0, AcceptedFileTypes.Any, trace);
        using SafeFdHandle fd = opened.Fd;
        StatX status = opened.Status;
        if ((status.Mode & FileStatus.TypeMask) is FileStatus.Fifo or FileStatus.Socket)
        {
            throw new ArgumentException($"{fullPath} is a {((status.Mode & FileStatus.TypeMask) == FileStatus.Fifo ? "FIFO" : "socket")}, which cannot be mapped.", nameof(path));
        }
        long size = (long)status.Size;
        MemoryMapping mapping = MapFd(fd, fullPath, MappingKind.File, size, protection, visibility, offset, length, trace);
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

    internal static MemoryMapping MapFd(SafeFdHandle fd, string source, MappingKind kind, long objectSize, MemoryProtection protection,
        MappingVisibility visibility, long offset, long? length, SyscallTrace? trace)
    {
        ValidateProtection(protection);
        ValidateVisibility(visibility);
        if (offset < 0 || offset % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"An mmap offset must be a non-negative multiple of the page size ({Environment.SystemPageSize}).");
        }
        long mapLength = length ?? objectSize - offset;
        if (objectSize == 0)
        {
            throw new ArgumentException($"{source} is empty: there is nothing to map (resize it first).", nameof(length));
        }
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
        IntPtr address = Syscall.CheckPointer(Libc.mmap(IntPtr.Zero, (nuint)mapLength, (int)protection, flags, lease.Fd, offset), trace, "mmap", source,
            $"NULL, {mapLength}, {Libc.ProtText((int)protection)}, {Libc.MapFlagsText(flags)}, {lease.Fd}, {offset}");
        return new MemoryMapping(new SafeMappingHandle(address, (ulong)mapLength), mapLength, kind, source, offset, protection, visibility);
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
        int status = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), null, "fcntl", source, $"{fd}, F_GETFL");
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
                reserved.Errno == Errno.ENOSPC ? NoSpaceDetail(fd, length) : null);
            return;
        }
        long holes = HoleBytes(fd, offset, length);
        if (holes > 0 && Libc.fstatfs(fd, out FileSystemStatus fs) == 0 && (long)fs.AvailableBlocks * fs.BlockSize < holes)
        {
            throw new SysprogException(Errno.ENOSPC, "mmap", source,
                $"{holes} bytes of the range have no blocks yet and the filesystem has {(long)fs.AvailableBlocks * fs.BlockSize} bytes free: reading them would allocate blocks, " +
                "and failing to raises SIGBUS. " + NoSpaceDetail(fd, holes));
        }
    }

    /// <summary>The bytes of [offset, offset + length) that are holes; 0 where the filesystem cannot tell (no SEEK_HOLE).</summary>
    private static long HoleBytes(int fd, long offset, long length)
    {
        long end = offset + length;
        long holes = 0;
        for (long position = offset; position < end;)
        {
            long hole = Libc.lseek(fd, position, Libc.SEEK_HOLE);
            if (hole < 0 || hole >= end)
            {
                break;
            }
            long data = Libc.lseek(fd, hole, Libc.SEEK_DATA);
            long holeEnd = data < 0 || data > end ? end : data;
            holes += holeEnd - hole;
            position = holeEnd;
        }
        return holes;
    }

    private static string NoSpaceDetail(int fd, long needed) =>
        Libc.fstatfs(fd, out FileSystemStatus fs) == 0 && fs.Type == Libc.TMPFS_MAGIC
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
        using HandleLease region = Lease();
        return Bytes(region.Value, offset, length, MemoryProtection.ReadWrite, nameof(length));
    }

    public ReadOnlySpan<byte> AsReadOnlySpan(long offset = 0, int? length = null)
    {
        using HandleLease region = Lease();
        return Bytes(region.Value, offset, length, MemoryProtection.Read, nameof(length));
    }

    public byte[] Read(long offset, int count)
    {
        using HandleLease region = Lease();
        return Bytes(region.Value, offset, count, MemoryProtection.Read, nameof(count)).ToArray();
    }

    public void Read(long offset, Span<byte> destination)
    {
        using HandleLease region = Lease();
        Bytes(region.Value, offset, destination.Length, MemoryProtection.Read, nameof(destination)).CopyTo(destination);
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
        using HandleLease region = Lease();
        const int part = 1 << 30;
        for (long offset = 0; offset < Length; offset += part)
        {
            destination.Write(Bytes(region.Value, offset, (int)Math.Min(part, Length - offset), MemoryProtection.Read, nameof(destination)));
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
        using HandleLease region = Lease();
        source.CopyTo(Bytes(region.Value, offset, source.Length, MemoryProtection.ReadWrite, sourceName));
    }

    /// <summary>Decodes <paramref name="byteCount"/> bytes (all up to the end by default) as text, UTF-8 unless told.</summary>
    public string ReadString(long offset = 0, int byteCount = -1, Encoding? encoding = null)
    {
        using HandleLease region = Lease();
        return (encoding ?? Encoding.UTF8).GetString(Bytes(region.Value, offset, byteCount < 0 ? null : byteCount, MemoryProtection.Read, nameof(byteCount)));
    }

    /// <summary>Encodes <paramref name="value"/> at <paramref name="offset"/>; returns the number of bytes written.</summary>
    public int WriteString(long offset, string value, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        Encoding chosen = encoding ?? Encoding.UTF8;
        using HandleLease region = Lease();
        return chosen.GetBytes(value, Bytes(region.Value, offset, chosen.GetByteCount(value), MemoryProtection.ReadWrite, nameof(value)));
    }

    // ---- Typed cells: naturally aligned 32/64-bit integers ----

    public int ReadInt32(long offset)
    {
        using HandleLease region = Lease();
        return Volatile.Read(ref Cell<int>(region, offset, MemoryProtection.Read));
    }

    public long ReadInt64(long offset)
    {
        using HandleLease region = Lease();
        return Volatile.Read(ref Cell<long>(region, offset, MemoryProtection.Read));
    }

    public void WriteInt32(long offset, int value)
    {
        using HandleLease region = Lease();
        Volatile.Write(ref Cell<int>(region, offset, MemoryProtection.ReadWrite), value);
    }

    public void WriteInt64(long offset, long value)
    {
        using HandleLease region = Lease();
        Volatile.Write(ref Cell<long>(region, offset, MemoryProtection.ReadWrite), value);
    }

    /// <summary>Atomically adds (lock xadd); correct across processes sharing the mapping. Returns the new value.</summary>
    public int AddInt32(long offset, int value)
    {
        using HandleLease region = Lease();
        return Interlocked.Add(ref Cell<int>(region, offset, MemoryProtection.ReadWrite), value);
    }

    public long AddInt64(long offset, long value)
    {
        using HandleLease region = Lease();
        return Interlocked.Add(ref Cell<long>(region, offset, MemoryProtection.ReadWrite), value);
    }

    public int IncrementInt32(long offset) => AddInt32(offset, 1);

    public long IncrementInt64(long offset) => AddInt64(offset, 1);

    /// <summary>Stores <paramref name="value"/> if the cell holds <paramref name="comparand"/>; returns what the cell held.</summary>
    public int CompareExchangeInt32(long offset, int value, int comparand)
    {
        using HandleLease region = Lease();
        return Interlocked.CompareExchange(ref Cell<int>(region, offset, MemoryProtection.ReadWrite), value, comparand);
    }

    public long CompareExchangeInt64(long offset, long value, long comparand)
    {
        using HandleLease region = Lease();
        return Interlocked.CompareExchange(ref Cell<long>(region, offset, MemoryProtection.ReadWrite), value, comparand);
    }

    // ---- Calls on the region ----

    /// <summary>mprotect(2): changes the protection of the whole mapping.</summary>
    public void Protect(MemoryProtection protection, SyscallTrace? trace = null)
    {
        ValidateProtection(protection);
        using HandleLease region = Lease();
        IntPtr address = region.Value;
        Syscall.Check(Libc.mprotect(address, (nuint)Length, (int)protection), trace, "mprotect", _target,
            $"{Pointer(address)}, {Length}, {Libc.ProtText((int)protection)}");
        Protection = protection;
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

    /// <summary>munmap(2). Idempotent.</summary>
    public void Close(SyscallTrace? trace = null) => _region.Unmap(trace);

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

    /// <summary>The checked span of <paramref name="length"/> bytes (all up to the end by default) at <paramref name="offset"/>.</summary>
    private unsafe Span<byte> Bytes(IntPtr start, long offset, int? length, MemoryProtection needed, string lengthName)
    {
        CheckAccess(needed);
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

    private unsafe ref T Cell<T>(in HandleLease region, long offset, MemoryProtection needed) where T : unmanaged
    {
        if ((Protection & needed) != needed)
        {
            CheckAccess(needed);
        }
        // Signed: a mapping shorter than the cell makes Length - sizeof(T) negative, and every offset fails.
        if (!IsCell<T>(offset))
        {
            ThrowBadCell(offset, sizeof(T), nameof(offset));
        }
        return ref Unsafe.AsRef<T>((void*)(region.Value + (nint)offset));
    }

    private void CheckAccess(MemoryProtection needed)
    {
        if ((Protection & needed) != needed)
        {
            throw new UnauthorizedAccessException(
                $"The mapping of {Source} is {ProtectionText(Protection)} ({Libc.ProtText((int)Protection)}); this access needs {ProtectionText(needed)}. " +
                "Change it with Protect (Set-MemoryProtection) first.");
        }
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
