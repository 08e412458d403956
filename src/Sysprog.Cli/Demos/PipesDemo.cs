using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace Sysprog.Cli.Demos;

/// <summary>
/// The pipes-and-filters chapter (docs/demos/9-PipesAndFilters.Tests.ps1) replayed across real processes: a shell's
/// pipeline spawned by hand, end of file, a full pipe, SIGPIPE against EPIPE, and a FIFO between two processes.
/// </summary>
internal static class PipesDemo
{
    public static Command Build(Option<bool> trace)
    {
        var command = new Command("pipes", "Replay the pipes chapter: ls | sort | wc -l spawned by hand, EOF, a full pipe, SIGPIPE and EPIPE, a FIFO between two processes.");
        command.SetAction(r => Cli.Run(() => Run(DemoSupport.Trace(r, trace))));
        return command;
    }

    private static void Run(SyscallTrace? trace)
    {
        Pipeline(trace);
        FullPipe(trace);
        BrokenPipe(trace);
        FifoBetweenProcesses(trace);
    }

    private static ChildProcess Spawn(string program, IEnumerable<string> arguments, Dictionary<int, IDescriptorObject> descriptors, SyscallTrace? trace) =>
        ChildProcess.Start(new ChildProcessStartInfo(program, arguments) { Descriptors = descriptors }, trace);

    private static void Pipeline(SyscallTrace? trace)
    {
        DemoCommand.Step(1, "ls /usr/bin | sort | wc -l, as a shell runs it: three processes, two pipes, each end given to a child as 0 or 1.");
        using Pipe listing = Pipe.Create(trace: trace);
        using Pipe sorted = Pipe.Create(trace: trace);
        using Pipe counted = Pipe.Create(trace: trace);
        ChildProcess? ls = null, sort = null, wc = null;
        try
        {
            ls = Spawn("ls", ["/usr/bin"], new() { [1] = listing.WriteEnd }, trace);
            sort = Spawn("sort", [], new() { [0] = listing.ReadEnd, [1] = sorted.WriteEnd }, trace);
            wc = Spawn("wc", ["-l"], new() { [0] = sorted.ReadEnd, [1] = counted.WriteEnd }, trace);
            // What the shell does after each fork: close the ends its children now hold. One write end is kept to show
            // what a forgotten one does.
            listing.Close(trace);
            sorted.ReadEnd.Close(trace);
            counted.WriteEnd.Close(trace);
            Console.WriteLine($"    ls pid {ls.ProcessId}, sort pid {sort.ProcessId}, wc pid {wc.ProcessId}.");
            Console.WriteLine($"    ls: {ls.WaitForExit(DemoSupport.Patience, default, trace)}; sort: {sort.WaitForExit(DemoSupport.Patience, default, trace)}.");

            DemoCommand.Step(2, "Both writers of wc's pipe have ended, but this process still holds a write end: wc never sees end of file.");
            ThreadSyscall waiting = DemoSupport.WaitUntilBlocked(wc.ProcessId, ["read"]);
            Console.WriteLine($"    wc pid {wc.ProcessId} sleeps in {waiting.Call}");
            sorted.WriteEnd.Close(trace);
            string count = DemoSupport.ReadToEnd(counted.ReadEnd, trace).Trim();
            ProcessExit wcExit = wc.WaitForExit(DemoSupport.Patience, default, trace)!;
            Console.WriteLine($"    Closed the last write end: read(2) returned 0, wc printed {count} and ended with {wcExit}.");
            Console.WriteLine($"    sh -c 'ls /usr/bin | sort | wc -l' prints {Shell("ls /usr/bin | sort | wc -l").Trim()}.");
        }
        finally
        {
            DemoSupport.Reap(ls);
            DemoSupport.Reap(sort);
            DemoSupport.Reap(wc);
        }
    }

