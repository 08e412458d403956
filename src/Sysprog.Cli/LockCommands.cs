using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>File locks from the shell: run a command under one, like flock(1), and list them all, like lslocks.</summary>
internal static class LockCommands
{
    public static Command BuildLock(Option<bool> trace)
    {
        var path = new Argument<string>("path") { Description = "The lock file; created (mode --mode) if missing." };
        var program = new Argument<string[]>("command") { Description = "After --: the command to run while holding the lock. Without one, hold it until killed.", Arity = ArgumentArity.ZeroOrMore };
        var shared = new Option<bool>("--shared") { Description = "A shared (read) lock; the default is exclusive." };
        var kind = new Option<FileLockKind>("--kind") { Description = "flock (whole file), posix (fcntl ranges, per process) or ofd (fcntl ranges, per open file).", DefaultValueFactory = _ => FileLockKind.Flock };
        var range = new Option<string[]>("--range") { Description = "Bytes to lock: 10-19 (both included) or 10- (to the end); repeat it to take several ranges one after the other, in the order given (two such commands in opposite orders show a POSIX deadlock). Default: the whole file. Not for flock.", Arity = ArgumentArity.ZeroOrMore };
        var timeout = new Option<string?>("--timeout") { Description = "Give up after this long (0 tries once); exit 124. Default: wait until Ctrl+C." };
        var mode = new Option<string>("--mode") { Description = "Octal permissions if the file is created.", DefaultValueFactory = _ => "0600" };
        var close = new Option<bool>("--close") { Description = "Do not let the command inherit the lock's descriptor (flock(1) -o): a flock or OFD lock then ends with this process, not with the last of the command's children." };
        var command = new Command("lock", "Take a file lock and run a command under it (like flock(1)); exit with the command's status.")
        {
            path, program, shared, kind, range, timeout, mode, close,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            int exit = Cli.Success;
            int ran = Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                (long Start, long Length)[] ranges = r.GetValue(range) is { Length: > 0 } texts ? texts.Select(ByteRanges.Parse).ToArray() : [(0, 0)];
                TimeSpan wait = Cli.Timeout(r, timeout);
                FileLockMode lockMode = r.GetValue(shared) ? FileLockMode.Shared : FileLockMode.Exclusive;
                string file = Path.GetFullPath(r.GetValue(path)!);
                FileLockKind lockKind = r.GetValue(kind);
                var locks = new List<FileLock>();
                try
                {
                    foreach ((long start, long length) in ranges)
                    {
                        locks.Add(FileLock.Acquire(file, lockKind, lockMode, wait, cancel.Token, start, length, FileModes.ParseOctal(r.GetValue(mode)!), t)
                            ?? throw new TimeoutException(FileLock.TimedOutMessage(file, lockKind, lockMode, wait, start, length)));
                        Console.WriteLine($"locked: {locks[^1].Description} (pid {Environment.ProcessId})");
                        Console.Out.Flush();
                    }
                    exit = RunUnder(locks, r.GetValue(program) ?? [], !r.GetValue(close), cancel.Token, t);
                }
                finally
                {
                    foreach (FileLock held in locks)
                    {
                        held.Release(t);
                    }
                }
            });
            return ran != Cli.Success ? ran : exit;
        });
        return command;
    }

    /// <summary>Runs the command (or, without one, waits until Ctrl+C) while the locks are held; its exit status.</summary>
    private static int RunUnder(List<FileLock> locks, string[] argv, bool inherit, CancellationToken cancel, SyscallTrace? trace)
    {
        if (argv.Length == 0)
        {
            cancel.WaitHandle.WaitOne();
            return Cli.Success;
        }
        // Started as every program Sysprog starts (posix_spawnp, the one spawn path), so a missing or refused
        // program is the same errno-named failure as for spawn and pty. The spawn closes every descriptor but 0, 1
        // and 2; the command gets the locks' descriptors, at the numbers they have here, only when it is to hold them
        // too. POSIX locks of one file share one descriptor.
        var passed = new Dictionary<int, FileDescriptor>();
        ChildProcess child;
        try
        {
            foreach (FileLock held in inherit ? locks.DistinctBy(l => l.Fd) : [])
            {
                passed[held.Fd] = FileDescriptor.Duplicate(held.Fd, trace);
            }
            child = ChildProcess.Start(new ChildProcessStartInfo(argv[0], argv[1..])
            {
                Descriptors = passed.ToDictionary(p => p.Key, p => (IDescriptorObject)p.Value),
            }, trace);
        }
        finally
        {
            foreach (FileDescriptor copy in passed.Values)
            {
                copy.Dispose();
            }
        }
        using (child)
        {
            ProcessExit ended = child.WaitForExit(System.Threading.Timeout.InfiniteTimeSpan, default, trace)!;
            foreach (FileLock held in locks)
            {
                // As flock(1) does: what the command left running with the descriptor goes on holding the lock.
                held.Close(trace);
            }
            return ended.ExitCode ?? 128 + ended.Signal!.Value;
        }
    }

    public static Command BuildLocks(Option<bool> trace)
    {
        var path = new Option<string?>("--path") { Description = "Only locks on this file." };
        var pid = new Option<int?>("--pid") { Description = "Only locks this process holds or waits for." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("locks", "List every file lock on the machine (/proc/locks), like lslocks.") { path, pid, json };
        command.SetAction(r => Cli.Run(() =>
        {
            IReadOnlyList<FileLockInfo> locks = FileLockInfo.List(r.GetValue(path), r.GetValue(pid), Cli.Trace(r, trace));
            if (r.GetValue(json))
            {
                Cli.WriteJson(locks.Select(l => new
                {
                    l.Id, l.Type, l.Kind, l.Mode, l.IsWaiting, l.ProcessId, l.HeldBy, l.ProcessName, l.Start, l.End, l.Length, l.Device, l.Inode, l.Path,
                }));
                return;
            }
            Console.WriteLine($"{"COMMAND",-15} {"PID",7} {"TYPE",-6} {"MODE",-5} {"RANGE",-22} PATH");
            foreach (FileLockInfo l in locks)
            {
                string pidText = l.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? (l.HeldBy.Count > 0 ? string.Join(',', l.HeldBy) : "-1");
                string rangeText = l.IsWaiting ? $"-> {l.Range}" : l.Range;
                Console.WriteLine($"{l.ProcessName ?? "?",-15} {pidText,7} {l.Type,-6} {l.ModeText,-5} {rangeText,-22} {(l.Path is null ? $"{l.Device}:{l.Inode}" : NameEscaping.Escape(l.Path))}");
            }
        }));
        return command;
    }
}
