using System.Runtime.CompilerServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// What every descriptor object shares: one descriptor, close-on-exec unless made inheritable, and waits that
/// Sysprog does itself with poll(2), so that every wait can time out and be cancelled. Most descriptors are O_NONBLOCK
/// in the kernel for that. Pipe ends are kept blocking instead (<see cref="KeptBlocking"/>): a child that inherits one
/// expects the ordinary blocking pipe, and O_NONBLOCK belongs to the open file description both share. Calls on
/// them that must not wait ask per call (preadv2/pwritev2 with RWF_NOWAIT), and a wait with no timeout and no token
/// blocks in the kernel in one call, as C does.
/// </summary>
public abstract class FileDescriptorObject : IPollable, IDisposable
{
    private protected FileDescriptorObject(SafeFdHandle fd, bool keptBlocking = false)
    {
        Handle = fd;
        Number = fd.Fd;
        KeptBlocking = keptBlocking;
    }

    /// <summary>The descriptor is blocking in the kernel; calls that must not wait pass RWF_NOWAIT.</summary>
    private protected bool KeptBlocking { get; }

    /// <summary>The descriptor number it was made with, for its description, which may first be asked for once it is closed.</summary>
    private protected int Number { get; }

    private protected SafeFdHandle Handle { get; }

    public int Fd => Handle.IsClosed ? -1 : Handle.Fd;

    public bool IsClosed => Handle.IsClosed;

    private string? _description;

    /// <summary>How messages name it ("eventfd 7"); made once, since failure paths and traces name it on every call.</summary>
    public string Description => _description ??= Describe();

    private protected abstract string Describe();

    /// <summary>Makes the description again at next use: what it names changed (a socket bound or connected).</summary>
    private protected void Redescribe() => _description = null;

    SafeFdHandle IDescriptorObject.DescriptorHandle => Handle;

    /// <summary>Whether a child process started from here inherits the descriptor (FD_CLOEXEC clear).</summary>
    public bool IsInheritable => Handle.IsInheritable(Description);

    /// <summary>Clears (or sets again) FD_CLOEXEC, so children started afterwards inherit the descriptor under the same number.</summary>
    public void SetInheritable(bool inheritable, SyscallTrace? trace = null) => Handle.SetInheritable(inheritable, trace, Description);

    public void Close(SyscallTrace? trace = null)
    {
        OnClosing(trace);
        Handle.Close(trace);
        OnClosed(trace);
    }

    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => IsClosed ? $"{Description} (closed)" : Description;

    private protected virtual void OnClosing(SyscallTrace? trace)
    {
    }

    /// <summary>What has to follow the close of the descriptor (a child process to reap once its terminal hung up).</summary>
    private protected virtual void OnClosed(SyscallTrace? trace)
    {
    }

    /// <summary>A reference on the descriptor for one call or wait, so a Close on another thread cannot free the number under it.</summary>
    private protected HandleLease Lease() => Handle.Lease(Description);

    /// <summary>Reads one 8-byte counter (eventfd, timerfd), waiting with poll until the deadline; null on timeout.</summary>
    private protected ulong? ReadCounter(bool waitAllowed, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace) =>
        ReadRecord(out ulong value, waitAllowed, timeout, cancellationToken, trace) ? value : null;

