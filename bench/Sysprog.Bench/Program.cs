using System.Diagnostics;
using System.Globalization;
using Sysprog;

// The same protocol as pingpong.c: ping creates both semaphores, pong opens them and says it is ready, then
// ping posts A and waits B, ITERATIONS times. Ping prints the nanoseconds per round trip.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

if (args.Length > 0 && args[0] == "events")
{
    return EventBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "multiplex")
{
    return MultiplexBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "mq")
{
    return MessageQueueBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "inventory")
{
    return InventoryBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "locks")
{
    return LockBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "calls")
{
    return CallBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "elf")
{
    return ElfBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "soak")
{
    return Soak.Run(args[1..]);
}
if (args.Length != 4 || args[0] is not ("ping" or "pingtoken" or "pingtimeout" or "pong"))
{
    Console.Error.WriteLine("usage: Sysprog.Bench ping|pingtoken|pingtimeout|pong /semA /semB ITERATIONS | mq ... | events ... | multiplex poll|epoll HANDLES READY ITERATIONS | calls PREFIX ROUNDS ITERATIONS | inventory RUNS PREFIX | locks RUNS FOLDER | elf PAIRS FILE [READELF] | soak [CYCLES]");
    return 2;
}
int iterations = int.Parse(args[3], CultureInfo.InvariantCulture);
if (args[0] != "pong")
{
    // ping: no timeout or token, the sem_wait C makes; pingtoken: with a CancellationToken, as every cmdlet passes
    // one; pingtimeout: with a timeout. The pong side is the same for all three.
    using var cancellation = new CancellationTokenSource();
    CancellationToken token = args[0] == "pingtoken" ? cancellation.Token : default;
    TimeSpan timeout = args[0] == "pingtimeout" ? TimeSpan.FromSeconds(60) : Timeout.InfiniteTimeSpan;
    using PosixSemaphore a = PosixSemaphore.Create(args[1], 0);
    using PosixSemaphore b = PosixSemaphore.Create(args[2], 0);
    try
    {
        b.Wait(Timeout.InfiniteTimeSpan);
        // Warm up with as many round trips as are measured, as pingpong.c does: both report their steady state
        // (.NET's tiered JIT has optimized the loop by then).
        for (int i = 0; i < iterations; i++)
        {
            a.Post();
            b.Wait(timeout, token);
        }
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++)
        {
            a.Post();
            b.Wait(timeout, token);
        }
        double nanoseconds = Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
        Console.WriteLine(nanoseconds.ToString("F0", CultureInfo.InvariantCulture));
    }
    finally
    {
        PosixSemaphore.Unlink(args[1]);
        PosixSemaphore.Unlink(args[2]);
    }
    return 0;
}
PosixSemaphore? pa = null, pb = null;
for (int attempt = 0; pa is null && attempt < 500; attempt++)
{
    try
    {
        pa = PosixSemaphore.Open(args[1]);
        pb = PosixSemaphore.Open(args[2]);
    }
    catch (SysprogException e) when (e.Errno == Errno.ENOENT)
    {
        pa?.Dispose();
        pa = null;
        Thread.Sleep(10);
    }
}
if (pa is null || pb is null)
{
    Console.Error.WriteLine("pong: the semaphores never appeared");
    return 1;
}
pb.Post();
for (int i = 0; i < 2 * iterations; i++)
{
    pa.Wait(Timeout.InfiniteTimeSpan);
    pb.Post();
}
pa.Dispose();
pb.Dispose();
return 0;
