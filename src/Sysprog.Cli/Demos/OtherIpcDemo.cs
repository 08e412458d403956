using System.CommandLine;
using System.Globalization;
using System.Text;
using Sysprog;

namespace Sysprog.Cli.Demos;

/// <summary>
/// The "other IPC" chapter (the screenplay docs/demos/12-FileLocksAndProcessMemory.Tests.ps1) across real processes:
/// file locks between processes (a waiter asleep in flock(2), shared locks and a refused writer, /proc/locks), then
/// another process's memory read and written with process_vm_readv and process_vm_writev.
/// </summary>
internal static class OtherIpcDemo
{
    public static Command Build(Option<bool> trace)
    {
        var command = new Command("other-ipc", "Replay the other-IPC chapter: file locks between processes (exclusive, shared, /proc/locks), and reading and writing another process's memory.");
        command.SetAction(r => Cli.Run(() => Run(Cli.Trace(r, trace))));
        return command;
    }

    private static void Run(SyscallTrace? trace)
    {
        bool traced = trace is not null;
        string folder = Directory.CreateTempSubdirectory("sysprog-demo-").FullName;
        string path = Path.Combine(folder, "demo.lock");
        // Ctrl+C ends this process (the peers and the child, in its process group, get SIGINT too): the folder goes first.
        ConsoleCancelEventHandler cleanUpOnCtrlC = (_, _) => Directory.Delete(folder, recursive: true);
        Console.CancelKeyPress += cleanUpOnCtrlC;
        try
        {
            DemoCommand.Step(1, $"This process takes an exclusive flock on {path}; /proc/locks lists it.");
            FileLock exclusive = FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero, trace: trace)
                ?? throw new InvalidOperationException($"{path} is locked already");
            try
            {
                PrintLocks(path, trace);

                DemoCommand.Step(2, "Another process asks for it ('sysprog lock'): it sleeps in flock(2) until this one releases the lock.");
                using DemoPeer waiter = DemoPeer.Start(["lock", path, "--timeout", "60s", "--", "true"], traced);
                Console.WriteLine($"    peer pid {waiter.ProcessId} is asleep in {waiter.WaitUntilBlockedIn("flock")}");
                PrintLocks(path, trace);
                exclusive.Release(trace);
                Console.WriteLine("    released here; the peer wrote:");
                Console.WriteLine($"    {waiter.ReadLine()}");
                Console.WriteLine($"    peer pid {waiter.ProcessId}: {waiter.Finish().Exit}");
            }
            finally
            {
                exclusive.Dispose();
            }

            DemoCommand.Step(3, "A shared lock here; another process's shared lock is granted at once, an exclusive one refused.");
            using (FileLock shared = FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Shared, TimeSpan.Zero, trace: trace)
                ?? throw new InvalidOperationException($"{path} is locked already"))
            {
                using (DemoPeer reader = DemoPeer.Start(["lock", path, "--shared", "--timeout", "0", "--", "sh", "-c", "echo granted beside the other reader"], traced))
                {
                    Console.WriteLine($"    shared: {reader.ReadLine()}; {reader.ReadLine()} ({reader.Finish().Exit})");
                }
                using DemoPeer writer = DemoPeer.Start(["lock", path, "--timeout", "0", "--", "true"], traced, captureErrors: true);
                (ProcessExit exit, _, string errors) = writer.Finish();
                Console.WriteLine($"    exclusive ({exit}): {errors.Trim()}");
                shared.Release(trace);
            }

            DemoCommand.Step(4, "A child (sleep) started with SYSPROG_DEMO_SECRET=open sesame: its environment, read from its stack with process_vm_readv.");
            using ChildProcess sleeper = ChildProcess.Start(new ChildProcessStartInfo("sleep", ["600"])
            {
                Environment = new Dictionary<string, string?> { ["SYSPROG_DEMO_SECRET"] = "open sesame" },
            }, trace);
            try
            {
                int child = sleeper.ProcessId;
                // Asleep in sleep's own call, it has finished its execve: before that, env_start may not be set yet.
                Console.WriteLine($"    pid {child} runs sleep, asleep in {DemoPeer.WaitUntilBlockedIn(sleeper, "clock_nanosleep", "nanosleep")}");
                // Fields 48 and 49 after the command name: env_start and env_end, where execve put the strings.
                string stat = File.ReadAllText($"/proc/{child}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ulong start = ulong.Parse(fields[47], CultureInfo.InvariantCulture);
                ulong end = ulong.Parse(fields[48], CultureInfo.InvariantCulture);
                ProcessMapping stack = ProcessMaps.Read(child).Single(m => m.Start <= start && start < m.End);
                byte[] environment = ProcessMemory.Read(child, start, checked((int)(end - start)), out ProcessMemoryTransfer transfer, trace);
                transfer.ThrowIfIncomplete();
                string text = Encoding.UTF8.GetString(environment);
                int at = text.IndexOf("SYSPROG_DEMO_SECRET=", StringComparison.Ordinal);
                string variable = text[at..text.IndexOf('\0', at)];
                ulong secretAt = start + (ulong)(at + "SYSPROG_DEMO_SECRET=".Length);
                Console.WriteLine($"    read {environment.Length} bytes of pid {child} at 0x{start:x}, in its {stack.Path} ({stack.Start:x}-{stack.End:x})");
                Console.WriteLine($"    found {variable} at 0x{at + (long)start:x}");

                DemoCommand.Step(5, "Another process ('sysprog poke') writes \"shut sesame\" over it with process_vm_writev; /proc/PID/environ, read from that memory, changes.");
                using DemoPeer poker = DemoPeer.Start(["poke", child.ToString(CultureInfo.InvariantCulture), $"0x{secretAt:x}", "--hex", Convert.ToHexString(Encoding.UTF8.GetBytes("shut sesame"))], traced);
                (ProcessExit poked, string said, _) = poker.Finish();
                Console.WriteLine($"    poke ({poked}): {said.Trim()}");
                string now = File.ReadAllText($"/proc/{child}/environ").Split('\0').Single(v => v.StartsWith("SYSPROG_DEMO_SECRET=", StringComparison.Ordinal));
                Console.WriteLine($"    /proc/{child}/environ now says {now}");
            }
            finally
            {
                sleeper.Signal(Signals.SIGKILL, trace);
                sleeper.WaitForExit(TimeSpan.FromSeconds(30), default, trace);
            }
        }
        finally
        {
            Console.CancelKeyPress -= cleanUpOnCtrlC;
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The locks on one file as /proc/locks has them, holders and waiters (->), like lslocks.</summary>
    private static void PrintLocks(string path, SyscallTrace? trace)
    {
        foreach (FileLockInfo l in FileLockInfo.List(path, null, trace))
        {
            Console.WriteLine($"    /proc/locks: {l.Type} {l.ModeText} {(l.IsWaiting ? "waiting (->)" : "held")} by pid {l.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "?"} ({l.ProcessName ?? "?"})");
        }
    }
}
