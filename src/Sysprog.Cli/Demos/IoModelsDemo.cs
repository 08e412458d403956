using System.CommandLine;
using System.Globalization;
using System.Text;
using Sysprog;

namespace Sysprog.Cli.Demos;

/// <summary>
/// The I/O models chapter (the screenplay docs/demos/11-IoModels.Tests.ps1) across real processes: a non-blocking read,
/// poll and epoll over the same eventfds, level vs edge-triggered, one-shot and re-arming, signal-driven I/O, and the
/// single-threaded echo server driven from here.
/// </summary>
internal static class IoModelsDemo
{
    public static Command Build(Option<bool> trace)
    {
        var command = new Command("io-models", "Replay the I/O models chapter: non-blocking reads, poll vs epoll, level vs edge-triggered, one-shot, signal-driven I/O (SIGIO), an event loop.");
        command.SetAction(r => Cli.Run(() => Run(Cli.Trace(r, trace))));
        return command;
    }

    private static void Run(SyscallTrace? trace)
    {
        bool traced = trace is not null;
        DemoCommand.Step(1, "A non-blocking pipe: a read with nothing to read returns at once with EAGAIN (\"would block\"), not a wait.");
        using (Pipe pipe = Pipe.Create(trace: trace, nonBlocking: true))
        {
            var buffer = new byte[64];
            int? got = pipe.ReadEnd.Read(buffer, Timeout.InfiniteTimeSpan, default, trace);
            Console.WriteLine($"    read on empty {pipe.ReadEnd.Description}: {(got is null ? "would block (EAGAIN), at once" : $"{got} bytes: a bug")}");
            pipe.WriteEnd.Write("hello", null, TimeSpan.Zero, default, trace);
            got = pipe.ReadEnd.Read(buffer, Timeout.InfiniteTimeSpan, default, trace);
            Console.WriteLine($"    after a write of \"hello\": {got} bytes, \"{Encoding.UTF8.GetString(buffer, 0, got ?? 0)}\"");
        }

        DemoCommand.Step(2, "Five eventfds, two of them signalled; another process waits on all five with poll(2), a third with epoll.");
        var eventFds = Enumerable.Range(0, 5).Select(_ => EventFd.Create(trace: trace)).ToList();
        try
        {
            eventFds[1].Add(1, trace);
            eventFds[3].Add(1, trace);
            var passed = eventFds.Select((e, i) => (Fd: 3 + i, Handle: (IDescriptorObject)e)).ToDictionary(p => p.Fd, p => p.Handle);
            string[] fdOptions = passed.Keys.SelectMany(fd => new[] { "--fd", fd.ToString(CultureInfo.InvariantCulture) }).ToArray();
            foreach (string mechanism in new[] { "poll", "epoll" })
            {
                // Traced always, and its stderr kept: the calls are the point of this step.
                using DemoPeer peer = DemoPeer.Start(["poll", .. fdOptions, "--mechanism", mechanism], traced: true, passed, captureErrors: true);
                (ProcessExit exit, string output, string errors) = peer.Finish();
                Console.WriteLine($"    {mechanism} peer pid {peer.ProcessId} ({exit}) found: {string.Join("; ", Lines(output))}");
                foreach (string call in Lines(errors).Where(l => l.StartsWith("poll(", StringComparison.Ordinal) || l.StartsWith("epoll_", StringComparison.Ordinal)))
                {
                    Console.WriteLine($"      | {call}");
                }
            }
            Console.WriteLine("    poll is handed the whole list at every call and scans it; epoll_ctl registers each once, and epoll_wait names only the ready ones.");
        }
        finally
        {
            eventFds.ForEach(e => e.Dispose());
        }

        DemoCommand.Step(3, "A pipe with 10 unread bytes, waited on twice by another process: level-triggered, then edge-triggered (EPOLLET).");
        using (Pipe pipe = Pipe.Create(trace: trace))
        {
            pipe.WriteEnd.Write("0123456789", null, TimeSpan.Zero, default, trace);
            var readEnd = new Dictionary<int, IDescriptorObject> { [3] = pipe.ReadEnd };
            foreach ((string triggering, string[] extra) in new[] { ("level", Array.Empty<string>()), ("edge", new[] { "--edge" }) })
            {
                using DemoPeer peer = DemoPeer.Start(["poll", "--fd", "3", "--count", "2", "--timeout", "500ms", .. extra], traced, readEnd, captureErrors: true);
                (ProcessExit exit, string output, string errors) = peer.Finish();
                string[] reported = Lines(output).ToArray();
                Console.WriteLine($"    {triggering}-triggered: reported {reported.Length} time(s) in 2 waits ({exit}){(exit.ExitCode == Cli.TimedOut ? ": the second wait timed out, though the bytes are still there" : "")}");
                if (traced)
                {
                    Lines(errors).ToList().ForEach(l => Console.Error.WriteLine(l));
                }
            }
            Console.WriteLine("    Edge-triggered reports a change once: a reader must read until EAGAIN, or what is left waits unseen.");
        }

        DemoCommand.Step(4, "One-shot (EPOLLONESHOT): an eventfd holding 1 is reported once, then not again until EPOLL_CTL_MOD re-arms it.");
        using (EventFd wakeup = EventFd.Create(1, trace: trace))
        using (var set = new PollSet(trace))
        {
            var ready = new ReadyHandle[1];
            set.Add(wakeup, Readiness.Readable, PollOptions.OneShot, trace);
            int first = set.Wait(ready, TimeSpan.FromSeconds(5), default, trace);
            int second = set.Wait(ready, TimeSpan.Zero, default, trace);
            Console.WriteLine($"    first wait: {first} ready; second: {second} ready, though the eventfd still holds {wakeup.Count}");
            set.Modify(wakeup, Readiness.Readable, PollOptions.OneShot, trace);
            int rearmed = set.Wait(ready, TimeSpan.FromSeconds(5), default, trace);
            Console.WriteLine($"    re-armed with EPOLL_CTL_MOD: {rearmed} ready again");
        }

        DemoCommand.Step(5, "Signal-driven I/O: a pipe made O_ASYNC with another process as its owner (F_SETOWN_EX); a write sends that process SIGIO.");
        using (Pipe pipe = Pipe.Create(trace: trace))
        using (DemoPeer receiver = DemoPeer.Start(["signal", "IO", "--timeout", "60s"], traced, blockedSignals: [Signals.SIGIO]))
        {
            Console.WriteLine($"    receiver pid {receiver.ProcessId}, SIGIO blocked from its start: {receiver.ReadLine()}");
            pipe.ReadEnd.SetSignalDriven(true, Signals.SIGIO, receiver.ProcessId, trace);
            pipe.WriteEnd.Write("ready", null, TimeSpan.Zero, default, trace);
            Console.WriteLine($"    wrote to the pipe; the receiver's signalfd read: {receiver.ReadLine()}");
            Console.WriteLine($"    (fd {pipe.ReadEnd.Fd} is the read end's number in this process, pid {Environment.ProcessId}: siginfo's si_fd and si_band)");
            ProcessExit exit = receiver.Finish().Exit;
            Console.WriteLine($"    receiver {exit}");
        }

        DemoCommand.Step(6, "An event loop: another process runs 'sysprog demo echo', one thread over a listener, every client, a timer and SIGTERM.");
        string name = $"@sysprog-demo-io-{Environment.ProcessId}";
        using (DemoPeer server = DemoPeer.Start(["demo", "echo", name, "--every", "200ms"], traced))
        {
            Console.WriteLine($"    server: {server.ReadLine()}");
            Console.WriteLine($"    its thread: {server.WaitUntilBlockedIn("epoll_wait", "epoll_pwait", "epoll_pwait2")}");
            var clients = new List<Socket>();
            try
            {
                for (int i = 0; i < 3; i++)
                {
                    clients.Add(Socket.CreateConnected(SocketEndpoint.ParseUnix(name), timeout: TimeSpan.FromSeconds(30), trace: trace)
                        ?? throw new TimeoutException($"could not connect to {name} within 30s"));
                    Console.WriteLine($"    server: {server.ReadLine()}");
                }
                for (int i = 0; i < clients.Count; i++)
                {
                    clients[i].Send(Encoding.UTF8.GetBytes($"hello from client {i}"), trace: trace);
                }
                for (int i = 0; i < clients.Count; i++)
                {
                    SocketMessage reply = clients[i].Receive(TimeSpan.FromSeconds(30), default, trace) ?? throw new TimeoutException($"client {i} got no echo within 30s");
                    Console.WriteLine($"    client {i} got back \"{reply.Text}\"");
                }
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
            // The clients' departures come first, then at least one tick of the timer on the same thread.
            string line;
            while (!(line = server.ReadLine()).Contains("messages echoed", StringComparison.Ordinal))
            {
                Console.WriteLine($"    server: {line}");
            }
            Console.WriteLine($"    server: {line}");
            server.Signal(Signals.SIGTERM);
            (ProcessExit exit, string output, _) = server.Finish();
            foreach (string rest in Lines(output))
            {
                Console.WriteLine($"    server: {rest}");
            }
            Console.WriteLine($"    server pid {server.ProcessId}: {exit}");
        }
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
