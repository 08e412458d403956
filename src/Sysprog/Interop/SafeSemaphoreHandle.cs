using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>Owns one sem_open'd semaphore; sem_close releases this process's mapping of it.</summary>
internal sealed class SafeSemaphoreHandle : SafeHandle, IDisposedHandle
{
    public SafeSemaphoreHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public SafeSemaphoreHandle(IntPtr semaphore) : this() => SetHandle(semaphore);

    public override bool IsInvalid => handle == IntPtr.Zero;

    public IntPtr Pointer => handle;

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
        SyscallResult result = Libc.sem_close(handle);
        CloseErrno = result.Errno;
        return !result.Failed;
    }

    public void Close(SyscallTrace? trace)
    {
        if (IsClosed)
        {
            return;
        }
        IntPtr semaphore = handle;
        Dispose();
        trace?.Invoke(CloseErrno == Errno.None
            ? $"sem_close(0x{semaphore:x}) = 0"
            : $"sem_close(0x{semaphore:x}) = -1 {CloseErrno.Symbol()} ({CloseErrno.Description()})");
    }
}
