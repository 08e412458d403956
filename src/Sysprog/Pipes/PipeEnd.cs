using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// One end of a pipe (<see cref="Pipe.Create"/>) or of a FIFO (<see cref="Fifo.Open"/>): a stream of bytes read or
/// written with <see cref="StreamDescriptor"/>'s calls, pollable, inheritable on request.
/// </summary>
public sealed class PipeEnd : StreamDescriptor
{
    internal PipeEnd(SafeFdHandle fd, ulong inode, bool isReadEnd, string? fifoPath, bool keptBlocking, bool packetMode, bool nonBlocking = false)
        : base(fd, keptBlocking, nonBlocking)
    {
        Inode = inode;
        IsReadEnd = isReadEnd;
        FifoPath = fifoPath;
        IsPacketMode = packetMode;
    }

    public bool IsReadEnd { get; }

    /// <summary>"Read" or "Write", for listings.</summary>
    public string End => IsReadEnd ? "Read" : "Write";

    /// <summary>The FIFO's path; null for an anonymous pipe.</summary>
    public string? FifoPath { get; }

    /// <summary>The pipe's inode, as /proc/PID/fd shows it (pipe:[N]): every descriptor of the same pipe has the same one.</summary>
    public ulong Inode { get; }

    /// <summary>Packet mode (O_DIRECT): each write is one packet, and a read takes at most one.</summary>
    public bool IsPacketMode { get; }

    public override bool CanRead => IsReadEnd;

    public override bool CanWrite => !IsReadEnd;

    /// <summary>The pipe's capacity in bytes (F_GETPIPE_SZ): what it holds before a writer has to wait.</summary>
    public int Capacity
    {
        get
        {
            using HandleLease lease = Lease();
            return Syscall.Check(Libc.fcntl(lease.Fd, Libc.F_GETPIPE_SZ, 0), null, "fcntl", Description, $"{lease.Fd}, F_GETPIPE_SZ");
        }
    }

    /// <summary>
    /// Sets the capacity (F_SETPIPE_SZ) to at least <paramref name="bytes"/>; the kernel rounds up to a power-of-two
    /// number of pages. Returns the capacity it got. Above fs.pipe-max-size only with CAP_SYS_RESOURCE (EPERM).
    /// </summary>
    public int SetCapacity(int bytes, SyscallTrace? trace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        using HandleLease lease = Lease();
        SyscallResult result = Libc.fcntl(lease.Fd, Libc.F_SETPIPE_SZ, bytes);
        string? detail = result.Errno switch
        {
            Errno.EPERM => $"More than fs.pipe-max-size ({MaxCapacity} bytes) needs CAP_SYS_RESOURCE, and an unprivileged user's pipes together are capped by fs.pipe-user-pages-soft.",
            Errno.EBUSY => $"The pipe holds more than {bytes} bytes now; read some first.",
            _ => null,
        };
        return Syscall.Check(result, trace, "fcntl", Description, $"{lease.Fd}, F_SETPIPE_SZ, {bytes}", detail);
    }

    /// <summary>PIPE_BUF: writes of at most this many bytes are atomic, never interleaved with other writers'.</summary>
    public const int AtomicWriteLimit = Libc.PIPE_BUF;

    /// <summary>fs.pipe-max-size: the largest capacity an unprivileged process may set.</summary>
    public static int MaxCapacity => (int)(ProcFile.Sysctl("fs.pipe-max-size") ?? 1024 * 1024);

    private protected override string Describe() =>
        FifoPath is not null ? $"FIFO {NameEscaping.Escape(FifoPath)} ({End.ToLowerInvariant()} end)" : $"pipe:[{Inode}] ({End.ToLowerInvariant()} end)";

    private protected override string ReadRefusal => $"{Description} is a write end: read from the read end.";

    private protected override string WriteRefusal => $"{Description} is a read end: write to the write end.";
}
