using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>A command on a pseudoterminal: its output relayed to stdout, stdin relayed to it, its exit status returned.</summary>
internal static class PtyCommands
{
    public static Command BuildPty(Option<bool> trace)
    {
        var program = new Argument<string[]>("command") { Description = "After --: the program and its arguments.", Arity = ArgumentArity.OneOrMore };
        var rows = new Option<int?>("--rows") { Description = "Terminal rows. Default: as many as this terminal has, or 24." };
        var columns = new Option<int?>("--columns") { Description = "Terminal columns. Default: as many as this terminal has, or 80." };
        var timeout = new Option<string?>("--timeout") { Description = "Hang up on the command after this long; exit 124. Default: wait for it." };
        var command = new Command("pty", "Run a command on a new pseudoterminal (its controlling terminal), relaying stdin to it and its output to stdout; exit with its status (128+N when killed by signal N). " +
            "Run from a terminal, that terminal is in raw mode meanwhile, so keys (Ctrl+C included) reach the command as typed, and the command's terminal follows its size.")
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
                TimeSpan limit = Cli.Timeout(r, timeout);
                using var stdin = new SafeFileHandle(0, ownsHandle: false);
                using var stdout = new SafeFileHandle(1, ownsHandle: false);
                bool outputIsTerminal = TerminalRawMode.IsTerminal(stdout);
                TerminalSize size = outputIsTerminal ? TerminalRawMode.SizeOf(stdout) : new TerminalSize(24, 80);
                using Pty pty = Pty.Start(argv[0], argv[1..], r.GetValue(rows) ?? size.Rows, r.GetValue(columns) ?? size.Columns,
                    Environment.CurrentDirectory, trace: t);
                bool sizeGiven = r.GetValue(rows) is not null || r.GetValue(columns) is not null;
                using PosixSignalRegistration? followSize = outputIsTerminal && !sizeGiven
                    ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => FollowSize(pty, stdout))
                    : null;
                bool interactive = TerminalRawMode.IsTerminal(stdin);
                using TerminalRawMode? raw = interactive ? TerminalRawMode.Enter(stdin, t) : null;
                var input = new Thread(() => RelayInput(stdin, pty, endWithEof: !interactive)) { IsBackground = true, Name = "pty input" };
                input.Start();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using Stream output = Console.OpenStandardOutput();
                while (!pty.IsEnded)
                {
                    TimeSpan left = limit == Timeout.InfiniteTimeSpan ? limit : TimeSpan.FromTicks(Math.Max(0, (limit - clock.Elapsed).Ticks));
                    string chunk = pty.Read(left, cancel.Token, t)
                        ?? throw new TimeoutException($"{pty.Description} still running after {Units.FormatDuration(limit)}; hung up on it.");
                    output.Write(System.Text.Encoding.UTF8.GetBytes(chunk));
                    output.Flush();
                }
                ProcessExit ended = pty.WaitForExit(Timeout.InfiniteTimeSpan, cancel.Token, t)!;
                exit = ended.ExitCode ?? 128 + ended.Signal!.Value;
            });
            return ran != Cli.Success ? ran : exit;
        });
        return command;
    }

    /// <summary>On SIGWINCH: gives the command's terminal this one's new size (the command gets its own SIGWINCH).</summary>
    private static void FollowSize(Pty pty, SafeFileHandle terminal)
    {
        try
        {
            TerminalSize size = TerminalRawMode.SizeOf(terminal);
            pty.Resize(size.Rows, size.Columns);
        }
        catch (Exception e) when (e is ObjectDisposedException or SysprogException)
        {
            // The command ended as the window changed; there is no terminal left to resize.
        }
    }

    /// <summary>
    /// Copies stdin to the terminal, as bytes (read(2) on descriptor 0: Console's stream would edit lines itself),
    /// until stdin ends or the terminal closes. At the end of piped input it types Ctrl+D, the terminal's end of input
    /// (twice after a partial line: the first one only ends the line), so a program reading to the end ends too.
    /// </summary>
    private static void RelayInput(SafeFileHandle stdin, Pty pty, bool endWithEof)
    {
        try
        {
            using var input = new FileStream(stdin, FileAccess.Read, bufferSize: 0);
            byte[] buffer = new byte[4096];
            byte last = (byte)'\n';
            int count;
            while ((count = input.Read(buffer)) > 0)
            {
                pty.Write(buffer.AsSpan(0, count), Timeout.InfiniteTimeSpan);
                last = buffer[count - 1];
            }
            if (endWithEof)
            {
                pty.Write(last == (byte)'\n' ? "\u0004" : "\u0004\u0004", Timeout.InfiniteTimeSpan);
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SysprogException or IOException)
        {
            // The terminal closed under the relay: the command has ended.
        }
    }
}
