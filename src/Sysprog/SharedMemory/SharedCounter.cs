using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// The course's counter workload on a 64-bit cell of a shared mapping: many processes increment it, either with a
/// plain read-add-write (which loses increments when they overlap) or atomically (which loses none).
/// </summary>
public static class SharedCounter
{
    /// <summary>
    /// A start line for <paramref name="participants"/> processes: each arrives by incrementing the cell at
    /// <paramref name="arrivalOffset"/>, then waits until all have, so their loops truly overlap.
    /// </summary>
    public static void WaitForParticipants(MemoryMapping mapping, long arrivalOffset, int participants, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        mapping.ValidateCell<long>(arrivalOffset, nameof(arrivalOffset));
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        Timeouts.Validate(timeout);
        long deadline = FdWait.Deadline(timeout);
        mapping.IncrementInt64(arrivalOffset);
        var spinner = new SpinWait();
        while (mapping.ReadInt64(arrivalOffset) < participants)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (FdWait.Expired(deadline))
            {
                throw new TimeoutException($"Only {mapping.ReadInt64(arrivalOffset)} of {participants} participants arrived within {Units.FormatDuration(timeout)}.");
            }
            // Yields and then sleeps between checks rather than burning a core while others start.
            spinner.SpinOnce(sleep1Threshold: 20);
        }
    }

    /// <summary>Adds 1 to the cell <paramref name="times"/> times, atomically or with a plain load and store; a
    /// cancellation stops the loop between increments.</summary>
    public static void Increment(MemoryMapping mapping, long offset, long times, bool atomic, CancellationToken cancellationToken = default)
    {
        Validate(mapping, offset, times);
        for (long i = 0; i < times; i++)
        {
            if (atomic)
            {
                mapping.IncrementInt64(offset);
            }
            else
            {
                mapping.WriteInt64(offset, mapping.ReadInt64(offset) + 1);
            }
            ThrowIfCancelledEvery(i, cancellationToken);
        }
    }

    /// <summary>
    /// Plain read-add-write, each inside wait/post of <paramref name="semaphore"/> (initial value 1): a critical
    /// section, so no increment is lost however the processes interleave. A cancellation ends the next wait.
    /// </summary>
    public static void IncrementGuarded(MemoryMapping mapping, long offset, long times, PosixSemaphore semaphore, CancellationToken cancellationToken = default)
    {
        Validate(mapping, offset, times);
        ArgumentNullException.ThrowIfNull(semaphore);
        for (long i = 0; i < times; i++)
        {
            semaphore.Wait(Timeout.InfiniteTimeSpan, cancellationToken);
            mapping.WriteInt64(offset, mapping.ReadInt64(offset) + 1);
            semaphore.Post();
        }
    }

    private static void Validate(MemoryMapping mapping, long offset, long times)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        mapping.ValidateCell<long>(offset, nameof(offset));
        ArgumentOutOfRangeException.ThrowIfNegative(times);
    }

    /// <summary>Looks at the token once per 4096 increments: often enough to stop within a millisecond, rarely enough to cost nothing.</summary>
    private static void ThrowIfCancelledEvery(long iteration, CancellationToken cancellationToken)
    {
        if ((iteration & 4095) == 4095)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
