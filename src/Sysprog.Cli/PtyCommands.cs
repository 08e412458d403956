using System.CommandLine;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>A command on a pseudoterminal: its output relayed to stdout, stdin relayed to it, its exit status returned.</summary>
internal static class PtyCommands
{
    public static Command BuildPty(Option<bool> trace)
    {
        var program = new Argument<string[]>("command") { Description = "After --: the program and its arguments.", Arity = ArgumentArity.OneOrMore };
        var rows = new Option<int>("--rows") { Description = "Terminal rows.", DefaultValueFactory = _ => 24 };
        var columns = new Option<int>("--columns") { Description = "Terminal columns.", DefaultValueFactory = _ => 80 };
        var timeout = new Option<string?>("--timeout") { Description = "Hang up on the command after this long; exit 1. Default: wait for it." };
        var command = new Command("pty", "Run a command on a new pseudoterminal (its controlling terminal), relaying stdin to it and its output to stdout; exit with its status (128+N when killed by signal N).")
        {
            program, rows, columns, timeout,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            int exit = Cli.Success;
            int ran = Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                string[] argv = r.GetValue(program)!;
                TimeSpan limit = r.GetValue(timeout) is string text ? Units.ParseDuration(text) : Timeout.InfiniteTimeSpan;
                using Pty pty = Pty.Start(argv[0], argv[1..], r.GetValue(rows), r.GetValue(columns), Environment.CurrentDirectory, trace: t);
                var input = new Thread(() => RelayInput(pty)) { IsBackground = true, Name = "pty input" };
                input.Start();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using Stream stdout = Console.OpenStandardOutput();
                while (!pty.IsEnded)
                {
                    TimeSpan left = limit == Timeout.InfiniteTimeSpan ? limit : TimeSpan.FromTicks(Math.Max(0, (limit - clock.Elapsed).Ticks));
                    string output = pty.Read(left, cancel.Token, t)
                        ?? throw new TimeoutException($"{pty.Description} still running after {Units.FormatDuration(limit)}; hung up on it.");
                    byte[] bytes = System.Text.Encoding.UTF8.GetBytes(output);
                    stdout.Write(bytes);
                    stdout.Flush();
                }
                PtyExit ended = pty.WaitForExit(Timeout.InfiniteTimeSpan, cancel.Token, t)!;
                exit = ended.ExitCode ?? 128 + ended.Signal!.Value;
            });
            return ran != Cli.Success ? ran : exit;
        });
        return command;
    }

    /// <summary>Copies this process's stdin to the terminal until stdin ends or the terminal closes.</summary>
    private static void RelayInput(Pty pty)
    {
        try
        {
            using Stream stdin = Console.OpenStandardInput();
            byte[] buffer = new byte[4096];
            int count;
            while ((count = stdin.Read(buffer)) > 0)
            {
                pty.Write(System.Text.Encoding.UTF8.GetString(buffer, 0, count), Timeout.InfiniteTimeSpan);
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SysprogException or IOException)
        {
            // The terminal closed under the relay: the command has ended.
        }
    }
}
