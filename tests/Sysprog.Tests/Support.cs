using System.Diagnostics;
using System.Reflection;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Unique IPC names for one test run, and the check that none of them outlives it.</summary>
internal static class TestNames
{
    public static readonly string Prefix = $"sysprog-test-{Environment.ProcessId}-";

    // Every name handed out, so queues are accounted for where no mqueue filesystem lists them.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> HandedOut = new(StringComparer.Ordinal);

    public static string New()
    {
        string name = $"/{Prefix}{Guid.NewGuid():N}"[..40];
        HandedOut.TryAdd(name, true);
        return name;
    }

    /// <summary>
    /// This run's objects that still exist, as their file names in /dev/shm or /dev/mqueue, escaped: read with readdir
    /// as the listings read them, since .NET's enumeration decodes names as UTF-8 and would not give back one that is not.
    /// </summary>
    private static string[] Leftovers() =>
        DirectoryEntries.Read("/dev/shm").Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) || n.StartsWith("sem." + Prefix, StringComparison.Ordinal))
            .Concat(QueuesLeft()).ToArray();

    /// <summary>
    /// The leak check of every test class's Dispose: fails naming this run's objects that still exist, and removes
    /// them first, so one test's leak fails that test alone and not every check after it.
    /// </summary>
    public static void AssertNoneLeft()
    {
        string[] left = Leftovers();
        foreach (string file in left)
        {
            if (file.StartsWith("sem.", StringComparison.Ordinal))
            {
                PosixSemaphore.Unlink("/" + file["sem.".Length..]);
            }
            else if (FileStatus.OfEscapedPath("/dev/shm/" + file) is not null)
            {
                SharedMemory.Unlink("/" + file);
            }
            else
            {
                UnlinkQueueIfPresent("/" + file);
            }
        }
        Assert.Empty(left);
    }

    /// <summary>
    /// The listing when the mqueue filesystem is mounted; otherwise each name handed out, asked of mq_open, since
    /// queues work without the filesystem and a leaked one would count against RLIMIT_MSGQUEUE unseen.
    /// </summary>
    private static IEnumerable<string> QueuesLeft() => MessageQueue.IsMqueueFsMounted()
        ? DirectoryEntries.Read(MessageQueue.Directory).Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        : HandedOut.Keys.Where(QueueExists).Select(name => name[1..]);

    /// <summary>Every name <see cref="New"/> has handed out in this run.</summary>
    public static IEnumerable<string> HandedOutNames => HandedOut.Keys;

    /// <summary>Whether a queue of this name exists, from mq_open: it needs no mqueue filesystem.</summary>
    public static bool QueueExists(string name)
    {
        SyscallResult opened = Libc.mq_open_existing(name, Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        if (opened.Failed)
        {
            return opened.Errno != Errno.ENOENT
                ? throw new SysprogException(opened.Errno, "mq_open", name, "asking whether a test's queue is left")
                : false;
        }
        Libc.close((int)opened.Value);
        return true;
    }

    public static void UnlinkQueueIfPresent(string name)
    {
        try
        {
            MessageQueue.Unlink(name);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
        }
    }

    /// <summary>Semaphore names lose 4 bytes of NAME_MAX to the "sem." prefix; this prefix fits either way.</summary>
    public static void UnlinkSemaphoreIfPresent(string name)
    {
        if (File.Exists("/dev/shm/sem." + name[1..]))
        {
            PosixSemaphore.Unlink(name);
        }
    }

    public static void UnlinkIfPresent(string name)
    {
        if (File.Exists("/dev/shm" + name))
        {
            SharedMemory.Unlink(name);
        }
    }
}

/// <summary>What this process may do that an unprivileged one may not; a test that needs more skips, naming what it lacks.</summary>
internal static class Privileges
{
    /// <summary>Whether SCHED_FIFO or SCHED_RR at <paramref name="priority"/> is allowed: CAP_SYS_NICE, or an RLIMIT_RTPRIO that reaches it.</summary>
    public static bool MayUseRealtimePriority(int priority) =>
        Capabilities.Has(Capabilities.SysNice) || ProcessLimit.Get(ProcessResource.RtPrio).Soft is not long limit || limit >= priority;

