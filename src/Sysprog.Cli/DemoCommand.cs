using System.Globalization;
using System.CommandLine;
using System.Diagnostics;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>The course screenplay, replayed across real processes with narration.</summary>
internal static class DemoCommand
{
    private const long CounterOffset = 0;

    public static Command Build(Option<bool> trace)
    {
        var producers = new Option<int>("--producers") { Description = "Concurrent producer processes.", DefaultValueFactory = _ => 4 };
        var increments = new Option<long>("--increments") { Description = "Increments per producer.", DefaultValueFactory = _ => 2_000_000 };
        var command = new Command("demo", "Replay the course: mmap /etc/passwd, shared memory, lost and kept increments, /proc/PID/maps, a semaphore.")
        {
            producers, increments, EchoServer(trace),
            Demos.PipesDemo.Build(trace),
            Demos.SocketsDemo.Build(trace),
            Demos.IoModelsDemo.Build(trace),
            Demos.OtherIpcDemo.Build(trace),
        };
        command.SetAction(r => Cli.Run(() => Run(r.GetValue(producers), r.GetValue(increments))));
        return command;
    }

    /// <summary>
    /// The event-loop chapter's server: one thread, one epoll set (EventLoop), a listening UNIX socket, every client it
    /// accepts, a timer that reports, and a signalfd for SIGTERM and SIGINT that ends it cleanly. Invoke-EventLoop's
    /// first example is the same server in pwsh.
    /// </summary>
    private static Command EchoServer(Option<bool> trace)
    {
        var address = new Argument<string>("address")
        {
            Description = "A socket path, or @name for the abstract namespace (no file).",
            DefaultValueFactory = _ => $"@sysprog-echo-{Environment.ProcessId}",
        };
        var every = new Option<string>("--every") { Description = "How often the timer reports (10s, 500ms).", DefaultValueFactory = _ => "10s" };
        var timeout = new Option<string?>("--timeout") { Description = "Serve this long at most (30s, 5m); by default until SIGTERM or Ctrl+C." };
        var command = new Command("echo", "A single-threaded echo server: one epoll loop serves every client, a timer and SIGTERM/Ctrl+C. Try: socat - ABSTRACT-CONNECT:name.")
        {
            address, every, timeout,
        };
        command.SetAction(r => Cli.Run(() => ServeEcho(SocketEndpoint.ParseUnix(r.GetValue(address)!), Units.ParseDuration(r.GetValue(every)!),
            Cli.Timeout(r, timeout), Cli.Trace(r, trace))));
        return command;
    }