    /// <summary>
    /// Reads one fixed-size record (a counter, a signalfd_siginfo) from the O_NONBLOCK descriptor, waiting with poll
    /// until the deadline; false on timeout.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected unsafe bool ReadRecord<T>(out T record, bool waitAllowed, TimeSpan timeout, CancellationToken cancellationToken,
        SyscallTrace? trace) where T : unmanaged
    {
        using HandleLease lease = Lease();
        T value;
        long count = ReadWaiting(lease.Fd, (byte*)&value, sizeof(T), waitAllowed, timeout, cancellationToken, trace, out _);
        if (count < 0)
        {
            record = default;
            return false;
        }
        Syscall.CheckCount(count, trace, "read", Description, $"{lease.Fd}, [{value}], {sizeof(T)}");
        record = value;
        return true;
    }

    /// <summary>
    /// Reads into <paramref name="buffer"/> from <paramref name="fd"/> (this object's descriptor, under a lease the
    /// caller holds), waiting with poll until the deadline: the byte count, or -1 on timeout. The caller traces the
    /// success as <paramref name="call"/> (read, or preadv2 for a kept-blocking descriptor's attempt that must not
    /// wait), since only it knows how to show what was read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected unsafe long ReadWaiting(int fd, byte* buffer, int length, bool waitAllowed, TimeSpan timeout, CancellationToken cancellationToken,
        SyscallTrace? trace, out string call)
    {
        var retry = new FdRetry(Handle, Libc.POLLIN, timeout, cancellationToken, Description, waitAllowed ? null : NothingToReadNonBlocking);
        bool blockInKernel = waitAllowed && retry.IsUnbounded;
        if (blockInKernel && !KeptBlocking)
        {
            // A caller ready to wait forever usually has to: poll first, so that it costs two system calls, not three.
            retry.WaitUntilReady(trace);
        }
        bool noWait = KeptBlocking && !blockInKernel;
        call = noWait ? "preadv2" : "read";
        using ThreadInterrupt? closable = retry.ArmForClose(blockInKernel && KeptBlocking, trace);
        while (true)
        {
            SyscallResult result = noWait ? ReadNoWait(fd, buffer, length) : Libc.read(fd, buffer, (nuint)length);
            if (!result.Failed)
            {
                return result.Value;
            }
            if (!retry.AfterFailure(result, trace, call, $"{fd}, ..., {length}"))
            {
                return -1;
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/> to this object's descriptor, waiting with poll while it takes no more,
    /// until the deadline: the bytes written, fewer than asked only on timeout. EPIPE (no reader left) is an error
    /// that says so; SIGPIPE cannot end the process, since the .NET runtime ignores it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected unsafe int WriteWaiting(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        var retry = new FdRetry(Handle, Libc.POLLOUT, timeout, cancellationToken, Description, null);
        bool noWait = KeptBlocking && !retry.IsUnbounded;
        string call = noWait ? "pwritev2" : "write";
        using HandleLease lease = Lease();
        using ThreadInterrupt? closable = retry.ArmForClose(KeptBlocking && retry.IsUnbounded, trace);
        int written = 0;
        while (written < data.Length)
        {
            ReadOnlySpan<byte> rest = data[written..];
            SyscallResult result;
            fixed (byte* start = rest)
            {
                result = noWait ? WriteNoWait(lease.Fd, start, rest.Length) : Libc.write(lease.Fd, start, (nuint)rest.Length);
            }
            if (!result.Failed)
            {
                Syscall.CheckCount(result, trace, call, Description, $"{lease.Fd}, {TraceFormat.Data(rest)}, {rest.Length}");
                written += (int)result.Value;
                continue;
            }
            if (result.Errno == Errno.EPIPE)
            {
                Syscall.CheckCount(result, trace, call, Description, $"{lease.Fd}, ..., {rest.Length}",
                    $"{NoReaderLeft} ({written} of {data.Length} bytes were written before).");
            }
            if (!retry.AfterFailure(result, trace, call, $"{lease.Fd}, ..., {rest.Length}"))
            {
                break;
            }
        }
        return written;
    }

    /// <summary>Why a write failed with EPIPE, in this kind of object's terms.</summary>
    private protected virtual string NoReaderLeft => "Nothing can read it any more: every read end is closed.";

    private static unsafe SyscallResult ReadNoWait(int fd, byte* buffer, int length)
    {
        var vector = new IoVec { Base = (nint)buffer, Length = (nuint)length };
        return Libc.preadv2(fd, &vector, 1, -1, Libc.RWF_NOWAIT);
    }

    private static unsafe SyscallResult WriteNoWait(int fd, byte* buffer, int length)
    {
        var vector = new IoVec { Base = (nint)buffer, Length = (nuint)length };
        return Libc.pwritev2(fd, &vector, 1, -1, Libc.RWF_NOWAIT);
    }

    private const string NothingToReadNonBlocking = "Nothing to read, and this object is non-blocking, so it does not wait.";

    /// <summary>Adopts a descriptor: checks what it is and makes it O_NONBLOCK, as Sysprog's own are.</summary>
    private protected static SafeFdHandle Adopt(int fd, string expectedLink, string what, SyscallTrace? trace)
    {
        if (fd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fd), fd, "A file descriptor is 0 or more.");
        }
        string link;
        try
        {
            link = ProcFile.ReadLink($"/proc/self/fd/{fd}", trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
            throw new SysprogException(Errno.EBADF, "readlink", $"/proc/self/fd/{fd}", $"This process has no file descriptor {fd}.");
        }
        if (link != expectedLink)
        {
            throw new ArgumentException($"File descriptor {fd} is {link}, not {what}.", nameof(fd));
        }
        var handle = new SafeFdHandle(fd);
        MakeNonBlocking(handle, what, trace);
        return handle;
    }

    /// <summary>
    /// Sets O_NONBLOCK, which the waits of eventfds, timerfds and listening sockets rely on. It belongs to the open
    /// file description, so a descriptor passed or inherited from elsewhere becomes non-blocking for its other holders too.
    /// </summary>
    internal static void MakeNonBlocking(SafeFdHandle handle, string what, SyscallTrace? trace)
    {
        using HandleLease lease = handle.Lease(what);
        int fd = lease.Fd;
        int flags = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), trace, "fcntl", what, $"{fd}, F_GETFL");
        if ((flags & Libc.O_NONBLOCK) == 0)
        {
            Syscall.Check(Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK), trace, "fcntl", what, $"{fd}, F_SETFL, O_NONBLOCK");
        }
    }

    /// <summary>Copies descriptor <paramref name="fd"/> of process <paramref name="processId"/> into this one (pidfd_getfd).</summary>
    private protected static int TakeFromProcess(int processId, int fd, SyscallTrace? trace)
    {
        string target = $"fd {fd} of process {processId}";
        SyscallResult pidfdResult = Libc.pidfd_open(processId);
        string? openDetail = pidfdResult.Errno == Errno.ENOSYS ? "pidfd_open needs Linux 5.3 or later." : null;
        using var pidfd = new SafeFdHandle(Syscall.Check(pidfdResult, trace, "pidfd_open", target, $"{processId}, 0", openDetail));
        SyscallResult result = Libc.pidfd_getfd(pidfd.Fd, fd);
        string? detail = result.Errno switch
        {
            Errno.EPERM => PtraceAccess.Explain(processId, "pidfd_getfd") + " Passing the descriptor at start-up (an inheritable one) needs no such permission.",
            Errno.EBADF => $"Process {processId} has no file descriptor {fd}.",
            Errno.ENOSYS => "pidfd_getfd needs Linux 5.6 or later.",
            _ => null,
        };
        int copied = Syscall.Check(result, trace, "pidfd_getfd", target, $"{pidfd.Fd}, {fd}, 0", detail);
        pidfd.Close(trace);
        return copied;
    }
}