    public static string RealtimeMissing(int priority) =>
        $"needs root: CAP_SYS_NICE (or an RLIMIT_RTPRIO of {priority} or more; it is {ProcessLimit.Get(ProcessResource.RtPrio).SoftText} here) for a real-time priority of {priority}";
}

/// <summary>The mqueue filesystem, which listing queues and reading their files need (the queues themselves do not).</summary>
internal static class MqueueFilesystem
{
    /// <summary>Skips the test, saying why, where /dev/mqueue is not mounted (most containers; only root can mount it).</summary>
    public static void SkipUnlessMounted() =>
        Skip.IfNot(MessageQueue.IsMqueueFsMounted(), "the mqueue filesystem is not mounted on /dev/mqueue (as root: mount -t mqueue none /dev/mqueue)");
}

/// <summary>Every descriptor this process has open, by number and target (and fdinfo's identity of the object), at one moment (<see cref="OpenFds.Snapshot"/>).</summary>
internal sealed class FdListing(IReadOnlyDictionary<int, OpenFd> descriptors, long releasedByFinalizer)
{
    public IReadOnlyDictionary<int, OpenFd> Descriptors { get; } = descriptors;

    /// <summary><see cref="HandleAudit.ReleasedByFinalizer"/> when the listing was taken.</summary>
    public long ReleasedByFinalizer { get; } = releasedByFinalizer;
}

/// <summary>One descriptor: its readlink target and what fdinfo adds to tell its object apart (" (ino: 4711)", or "").</summary>
internal sealed record OpenFd(string Target, string Identity);

/// <summary>Open file descriptors of this process, from /proc/self/fd.</summary>
/// <remarks>
/// The leak check compares the whole listing: a descriptor of any kind (a path, "/dev/ptmx", "/dev/pts/N",
/// "pipe:[I]", "socket:[I]", "anon_inode:[pidfd]", "anon_inode:inotify", ...) open after a test at a number that had
/// no descriptor of that target before it is a leak, including one the core opened and never handed out, which a
/// check of the test's own objects could not see. The runtime's descriptors are told apart by what they are:
/// <list type="bullet">
/// <item>the files of the assemblies it has loaded, which it keeps open (they load on first use, during any test);</item>
/// <item>those it and the C library may open on first use and keep (what a child <see cref="Process"/> and an
/// asynchronous socket set up; the netlink socket of mq_notify's helper thread, seen blamed on a queue test) are
/// opened by <see cref="WarmUpRuntime"/> before the first listing, so they are in every "before";</item>
/// <item>those it leaves to the garbage collector (the stdio pipes of a finished <see cref="Process"/>, which its
/// Dispose does not close) are closed by collecting and finalizing before each listing. A Sysprog handle dropped
/// undisposed would be closed the same way, so <see cref="HandleAudit.ReleasedByFinalizer"/> counts it: any
/// growth is reported as a leak too.</item>
/// </list>
/// The comparison is only sound while no other test opens descriptors meanwhile: test classes run one at a time
/// ("parallelizeTestCollections": false in xunit.runner.json, asserted by <c>LeakCheckTests</c>); a test's own
/// threads are its own.
/// </remarks>
internal static class OpenFds
{
    private static readonly Lazy<bool> RuntimeWarmedUp = new(WarmUpRuntime);

    public static FdListing Snapshot()
    {
        _ = RuntimeWarmedUp.Value;
        CollectUnreferencedHandles();
        return new FdListing(List(), HandleAudit.ReleasedByFinalizer);
    }

