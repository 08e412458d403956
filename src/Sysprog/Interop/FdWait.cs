using System.Diagnostics;

namespace Sysprog.Interop;

/// <summary>
/// Waits until an fd is ready, for at most a deadline on the monotonic clock, cancellable: poll(2) watches the fd
/// together with an eventfd that the CancellationToken writes to, so cancellation wakes the wait at once and
/// nothing spins.
/// </summary>
internal static class FdWait
{
    /// <summary>
    /// A deadline in Stopwatch ticks: -1 for none, 0 for "already passed" (a zero timeout, which so costs no clock
    /// read on the non-blocking fast paths).
    /// </summary>
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

    public static bool Expired(long deadline) => deadline == 0 || (deadline != -1 && Stopwatch.GetTimestamp() >= deadline);

    /// <summary>True when <paramref name="events"/> are ready on <paramref name="fd"/>; false when the deadline passed first.</summary>
    public static unsafe bool WaitReady(SafeFdHandle fd, short events, long deadline, CancellationToken cancellationToken, SyscallTrace? trace, string target)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SafeFdHandle? cancelFd = null;
        CancellationTokenRegistration registration = default;
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                cancelFd = new SafeFdHandle(Syscall.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), trace, "eventfd", target, $"0, EFD_CLOEXEC|EFD_NONBLOCK"));
                registration = cancellationToken.UnsafeRegister(static state => ((SafeFdHandle)state!).SignalEventFd(), cancelFd);
            }
            // Held for the whole wait, so neither number can be closed and reused under poll.
            using HandleLease waited = fd.Lease(target);
            using HandleLease cancel = cancelFd is null ? default : cancelFd.Lease(target);
            PollFd* fds = stackalloc PollFd[2];
            while (true)
            {
                int timeout = TimeoutMilliseconds(deadline);
                fds[0] = new PollFd { Fd = waited.Fd, Events = events };
                fds[1] = new PollFd { Fd = cancelFd is null ? -1 : cancel.Fd, Events = Libc.POLLIN };
                SyscallResult result = Libc.poll(fds, cancelFd is null ? 1u : 2u, timeout);
                if (result.Errno == Errno.EINTR)
                {
                    continue;
                }
                int ready = Syscall.Check(result, trace, "poll", target,
                    $"[{{fd={fds[0].Fd}, events={Libc.PollEventsText(events)}}}{(cancelFd is null ? "" : $", {{fd={fds[1].Fd}, events=POLLIN}}")}], {(cancelFd is null ? 1 : 2)}, {timeout}");
                if (fds[1].ReturnedEvents != 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                if (fds[0].ReturnedEvents != 0)
                {
                    return true;
                }
                if (ready == 0 && Expired(deadline))
                {
                    return false;
                }
            }
        }
        finally
        {
            registration.Dispose();
            cancelFd?.Dispose();
        }
    }

    /// <summary>What is left of a deadline, as poll(2) and epoll_wait(2) take it: -1 for none, rounded up.</summary>
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
