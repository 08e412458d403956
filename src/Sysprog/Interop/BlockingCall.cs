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
    /// null when <paramref name="timeout"/> passed first. Throws on cancellation. With no timeout and nothing to
    /// cancel it is the plain call, as C makes it. The call gets its arguments as state, so a static lambda captures
    /// nothing and a call on a hot path (a blocking send) allocates nothing.
    /// </summary>
    public static SyscallResult? Run<TState>(TState state, Func<TState, SyscallResult> call, TimeSpan timeout, CancellationToken cancellationToken,
        SyscallTrace? trace, string target)
    {
        Timeouts.Validate(timeout);
        if (timeout == Timeout.InfiniteTimeSpan && !cancellationToken.CanBeCanceled)
        {
            return RetryInterrupted(state, call);
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            timer.CancelAfter(timeout);
        }
        using ThreadInterrupt interrupt = ThreadInterrupt.Arm(timer.Token, trace, target);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (timer.IsCancellationRequested)
            {
                return null;
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
