using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>Owns one file descriptor; closes it when disposed or, as a backstop, when finalized.</summary>
internal sealed class SafeFdHandle : SafeHandle, IDisposedHandle
{
    public SafeFdHandle() : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd) : this() => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    /// <summary>errno of the close(2) done by the release, 0 when it succeeded; for the trace.</summary>
    public Errno CloseErrno { get; private set; }

    private volatile bool _disposed;

    /// <inheritdoc cref="IDisposedHandle.IsDisposed"/>
    public bool IsDisposed => _disposed;

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            HandleAudit.CountFinalized(this);
        }
        _disposed = true;
        base.Dispose(disposing);
        if (disposing)
        {
            HandleWaiters.WakeAll(this);
        }
    }

    protected override bool ReleaseHandle()
    {
        // close(2) is never retried on Linux: the fd is released even when it reports EINTR.
        SyscallResult result = Libc.close((int)handle);
        CloseErrno = result.Errno;
        return !result.Failed;
    }

    /// <summary>
    /// Adds 1 to this eventfd, from any thread (a cancellation callback, a signal handler), and does nothing if the
    /// descriptor is being closed at the same moment.
    /// </summary>
    public unsafe void SignalEventFd()
    {
        try
        {
            using HandleLease eventFd = this.Lease("eventfd");
            ulong one = 1;
            Libc.write(eventFd.Fd, (byte*)&one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Closed already: whoever waited on it is gone.
        }
    }

    /// <summary>Whether a child process started from here inherits the descriptor (FD_CLOEXEC clear).</summary>
    public bool IsInheritable(string target)
    {
        using HandleLease lease = this.Lease(target);
        return (Syscall.Check(Libc.fcntl(lease.Fd, Libc.F_GETFD, 0), null, "fcntl", target, $"") & Libc.FD_CLOEXEC) == 0;
    }

    /// <summary>Clears (or sets again) FD_CLOEXEC, so children started afterwards inherit the descriptor under the same number.</summary>
    public void SetInheritable(bool inheritable, SyscallTrace? trace, string target)
    {
        using HandleLease lease = this.Lease(target);
        int fd = lease.Fd;
        Syscall.Check(Libc.fcntl(fd, Libc.F_SETFD, inheritable ? 0 : Libc.FD_CLOEXEC), trace, "fcntl", target,
            $"{fd}, F_SETFD, {(inheritable ? "0" : "FD_CLOEXEC")}");
    }

    /// <summary>Closes the fd now and traces it as <c>close(7) = 0</c>.</summary>
    public void Close(SyscallTrace? trace)
    {
        if (IsClosed)
        {
            return;
        }
        int fd = Fd;
        Dispose();
        trace?.Invoke(CloseErrno == Errno.None ? $"close({fd}) = 0" : $"close({fd}) = -1 {CloseErrno.Symbol()} ({CloseErrno.Description()})");
    }

    /// <summary>For a using declaration: closes <paramref name="handle"/> (if any) with the trace when the scope ends, so the close is narrated.</summary>
    public static ClosedWithTrace CloseAtEnd(SafeFdHandle? handle, SyscallTrace? trace) => new(handle, trace);

    internal readonly struct ClosedWithTrace(SafeFdHandle? handle, SyscallTrace? trace) : IDisposable
    {
        public void Dispose() => handle?.Close(trace);
    }
}
