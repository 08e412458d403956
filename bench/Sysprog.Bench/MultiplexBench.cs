using System.Diagnostics;
using System.Globalization;
using Sysprog;

/// <summary>
/// The same protocol as multiplexbench.c: N eventfds, READY of them readable (level-triggered, they stay ready), and the
/// cost of one wait that reports them, through PollList (poll) or PollSet (epoll). The ready ones are spread over the
/// list the same way as in C.
/// </summary>
internal static partial class MultiplexBench
{
    // The bare loop, without Sysprog: what .NET itself costs here, so that what remains between it and C is known to
    // be the runtime's and what lies between it and Sysprog to be Sysprog's.
    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(long* pollFds, nuint count, int timeoutMilliseconds);

    public static int Run(string[] args)
    {
        if (args.Length != 4 || args[0] is not ("poll" or "epoll" or "pollbare"))
        {
            Console.Error.WriteLine("usage: Sysprog.Bench multiplex poll|epoll|pollbare HANDLES READY ITERATIONS");
            return 2;
        }
        int handles = int.Parse(args[1], CultureInfo.InvariantCulture);
        int readyCount = int.Parse(args[2], CultureInfo.InvariantCulture);
        int iterations = int.Parse(args[3], CultureInfo.InvariantCulture);
        var eventFds = Enumerable.Range(0, handles).Select(_ => EventFd.Create()).ToList();
        try
        {
            for (int r = 0; r < readyCount; r++)
            {
                eventFds[(int)((long)r * handles / readyCount + handles / (2 * readyCount))].Add(1);
            }
            var ready = new ReadyHandle[readyCount + 1];
            double nanoseconds;
            if (args[0] == "pollbare")
            {
                // struct pollfd { int fd; short events; short revents; } as one long: POLLIN (1) in events.
                long[] list = eventFds.Select(e => (uint)e.Fd | (1L << 32)).ToArray();
                nanoseconds = Time(iterations, () => PollBare(list));
            }
            else if (args[0] == "poll")
            {
                using var list = new PollList();
                eventFds.ForEach(e => list.Add(e));
                nanoseconds = Time(iterations, () => list.Wait(ready, Timeout.InfiniteTimeSpan));
            }
            else
            {
                using var set = new PollSet();
                eventFds.ForEach(e => set.Add(e));
                nanoseconds = Time(iterations, () => set.Wait(ready, Timeout.InfiniteTimeSpan));
            }
            Console.WriteLine(nanoseconds.ToString("F0", CultureInfo.InvariantCulture));
            return 0;
        }
        finally
        {
            eventFds.ForEach(e => e.Dispose());
        }
    }

    private static unsafe int PollBare(long[] list)
    {
        fixed (long* start = list)
        {
            return poll(start, (nuint)list.Length, -1);
        }
    }

    /// <summary>Nanoseconds per wait, after a warm-up as long as the measurement (as the other benches do).</summary>
    private static double Time(int iterations, Func<int> wait)
    {
        for (int i = 0; i < iterations; i++)
        {
            wait();
        }
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++)
        {
            wait();
        }
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
    }
}