    private static void FullPipe(SyscallTrace? trace)
    {
        DemoCommand.Step(3, "A pipe of 4096 bytes, and head -c 100000 /dev/zero writing into it: a full pipe puts its writer to sleep.");
        using Pipe small = Pipe.Create(4096, trace: trace);
        ChildProcess? head = null;
        try
        {
            head = Spawn("head", ["-c", "100000", "/dev/zero"], new() { [1] = small.WriteEnd }, trace);
            small.WriteEnd.Close(trace);
            ThreadSyscall waiting = DemoSupport.WaitUntilBlocked(head.ProcessId, ["write"]);
            Console.WriteLine($"    head pid {head.ProcessId} sleeps in {waiting.Call}");
            Console.WriteLine($"    The pipe holds {small.BytesAvailable} bytes of its capacity of {small.Capacity}.");
            long total = 0;
            while (small.ReadEnd.ReadAvailable(DemoSupport.Patience, default, trace) is { Length: > 0 } chunk)
            {
                total += chunk.Length;
            }
            Console.WriteLine($"    Each read made room and woke the writer: {total:N0} bytes went through, and head ended with {head.WaitForExit(DemoSupport.Patience, default, trace)}.");
        }
        finally
        {
            DemoSupport.Reap(head);
        }
    }

    private static void BrokenPipe(SyscallTrace? trace)
    {
        DemoCommand.Step(4, "yes writes into a pipe whose last read end then closes: the kernel kills it with SIGPIPE.");
        using Pipe pipe = Pipe.Create(trace: trace);
        ChildProcess? yes = null;
        try
        {
            yes = Spawn("yes", [], new() { [1] = pipe.WriteEnd }, trace);
            pipe.WriteEnd.Close(trace);
            ThreadSyscall waiting = DemoSupport.WaitUntilBlocked(yes.ProcessId, ["write"]);
            Console.WriteLine($"    yes pid {yes.ProcessId} filled the pipe and sleeps in {waiting.Call}");
            pipe.ReadEnd.Close(trace);
            Console.WriteLine($"    Closed the read end: yes ended, {yes.WaitForExit(DemoSupport.Patience, default, trace)}.");
        }
        finally
        {
            DemoSupport.Reap(yes);
        }

        DemoCommand.Step(5, "The same write here: .NET ignores SIGPIPE, so it is an EPIPE error and this process lives on.");
        using Pipe orphan = Pipe.Create(trace: trace);
        orphan.ReadEnd.Close(trace);
        try
        {
            orphan.WriteEnd.Write("anyone?"u8, DemoSupport.Patience, default, trace);
            throw new InvalidOperationException("A write with no reader left succeeded: the kernel should refuse it with EPIPE.");
        }
        catch (SysprogException e) when (e.Errno == Errno.EPIPE)
        {
            Console.WriteLine($"    {e.Message}");
        }
    }

    private static void FifoBetweenProcesses(SyscallTrace? trace)
    {
        DirectoryInfo folder = Directory.CreateTempSubdirectory("sysprog-demo-");
        string path = Path.Combine(folder.FullName, "jobs");
        Process? writer = null;
        try
        {
            DemoCommand.Step(6, $"mkfifo {path}; another process (this program again: fifo write) opens it to write and waits for a reader.");
            Fifo.Create(path, trace: trace);
            writer = DemoCommand.Start(["fifo", "write", path, "hello", "through", "the", "FIFO"]);
            ThreadSyscall waiting = DemoSupport.WaitUntilBlocked(writer.Id, ["open", "openat"], call => DemoSupport.IsOpening(call, path));
            Console.WriteLine($"    writer pid {writer.Id} sleeps in {waiting.Call}: the FIFO, reopened through a descriptor of it.");

            DemoCommand.Step(7, "Open it here to read: both opens complete, the writer writes and closes, the read ends at EOF.");
            using PipeEnd reader = Fifo.Open(path, FileAccess.Read, timeout: DemoSupport.Patience, trace: trace)
                ?? throw new TimeoutException($"{path}: no writer within {DemoSupport.Patience.TotalSeconds:0} s.");
            string heard = DemoSupport.ReadToEnd(reader, trace);
            writer.WaitForExit();
            Console.WriteLine($"    read \"{heard.TrimEnd('\n')}\"; writer pid {writer.Id} exited {writer.ExitCode.ToString(CultureInfo.InvariantCulture)}.");
            File.Delete(path);
            Console.WriteLine($"    Removed the FIFO: it held no data of its own. {path} exists: {File.Exists(path)}");
        }
        finally
        {
            DemoSupport.Reap(writer);
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The same pipeline run by sh, to compare with.</summary>
    private static string Shell(string command)
    {
        using Process sh = Process.Start(new ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("Could not start sh.");
        string output = sh.StandardOutput.ReadToEnd();
        sh.WaitForExit();
        return output;
    }
}
