using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>Processes: spawn starts one (posix_spawn, pidfd), sched reads and sets scheduling, limits reads and sets resource limits.</summary>
internal static class ProcessCommands
{
    /// <summary>A process argument: a pid, or "self" (0: the process the core call runs in).</summary>
    public static Argument<string> ProcessArgument(string description = "A process id, or self.") => new("pid") { Description = description };

    public static int ParseProcess(string text) => text == "self" ? 0
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid
        : throw new ArgumentException($"'{text}' is not a process: give a pid or self.");

    public static Command BuildSpawn(Option<bool> trace)
    {
        var program = new Argument<string[]>("command") { Description = "After --: the program and its arguments.", Arity = ArgumentArity.OneOrMore };
        var fds = new Option<string[]>("--fd") { Description = "N=M gives the child this process's descriptor M as N; N=PATH opens PATH for it (read for 0, else written: created 0600, truncated). Repeatable." };
        var environment = new Option<string[]>("--env") { Description = "NAME=VALUE laid over this environment; NAME= with nothing after removes it. Repeatable." };
        var directory = new Option<string?>("--cwd") { Description = "The child's working directory." };
        var session = new Option<bool>("--new-session") { Description = "setsid: a session of its own, no controlling terminal." };
        var group = new Option<bool>("--new-group") { Description = "A process group of its own (what the shell does for a job)." };
        var block = new Option<string[]>("--block") { Description = "Signals the child starts with blocked: USR1, SIGTERM, 10. Repeatable." };
        var policy = new Option<SchedulingPolicy?>("--policy") { Description = "Scheduling policy: other, batch, idle, fifo, rr." };
        var priority = new Option<int>("--priority") { Description = "Static priority for fifo and rr (1-99)." };
        var timeout = new Option<string?>("--timeout") { Description = "Kill it (SIGKILL) after this long; exit 124." };
        var noWait = new Option<bool>("--no-wait") { Description = "Print its pid and exit, leaving it running." };
        var command = new Command("spawn", "Start a program with posix_spawn, mapping descriptors and setting attributes, and wait for it through a pidfd; exit with its status (128+N when killed by signal N).")
        {
            program, fds, environment, directory, session, group, block, policy, priority, timeout, noWait,
        };
        command.SetAction(r =>
        {
            int exit = Cli.Success;
            var opened = new List<IDisposable>();
            int ran = Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                string[] argv = r.GetValue(program)!;
                var descriptors = new Dictionary<int, IDescriptorObject>();
                foreach (string mapping in r.GetValue(fds) ?? [])
                {
                    (int number, FileDescriptor source) = ParseMapping(mapping, t);
                    opened.Add(source);
                    descriptors[number] = source;
                }
                var info = new ChildProcessStartInfo(argv[0], argv[1..])
                {
                    Descriptors = descriptors,
                    Environment = (r.GetValue(environment) ?? []).Select(ParseVariable).ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal),
                    WorkingDirectory = r.GetValue(directory),
                    NewSession = r.GetValue(session),
                    NewProcessGroup = r.GetValue(group),
                    BlockedSignals = (r.GetValue(block) ?? []).Select(s => Signals.Parse(s)).ToArray(),
                    SchedulingPolicy = r.GetValue(policy),
                    SchedulingPriority = r.GetValue(priority),
                };
                using ChildProcess child = ChildProcess.Start(info, t);
                opened.ForEach(o => o.Dispose());
                if (r.GetValue(noWait))
                {
                    Console.WriteLine(child.ProcessId);
                    return;
                }
                using var cancel = new Cli.CtrlC();
                TimeSpan limit = Cli.Timeout(r, timeout);
                if (child.WaitForExit(limit, cancel.Token, t) is not ProcessExit ended)
                {
                    child.Signal(Signals.SIGKILL, t);
                    child.WaitForExit(Timeout.InfiniteTimeSpan, default, t);
                    throw new TimeoutException($"{child.Description} still running after {Units.FormatDuration(limit)}; killed it.");
                }
                exit = ended.ExitCode ?? 128 + ended.Signal!.Value;
            });
            opened.ForEach(o => o.Dispose());
            return ran != Cli.Success ? ran : exit;
        });
        return command;
    }

    /// <summary>"3=0" (this process's 0 as the child's 3) or "1=/tmp/out" (a file opened for it).</summary>
    private static (int Number, FileDescriptor Source) ParseMapping(string text, SyscallTrace? trace)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1 || !int.TryParse(text[..equals], NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            throw new ArgumentException($"--fd '{text}' is not N=M or N=PATH.");
        }
        string source = text[(equals + 1)..];
        return int.TryParse(source, NumberStyles.None, CultureInfo.InvariantCulture, out int fd)
            ? (number, FileDescriptor.Duplicate(fd, trace))
            : (number, FileDescriptor.Open(source, number == 0 ? FileAccess.Read : FileAccess.Write, trace));
    }

    private static (string Name, string? Value) ParseVariable(string text)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new ArgumentException($"--env '{text}' is not NAME=VALUE.");
        }
        return (text[..equals], equals == text.Length - 1 ? null : text[(equals + 1)..]);
    }

    public static Command BuildSched(Option<bool> trace)
    {
        var process = ProcessArgument();
        var thread = new Option<int?>("--thread") { Description = "One thread of the process (a TID) instead of all of them." };
        var threads = new Option<bool>("--threads") { Description = "List every thread, not only the main one." };
        var policy = new Option<SchedulingPolicy?>("--policy") { Description = "Set the policy: other, batch, idle, fifo, rr." };
        var priority = new Option<int>("--priority") { Description = "With --policy fifo or rr: the static priority, 1-99." };
        var resetOnFork = new Option<bool>("--reset-on-fork") { Description = "With --policy: children start back at SCHED_OTHER." };
        var nice = new Option<int?>("--nice") { Description = "Set the nice value, -20 to 19." };
        var affinity = new Option<string?>("--affinity") { Description = "Set the CPUs it may run on: 0-3,6." };
        var force = new Option<bool>("--force") { Description = "With --policy idle on self: set it all the same (it can starve this process)." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("sched", "Show (and with options set) a process's scheduling: policy, priority, nice and CPU affinity, per thread, like chrt, renice and taskset. Setting applies to every thread unless --thread.")
        {
            process, thread, threads, policy, priority, resetOnFork, nice, affinity, force, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            int pid = ParseProcess(r.GetValue(process)!);
            int? tid = r.GetValue(thread);
            if (r.GetValue(policy) is SchedulingPolicy newPolicy)
            {
                ProcessScheduling.SetPolicy(pid, newPolicy, r.GetValue(priority), r.GetValue(resetOnFork), tid, t, r.GetValue(force));
            }
            if (r.GetValue(nice) is int newNice)
            {
                ProcessScheduling.SetNice(pid, newNice, tid, t);
            }
            if (r.GetValue(affinity) is string cpus)
            {
                ProcessScheduling.SetAffinity(pid, CpuList.Parse(cpus).ToArray(), tid, t);
            }
            IReadOnlyList<ProcessScheduling> shown = r.GetValue(threads) && tid is null ? ProcessScheduling.GetThreads(pid, t) : [ProcessScheduling.Get(pid, tid, t)];
            if (r.GetValue(json))
            {
                Cli.WriteJson(shown);
                return;
            }
            Console.WriteLine($"{"PID",7} {"TID",7} {"NAME",-16} {"POLICY",-34} {"PRIO",4} {"NICE",4} CPUS");
            foreach (ProcessScheduling s in shown)
            {
                string policyText = s.PolicyName + (s.ResetOnFork ? "|SCHED_RESET_ON_FORK" : "");
                Console.WriteLine($"{s.ProcessId,7} {s.ThreadId,7} {s.ThreadName,-16} {policyText,-34} {s.Priority,4} {s.Nice,4} {s.AffinityList}");
            }
        }));
        return command;
    }

    public static Command BuildLimits(Option<bool> trace)
    {
        var process = new Argument<string?>("pid") { Description = "A process id, or self: its resource limits (prlimit). Without one: the IPC limits.", Arity = ArgumentArity.ZeroOrOne };
        var set = new Option<string[]>("--set") { Description = "RESOURCE=SOFT:HARD, =SOFT or =:HARD (nofile=1024:4096, memlock=64M, core=unlimited). Repeatable." };
        var ipc = new Option<bool>("--ipc") { Description = "The limits on POSIX and System V IPC objects, with their usage and hints (the default without a pid)." };
        var force = new Option<bool>("--force") { Description = "With self: lower a limit that can end this process (nofile, cpu, as, data, stack, fsize, rttime)." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("limits", "Show (and with --set change) a process's resource limits like prlimit; without a pid, the limits on IPC objects with their usage and hints where one is likely to bite.")
        {
            process, set, ipc, force, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            if (r.GetValue(process) is not string processText)
            {
                if (r.GetValue(set) is { Length: > 0 })
                {
                    throw new ArgumentException("--set changes a process's limits: give its pid (or self).");
                }
                IpcCommands.WriteIpcLimits(IpcLimits.Read(t), r.GetValue(json));
                return;
            }
            if (r.GetValue(ipc))
            {
                throw new ArgumentException("--ipc lists the machine's IPC limits, not a process's: leave out the pid.");
            }
            int pid = ParseProcess(processText);
            foreach (string change in r.GetValue(set) ?? [])
            {
                (ProcessResource resource, long? soft, long? hard) = ParseLimit(change);
                ProcessLimit.Set(resource, soft, hard, pid, t, r.GetValue(force));
            }
            IReadOnlyList<ProcessLimit> limits = ProcessLimit.GetAll(pid, t);
            if (r.GetValue(json))
            {
                Cli.WriteJson(limits);
                return;
            }
            Console.WriteLine($"{"RESOURCE",-18} {"SOFT",-12} {"HARD",-12} {"UNITS",-12} DESCRIPTION");
            foreach (ProcessLimit limit in limits)
            {
                Console.WriteLine($"{limit.Name,-18} {limit.SoftText,-12} {limit.HardText,-12} {limit.Unit,-12} {limit.Description}");
            }
        }));
        return command;
    }

    /// <summary>"nofile=1024:4096", "memlock=64M", "core=:unlimited".</summary>
    private static (ProcessResource Resource, long? Soft, long? Hard) ParseLimit(string text)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        string name = equals > 0 ? text[..equals].Trim() : "";
        if (name.StartsWith("RLIMIT_", StringComparison.OrdinalIgnoreCase))
        {
            name = name[7..];
        }
        if (equals <= 0 || !Enum.TryParse(name, ignoreCase: true, out ProcessResource resource) || !Enum.IsDefined(resource) || int.TryParse(name, out _))
        {
            throw new ArgumentException($"--set '{text}' is not RESOURCE=SOFT:HARD with a resource such as nofile, memlock, rtprio, core.");
        }
        string[] values = text[(equals + 1)..].Split(':');
        if (values.Length > 2 || values.All(v => v.Length == 0))
        {
            throw new ArgumentException($"--set '{text}' is not RESOURCE=SOFT:HARD, =SOFT or =:HARD.");
        }
        bool bytes = new ProcessLimit(0, resource, null, null).Unit == "bytes";
        long? Value(string v) => v.Length == 0 ? null
            : v.Equals("unlimited", StringComparison.OrdinalIgnoreCase) || v.Equals("infinity", StringComparison.OrdinalIgnoreCase) ? long.MaxValue
            : bytes ? Units.ParseByteSize(v) : long.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture);
        return (resource, Value(values[0]), values.Length == 2 ? Value(values[1]) : null);
    }

    public static Command BuildLatency(Option<bool> trace)
    {
        var interval = new Option<string>("--interval") { Description = "The period: 1ms, 200us is 0.2ms.", DefaultValueFactory = _ => "1ms" };
        var count = new Option<int?>("--count") { Description = "Wake-ups to measure (default 1000, or as many as --duration holds)." };
        var duration = new Option<string?>("--duration") { Description = "Stop after this long (10s, 5m) even before --count wake-ups, like cyclictest -D." };
        var fifo = new Option<int?>("--fifo") { Description = "Run the measuring thread SCHED_FIFO at this priority (1-99)." };
        var mlockall = new Option<bool>("--mlockall") { Description = "Lock all memory (mlockall) for the run." };
        var cpu = new Option<int?>("--cpu") { Description = "Pin the measuring thread to this CPU." };
        var timerfd = new Option<bool>("--timerfd") { Description = "Wait with a timerfd instead of clock_nanosleep." };
        var json = new Option<bool>("--json") { Description = "Write JSON: the statistics and histogram (with --samples, every latency in ns)." };
        var samples = new Option<bool>("--samples") { Description = "With --json: every latency too." };
        var csv = new Option<bool>("--csv") { Description = "Write the histogram as CSV: lower_us,upper_us,count." };
        var picture = new Option<bool>("--picture") { Description = "Draw the histogram (log counts) and the wake-ups over time, with min, median, p99, p99.9 and max marked." };
        var svg = new Option<string?>("--svg") { Description = "Write that picture as SVG to this file instead." };
        var width = new Option<int?>("--width") { Description = "With --picture, the columns to fit (default: the terminal's, or 80)." };
        var command = new Command("latency", "Measure timer wake-up latency like cyclictest: periodic absolute deadlines on CLOCK_MONOTONIC, min, median, p99, p99.9 and max lateness, and a histogram.")
        {
            interval, count, duration, fifo, mlockall, cpu, timerfd, json, samples, csv, picture, svg, width,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            using var cancel = new Cli.CtrlC();
            TimeSpan period = Units.ParseDuration(r.GetValue(interval)!);
            TimeSpan? bound = r.GetValue(duration) is string text ? Units.ParseDuration(text) : null;
            var options = new TimerLatencyOptions
            {
                Interval = period,
                Count = r.GetValue(count) ?? (bound is TimeSpan b ? TimerLatencyOptions.CountFor(b, period) : 1000),
                Duration = bound,
                Policy = r.GetValue(fifo) is null ? null : SchedulingPolicy.Fifo,
                Priority = r.GetValue(fifo) ?? 0,
                LockMemory = r.GetValue(mlockall),
                Cpu = r.GetValue(cpu),
                Timer = r.GetValue(timerfd) ? LatencyTimer.TimerFd : LatencyTimer.ClockNanosleep,
            };
            TimerLatencyResult result = TimerLatency.Measure(options, cancel.Token, Cli.Trace(r, trace));
            Write(r, result);
            if (result.Stopped)
            {
                // As cyclictest does on SIGINT: the figures of what was measured, then the exit code of an interrupted run.
                throw new OperationCanceledException($"stopped by Ctrl+C after {result.Samples:N0} of {options.Count:N0} wake-ups: the figures above are of those.");
            }
        }));
        return command;

        void Write(ParseResult r, TimerLatencyResult result)
        {
            if (r.GetValue(svg) is string file)
            {
                PictureFile.Write(file, LatencyPicture.ToSvg(result), default, Cli.Trace(r, trace));
                return;
            }
            if (r.GetValue(picture))
            {
                Console.Write(LatencyPicture.ToText(result, MappingCommands.PictureWidth(r.GetValue(width)), MappingCommands.PictureColor()));
                return;
            }
            if (r.GetValue(csv))
            {
                Console.WriteLine("lower_us,upper_us,count");
                foreach (LatencyBucket bucket in result.Histogram)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bucket.LowerMicroseconds},{(double.IsPositiveInfinity(bucket.UpperMicroseconds) ? "" : bucket.UpperMicroseconds)},{bucket.Count}"));
                }
                return;
            }
            double Us(TimeSpan t) => Math.Round(t.TotalMicroseconds, 1);
            if (r.GetValue(json))
            {
                Cli.WriteJson(new
                {
                    IntervalUs = Us(result.Interval), Timer = result.Timer.ToString(), result.Policy, result.MemoryLocked, result.Cpu, result.Samples,
                    MinUs = Us(result.Minimum), MedianUs = Us(result.Median), P99Us = Us(result.P99), P999Us = Us(result.P999), MaxUs = Us(result.Maximum),
                    AverageUs = Us(result.Average), result.Overruns, result.Stopped,
                    Histogram = result.Histogram.Select(b => new { b.LowerMicroseconds, UpperMicroseconds = double.IsPositiveInfinity(b.UpperMicroseconds) ? (double?)null : b.UpperMicroseconds, b.Count }),
                    LatenciesNs = r.GetValue(samples) ? result.LatenciesNanoseconds : null,
                });
                return;
            }
            Console.WriteLine($"{result.Samples} wake-ups every {Units.FormatDuration(result.Interval)} ({result.Timer}, {result.Policy}{(result.MemoryLocked ? ", mlockall" : "")}{(result.Cpu is int c ? $", CPU {c}" : "")}): latency in us");
            Console.WriteLine($"min {Us(result.Minimum)}  median {Us(result.Median)}  p99 {Us(result.P99)}  p99.9 {Us(result.P999)}  max {Us(result.Maximum)}  avg {Us(result.Average)}  overruns {result.Overruns}");
            Console.WriteLine();
            Console.Write(result.FormatHistogram());
        }
    }
}
