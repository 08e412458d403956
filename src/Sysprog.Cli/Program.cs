using System.CommandLine;
using System.CommandLine.Help;
using Sysprog;
using Sysprog.Cli;

// A write past RLIMIT_FSIZE fails with EFBIG naming the limit (exit code 1), instead of SIGXFSZ ending the tool.
FileSizeSignal.Catch();

// Exit codes (Cli): 0 success, 1 a system call failed, 2 bad input, 124 a wait timed out, 130 Ctrl+C.
var trace = new Option<bool>("--trace") { Description = "Print each system call strace-style on stderr.", Recursive = true };
// Named sysprog, the tool's command, rather than after the executable (Sysprog.Cli, as RootCommand would): help and
// usage errors say what a user types.
var root = new Command("sysprog", "sysprog: Linux systems programming from the shell (shared memory, semaphores, message queues, fd events, memory maps, /proc/PID/maps, file locks, inotify, pseudoterminals, pipes, FIFOs, sockets, ELF files and shared libraries, processes and scheduling).")
{
    trace,
    SharedMemoryCommands.Build(trace),
    SemaphoreCommands.Build(trace),
    MessageQueueCommands.Build(trace),
    EventCommands.BuildEventFd(trace),
    EventCommands.BuildTimer(trace),
    EventCommands.BuildSignal(trace),
    EventCommands.BuildPoll(trace),
    MappingCommands.BuildMap(trace),
    MappingCommands.BuildMaps(trace),
    MappingCommands.BuildMlock(trace),
    MappingCommands.BuildBrk(trace),
    FileCacheCommands.BuildResidency(trace),
    LockCommands.BuildLock(trace),
    LockCommands.BuildLocks(trace),
    IpcCommands.BuildIpcs(trace),
    ProcessCommands.BuildLimits(trace),
    ProcessMemoryCommands.BuildPeek(trace),
    ProcessMemoryCommands.BuildPoke(trace),
    InotifyCommands.BuildWatch(trace),
    PtyCommands.BuildPty(trace),
    PipeCommands.BuildPipe(trace),
    PipeCommands.BuildFifo(trace),
    SocketCommands.BuildUnix(trace),
    SocketCommands.BuildSockets(trace),
    ElfCommands.BuildElf(trace),
    ElfCommands.BuildLdd(trace),
    ElfCommands.BuildDlopen(trace),
    ProcessCommands.BuildSpawn(trace),
    ProcessCommands.BuildSched(trace),
    ProcessCommands.BuildLatency(trace),
    SyscallCommands.BuildSyscalls(trace),
    SyscallCommands.BuildSyscall(trace),
    IpcMeasureCommands.BuildMeasure(trace),
    IpcMeasureCommands.BuildPeer(),
    DemoCommand.Build(trace),
    new HelpOption(),
    new VersionOption(),
};
// No response files: '@name' is how abstract socket names are written. Every command reports its own failures
// (Cli.Run); what escapes one still ends as a message and an exit code, not as the parser's stack trace.
try
{
    ParseResult parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
    // A usage error is bad input (exit 2), told apart from a failed call (exit 1); the parser's own action would
    // exit 1 for both.
    if (parsed.Errors.Count > 0)
    {
        foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
        {
            Console.Error.WriteLine($"sysprog: {error.Message}");
        }
        var command = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? result = parsed.CommandResult; result is System.CommandLine.Parsing.CommandResult named; result = named.Parent)
        {
            command.Insert(0, named.Command.Name);
        }
        Console.Error.WriteLine($"Try '{string.Join(' ', command)} --help'.");
        return 2;
    }
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    return Cli.Report(e);
}
