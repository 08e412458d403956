using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>Owns one sem_open'd semaphore; sem_close releases this process's mapping of it.</summary>
internal sealed class SafeSemaphoreHandle : SafeHandle
{
    public SafeSemaphoreHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public SafeSemaphoreHandle(IntPtr semaphore) : this() => SetHandle(semaphore);

    public override bool IsInvalid => handle == IntPtr.Zero;

    public IntPtr Pointer => handle;

    public Errno CloseErrno { get; private set; }

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            HandleAudit.CountFinalized(this);
        }
        base.Dispose(disposing);
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
