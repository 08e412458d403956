using System.CommandLine;
using System.Runtime.InteropServices;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>System calls: syscalls prints the table (like ausyscall --dump), syscall what each thread of a process is in.</summary>
internal static class SyscallCommands
{
    public static Command BuildSyscalls(Option<bool> trace)
    {
        var names = new Argument<string[]>("name") { Description = "Only these: names (wildcards * and ?) or numbers.", Arity = ArgumentArity.ZeroOrMore };
        var architecture = new Option<string?>("--arch") { Description = "x86_64 or aarch64 (default this machine's)." };
        architecture.AcceptOnlyFromAmong("x86_64", "x64", "aarch64", "arm64");
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("syscalls", "Print the system call table, number and name, like ausyscall --dump; with names or numbers, only those.")
        {
            names, architecture, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            Architecture? chosen = r.GetValue(architecture) switch
            {
                "x86_64" or "x64" => Architecture.X64,
                "aarch64" or "arm64" => Architecture.Arm64,
                _ => null,
            };
            string[] wanted = r.GetValue(names) ?? [];
            List<SyscallEntry> entries = SyscallTable.Entries(chosen).Where(e => wanted.Length == 0 || wanted.Any(w => Matches(e, w))).ToList();
            if (wanted.Length > 0 && entries.Count == 0)
            {
                throw new KeyNotFoundException($"No system call {string.Join(", ", wanted)} on {(chosen ?? SyscallTable.Current).ToString().ToLowerInvariant()}.");
            }
            if (r.GetValue(json))
            {
                Cli.WriteJson(entries.Select(e => new { e.Number, e.Name }));
                return;
            }
            foreach (SyscallEntry entry in entries)
            {
                Console.WriteLine($"{entry.Number}\t{entry.Name}");
            }
        }));
        return command;
    }

    private static bool Matches(SyscallEntry entry, string wanted) =>
        int.TryParse(wanted, out int number) ? entry.Number == number : System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(wanted, entry.Name, ignoreCase: false);

    public static Command BuildSyscall(Option<bool> trace)
    {
        var process = ProcessCommands.ProcessArgument();
        var thread = new Option<int?>("--thread") { Description = "Only this thread (a TID of the process)." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("syscall", "Show the system call each thread of a process is in, decoded (/proc/PID/task/TID/syscall), with the kernel function it sleeps in (wchan).")
        {
            process, thread, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            IReadOnlyList<ThreadSyscall> threads = ProcessSyscalls.Read(ProcessCommands.ParseProcess(r.GetValue(process)!), r.GetValue(thread), Cli.Trace(r, trace));
            if (r.GetValue(json))
            {
                Cli.WriteJson(threads);
                return;
            }
            Console.WriteLine($"{"TID",7} {"NAME",-16} S {"WCHAN",-24} CALL");
            foreach (ThreadSyscall t in threads)
            {
                Console.WriteLine($"{t.ThreadId,7} {t.ThreadName,-16} {t.State} {t.WaitChannel ?? "",-24} {t.Call}");
            }
        }));
        return command;
    }
}
