using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>Owns one dlopen reference; dlclose drops it (the object is unloaded when no reference and no dependent is left).</summary>
internal sealed class SafeLibraryHandle : SafeHandle
{
    public SafeLibraryHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public SafeLibraryHandle(IntPtr handle) : this() => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>dlerror's text when the releasing dlclose failed; null when it succeeded.</summary>
    public string? CloseError { get; private set; }

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
        bool closed = Libc.dlclose(handle) == 0;
        CloseError = closed ? null : Marshal.PtrToStringUTF8(Libc.dlerror());
        return closed;
    }
}
