using System.Diagnostics;
using System.Globalization;
using Sysprog;

/// <summary>
/// The same protocols as mqbench.c. rtt: ping sends SIZE bytes on A, pong answers on B; ping prints ns per round
/// trip. tput: the sender sends N messages of SIZE bytes on A; the receiver prints messages per second.
/// </summary>
internal static class MessageQueueBench
{
    public static int Run(string[] args)
    {
        if (args.Length != 5)
        {
            Console.Error.WriteLine("usage: Sysprog.Bench mq rtt-ping|rtt-pingtoken|rtt-pingtimeout|rtt-pong|tput-send|tput-receive /qA /qB SIZE ITERATIONS");
            return 2;
        }
        string a = args[1], b = args[2];
        int size = int.Parse(args[3], CultureInfo.InvariantCulture);
        int iterations = int.Parse(args[4], CultureInfo.InvariantCulture);
        byte[] message = new byte[size];
        switch (args[0])
        {
            // rtt-ping: no timeout or token, the blocking calls C makes; rtt-pingtoken: receives with a
            // CancellationToken, as every cmdlet passes one; rtt-pingtimeout: with a timeout. The pong side is the same.
            case "rtt-ping" or "rtt-pingtoken" or "rtt-pingtimeout":
            {
                using var cancellation = new CancellationTokenSource();
                CancellationToken token = args[0] == "rtt-pingtoken" ? cancellation.Token : default;
                TimeSpan timeout = args[0] == "rtt-pingtimeout" ? TimeSpan.FromSeconds(60) : Timeout.InfiniteTimeSpan;
                using MessageQueue qa = MessageQueue.Create(a, 10, size);
                using MessageQueue qb = MessageQueue.Create(b, 10, size);
                try
                {
                    byte[] buffer = new byte[size];
                    qb.Receive(buffer, out _, out _, Timeout.InfiniteTimeSpan);
                    for (int i = 0; i < iterations; i++)
                    {
                        qa.Send(message, 0, Timeout.InfiniteTimeSpan);
                        qb.Receive(buffer, out _, out _, timeout, token);
                    }
                    long start = Stopwatch.GetTimestamp();
                    for (int i = 0; i < iterations; i++)
                    {
                        qa.Send(message, 0, Timeout.InfiniteTimeSpan);
                        qb.Receive(buffer, out _, out _, timeout, token);
                    }
                    Console.WriteLine((Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterations).ToString("F0", CultureInfo.InvariantCulture));
                }
                finally
                {
                    MessageQueue.Unlink(a);
                    MessageQueue.Unlink(b);
                }
                return 0;
            }
            case "rtt-pong":
            {
                (MessageQueue qa, MessageQueue qb) = (OpenWhenThere(a), OpenWhenThere(b));
                byte[] buffer = new byte[qa.MaxMessageSize];
                qb.Send(message, 0, Timeout.InfiniteTimeSpan);
                for (int i = 0; i < 2 * iterations; i++)
                {
                    qa.Receive(buffer, out int length, out _, Timeout.InfiniteTimeSpan);
                    qb.Send(buffer.AsSpan(0, length), 0, Timeout.InfiniteTimeSpan);
                }
                qa.Dispose();
                qb.Dispose();
                return 0;
            }
            case "tput-receive":
            {
                using MessageQueue qa = MessageQueue.Create(a, 10, size);
                try
                {
                    byte[] buffer = new byte[size];
                    for (int i = 0; i < iterations; i++)
                    {
                        qa.Receive(buffer, out _, out _, Timeout.InfiniteTimeSpan);
                    }
                    long start = Stopwatch.GetTimestamp();
                    for (int i = 0; i < iterations; i++)
                    {
                        qa.Receive(buffer, out _, out _, Timeout.InfiniteTimeSpan);
                    }
                    Console.WriteLine((iterations / Stopwatch.GetElapsedTime(start).TotalSeconds).ToString("F0", CultureInfo.InvariantCulture));
                }
                finally
                {
                    MessageQueue.Unlink(a);
                }
                return 0;
            }
            case "tput-send":
            {
                using MessageQueue qa = OpenWhenThere(a);
                for (int i = 0; i < 2 * iterations; i++)
                {
                    qa.Send(message, 0, Timeout.InfiniteTimeSpan);
                }
                return 0;
            }
            default:
                Console.Error.WriteLine($"unknown mode {args[0]}");
                return 2;
        }
    }

    private static MessageQueue OpenWhenThere(string name)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return MessageQueue.Open(name);
            }
            catch (SysprogException e) when (e.Errno == Errno.ENOENT && attempt < 500)
            {
                Thread.Sleep(10);
            }
        }
    }
}
