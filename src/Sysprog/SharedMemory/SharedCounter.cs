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
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        mapping.IncrementInt64(arrivalOffset);
        var spinner = new SpinWait();
        while (mapping.ReadInt64(arrivalOffset) < participants)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Only {mapping.ReadInt64(arrivalOffset)} of {participants} participants arrived within {Units.FormatDuration(timeout)}.");
            }
            // Yields and then sleeps between checks rather than burning a core while others start.
            spinner.SpinOnce(sleep1Threshold: 20);
        }
    }

    /// <summary>Adds 1 to the cell <paramref name="times"/> times, atomically or with a plain load and store.</summary>
    public static void Increment(MemoryMapping mapping, long offset, long times, bool atomic)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        if (atomic)
        {
            for (long i = 0; i < times; i++)
            {
                mapping.IncrementInt64(offset);
            }
        }
        else
        {
            for (long i = 0; i < times; i++)
            {
                mapping.WriteInt64(offset, mapping.ReadInt64(offset) + 1);
            }
        }
    }

    /// <summary>
    /// Plain read-add-write, each inside wait/post of <paramref name="semaphore"/> (initial value 1): a critical
    /// section, so no increment is lost however the processes interleave.
    /// </summary>
    public static void IncrementGuarded(MemoryMapping mapping, long offset, long times, PosixSemaphore semaphore)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(semaphore);
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        for (long i = 0; i < times; i++)
        {
            semaphore.Wait(Timeout.InfiniteTimeSpan);
            mapping.WriteInt64(offset, mapping.ReadInt64(offset) + 1);
            semaphore.Post();
        }
    }
}
