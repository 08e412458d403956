using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>Owns one mmap'd region; munmaps it when disposed or, as a backstop, when finalized.</summary>
internal sealed class SafeMappingHandle : SafeBuffer, IDisposedHandle
{
    public SafeMappingHandle() : base(ownsHandle: true)
    {
    }

    public SafeMappingHandle(IntPtr address, ulong length) : this()
    {
        SetHandle(address);
        Initialize(length);
    }

    public IntPtr Address => handle;

    public Errno UnmapErrno { get; private set; }

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
        SyscallResult result = Libc.munmap(handle, (nuint)ByteLength);
        UnmapErrno = result.Errno;
        return !result.Failed;
    }

    public void Unmap(SyscallTrace? trace)
    {
        if (IsClosed)
        {
            return;
        }
        IntPtr address = handle;
        ulong length = ByteLength;
        Dispose();
        trace?.Invoke(UnmapErrno == Errno.None
            ? $"munmap(0x{address:x}, {length}) = 0"
            : $"munmap(0x{address:x}, {length}) = -1 {UnmapErrno.Symbol()} ({UnmapErrno.Description()})");
    }
}
