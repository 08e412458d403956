using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>
/// A reference held on a SafeHandle for the length of one native call (or one wait): while it is held, a Close on
/// another thread marks the handle closed but the fd stays open (and the region mapped) until the lease ends, so a
/// call never reaches a reused fd number or an unmapped address. Every raw fd or address passed to libc comes from
/// one. Allocates nothing. Taking one on a closed handle throws <see cref="ObjectDisposedException"/> naming the object.
/// </summary>
internal ref struct HandleLease
{
    private SafeHandle? _handle;

    private HandleLease(SafeHandle handle) => _handle = handle;

    /// <summary>The raw handle value: an fd, a sem_t*, a mapping's start address.</summary>
    public readonly IntPtr Value => _handle!.DangerousGetHandle();

    public readonly int Fd => (int)Value;

    public static HandleLease Take(SafeHandle handle, string objectName)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            ThrowClosed(objectName);
        }
        return new HandleLease(handle);
    }

    public void Dispose()
    {
        _handle?.DangerousRelease();
        _handle = null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowClosed(string objectName) => throw new ObjectDisposedException(objectName, $"{objectName} is closed.");
}

internal static class HandleLeaseExtensions
{
    /// <summary><c>using HandleLease fd = _fd.Lease(Name);</c></summary>
    public static HandleLease Lease(this SafeHandle handle, string objectName) => HandleLease.Take(handle, objectName);
}
