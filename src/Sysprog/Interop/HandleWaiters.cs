using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>Something waiting on a handle that a Close of the handle must wake: a thread inside a blocking call, a poll set.</summary>
internal interface IHandleWaiter
{
    /// <summary>The handle was just marked closed on another thread; returns once the waiter has been made to see it.</summary>
    void HandleClosed(SafeHandle handle);
}

/// <summary>
/// A handle that knows it was disposed at once. SafeHandle.IsClosed turns true only once the last reference is
/// released, so while a waiter's lease holds the descriptor open it still says false, and so a waiter could not tell.
/// </summary>
internal interface IDisposedHandle
{
    /// <summary>True from the moment Dispose (Close) is called, though leases may keep the descriptor open a while.</summary>
    bool IsDisposed { get; }
}

/// <summary>
/// Who waits on each handle now, so that a Close on any thread (another runspace, a thread job) ends those waits at
/// once instead of when they would have ended anyway. A lease (<see cref="HandleLease"/>) keeps the descriptor open
/// while a waiter is inside its call, so the number is never reused under it; this wakes the waiter, which then
/// throws <see cref="ObjectDisposedException"/>. Waiters are added only where a call may block, and an entry is
/// made once per handle: the calls that do not wait pay nothing, and a wait on a handle waited on before allocates
/// nothing.
/// </summary>
internal static class HandleWaiters
{
    private static readonly ConditionalWeakTable<SafeHandle, List<IHandleWaiter>> Waiting = new();

    /// <summary>Adds a waiter; the caller then checks <see cref="ThrowIfClosed"/>, since a Close just before this woke no one.</summary>
    public static void Add(SafeHandle handle, IHandleWaiter waiter)
    {
        List<IHandleWaiter> waiters = Waiting.GetValue(handle, static _ => new List<IHandleWaiter>(2));
        lock (waiters)
        {
            waiters.Add(waiter);
        }
    }

    /// <summary>Removes a waiter; returns only once a Close that is waking it has finished, so it is not woken later.</summary>
    public static void Remove(SafeHandle handle, IHandleWaiter waiter)
    {
        if (Waiting.TryGetValue(handle, out List<IHandleWaiter>? waiters))
        {
            lock (waiters)
            {
                waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Called by the handle's Dispose once it is marked disposed: wakes everything that waits on it.</summary>
    public static void WakeAll(SafeHandle handle)
    {
        if (!Waiting.TryGetValue(handle, out List<IHandleWaiter>? waiters))
        {
            return;
        }
        lock (waiters)
        {
            foreach (IHandleWaiter waiter in waiters)
            {
                waiter.HandleClosed(handle);
            }
        }
    }

    /// <summary>Throws the error a wait ends with when <paramref name="handle"/> was closed while it waited.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIfClosed(SafeHandle handle, string objectName)
    {
        if (handle.IsClosed || (handle is IDisposedHandle { IsDisposed: true }))
        {
            ThrowClosedWhileWaiting(objectName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowClosedWhileWaiting(string objectName) =>
        throw new ObjectDisposedException(objectName, $"{objectName} was closed while waiting on it (Close on another thread or runspace).");
}
