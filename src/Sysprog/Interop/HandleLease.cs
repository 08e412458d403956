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

    // Taking and ending a lease sits on every call's path: compiled fully optimized from the first call, since the
    // calls of a short script or a benchmark's warm-up are too few for tiered compilation to get to them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HandleLease(SafeHandle handle) => _handle = handle;

    /// <summary>The raw handle value: an fd, a sem_t*, a mapping's start address.</summary>
    public readonly IntPtr Value
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _handle!.DangerousGetHandle();
    }

    /// <summary>The handle the lease is held on; null for a lease not taken (default).</summary>
    public readonly SafeHandle? Handle => _handle;

    public readonly int Fd
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (int)Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Dispose()
    {
        _handle?.DangerousRelease();
        _handle = null;
    }

    private static void ThrowClosed(string objectName) => ClosedObject.Throw(objectName);
}

/// <summary>
/// The one error for using an object after Close: it names the object (its name, path or description) and says it
/// is closed, where .NET's own would name only the type ("Object name: 'Sysprog.SharedMemory'").
/// </summary>
internal static class ClosedObject
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIf(bool closed, string objectName)
    {
        if (closed)
        {
            Throw(objectName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Throw(string objectName) => throw new ObjectDisposedException(null, $"{objectName} is closed.");
}

internal static class HandleLeaseExtensions
{
    /// <summary><c>using HandleLease fd = _fd.Lease(Name);</c></summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HandleLease Lease(this SafeHandle handle, string objectName) => HandleLease.Take(handle, objectName);
}

/// <summary>
/// References on several descriptors at once, held for the length of one call that names them all (a sendmsg
/// passing them, a posix_spawn mapping them into the child), so a Close on another thread cannot free a number the
/// call names: what <see cref="HandleLease"/> does for one.
/// </summary>
internal sealed class PassedLeases : IDisposable
{
    private readonly List<(SafeHandle Handle, string Name)> _handles;
    private int _held;

    public PassedLeases(List<(SafeHandle Handle, string Name)> handles)
    {
        _handles = handles;
        foreach ((SafeHandle handle, string name) in handles)
        {
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                Dispose();
                throw new ObjectDisposedException(null, $"{name} is closed: it cannot be passed on.");
            }
            _held++;
        }
    }

    public int Count => _handles.Count;

    /// <summary>The descriptor number of the <paramref name="index"/>th handle, valid while the leases are held.</summary>
    public int Fd(int index) => (int)_handles[index].Handle.DangerousGetHandle();

    public unsafe void WriteNumbers(int* target)
    {
        for (int i = 0; i < _handles.Count; i++)
        {
            target[i] = (int)_handles[i].Handle.DangerousGetHandle();
        }
    }

    public override string ToString() => "[" + string.Join(", ", _handles.Select(h => (int)h.Handle.DangerousGetHandle())) + "]";

    public void Dispose()
    {
        for (; _held > 0; _held--)
        {
            _handles[_held - 1].Handle.DangerousRelease();
        }
    }
}
