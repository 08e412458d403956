using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>eventfd, timerfd, signalfd, and waits with epoll or poll, from the shell.</summary>
internal static class EventCommands
{
    public static Command BuildEventFd(Option<bool> trace) => new("eventfd", "Use an eventfd passed to this process (inherited) or taken from another (pidfd_getfd).")
    {
        Add(trace), Read(trace), Pong(trace),
    };

    private static (Option<int> Fd, Option<int?> FromPid) Source() =>
        (new Option<int>("--fd") { Description = "The descriptor number: inherited, or in --from-pid's process.", Required = true },
         new Option<int?>("--from-pid") { Description = "Take the descriptor out of this process with pidfd_getfd (needs ptrace permission)." });

    private static EventFd Open(ParseResult r, Option<int> fd, Option<int?> fromPid, SyscallTrace? trace) =>
        r.GetValue(fromPid) is int pid ? EventFd.FromProcess(pid, r.GetValue(fd), trace: trace) : EventFd.FromDescriptor(r.GetValue(fd), trace: trace);

    private static Command Add(Option<bool> trace)
    {
        (Option<int> fd, Option<int?> fromPid) = Source();
        var value = new Option<ulong>("--value") { Description = "How much to add.", DefaultValueFactory = _ => 1 };
        var command = new Command("add", "Add to the counter (write).") { fd, fromPid, value };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using EventFd eventFd = Open(r, fd, fromPid, t);
            eventFd.Add(r.GetValue(value), t);
        }));
        return command;
    }

    private static Command Read(Option<bool> trace)
    {
        (Option<int> fd, Option<int?> fromPid) = Source();
        var timeout = new Option<string?>("--timeout") { Description = "Give up after this long; exit 124. Default: wait." };
        var command = new Command("read", "Read the counter (waits while it is 0) and print it.") { fd, fromPid, timeout };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            TimeSpan wait = Cli.Timeout(r, timeout);
            using EventFd eventFd = Open(r, fd, fromPid, t);
            ulong value = eventFd.Read(wait, default, t) ?? throw new TimeoutException($"{eventFd.Description}: nothing within {Units.FormatDuration(wait)}.");
            Console.WriteLine(value.ToString(CultureInfo.InvariantCulture));
        }));
        return command;
    }

    private static Command Pong(Option<bool> trace)
    {
        var ping = new Option<int>("--ping") { Description = "Inherited eventfd to read.", Required = true };
        var pong = new Option<int>("--pong") { Description = "Inherited eventfd to answer on.", Required = true };
        var count = new Option<long>("--count") { Description = "Round trips.", Required = true };
        var command = new Command("pong", "Answer each read on --ping with an add on --pong, --count times (the far side of a ping-pong).") { ping, pong, count };
        command.SetAction(r => Cli.Run(() =>
        {
            using EventFd a = EventFd.FromDescriptor(r.GetValue(ping));
            using EventFd b = EventFd.FromDescriptor(r.GetValue(pong));
            for (long i = 0; i < r.GetValue(count); i++)
            {
                a.Read(Timeout.InfiniteTimeSpan);
                b.Add(1);
            }
        }));
        return command;
    }

    public static Command BuildTimer(Option<bool> trace)
    {
        var delay = new Option<string>("--delay") { Description = "First expiry after this long.", DefaultValueFactory = _ => "1s" };
        var interval = new Option<string?>("--interval") { Description = "Then every this long." };
        var count = new Option<int>("--count") { Description = "Reads to make.", DefaultValueFactory = _ => 1 };
        var clock = new Option<TimerClock>("--clock") { Description = "monotonic, realtime or boottime.", DefaultValueFactory = _ => TimerClock.Monotonic };
        var command = new Command("timer", "Arm a timerfd and print the expiration count of each read.") { delay, interval, count, clock };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using TimerFd timer = TimerFd.Create(r.GetValue(clock), trace: t);
            timer.Arm(Units.ParseDuration(r.GetValue(delay)!), r.GetValue(interval) is string text ? Units.ParseDuration(text) : TimeSpan.Zero, t);
            for (int i = 0; i < r.GetValue(count); i++)
            {
                Console.WriteLine($"{DateTime.Now:HH:mm:ss.fff} expirations {timer.Read(Timeout.InfiniteTimeSpan, default, t)}");
            }
        }));
        return command;
    }

    public static Command BuildPoll(Option<bool> trace)
    {
        var fds = new Option<int[]>("--fd") { Description = "A descriptor this process inherited, to wait on (repeatable; any kind: a pipe, a socket, an eventfd, a terminal).", Required = true, Arity = ArgumentArity.OneOrMore };
        var mechanism = new Option<WaitMechanism>("--mechanism") { Description = "epoll (the default) or poll.", DefaultValueFactory = _ => WaitMechanism.Epoll };
        var events = new Option<Readiness[]>("--events") { Description = "What to wait for: readable (the default), writable, priority, readhangup. Repeatable.", Arity = ArgumentArity.OneOrMore };
        var edge = new Option<bool>("--edge") { Description = "Edge-triggered (EPOLLET): each becomes ready once per change, not while it stays ready. epoll only." };
        var oneShot = new Option<bool>("--oneshot") { Description = "One-shot (EPOLLONESHOT): each is reported once. epoll only." };
        var count = new Option<int>("--count") { Description = "Waits to make.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<string?>("--timeout") { Description = "Give up on a wait after this long; exit 1. Default: wait." };
        var json = new Option<bool>("--json") { Description = "One JSON object per ready descriptor." };
        var command = new Command("poll", "Wait on inherited descriptors with epoll or poll and print each that is ready, and for what, as the kernel says (it reads nothing).")
        {
            fds, mechanism, events, edge, oneShot, count, timeout, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            TimeSpan wait = Cli.Timeout(r, timeout);
            Readiness interest = (r.GetValue(events) ?? []).Aggregate((Readiness)0, (all, one) => all | one);
            PollOptions options = (r.GetValue(edge) ? PollOptions.EdgeTriggered : 0) | (r.GetValue(oneShot) ? PollOptions.OneShot : 0);
            if (options != PollOptions.None && r.GetValue(mechanism) == WaitMechanism.Poll)
            {
                throw new ArgumentException("poll(2) is level-triggered only: --edge and --oneshot are epoll's.");
            }
            var handles = new List<FileDescriptor>();
            try
            {
                foreach (int fd in r.GetValue(fds)!)
                {
                    handles.Add(FileDescriptor.Duplicate(fd, t));
                }
                using PollSet? set = r.GetValue(mechanism) == WaitMechanism.Epoll ? new PollSet(t) : null;
                using PollList? list = set is null ? new PollList(t) : null;
                foreach (FileDescriptor handle in handles)
                {
                    _ = set?.Add(handle, interest == 0 ? Readiness.Readable : interest, options, t) ?? list!.Add(handle, interest == 0 ? Readiness.Readable : interest);
                }
                var ready = new ReadyHandle[handles.Count];
                for (int i = 0; i < r.GetValue(count); i++)
                {
                    int found = set?.Wait(ready, wait, default, t) ?? list!.Wait(ready, wait, default, t);
                    if (found == 0)
                    {
                        throw new TimeoutException($"none of the {handles.Count} descriptors was ready within {Units.FormatDuration(wait)}");
                    }
                    foreach (ReadyHandle one in ready.AsSpan(0, found))
                    {
                        int fd = r.GetValue(fds)![one.Index];
                        Console.WriteLine(r.GetValue(json)
                            ? System.Text.Json.JsonSerializer.Serialize(new { fd, events = one.Events, target = handles[one.Index].Target }, Cli.CompactJson)
                            : $"fd {fd}: {one.Events} ({handles[one.Index].Target})");
                    }
                    Console.Out.Flush();
                }
            }
            finally
            {
                handles.ForEach(h => h.Dispose());
            }
        }));
        return command;
    }

    public static Command BuildSignal(Option<bool> trace)
    {
        var signals = new Argument<string[]>("signal") { Description = "Signals: USR1, SIGTERM, 10.", Arity = ArgumentArity.OneOrMore };
        var count = new Option<int>("--count") { Description = "Stop after this many.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<string?>("--timeout") { Description = "Give up when none came for this long; exit 124." };
        var json = new Option<bool>("--json") { Description = "One JSON object per signal." };
        var command = new Command("signal", "Receive signals as records (signalfd where the signals are blocked in every thread, the runtime's handler otherwise).")
        {
            signals, count, timeout, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            TimeSpan wait = Cli.Timeout(r, timeout);
            using SignalFd signalFd = SignalFd.Create(r.GetValue(signals)!.Select(s => Signals.Parse(s)), t);
            Console.WriteLine($"ready {Environment.ProcessId} {signalFd.Mechanism}");
            Console.Out.Flush();
            for (int i = 0; i < r.GetValue(count); i++)
            {
                SignalRecord record = signalFd.Read(wait, default, t) ?? throw new TimeoutException($"no signal within {Units.FormatDuration(wait)}");
                Console.WriteLine(r.GetValue(json)
                    ? System.Text.Json.JsonSerializer.Serialize(new { record.Signal, record.Name, record.SenderPid, record.SenderUid, record.Code, record.CodeName }, Cli.CompactJson)
                    : record.ToString());
                Console.Out.Flush();
            }
        }));
        return command;
    }
}
