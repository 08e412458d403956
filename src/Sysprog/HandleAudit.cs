using System.Runtime.InteropServices;

namespace Sysprog;

/// <summary>
/// Sysprog objects that were never closed: their descriptor, mapping or semaphore was released by the garbage
/// collector's finalizer instead, at a time nobody chose (a named object's name stays until unlinked either way).
/// A count that grows in a long-running script or service is a leak; the soak (bench/soak.sh) requires it to stay 0.
/// </summary>
public static class HandleAudit
{
    private static long _releasedByFinalizer;

    /// <summary>How many handles the finalizer has released in this process so far.</summary>
    public static long ReleasedByFinalizer => Interlocked.Read(ref _releasedByFinalizer);

    /// <summary>Called from a handle's Dispose(false), the finalizer's path, before the release.</summary>
    internal static void CountFinalized(SafeHandle handle)
    {
        if (!handle.IsClosed && !handle.IsInvalid)
        {
            Interlocked.Increment(ref _releasedByFinalizer);
        }
    }
}
