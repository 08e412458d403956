using System.CommandLine;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>Pipes and FIFOs from the shell.</summary>
internal static class PipeCommands
{
    public static Command BuildPipe(Option<bool> trace)
    {
        var capacity = new Option<string?>("--capacity") { Description = "Ask for this capacity (F_SETPIPE_SZ), such as 1M; the kernel rounds up to a power-of-two number of pages." };
        var packet = new Option<bool>("--packet") { Description = "Packet mode (O_DIRECT)." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("pipe", "Make a pipe and fill it with no reader: how many bytes it holds before a writer would wait.") { capacity, packet, json };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            int asked = r.GetValue(capacity) is string text ? checked((int)Units.ParseByteSize(text)) : 0;
            using Pipe pipe = Pipe.Create(asked, r.GetValue(packet), trace: t);
            // Filled a page at a time: the count is the capacity, the last write the one that would have waited.
            byte[] page = new byte[Environment.SystemPageSize];
            long filled = 0;
            int written;
            while ((written = pipe.WriteEnd.WriteWithoutWaiting(page)) > 0)
            {
                filled += written;
            }
            var report = new { inode = pipe.Inode, capacity = pipe.Capacity, filled, pipeBuf = PipeEnd.AtomicWriteLimit, maxCapacity = PipeEnd.MaxCapacity, packetMode = pipe.IsPacketMode };
            if (r.GetValue(json))
            {
                Cli.WriteJson(report);
                return;
            }
            Console.WriteLine($"pipe:[{report.inode}]{(report.packetMode ? " (packet mode)" : "")}");
            Console.WriteLine($"  capacity      {report.capacity} bytes (F_GETPIPE_SZ)");
            Console.WriteLine($"  filled with   {report.filled} bytes before a write would wait");
            Console.WriteLine($"  PIPE_BUF      {report.pipeBuf} bytes: writes up to this size never interleave with other writers'");
            Console.WriteLine($"  largest       {report.maxCapacity} bytes without CAP_SYS_RESOURCE (fs.pipe-max-size)");
        }));
        return command;
    }

    public static Command BuildFifo(Option<bool> trace) => new("fifo", "Make, read and write FIFOs (named pipes).")
    {
        Make(trace), Read(trace), Write(trace),
    };

    private static Argument<string> PathArgument() => new("path") { Description = "The FIFO's path." };

    private static Command Make(Option<bool> trace)
    {
        Argument<string> path = PathArgument();
        var mode = new Option<string>("--mode") { Description = "Permissions in octal.", DefaultValueFactory = _ => "0600" };
        var command = new Command("make", "mkfifo with the exact mode; an existing path is an error.") { path, mode };
        command.SetAction(r => Cli.Run(() =>
            Console.WriteLine(Fifo.Create(r.GetValue(path)!, FileModes.ParseOctal(r.GetValue(mode)!), Cli.Trace(r, trace)).FullName)));
        return command;
    }

    private static Command Read(Option<bool> trace) =>
        OnFifo("read", "Open for reading (waiting for a writer) and copy what comes to stdout until every writer has closed.", FileAccess.Read, trace, [],
            (r, reader, cancellation, t) =>
            {
                using Stream stdout = Console.OpenStandardOutput();
                byte[] buffer = new byte[StreamDescriptor.ChunkSize];
                while (reader.Read(buffer, Timeout.InfiniteTimeSpan, cancellation, t) is int count and > 0)
                {
                    stdout.Write(buffer, 0, count);
                    stdout.Flush();
                }
            });

    private static Command Write(Option<bool> trace)
    {
        var text = new Argument<string[]>("text") { Description = "What to write, joined by spaces, with a newline. Default: stdin, until it ends.", Arity = ArgumentArity.ZeroOrMore };
        return OnFifo("write", "Open for writing (waiting for a reader) and write the text, or stdin.", FileAccess.Write, trace, [text],
            (r, writer, cancellation, t) =>
            {
                if (r.GetValue(text) is { Length: > 0 } words)
                {
                    writer.Write(string.Join(' ', words) + "\n", null, Timeout.InfiniteTimeSpan, cancellation, t);
                    return;
                }
                using Stream stdin = Console.OpenStandardInput();
                byte[] buffer = new byte[StreamDescriptor.ChunkSize];
                int count;
                while ((count = stdin.Read(buffer, 0, buffer.Length)) > 0)
                {
                    writer.Write(buffer.AsSpan(0, count), Timeout.InfiniteTimeSpan, cancellation, t);
                }
            });
    }

    /// <summary>
    /// A fifo subcommand: opens PATH for <paramref name="access"/>, waiting for the other side (--timeout,
    /// --nonblock, Ctrl+C), then hands the end to <paramref name="use"/>.
    /// </summary>
    private static Command OnFifo(string name, string description, FileAccess access, Option<bool> trace, Argument[] more,
        Action<ParseResult, PipeEnd, CancellationToken, SyscallTrace?> use)
    {
        string otherSide = access == FileAccess.Read ? "a writer" : "a reader";
        Argument<string> path = PathArgument();
        var timeout = new Option<string?>("--timeout") { Description = $"Wait at most this long for {otherSide}; exit 124. Default: wait." };
        var nonBlocking = new Option<bool>("--nonblock") { Description = $"Do not wait for {otherSide} (O_NONBLOCK)." };
        var command = new Command(name, description) { path, timeout, nonBlocking };
        foreach (Argument argument in more)
        {
            command.Add(argument);
        }
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = Cli.Timeout(r, timeout);
                string target = r.GetValue(path)!;
                using PipeEnd end = Fifo.Open(target, access, r.GetValue(nonBlocking), wait, inheritable: false, cancel.Token, t)
                    ?? throw new TimeoutException(Fifo.DescribeTimeout(target, access, wait));
                use(r, end, cancel.Token, t);
            });
        });
        return command;
    }
}
