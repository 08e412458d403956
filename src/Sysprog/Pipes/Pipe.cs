using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// An anonymous pipe (pipe2): a read end and a write end, each its own descriptor, close-on-exec unless made
/// inheritable. The ends stay blocking in the kernel, so a child handed one gets the ordinary pipe it expects;
/// Sysprog's own reads and writes still time out and cancel (see <see cref="FileDescriptorObject"/>). A pipe made
/// non-blocking (O_NONBLOCK, for both ends) is so for every process that shares it.
/// </summary>
public sealed class Pipe : IDisposable
{
    private Pipe(PipeEnd readEnd, PipeEnd writeEnd) => (ReadEnd, WriteEnd) = (readEnd, writeEnd);

    public PipeEnd ReadEnd { get; }

    public PipeEnd WriteEnd { get; }

    public ulong Inode => ReadEnd.Inode;

    public bool IsPacketMode => ReadEnd.IsPacketMode;

    /// <summary>The capacity in bytes (F_GETPIPE_SZ), from whichever end is still open.</summary>
    public int Capacity => (ReadEnd.IsClosed ? WriteEnd : ReadEnd).Capacity;

    /// <summary>Bytes written and not yet read, in the kernel and in the read end's buffer.</summary>
    public int BytesAvailable => ReadEnd.IsClosed ? WriteEnd.BytesAvailable : ReadEnd.BytesAvailable + ReadEnd.BufferedCount;

    public bool IsClosed => ReadEnd.IsClosed && WriteEnd.IsClosed;

    /// <summary>
    /// pipe2(O_CLOEXEC, O_DIRECT for <paramref name="packetMode"/>, O_NONBLOCK for <paramref name="nonBlocking"/>);
    /// <paramref name="capacity"/> bytes (0: the kernel's default, 64 KiB) are then asked for with F_SETPIPE_SZ. On a
    /// non-blocking pipe a read of an empty pipe and a write to a full one return at once ("would block").
    /// </summary>
    public static unsafe Pipe Create(int capacity = 0, bool packetMode = false, bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        int flags = (inheritable ? 0 : Libc.O_CLOEXEC) | (packetMode ? Libc.O_DIRECT : 0) | (nonBlocking ? Libc.O_NONBLOCK : 0);
        string flagText = string.Join('|', new[] { inheritable ? null : "O_CLOEXEC", packetMode ? "O_DIRECT" : null, nonBlocking ? "O_NONBLOCK" : null }.OfType<string>()) is { Length: > 0 } text ? text : "0";
        int* fds = stackalloc int[2];
        Syscall.Check(Libc.pipe2(fds, flags), trace, "pipe2", "pipe", $"[{fds[0]}, {fds[1]}], {flagText}");
        var readHandle = new SafeFdHandle(fds[0]);
        var writeHandle = new SafeFdHandle(fds[1]);
        Pipe pipe;
        try
        {
            // Both ends are one pipe: one statx names it.
            ulong inode = FileStatus.OfFd(readHandle, "pipe", trace).Inode;
            pipe = new Pipe(new PipeEnd(readHandle, inode, true, null, keptBlocking: true, packetMode, nonBlocking),
                new PipeEnd(writeHandle, inode, false, null, keptBlocking: true, packetMode, nonBlocking));
        }
        catch
        {
            readHandle.Dispose();
            writeHandle.Dispose();
            throw;
        }
        if (capacity > 0)
        {
            try
            {
                pipe.WriteEnd.SetCapacity(capacity, trace);
            }
            catch
            {
                pipe.Dispose();
                throw;
            }
        }
        return pipe;
    }

    /// <summary>Closes both ends (either may be closed already).</summary>
    public void Close(SyscallTrace? trace = null)
    {
        ReadEnd.Close(trace);
        WriteEnd.Close(trace);
    }

    public void Dispose() => Close();

    public override string ToString() => IsClosed ? $"pipe:[{Inode}] (closed)" : $"pipe:[{Inode}] (read end {ReadEnd.Fd}, write end {WriteEnd.Fd})";
}
