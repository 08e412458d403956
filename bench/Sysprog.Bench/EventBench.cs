using System.Diagnostics;
using System.Globalization;
using Sysprog;

/// <summary>
/// The same protocols as eventbench.c. pingpong: this process makes two inheritable eventfds, starts the pong side
/// with their numbers, and times round trips. poll: N eventfds in one epoll set, one of them ready (level-triggered,
/// it stays ready), and the cost of one wait that reports it.
/// </summary>
internal static partial class EventBench
{
    // The bare protocol, without Sysprog: what .NET itself costs here, so that what remains between it and C is
    // known to be the runtime's and what lies between it and Sysprog to be Sysprog's.
    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initialValue, int flags);

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buffer, nuint count);

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, void* buffer, nuint count);

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(long* pollFd, nuint count, int timeoutMilliseconds);

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_wait(int epoll, void* events, int maxEvents, int timeoutMilliseconds);

    private const int EFD_NONBLOCK = 0x800;

    private static unsafe void BareSend(int fd)
    {
        ulong one = 1;
        write(fd, &one, 8);
    }

    // struct pollfd { int fd; short events; short revents; } as one long: POLLIN (1) in events.
    private static unsafe void BareWaitAndRead(int fd)
    {
        long pollFd = (uint)fd | (1L << 32);
        poll(&pollFd, 1, -1);
        ulong value;
        read(fd, &value, 8);
    }

    public static unsafe int Run(string[] args)
    {
        int iterations = int.Parse(args[^1], CultureInfo.InvariantCulture);
        switch (args[0])
        {
            // ping: no timeout or token, the blocking read C makes; pingtoken: with a CancellationToken, as every
            // cmdlet passes one; pingtimeout: with a timeout. The pong side is the same for all three.
            case "ping" or "pingtoken" or "pingtimeout":
            {
                using EventFd ping = EventFd.Create(inheritable: true);
                using EventFd pong = EventFd.Create(inheritable: true);
                using var cancellation = new CancellationTokenSource();
                CancellationToken token = args[0] == "pingtoken" ? cancellation.Token : default;
                TimeSpan timeout = args[0] == "pingtimeout" ? TimeSpan.FromSeconds(60) : Timeout.InfiniteTimeSpan;
                string self = typeof(EventBench).Assembly.Location;
                using Process child = Process.Start(new ProcessStartInfo("taskset",
                    ["-c", "0", "dotnet", self, "events", "pong", ping.Fd.ToString(CultureInfo.InvariantCulture), pong.Fd.ToString(CultureInfo.InvariantCulture), (2 * iterations).ToString(CultureInfo.InvariantCulture)]))!;
                for (int i = 0; i < iterations; i++)
                {
                    ping.Add(1);
                    pong.Read(timeout, token);
                }
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++)
                {
                    ping.Add(1);
                    pong.Read(timeout, token);
                }
                Console.WriteLine((Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations).ToString("F0", CultureInfo.InvariantCulture));
                child.WaitForExit();
                return 0;
            }
            case "pingbare":
            {
                int ping = eventfd(0, EFD_NONBLOCK), pong = eventfd(0, EFD_NONBLOCK);
                string self = typeof(EventBench).Assembly.Location;
                using Process child = Process.Start(new ProcessStartInfo("taskset",
                    ["-c", "0", "dotnet", self, "events", "pongbare", ping.ToString(CultureInfo.InvariantCulture), pong.ToString(CultureInfo.InvariantCulture), (2 * iterations).ToString(CultureInfo.InvariantCulture)]))!;
                for (int i = 0; i < iterations; i++)
                {
                    BareSend(ping);
                    BareWaitAndRead(pong);
                }
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++)
                {
                    BareSend(ping);
                    BareWaitAndRead(pong);
                }
                Console.WriteLine((Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations).ToString("F0", CultureInfo.InvariantCulture));
                child.WaitForExit();
                return 0;
            }
            case "pongbare":
            {
                int ping = int.Parse(args[1], CultureInfo.InvariantCulture), pong = int.Parse(args[2], CultureInfo.InvariantCulture);
                for (int i = 0; i < iterations; i++)
                {
                    BareWaitAndRead(ping);
                    BareSend(pong);
                }
                return 0;
            }
            case "pong":
            {
                using EventFd ping = EventFd.FromDescriptor(int.Parse(args[1], CultureInfo.InvariantCulture));
                using EventFd pong = EventFd.FromDescriptor(int.Parse(args[2], CultureInfo.InvariantCulture));
                for (int i = 0; i < iterations; i++)
                {
                    ping.Read(Timeout.InfiniteTimeSpan);
                    pong.Add(1);
                }
                return 0;
            }
            // poll: PollSet.Wait; pollbare: epoll_wait on the same set's descriptor as a bare P/Invoke.
            case "poll" or "pollbare":
            {
                int handles = int.Parse(args[1], CultureInfo.InvariantCulture);
                var eventFds = Enumerable.Range(0, handles).Select(_ => EventFd.Create()).ToList();
                using var set = new PollSet();
                eventFds.ForEach(e => set.Add(e));
                eventFds[handles / 2].Add(1);
                var ready = new ReadyHandle[handles];
                bool bare = args[0] == "pollbare";
                int epoll = bare ? set.Fd : -1;
                byte* events = stackalloc byte[16 * (handles + 1)];
                for (int i = 0; i < iterations; i++)
                {
                    _ = bare ? epoll_wait(epoll, events, handles + 1, -1) : set.Wait(ready, Timeout.InfiniteTimeSpan);
                }
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++)
                {
                    _ = bare ? epoll_wait(epoll, events, handles + 1, -1) : set.Wait(ready, Timeout.InfiniteTimeSpan);
                }
                Console.WriteLine((Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations).ToString("F0", CultureInfo.InvariantCulture));
                eventFds.ForEach(e => e.Dispose());
                return 0;
            }
            default:
                Console.Error.WriteLine("usage: Sysprog.Bench events ping|pingtoken|pingtimeout|pingbare ITERATIONS | poll|pollbare HANDLES ITERATIONS");
                return 2;
        }
    }
}