    /// <summary>
    /// What is open now and was not in <paramref name="before"/> ("12 -> pipe:[4711] (ino: 4711)"), every kind of descriptor,
    /// and each Sysprog handle left to the finalizer since then.
    /// </summary>
    public static string[] OpenedSince(FdListing before)
    {
        CollectUnreferencedHandles();
        long finalized = HandleAudit.ReleasedByFinalizer - before.ReleasedByFinalizer;
        HashSet<string> assemblies = LoadedAssemblyFiles();
        return List()
            .Where(f => !before.Descriptors.TryGetValue(f.Key, out OpenFd? then) || then != f.Value)
            .Where(f => !assemblies.Contains(f.Value.Target))
            .Select(f => $"{f.Key} -> {f.Value.Target}{f.Value.Identity}")
            .Concat(finalized > 0 ? [$"{finalized} Sysprog handle(s) left undisposed, closed by the finalizer"] : [])
            .ToArray();
    }

    private static Dictionary<int, OpenFd> List()
    {
        // Listing the folder holds a descriptor of it open; that one is the listing's own, not anyone's leak.
        string listingItself = $"/proc/{Environment.ProcessId}/fd";
        return Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(p => (Fd: int.Parse(Path.GetFileName(p), System.Globalization.CultureInfo.InvariantCulture), Target: Target(p)))
            .Where(f => f.Target is not "?" && f.Target != listingItself)
            .ToDictionary(f => f.Fd, f => new OpenFd(f.Target, Identity(f.Fd)));
    }

