using System.Diagnostics;
using System.Globalization;
using Sysprog;

/// <summary>
/// What one call costs in one process, for the pwsh per-call table (pwsh-calls.ps1): a semaphore post+wait and a
/// 64-byte message queue send+receive, through the core's allocation-free overloads and through the overloads
/// PowerShell reaches (byte[] in, MqMessage out). Prints "name ns" lines, each the median of ROUNDS rounds.
/// </summary>
internal static class CallBench
{
    public static int Run(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: Sysprog.Bench calls PREFIX ROUNDS ITERATIONS");
            return 2;
        }
        string prefix = args[0];
        int rounds = int.Parse(args[1], CultureInfo.InvariantCulture);
        int iterations = int.Parse(args[2], CultureInfo.InvariantCulture);
        using PosixSemaphore semaphore = PosixSemaphore.Create($"{prefix}-sem");
        using MessageQueue queue = MessageQueue.Create($"{prefix}-mq", 10, 64);
        try
        {
            byte[] body = new byte[64];
            byte[] buffer = new byte[64];
            using var cancellation = new CancellationTokenSource();
            CancellationToken token = cancellation.Token;
            var cases = new (string Name, Action Once)[]
            {
                ("semaphore post+wait", () => { semaphore.Post(); semaphore.Wait(Timeout.InfiniteTimeSpan); }),
                ("semaphore post+wait with a token", () => { semaphore.Post(); semaphore.Wait(Timeout.InfiniteTimeSpan, token); }),
                ("mq send+receive 64 B (spans)", () => { queue.Send(body, 0, Timeout.InfiniteTimeSpan); queue.Receive(buffer, out _, out _, Timeout.InfiniteTimeSpan); }),
                ("mq send+receive 64 B (byte[] in, MqMessage out)", () => { queue.Send(body); queue.Receive(Timeout.InfiniteTimeSpan); }),
            };
            var samples = cases.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                for (int c = 0; c < cases.Length; c++)
                {
                    samples[c].Add(Time(cases[c].Once, iterations));
                }
            }
            for (int c = 0; c < cases.Length; c++)
            {
                samples[c].Sort();
                Console.WriteLine($"{cases[c].Name}\t{samples[c][samples[c].Count / 2].ToString("F0", CultureInfo.InvariantCulture)}");
            }
        }
        finally
        {
            PosixSemaphore.Unlink($"{prefix}-sem");
            MessageQueue.Unlink($"{prefix}-mq");
        }
        return 0;
    }

    // A delegate call costs about 1-2 ns, under this VM's noise for calls of 100 ns and more.
    private static double Time(Action once, int iterations)
    {
        for (int i = 0; i < iterations; i++)
        {
            once();
        }
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++)
        {
            once();
        }
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations;
    }
}
