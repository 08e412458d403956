using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Sysprog.Interop;

/// <summary>
/// Waits until an fd is ready, for at most a deadline on the monotonic clock, cancellable: a CancellationToken, or a
/// Close of the fd on another thread (<see cref="HandleWaiters"/>), interrupts poll(2) with Sysprog's signal
/// (<see cref="ThreadInterrupt"/>; poll fails with EINTR whatever the handler's flags), so either wakes the wait at
/// once, nothing spins, and a wait creates nothing.
/// </summary>
internal static class FdWait
{
    /// <summary>
    /// A deadline in Stopwatch ticks: -1 for none, 0 for "already passed" (a zero timeout, which so costs no clock
    /// read on the non-blocking fast paths).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? -1
        : timeout == TimeSpan.Zero ? 0
        : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>What is left of a deadline as a TimeSpan: infinite for none, never negative.</summary>
    public static TimeSpan Remaining(long deadline) => deadline switch
    {
        -1 => Timeout.InfiniteTimeSpan,
        0 => TimeSpan.Zero,
        _ => TimeSpan.FromSeconds(Math.Max(0, (deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency)),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Expired(long deadline) => deadline == 0 || (deadline != -1 && Stopwatch.GetTimestamp() >= deadline);

    /// <summary>True when <paramref name="events"/> are ready on <paramref name="fd"/>; false when the deadline passed first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe bool WaitReady(SafeFdHandle fd, short events, long deadline, CancellationToken cancellationToken, SyscallTrace? trace, string target)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Held for the whole wait, so the number cannot be closed and reused under poll.
        using HandleLease waited = fd.Lease(target);
        // A poll that does not wait (a zero timeout) needs nothing to wake it; any other is woken by the token and by
        // a Close of the descriptor on another thread.
        using ThreadInterrupt? interrupt = deadline == 0 ? null : ThreadInterrupt.TryArm(cancellationToken, fd, trace, target);
        // In the rare process that leaves no signal free, the token and the descriptor are looked at every slice instead.
        bool sliced = deadline != 0 && interrupt is null;
        while (true)
        {
            // Before every poll: a token cancelled while the interrupt was being armed ran its callback on this
            // thread, which sends no signal, and a signal sent before the poll starts is lost (the canceller repeats
            // it until the wait ends, so one sent later is not).
            cancellationToken.ThrowIfCancellationRequested();
            HandleWaiters.ThrowIfClosed(fd, target);
            int timeout = TimeoutMilliseconds(deadline);
            if (sliced && (timeout < 0 || timeout > FallbackSliceMilliseconds))
            {
                timeout = FallbackSliceMilliseconds;
            }
            var poll = new PollFd { Fd = waited.Fd, Events = events };
            SyscallResult result = Libc.poll(&poll, 1, timeout);
            if (result.Errno == Errno.EINTR)
            {
                continue;
            }
            int ready = Syscall.Check(result, trace, "poll", target, $"[{{fd={poll.Fd}, events={Libc.PollEventsText(events)}}}], 1, {timeout}");
            if (poll.ReturnedEvents != 0)
            {
                return true;
            }
            if (ready == 0 && Expired(deadline))
            {
                return false;
            }
        }
    }

    private const int FallbackSliceMilliseconds = 20;

    /// <summary>What is left of a deadline, as poll(2) and epoll_wait(2) take it: -1 for none, rounded up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TimeoutMilliseconds(long deadline)
    {
        if (deadline is -1 or 0)
        {
            return (int)deadline;
        }
        double milliseconds = Math.Ceiling((deadline - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency);
        return (int)Math.Clamp(milliseconds, 0, int.MaxValue);
    }
}

/// <summary>
/// The one wait-and-retry rule for a call on a descriptor that reports "would block" (EAGAIN on an O_NONBLOCK fd,
/// ETIMEDOUT from mq_timed* given a deadline that has passed). Every blocking operation is the same loop: attempt
/// the call; on success trace and return; otherwise ask <see cref="AfterFailure"/>, which decides in one fixed
/// order: EINTR retries; any other error than would-block is thrown, traced; a zero timeout returns false at once
/// (the Try form, and every call on a non-blocking object, whose callers pass zero); a passed deadline returns false;
/// otherwise it waits with poll(2) until the fd is ready (cancellable) and says to retry.
/// </summary>
internal readonly struct FdRetry
{
    private readonly SafeFdHandle _fd;
    private readonly short _events;
    private readonly TimeSpan _timeout;
    private readonly long _deadline;
    private readonly CancellationToken _cancellationToken;
    private readonly string _target;

    /// <summary>Validates the timeout and fixes the deadline.</summary>
    public FdRetry(SafeFdHandle fd, short events, TimeSpan timeout, CancellationToken cancellationToken, string target)
    {
        Timeouts.Validate(timeout);
        (_fd, _events, _timeout, _cancellationToken, _target) = (fd, events, timeout, cancellationToken, target);
        _deadline = FdWait.Deadline(timeout);
    }

    /// <summary>No deadline and nothing to cancel: the call may block in the kernel, as C would.</summary>
    public bool IsUnbounded => _deadline == -1 && !_cancellationToken.CanBeCanceled;

    /// <summary>True to attempt the call again; false when the timeout passed first (at once for a zero timeout).
    /// Throws for real errors and on cancellation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool AfterFailure(SyscallResult result, SyscallTrace? trace, string call,
        [InterpolatedStringHandlerArgument(nameof(trace))] ref TraceArguments arguments)
    {
        Errno errno = result.Errno;
        if (errno == Errno.EINTR)
        {
            // A call blocking in the kernel (ArmForClose) was interrupted: by a Close, or by a signal of someone else's.
            HandleWaiters.ThrowIfClosed(_fd, _target);
            return true;
        }
        arguments.EmitFailure(trace, call, errno);
        if (errno is not (Errno.EAGAIN or Errno.ETIMEDOUT))
        {
            throw new SysprogException(errno, call, _target);
        }
        if (_timeout == TimeSpan.Zero)
        {
            return false;
        }
        if (FdWait.Expired(_deadline))
        {
            return false;
        }
        return WaitUntilReady(trace);
    }

    /// <summary>
    /// For a call left to block in the kernel itself (no deadline, nothing to cancel: a read of a blocking pipe, an
    /// mq_timedreceive with no timeout): arms the thread so that a Close of the descriptor on another thread
    /// interrupts the call, which <see cref="AfterFailure"/> then ends with ObjectDisposedException. Null for a
    /// call that cannot block, which needs nothing.
    /// </summary>
    public ThreadInterrupt? ArmForClose(bool callBlocks, SyscallTrace? trace) =>
        callBlocks ? ThreadInterrupt.TryArm(default, _fd, trace, _target) : null;

    /// <summary>Waits until the fd is ready or the deadline passes (false), without attempting anything.</summary>
    public bool WaitUntilReady(SyscallTrace? trace) => FdWait.WaitReady(_fd, _events, _deadline, _cancellationToken, trace, _target);
}