    /// <summary>
    /// What tells apart two objects of one kind that the target does not, from /proc/self/fdinfo, fixed for the
    /// descriptor's life (" (ino: 4711)"): a number taken again by a new pidfd is then not mistaken for the one the
    /// listing saw before, where pidfs gives each pidfd an inode of its own (Linux 6.9); not the Pid line, which turns
    /// to -1 once the child is reaped. The kernel hands a freed tty-index or eventfd-id out again, so those tell
    /// apart only ptys and eventfds open at once, not one closed from the next at its number.
    /// </summary>
    private static string Identity(int fd)
    {
        try
        {
            string[] lines = File.ReadLines($"/proc/self/fdinfo/{fd}")
                .Where(l => l.StartsWith("ino:", StringComparison.Ordinal) || l.StartsWith("tty-index:", StringComparison.Ordinal) || l.StartsWith("eventfd-id:", StringComparison.Ordinal))
                .Select(l => string.Join(' ', l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
                .ToArray();
            return lines.Length == 0 ? "" : $" ({string.Join(", ", lines)})";
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The files of the assemblies loaded in this process, which the runtime keeps open once loaded.</summary>
    private static HashSet<string> LoadedAssemblyFiles() => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => !a.IsDynamic && a.Location.Length > 0)
        .Select(a => new FileInfo(a.Location).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? a.Location)
        .ToHashSet(StringComparer.Ordinal);

    private static void CollectUnreferencedHandles()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>
    /// Makes the runtime open what it opens on first use and keeps for the life of the process, so that no test
    /// that happens to be first to use it is blamed for it.
    /// </summary>
    private static bool WarmUpRuntime()
    {
        // A child process: SIGCHLD handling and the child reaping the runtime sets up once.
        using (var child = Process.Start(new ProcessStartInfo("true") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!)
        {
            child.WaitForExit();
        }
        // An asynchronous socket operation: the socket engine's epoll set and the pipe that wakes it.
        using (var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            listener.Listen();
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            client.ConnectAsync(listener.LocalEndPoint!).GetAwaiter().GetResult();
            using var accepted = listener.Accept();
        }
        // The C library's mq_notify(SIGEV_THREAD) opens a netlink socket on first use and keeps it. Without queues
        // (no kernel support, no room under RLIMIT_MSGQUEUE) there is nothing to warm: the queue tests say why.
        string queueName = TestNames.New();
        try
        {
            using MessageQueue queue = MessageQueue.Create(queueName, 1, 8);
            MqNotification.ByThread(queue).Close();
        }
        catch (SysprogException)
        {
        }
        finally
        {
            TestNames.UnlinkQueueIfPresent(queueName);
        }
        return true;
    }

    /// <summary>What fd <paramref name="fd"/> of this process is ("anon_inode:[eventfd]", a path), "?" when it is not open.</summary>
    public static string Target(int fd) => Target($"/proc/self/fd/{fd}");

    private static string Target(string fdPath)
    {
        try
        {
            return new FileInfo(fdPath).LinkTarget ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static bool IsCloseOnExec(int fd) => (StatusFlags(fd) & 0x80000) != 0;

    /// <summary>The descriptor's flags as the kernel shows them (fdinfo's "flags", octal): the open file description's status flags and O_CLOEXEC.</summary>
    public static int StatusFlags(int fd) =>
        Convert.ToInt32(File.ReadLines($"/proc/self/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal))["flags:".Length..].Trim(), 8);
}

/// <summary>Files of the repository the tests were built in (the CLI, the README).</summary>
internal static class RepoFiles
{
    /// <summary>
    /// A file by its path from the repository's root. The root is found from where this assembly is, so a copy of
    /// the built tree (run by another user, say) finds its own files.
    /// </summary>
    public static string Find(string fromRepoRoot)
    {
        string assemblyFolder = Path.GetDirectoryName(typeof(RepoFiles).Assembly.Location)!;
        for (DirectoryInfo? folder = new(assemblyFolder); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, fromRepoRoot);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"No {fromRepoRoot} in any folder above {assemblyFolder}: build the solution (dotnet build Sysprog.sln) first.");
    }
}

/// <summary>Runs the sysprog CLI as a separate process: the peer of cross-process tests.</summary>
internal static class Peer
{
    /// <summary>
    /// The CLI built beside these tests. The build records its path from the repository's root; the root is found
    /// from where this assembly is, so a copy of the built tree (run by another user, say) finds its own CLI.
    /// </summary>
    public static readonly string CliPath = RepoFiles.Find(typeof(Peer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SysprogCli").Value!);

    public sealed record Result(int ExitCode, string Output, string Error);

    public static Process Start(params string[] arguments) => StartWith(null, arguments);

    /// <summary>Starts the CLI behind a wrapper command (prlimit, setpriv, bash -c ...).</summary>
    public static Process StartWith(string[]? wrapper, params string[] arguments) => StartCli(CliPath, wrapper, arguments);

    private static Process StartCli(string cliPath, string[]? wrapper, string[] arguments)
    {
        var info = new ProcessStartInfo(wrapper?[0] ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (string part in wrapper?.Skip(1) ?? [])
        {
            info.ArgumentList.Add(part);
        }
        if (wrapper is not null)
        {
            info.ArgumentList.Add(DotnetHost);
        }
        info.ArgumentList.Add(cliPath);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return Process.Start(info)!;
    }

    public static Result Run(params string[] arguments) => Finish(Start(arguments));

    /// <summary>
    /// Runs the CLI without privileges: as nobody (setpriv) when the tests run as root, as this user otherwise.
    /// <paramref name="limits"/> (a prlimit command, say) is applied before the drop. A copy of the CLI in a
    /// world-readable folder is used, since the checkout may sit below a private one (mktemp -d is 0700).
    /// </summary>
    public static Result RunUnprivileged(string[] limits, params string[] arguments)
    {
        string[] drop = Environment.UserName == "root"
            ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp"]
            : ["env"];
        return Finish(StartCli(UnprivilegedCliPath.Value, [.. limits, .. drop], arguments));
    }

    public static Result RunWith(string[] wrapper, params string[] arguments) => Finish(StartWith(wrapper, arguments));

    public static Result Finish(Process process)
    {
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"peer {process.Id} did not finish in 2 minutes");
            }
            return new Result(process.ExitCode, output.Result, error.Result);
        }
    }

    private static readonly Lazy<string> UnprivilegedCliPath = new(() =>
    {
        string folder = Path.Combine(Path.GetTempPath(), $"sysprog-peer-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(CliPath)!))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        }
        const UnixFileMode readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(folder, readable);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        return Path.Combine(folder, Path.GetFileName(CliPath));
    });

    public static string DotnetHost => Environment.ProcessPath is string p && Path.GetFileNameWithoutExtension(p) == "dotnet"
        ? p
        : "dotnet";
}

/// <summary>Where another thread of this process is: so a wake-up test acts only once the waiter really sleeps.</summary>
internal static partial class ThreadWait
{
    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial int gettid();

    public static int CurrentThreadId() => gettid();

    /// <summary>
    /// Starts <paramref name="body"/> on a thread of its own and returns its task with that thread's id. The caller
    /// resumes on another thread, never inline on the new one: a caller inlined there would wait for the thread to
    /// sleep while running on it (one CI run saw a "waiter" in state R reading its own /proc stat for 10 s).
    /// </summary>
    public static async Task<(Task<T> Work, int ThreadId)> StartOnThreadOfItsOwn<T>(Func<T> body)
    {
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<T> work = Task.Factory.StartNew(() =>
        {
            started.SetResult(gettid());
            return body();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return (work, await started.Task);
    }

    /// <summary>The system calls poll(2) is made with (arm64 has only ppoll).</summary>
    public static readonly string[] Poll = ["poll", "ppoll"];

    /// <summary>The system calls epoll_wait(2) is made with.</summary>
    public static readonly string[] Epoll = ["epoll_wait", "epoll_pwait", "epoll_pwait2"];

    /// <summary>The system call a semaphore's sem_wait and sem_clockwait sleep in.</summary>
    public static readonly string[] Futex = ["futex"];

    /// <summary>
    /// Waits until thread <paramref name="threadId"/> of this process sleeps (state S) inside one of
    /// <paramref name="syscalls"/> (/proc/self/task/TID/syscall): the proof that the other side of a wake-up or
    /// cancellation test is blocked, not merely started. System calls, unlike the kernel functions wchan names
    /// (futex_wait_queue_me, futex_wait_queue, futex_do_wait as kernels go), are the same on every kernel.
    /// </summary>
    public static void UntilBlockedIn(int threadId, string[] syscalls, TimeSpan? limit = null) =>
        UntilBlockedIn(Environment.ProcessId, threadId, syscalls, limit);

    /// <summary>The same for thread <paramref name="threadId"/> of process <paramref name="processId"/> (its main thread: the process id).</summary>
    public static void UntilBlockedIn(int processId, int threadId, string[] syscalls, TimeSpan? limit = null) =>
        UntilSleeping(processId, threadId, $"blocked in {string.Join(" or ", syscalls)}", limit, "syscall", fields =>
            int.TryParse(fields.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out int number) && SyscallTable.Name(number) is string name && syscalls.Contains(name));

    /// <summary>
    /// Waits until thread <paramref name="threadId"/> of this process sleeps in a kernel function whose name contains
    /// <paramref name="kernelFunction"/> (/proc/self/task/TID/wchan), for waits no system call tells apart:
    /// "wait_for_partner", a FIFO's open.
    /// </summary>
    public static void UntilSleepingIn(int threadId, string kernelFunction, TimeSpan? limit = null) =>
        UntilSleeping(Environment.ProcessId, threadId, $"sleeping in {kernelFunction}", limit, "wchan", wchan => wchan.Contains(kernelFunction, StringComparison.Ordinal));

    private static void UntilSleeping(int processId, int threadId, string what, TimeSpan? limit, string procFile, Func<string, bool> matches)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string state, seen;
            try
            {
                state = File.ReadAllText($"/proc/{processId}/task/{threadId}/stat");
                seen = File.ReadAllText($"/proc/{processId}/task/{threadId}/{procFile}").Trim();
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
            {
                throw new InvalidOperationException($"thread {threadId} of process {processId} ended before it was {what}", e);
            }
            if (state[(state.LastIndexOf(')') + 2)..].StartsWith('S') && matches(seen))
            {
                return;
            }
            if (clock.Elapsed > (limit ?? TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"thread {threadId} of process {processId} is not {what} ({procFile} {seen}, stat {state})");
            }
            Thread.Sleep(1);
        }
    }
}
