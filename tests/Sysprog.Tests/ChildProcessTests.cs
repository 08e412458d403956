using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Children started with posix_spawn and held by a pidfd: descriptors mapped, the rest closed, attributes, exits, signals, waits, reaping.</summary>
public sealed class ChildProcessTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly List<IDisposable> _objects = [];
    private readonly List<ChildProcess> _children = [];

    public void Dispose()
    {
        foreach (ChildProcess child in _children.Where(c => !c.IsClosed && c.Exit is null))
        {
            try
            {
                child.Signal(Signals.SIGKILL);
                child.WaitForExit(Soon);
            }
            catch (SysprogException)
            {
            }
        }
        _children.ForEach(c => c.Dispose());
        _objects.ForEach(o => o.Dispose());
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        Assert.All(_children, c => Assert.False(IsZombieOrRunning(c.ProcessId), $"{c.Description} was not reaped"));
    }

    private ChildProcess Start(ChildProcessStartInfo info)
    {
        ChildProcess child = ChildProcess.Start(info);
        _children.Add(child);
        return child;
    }

    private ChildProcess Shell(string script, Pipe? output = null) =>
        Start(new ChildProcessStartInfo("sh", ["-c", script]) { Descriptors = output is null ? new Dictionary<int, IDescriptorObject>() : new() { [1] = output.WriteEnd } });

    private T Track<T>(T value) where T : IDisposable
    {
        _objects.Add(value);
        return value;
    }

    private static bool IsZombieOrRunning(int processId) => File.Exists($"/proc/{processId}/stat")
        && File.ReadAllText($"/proc/{processId}/stat") is string stat && ParentOf(stat) == Environment.ProcessId;

    private static int ParentOf(string stat) => int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);

    /// <summary>Everything the child wrote to the pipe until it closed its end.</summary>
    private static string ReadAll(Pipe pipe, ChildProcess child)
    {
        Assert.NotNull(child.WaitForExit(Soon));
        pipe.WriteEnd.Close();
        var text = new StringBuilder();
        while (pipe.ReadEnd.ReadAvailableText(null, Soon) is string piece && piece.Length > 0)
        {
            text.Append(piece);
        }
        return text.ToString();
    }

    [Fact]
    public void AnExit_IsWaitedFor_ThroughThePidfd_AndReaped()
    {
        ChildProcess child = Shell("exit 7");
        var lines = new List<string>();

        ProcessExit? exit = child.WaitForExit(Soon, default, lines.Add);

        Assert.Equal(new ProcessExit(child.ProcessId, 7, null, false), exit);
        Assert.Same(exit, child.Exit);
        Assert.True(child.HasExited);
        Assert.False(exit!.Succeeded);
        Assert.Contains(lines, l => l.StartsWith($"waitid(P_PIDFD, {child.Fd}, {{si_code=CLD_EXITED, si_status=7}}, WEXITED) = 0", StringComparison.Ordinal));
        Assert.False(File.Exists($"/proc/{child.ProcessId}/stat"), "reaped: no zombie left");
        Assert.Same(exit, child.WaitForExit(TimeSpan.Zero));
    }

    [Fact]
    public void MappedDescriptors_ArriveUnderTheirNumbers_EvenWhenTheyCrossEachOther()
    {
        Pipe first = Track(Pipe.Create());
        Pipe second = Track(Pipe.Create());
        int a = first.WriteEnd.Fd, b = second.WriteEnd.Fd;
        // The child's a is our second pipe and its b our first: a plain dup2 in order would lose one of them.
        ChildProcess child = Start(new ChildProcessStartInfo("bash", ["-c", $"echo to-a >&{a}; echo to-b >&{b}"])
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [a] = second.WriteEnd, [b] = first.WriteEnd },
        });

        Assert.Equal(0, child.WaitForExit(Soon)?.ExitCode);
        first.WriteEnd.Close();
        second.WriteEnd.Close();
        Assert.Equal("to-b\n", first.ReadEnd.ReadAvailableText(null, Soon));
        Assert.Equal("to-a\n", second.ReadEnd.ReadAvailableText(null, Soon));
        Assert.Equal(new Dictionary<int, string> { [a] = second.WriteEnd.Description, [b] = first.WriteEnd.Description }, child.Descriptors);
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheChild_HoldsOnlyStandardStreams_AndWhatItWasGiven_NotWhatWasMerelyInheritable(bool closeFrom)
    {
        Skip.If(closeFrom && !Interop.Libc.HasSpawnCloseFrom, "this libc has no posix_spawn_file_actions_addclosefrom_np");
        bool before = ProcessSpawner.UseCloseFrom;
        ProcessSpawner.UseCloseFrom = closeFrom;
        try
        {
            AssertOnlyStandardStreamsAndGiven();
        }
        finally
        {
            ProcessSpawner.UseCloseFrom = before;
        }
    }

    private void AssertOnlyStandardStreamsAndGiven()
    {
        EventFd inheritable = Track(EventFd.Create());
        inheritable.SetInheritable(true);
        EventFd given = Track(EventFd.Create());
        Pipe output = Track(Pipe.Create());
        ChildProcess child = Start(new ChildProcessStartInfo("ls", ["-1", "/proc/self/fd"])
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [1] = output.WriteEnd, [7] = given },
        });

        string[] fds = ReadAll(output, child).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("7", fds);
        Assert.Contains("0", fds);
        Assert.Contains("2", fds);
        Assert.DoesNotContain(inheritable.Fd.ToString(CultureInfo.InvariantCulture), fds);
        // ls's own descriptor for the folder it lists is the one other number.
        Assert.Equal(5, fds.Length);
    }

    [Fact]
    public void BlockedSignals_AreTheChildsMask_AndEveryDispositionStartsAtDefault()
    {
        Pipe output = Track(Pipe.Create());
        ChildProcess child = Start(new ChildProcessStartInfo("cat", ["/proc/self/status"])
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [1] = output.WriteEnd },
            BlockedSignals = [Signals.SIGUSR1, Signals.SIGTERM, Signals.SIGRTMIN],
        });

        string status = ReadAll(output, child);

        ulong expected = (1UL << (Signals.SIGUSR1 - 1)) | (1UL << (Signals.SIGTERM - 1)) | (1UL << (Signals.SIGRTMIN - 1));
        Assert.Contains($"SigBlk:\t{expected:x16}\n", status, StringComparison.Ordinal);
        // The runtime ignores SIGPIPE; the child does not inherit that.
        Assert.Contains("SigIgn:\t0000000000000000\n", status, StringComparison.Ordinal);
    }

    [Fact]
    public void TheEnvironment_IsLaidOver_AndTheWorkingDirectoryIsSet()
    {
        Pipe output = Track(Pipe.Create());
        ChildProcess child = Start(new ChildProcessStartInfo("sh", ["-c", "pwd; echo \"$SYSPROG_X|${HOME-unset}|$PATH\""])
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [1] = output.WriteEnd },
            WorkingDirectory = "/usr/share",
            Environment = new Dictionary<string, string?> { ["SYSPROG_X"] = "a b", ["HOME"] = null },
        });

        Assert.Equal($"/usr/share\na b|unset|{Environment.GetEnvironmentVariable("PATH")}\n", ReadAll(output, child));
    }

    [Fact]
    public void ANewSession_AndANewProcessGroup_AreTheChildsOwn()
    {
        ChildProcess session = Start(new ChildProcessStartInfo("sleep", ["30"]) { NewSession = true });
        ChildProcess group = Start(new ChildProcessStartInfo("sleep", ["30"]) { NewProcessGroup = true });
        ChildProcess plain = Start(new ChildProcessStartInfo("sleep", ["30"]));

        (int Group, int Session) Ids(int pid)
        {
            string[] fields = File.ReadAllText($"/proc/{pid}/stat") is string stat ? stat[(stat.LastIndexOf(')') + 2)..].Split(' ') : [];
            return (int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
        }

        (int ourGroup, int ourSession) = Ids(Environment.ProcessId);
        Assert.Equal((session.ProcessId, session.ProcessId), Ids(session.ProcessId));
        Assert.Equal((group.ProcessId, ourSession), Ids(group.ProcessId));
        Assert.Equal((ourGroup, ourSession), Ids(plain.ProcessId));
    }

    [Fact]
    public void ASchedulingPolicy_IsTheChildsFromItsFirstInstruction_OrRefusedWithTheReason()
    {
        var info = new ChildProcessStartInfo("sleep", ["30"]) { SchedulingPolicy = SchedulingPolicy.RR, SchedulingPriority = 5 };

        if (Privileges.MayUseRealtimePriority(5))
        {
            ProcessScheduling scheduling = ProcessScheduling.Get(Start(info).ProcessId);
            Assert.Equal((SchedulingPolicy.RR, 5), (scheduling.Policy, scheduling.Priority));
        }
        else
        {
            var e = Assert.Throws<SysprogException>(() => Start(info));
            Assert.Equal(Errno.EPERM, e.Errno);
            Assert.Contains("RLIMIT_RTPRIO of at least 5", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ASignal_ReachesTheChild_AndItsEndIsReported_ThenItCannotBeSignalledAgain()
    {
        ChildProcess child = Start(new ChildProcessStartInfo("sleep", ["30"]));
        Assert.False(child.HasExited);
        var lines = new List<string>();

        child.Signal(Signals.SIGTERM, lines.Add);

        Assert.Equal([$"pidfd_send_signal({child.Fd}, SIGTERM, NULL, 0) = 0"], lines);
        Assert.Equal(new ProcessExit(child.ProcessId, null, Signals.SIGTERM, false), child.WaitForExit(Soon));
        Assert.Equal("killed by SIGTERM", child.Exit!.ToString());
        Assert.Throws<InvalidOperationException>(() => child.Signal(Signals.SIGTERM));
    }

    [Fact]
    public void AWait_TimesOut_WhileTheChildRuns()
    {
        ChildProcess child = Start(new ChildProcessStartInfo("sleep", ["30"]));
        var clock = Stopwatch.StartNew();

        Assert.Null(child.WaitForExit(TimeSpan.FromMilliseconds(100)));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(90), TimeSpan.FromSeconds(5));
        Assert.Null(child.Exit);
    }

    [Fact]
    public async Task AWait_StopsAtOnce_OnCancellation()
    {
        ChildProcess child = Start(new ChildProcessStartInfo("sleep", ["30"]));
        using var cancellation = new CancellationTokenSource();
        (Task<ProcessExit?> waiter, int waiterThread) = await ThreadWait.StartOnThreadOfItsOwn(() => child.WaitForExit(Timeout.InfiniteTimeSpan, cancellation.Token));
        ThreadWait.UntilBlockedIn(waiterThread, ThreadWait.Poll);
        var clock = Stopwatch.StartNew();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task TheChild_IsPollable_WithOtherDescriptors_AndReadyWhenItEnds()
    {
        EventFd quiet = Track(EventFd.Create());
        ChildProcess child = Start(new ChildProcessStartInfo("sleep", ["30"]));
        (Task<IReadOnlyList<ReadyHandle>> waiter, int waiterThread) = await ThreadWait.StartOnThreadOfItsOwn(() => PollSet.WaitFor([quiet, child], Readiness.Readable, all: false, Soon));
        ThreadWait.UntilBlockedIn(waiterThread, ThreadWait.Epoll);

        child.Signal(Signals.SIGKILL);

        ReadyHandle ready = Assert.Single(await waiter);
        Assert.Same(child, ready.Handle);
        Assert.Equal(Signals.SIGKILL, child.WaitForExit(TimeSpan.Zero)?.Signal);
    }

    [Fact]
    public void AChildClosedWhileRunning_GoesOn_AndIsReapedOnceItEnds()
    {
        ChildProcess child = Start(new ChildProcessStartInfo("sleep", ["30"]));
        int processId = child.ProcessId;

        child.Close();

        Assert.True(File.Exists($"/proc/{processId}/stat"), "closing the object leaves the child running");
        Assert.Equal(0, Interop.Libc.kill(processId, Signals.SIGKILL));
        var clock = Stopwatch.StartNew();
        while (File.ReadAllText($"/proc/{processId}/stat") is string stat && stat[(stat.LastIndexOf(')') + 2)] != 'Z')
        {
            Assert.True(clock.Elapsed < Soon, "the killed child did not end");
            Thread.Sleep(5);
        }

        // The next start sweeps the closed children that ended.
        Shell("exit 0").WaitForExit(Soon);

        Assert.False(File.Exists($"/proc/{processId}/stat"), "reaped at the next start");
    }

    /// <summary>
    /// Every CLI command that runs a program starts it the one way (posix_spawnp), so a missing one ends each of them
    /// with the same errno-named line and exit 1, never a .NET stack trace: the README's own `sysprog lock` example
    /// with no ./job.sh among them.
    /// </summary>
    [Theory]
    [InlineData("lock")]
    [InlineData("spawn")]
    [InlineData("pty")]
    public void AMissingProgram_FromTheCli_IsOneErrnoNamedLine_AndExit1(string command)
    {
        string lockFile = Path.Combine(Path.GetTempPath(), $"{TestNames.Prefix}{Guid.NewGuid():N}.lock");
        // ./job.sh is looked for where the CLI runs: the test's working directory, as for the README's user.
        Assert.False(File.Exists("job.sh"), "a job.sh in the test's working directory");
        string[] arguments = command == "lock" ? ["lock", lockFile, "--timeout", "0", "--", "./job.sh"] : [command, "--", "./job.sh"];
        try
        {
            Peer.Result result = Peer.Run(arguments);

            Assert.Equal(1, result.ExitCode);
            Assert.StartsWith("sysprog: posix_spawnp(./job.sh) failed: ENOENT (No such file or directory). No program './job.sh' at that path", result.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
            Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
        }
        finally
        {
            File.Delete(lockFile);
        }
    }

    [Fact]
    public void AMissingProgram_IsENOENT_NamingIt_AndLeavesNothingBehind()
    {
        var e = Assert.Throws<SysprogException>(() => ChildProcess.Start(new ChildProcessStartInfo("sysprog-no-such-program")));

        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Equal("posix_spawnp", e.Call);
        Assert.Contains("No program 'sysprog-no-such-program' in PATH", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClosedDescriptor_IsRefused_BeforeAnythingStarts()
    {
        EventFd closed = EventFd.Create();
        closed.Close();

        Assert.Throws<ObjectDisposedException>(() => ChildProcess.Start(new ChildProcessStartInfo("true")
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [3] = closed },
        }));
    }

    [Theory]
    [InlineData("nul")]
    [InlineData("negative descriptor")]
    [InlineData("signal")]
    [InlineData("priority without policy")]
    [InlineData("priority out of range")]
    [InlineData("session and group")]
    [InlineData("batch")]
    public void BadStartInfo_IsRefused_BeforeAnySystemCall(string problem)
    {
        ChildProcessStartInfo info = problem switch
        {
            "nul" => new ChildProcessStartInfo("sh", ["a\0b"]),
            "negative descriptor" => new ChildProcessStartInfo("true") { Descriptors = new Dictionary<int, IDescriptorObject> { [-1] = Track(EventFd.Create()) } },
            "signal" => new ChildProcessStartInfo("true") { BlockedSignals = [65] },
            "priority without policy" => new ChildProcessStartInfo("true") { SchedulingPriority = 5 },
            "priority out of range" => new ChildProcessStartInfo("true") { SchedulingPolicy = SchedulingPolicy.Fifo, SchedulingPriority = 100 },
            "batch" => new ChildProcessStartInfo("true") { SchedulingPolicy = SchedulingPolicy.Batch },
            _ => new ChildProcessStartInfo("true") { NewSession = true, NewProcessGroup = true },
        };
        var lines = new List<string>();

        Assert.ThrowsAny<ArgumentException>(() => ChildProcess.Start(info, lines.Add));

        Assert.Empty(lines);
    }
}