    private static void ServeEcho(SocketEndpoint endpoint, TimeSpan every, TimeSpan timeout, SyscallTrace? trace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, TimeSpan.Zero, "--every");
        using Socket listener = Socket.CreateBound(endpoint, trace: trace);
        using SignalFd stop = SignalFd.Create([Signals.SIGTERM, Signals.SIGINT], trace);
        using TimerFd timer = TimerFd.Create(trace: trace);
        using var loop = new EventLoop(trace);
        var clients = new List<Socket>();
        long echoed = 0;
        try
        {
            timer.Arm(every, every, trace);
            loop.Add(listener, (Action<EventLoopEvent>)(_ =>
            {
                if (listener.Accept(TimeSpan.Zero, default, trace) is not Socket client)
                {
                    return;
                }
                clients.Add(client);
                Console.WriteLine($"client {client.PeerCredentials?.ProcessId.ToString(CultureInfo.InvariantCulture) ?? "?"} connected ({clients.Count} now)");
                loop.Add(client, (Action<EventLoopEvent>)(_ =>
                {
                    if (client.Receive(TimeSpan.Zero, default, trace) is not SocketMessage message)
                    {
                        return;
                    }
                    if (message.IsEndOfStream)
                    {
                        loop.Remove(client, trace);
                        client.Close(trace);
                        clients.Remove(client);
                        Console.WriteLine($"a client left ({clients.Count} now)");
                        return;
                    }
                    client.Send(message.Data, trace: trace);
                    echoed++;
                }), Readiness.Readable, trace);
            }), Readiness.Readable, trace);
            loop.Add(timer, (Action<EventLoopEvent>)(_ =>
            {
                timer.Read(TimeSpan.Zero, default, trace);
                Console.WriteLine($"{DateTime.Now:HH:mm:ss}: {clients.Count} clients, {echoed} messages echoed");
            }), Readiness.Readable, trace);
            loop.Add(stop, (Action<EventLoopEvent>)(_ =>
            {
                Console.WriteLine($"{stop.Read(TimeSpan.Zero, default, trace)?.Name ?? "a signal"}: stopping");
                loop.Stop();
            }), Readiness.Readable, trace);
            Console.WriteLine($"echo server on {listener.LocalEndpoint}, pid {Environment.ProcessId}: one thread, one epoll set; SIGTERM or Ctrl+C ends it");
            EventLoopEnd end = loop.Run(timeout, default, trace);
            Console.WriteLine($"{(end == EventLoopEnd.TimedOut ? "time is up" : "stopped")}: {echoed} messages echoed in {loop.Dispatched} handler calls");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    private static void Run(int producers, long increments)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(producers, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(increments, 1);
        string name = $"/sysprog-demo-{Environment.ProcessId}";
        SyscallTrace trace = line => Console.WriteLine($"    | {line}");
        ConsoleCancelEventHandler cleanUpOnCtrlC = (_, _) => TryUnlink(name);
        Console.CancelKeyPress += cleanUpOnCtrlC;
        try
        {
            Step(1, "Map /etc/passwd read-only and print it through memory alone (no read(2) of the file).");
            using (MemoryMapping passwd = MemoryMapping.MapFile("/etc/passwd", MemoryProtection.Read, MappingVisibility.Private, trace: trace))
            {
                foreach (string line in passwd.ReadString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(5))
                {
                    Console.WriteLine($"    {line}");
                }
                Console.WriteLine($"    ... ({passwd.Length} bytes in all, read straight from the page cache)");
                passwd.Close(trace);
            }

            Step(2, $"Create shared memory {name}: 4096 bytes, mode 0600, and map it shared.");
            using SharedMemory shm = SharedMemory.Create(name, 4096, trace: trace);
            using MemoryMapping view = shm.Map(trace: trace);

            long expected = producers * increments;
            Step(3, $"{producers} producer processes each add 1 to a 64-bit counter {increments:N0} times with a plain load and store.");
            RunProducers(name, producers, increments, racy: true);
            long racyTotal = view.ReadInt64(CounterOffset);
            Console.WriteLine($"    counter = {racyTotal:N0}, expected {expected:N0}: {expected - racyTotal:N0} increments lost " +
                "(two processes read the same value, both write value+1).");

            Step(4, "Reset, and the same producers again, with an atomic add (lock xadd) instead.");
            view.WriteInt64(CounterOffset, 0);
            view.WriteInt64(CounterOffset + 8, 0);
            RunProducers(name, producers, increments, racy: false);
            long atomicTotal = view.ReadInt64(CounterOffset);
            Console.WriteLine($"    counter = {atomicTotal:N0}, expected {expected:N0}: {(atomicTotal == expected ? "none lost" : $"{expected - atomicTotal:N0} LOST: a bug")}.");

            Step(5, "A consumer process opens the object by name and reads the result.");
            string consumed = RunPeer(["shm", "read", name, "--int64"]).Trim();
            Console.WriteLine($"    consumer read {consumed}");

            Step(6, "The mapping, as this process's /proc/self/maps shows it.");
            foreach (ProcessMapping m in ProcessMaps.Read(Environment.ProcessId).Where(m => m.Path == shm.Path))
            {
                Console.WriteLine($"    {m.Start:x}-{m.End:x} {m.Permissions} {m.Offset:x8} {m.Device} {m.Inode} {NameEscaping.Escape(m.Path)}  [{m.Kind}]");
            }

            Step(7, $"Semaphore {name} of value 7: seven waits pass at once; the eighth blocks in another process until this one posts.");
            using (PosixSemaphore semaphore = PosixSemaphore.Create(name, 7, trace: trace))
            {
                int passed = Enumerable.Range(0, 7).Count(_ => semaphore.TryWait());
                Console.WriteLine($"    {passed} waits passed at once; the value is now {semaphore.Value}.");
                using Process waiter = Start(["sem", "wait", name, "--timeout", "60s"]);
                var asleep = Stopwatch.StartNew();
                while (semaphore.Waiters == 0 && !waiter.HasExited && asleep.Elapsed < TimeSpan.FromSeconds(60))
                {
                    Thread.Sleep(10);
                }
                Console.WriteLine($"    waiter pid {waiter.Id} is asleep in sem_wait: the C library counts {semaphore.Waiters} waiter(s).");
                semaphore.Post(trace);
                string said = waiter.StandardOutput.ReadToEnd().Trim();
                waiter.WaitForExit();
                Console.WriteLine($"    waiter pid {waiter.Id} woke and exited {waiter.ExitCode}{(said.Length > 0 ? $": {said}" : "")}");
                semaphore.Close(trace);
                PosixSemaphore.Unlink(name, trace);
            }

            Step(8, "Unmap, close, unlink: nothing is left behind.");
            view.Close(trace);
            shm.Close(trace);
            SharedMemory.Unlink(name, trace);
            Console.WriteLine($"    {shm.Path} exists: {File.Exists(shm.Path)}");
        }
        finally
        {
            TryUnlink(name);
            Console.CancelKeyPress -= cleanUpOnCtrlC;
        }
    }

    internal static void Step(int number, string text) => Console.WriteLine($"\n[{number}] {text}");

    private static void TryUnlink(string name)
    {
        if (File.Exists(SharedMemory.Directory + name))
        {
            SharedMemory.Unlink(name);
        }
        if (File.Exists($"{SharedMemory.Directory}/sem.{name[1..]}"))
        {
            PosixSemaphore.Unlink(name);
        }
    }

    private static void RunProducers(string name, int producers, long increments, bool racy)
    {
        var arguments = new List<string> { "shm", "increment", name, "--count", increments.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--participants", producers.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (racy)
        {
            arguments.Add("--racy");
        }
        var started = Enumerable.Range(0, producers).Select(_ => Start(arguments)).ToList();
        foreach (Process process in started)
        {
            using (process)
            {
                string errors = process.StandardError.ReadToEnd();
                process.WaitForExit();
                Console.WriteLine($"    producer pid {process.Id} exited {process.ExitCode}");
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"producer {process.Id} failed: {errors.Trim()}");
                }
            }
        }
    }

    private static string RunPeer(IEnumerable<string> arguments)
    {
        using Process process = Start(arguments);
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"peer failed: {process.StandardError.ReadToEnd().Trim()}");
    }

    /// <summary>Starts this same program again, whether it runs as an apphost or as "dotnet sysprog.dll".</summary>
    internal static Process Start(IEnumerable<string> arguments)
    {
        (string host, IReadOnlyList<string> words) = Cli.Self(arguments);
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string word in words)
        {
            info.ArgumentList.Add(word);
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {host}.");
    }
}
