using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>measure-ipc: choosing an IPC mechanism by what it costs on this machine; ipc-peer: the other process it starts.</summary>
internal static class IpcMeasureCommands
{
    private const string PeerCommandName = "ipc-peer";

    public static Command BuildMeasure(Option<bool> trace)
    {
        var mechanisms = new Option<IpcMechanism[]>("--mechanism")
        {
            Description = $"Which to measure (repeat or list): {string.Join(", ", Enum.GetNames<IpcMechanism>())}. Default: all.",
            AllowMultipleArgumentsPerToken = true,
        };
        var size = new Option<int>("--size") { Description = "Bytes per message.", DefaultValueFactory = _ => new IpcMeasurementOptions().MessageSize };
        var roundTrips = new Option<int>("--round-trips") { Description = "Round trips timed per mechanism.", DefaultValueFactory = _ => new IpcMeasurementOptions().RoundTrips };
        var messages = new Option<int>("--messages") { Description = "Messages sent one way per mechanism, for throughput.", DefaultValueFactory = _ => new IpcMeasurementOptions().Messages };
        var cpu = new Option<int?>("--cpu") { Description = "Run both processes on this CPU (default: the last this process may use)." };
        var anyCpu = new Option<bool>("--any-cpu") { Description = "Pin neither process: wake-ups may cross CPUs (noisier, on a VM much slower when idle)." };
        var json = new Option<bool>("--json") { Description = "Write JSON: one object per mechanism." };
        var command = new Command("measure-ipc", "Choose an IPC mechanism: round-trip latency and throughput of each between this process and a peer process, with the trade-offs beside the numbers.")
        {
            mechanisms, size, roundTrips, messages, cpu, anyCpu, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            if (r.GetValue(anyCpu) && r.GetValue(cpu) is not null)
            {
                throw new ArgumentException("--cpu pins both processes to one CPU and --any-cpu pins neither: give one.");
            }
            var options = new IpcMeasurementOptions
            {
                MessageSize = r.GetValue(size), RoundTrips = r.GetValue(roundTrips), Messages = r.GetValue(messages),
                Cpu = r.GetValue(anyCpu) ? null : r.GetValue(cpu) ?? IpcMechanismBenchmark.DefaultCpu(),
            };
            IpcMechanism[] chosen = r.GetValue(mechanisms) is { Length: > 0 } given ? given.Distinct().ToArray() : Enum.GetValues<IpcMechanism>();
            SyscallTrace? t = Cli.Trace(r, trace);
            using var cancel = new Cli.CtrlC();
            var measured = new List<IpcMeasurement>();
            var failures = new List<Exception>();
            foreach (IpcMechanism mechanism in chosen)
            {
                try
                {
                    measured.Add(IpcMechanismBenchmark.Measure(mechanism, Peer, options, cancel.Token, t));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures.Add(e);
                    Console.Error.WriteLine($"sysprog: {mechanism}: {e.Message}");
                }
            }
            if (r.GetValue(json))
            {
                Cli.WriteJson(measured.Select(m => new
                {
                    Mechanism = m.Mechanism.ToString(), m.MessageSize, m.RoundTrips, m.RoundTripMinimumMicroseconds, m.RoundTripMedianMicroseconds,
                    m.RoundTripP99Microseconds, m.Messages, m.MessagesPerSecond, m.BytesPerSecond, m.NamedBy, m.Lifetime, m.KeepsMessageBoundaries,
                    m.HasPriorities, m.PassesDescriptors, m.CrossesHosts, m.Cpu,
                }));
            }
            else
            {
                Console.WriteLine($"Between this process and a peer process, {options.MessageSize}-byte messages: round trips in");
                Console.WriteLine($"microseconds ({options.RoundTrips:N0} timed), throughput over {options.Messages:N0} messages one way;");
                Console.WriteLine(options.Cpu is int pinned ? $"both processes on CPU {pinned}." : "neither process pinned to a CPU.");
                Console.WriteLine();
                Console.WriteLine($"{"Mechanism",-12} {"Median",7} {"P99",7} {"Msg/s",10} {"MiB/s",7} {"Bounds",-6} {"Prio",-4} {"Fds",-3} {"Hosts",-5} Lifetime");
                foreach (IpcMeasurement m in measured)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{m.Mechanism,-12} {m.RoundTripMedianMicroseconds,7:0.0} {m.RoundTripP99Microseconds,7:0.0} {(m.MessagesPerSecond is double rate ? rate.ToString("N0", CultureInfo.InvariantCulture) : "-"),10} " +
                        $"{(m.BytesPerSecond is double bytes ? (bytes / (1 << 20)).ToString("0.0", CultureInfo.InvariantCulture) : "-"),7} {YesNo(m.KeepsMessageBoundaries),-6} {YesNo(m.HasPriorities),-4} " +
                        $"{YesNo(m.PassesDescriptors),-3} {YesNo(m.CrossesHosts),-5} {m.Lifetime}"));
                }
                Console.WriteLine();
                Console.WriteLine("Bounds: a read returns one whole message. Prio: messages carry priorities.");
                Console.WriteLine("Fds: open descriptors can be passed. Hosts: the same code reaches other hosts.");
                Console.WriteLine("Lifetime: process (gone with the last descriptor), kernel (until removed).");
                Console.WriteLine("EventFd and Signal carry no data, so they have no throughput.");
            }
            if (failures.Count > 0)
            {
                throw new IOException($"{failures.Count} of {chosen.Length} mechanisms could not be measured (above).");
            }
        }));
        return command;
    }

    /// <summary>The peer measure-ipc starts: this program again. Hidden: only measure-ipc runs it.</summary>
    public static Command BuildPeer()
    {
        var words = new Argument<string[]>("arguments") { Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(PeerCommandName, "The other process of measure-ipc.") { words };
        command.Hidden = true;
        command.SetAction(r => IpcMechanismBenchmark.ServePeer(r.GetValue(words) ?? []));
        return command;
    }

    private static ChildProcessStartInfo Peer(IReadOnlyList<string> peerArguments)
    {
        (string program, IReadOnlyList<string> words) = Cli.Self(peerArguments.Prepend(PeerCommandName));
        return new ChildProcessStartInfo(program, words);
    }

    private static string YesNo(bool value) => value ? "yes" : "no";
}
