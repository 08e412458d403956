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

    private static (Option<string?> Timeout, Option<bool> NonBlocking) OpenOptions(string otherSide) =>
        (new Option<string?>("--timeout") { Description = $"Wait at most this long for {otherSide}; exit 1. Default: wait." },
         new Option<bool>("--nonblock") { Description = $"Do not wait for {otherSide} (O_NONBLOCK)." });

    private static Command Make(Option<bool> trace)
    {
        Argument<string> path = PathArgument();
        var mode = new Option<string>("--mode") { Description = "Permissions in octal.", DefaultValueFactory = _ => "0600" };
        var command = new Command("make", "mkfifo with the exact mode; an existing path is an error.") { path, mode };
        command.SetAction(r => Cli.Run(() =>
            Console.WriteLine(Fifo.Create(r.GetValue(path)!, FileModes.ParseOctal(r.GetValue(mode)!), Cli.Trace(r, trace)).FullName)));
        return command;
    }

    private static Command Read(Option<bool> trace)
    {
        Argument<string> path = PathArgument();
        (Option<string?> timeout, Option<bool> nonBlocking) = OpenOptions("a writer");
        var command = new Command("read", "Open for reading (waiting for a writer) and copy what comes to stdout until every writer has closed.") { path, timeout, nonBlocking };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = r.GetValue(timeout) is string text ? Units.ParseDuration(text) : Timeout.InfiniteTimeSpan;
                using PipeEnd reader = Open(r.GetValue(path)!, FileAccess.Read, r.GetValue(nonBlocking), wait, cancel.Token, t);
                using Stream stdout = Console.OpenStandardOutput();
                byte[] buffer = new byte[StreamDescriptor.ChunkSize];
                while (reader.Read(buffer, Timeout.InfiniteTimeSpan, cancel.Token, t) is int count and > 0)
                {
                    stdout.Write(buffer, 0, count);
                    stdout.Flush();
                }
            });
        });
        return command;
    }

    private static Command Write(Option<bool> trace)
    {
        Argument<string> path = PathArgument();
        var text = new Argument<string[]>("text") { Description = "What to write, joined by spaces, with a newline. Default: stdin, until it ends.", Arity = ArgumentArity.ZeroOrMore };
        (Option<string?> timeout, Option<bool> nonBlocking) = OpenOptions("a reader");
        var command = new Command("write", "Open for writing (waiting for a reader) and write the text, or stdin.") { path, text, timeout, nonBlocking };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = r.GetValue(timeout) is string limit ? Units.ParseDuration(limit) : Timeout.InfiniteTimeSpan;
                using PipeEnd writer = Open(r.GetValue(path)!, FileAccess.Write, r.GetValue(nonBlocking), wait, cancel.Token, t);
                if (r.GetValue(text) is { Length: > 0 } words)
                {
                    writer.Write(string.Join(' ', words) + "\n", null, Timeout.InfiniteTimeSpan, cancel.Token, t);
                    return;
                }
                using Stream stdin = Console.OpenStandardInput();
                byte[] buffer = new byte[StreamDescriptor.ChunkSize];
                int count;
                while ((count = stdin.Read(buffer, 0, buffer.Length)) > 0)
                {
                    writer.Write(buffer.AsSpan(0, count), Timeout.InfiniteTimeSpan, cancel.Token, t);
                }
            });
        });
        return command;
    }

    private static PipeEnd Open(string path, FileAccess access, bool nonBlocking, TimeSpan wait, CancellationToken cancellation, SyscallTrace? trace) =>
        Fifo.Open(path, access, nonBlocking, wait, inheritable: false, cancellation, trace)
        ?? throw new TimeoutException($"No process opened {Path.GetFullPath(path)} for {(access == FileAccess.Read ? "writing" : "reading")} within {Units.FormatDuration(wait)}.");
}
