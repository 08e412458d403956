using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>
/// A call that blocks in the kernel until something no descriptor reports happens (a FIFO's other side opening it, a
/// full listen queue making room, a datagram receiver draining), made cancellable and bounded the one way Sysprog
/// does it: the timeout becomes a token, and either token firing interrupts the call with Sysprog's signal
/// (<see cref="ThreadInterrupt"/>), so it fails with EINTR and the loop looks at what fired. Nothing polls or spins.
/// </summary>
internal static class BlockingCall
{
    /// <summary>
    /// Runs <paramref name="call"/> on <paramref name="state"/> until it returns anything but EINTR: its result, or
    /// null when <paramref name="timeout"/> passed first. Throws on cancellation, and ObjectDisposedException when
    /// <paramref name="waited"/> (the handle the call is made on, if any) is closed on another thread meanwhile. With
    /// no timeout, nothing to cancel and no handle it is the plain call, as C makes it. The call gets its arguments as
    /// state, so a static lambda captures nothing and a call on a hot path (a blocking send) allocates nothing.
    /// </summary>
    public static SyscallResult? Run<TState>(TState state, Func<TState, SyscallResult> call, SafeHandle? waited, TimeSpan timeout,
        CancellationToken cancellationToken, SyscallTrace? trace, string target)
    {
        Timeouts.Validate(timeout);
        bool unbounded = timeout == Timeout.InfiniteTimeSpan && !cancellationToken.CanBeCanceled;
        if (unbounded && waited is null)
        {
            return RetryInterrupted(state, call);
        }
        using CancellationTokenSource? timer = timeout == Timeout.InfiniteTimeSpan ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer?.CancelAfter(timeout);
        // Unbounded, the call can still be ended by a Close, where a signal is free; where none is, it is the plain call.
        using ThreadInterrupt? interrupt = unbounded
            ? ThreadInterrupt.TryArm(default, waited, trace, target)
            : ThreadInterrupt.Arm(timer?.Token ?? cancellationToken, waited, trace, target);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (timer?.IsCancellationRequested == true)
            {
                return null;
            }
            if (waited is not null)
            {
                HandleWaiters.ThrowIfClosed(waited, target);
            }
            SyscallResult result = call(state);
            if (result.Errno != Errno.EINTR)
            {
                return result;
            }
        }
    }

    private static SyscallResult RetryInterrupted<TState>(TState state, Func<TState, SyscallResult> call)
    {
        while (true)
        {
            SyscallResult result = call(state);
            if (result.Errno != Errno.EINTR)
            {
                return result;
            }
        }
    }
}
