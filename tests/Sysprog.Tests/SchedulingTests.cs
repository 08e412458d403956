using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Scheduling policy, nice and affinity of processes and threads, and resource limits, each against what the kernel reports elsewhere (/proc, chrt, taskset).</summary>
public sealed class SchedulingTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly List<ChildProcess> _children = [];

    public void Dispose()
    {
        foreach (ChildProcess child in _children)
        {
            if (child.Exit is null)
            {
                child.Signal(Signals.SIGKILL);
                child.WaitForExit(Soon);
            }
            child.Dispose();
        }
    }

    private ChildProcess Sleeper(string program = "sleep", params string[] arguments)
    {
        ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo(program, arguments.Length == 0 ? ["30"] : arguments));
        _children.Add(child);
        return child;
    }

    private static string[] StatFields(string path) => File.ReadAllText(path) is string stat ? stat[(stat.LastIndexOf(')') + 2)..].Split(' ') : [];

    private static string Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        arguments.ToList().ForEach(info.ArgumentList.Add);
        using Process process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>Until the .NET child has started its runtime's threads.</summary>
    private static void UntilThreads(int processId, int count)
    {
        var clock = Stopwatch.StartNew();
        while (Directory.GetDirectories($"/proc/{processId}/task").Length < count)
        {
            Assert.True(clock.Elapsed < Soon, $"process {processId} did not start {count} threads");
            Thread.Sleep(5);
        }
    }

    [Fact]
    public void ThisProcess_IsReadAsTheKernelReportsIt()
    {
        var lines = new List<string>();

        ProcessScheduling mine = ProcessScheduling.Get(0, null, lines.Add);

        Assert.Equal(Environment.ProcessId, mine.ProcessId);
        Assert.Equal(Environment.ProcessId, mine.ThreadId);
        string[] stat = StatFields("/proc/self/stat");
        Assert.Equal(int.Parse(stat[16], CultureInfo.InvariantCulture), mine.Nice);
        Assert.Equal((int)mine.Policy, int.Parse(stat[38], CultureInfo.InvariantCulture));
        Assert.Equal(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split('\t')[1], mine.AffinityList);
        Assert.Equal(File.ReadAllText("/proc/self/comm").TrimEnd('\n'), mine.ThreadName);
        // Then the thread's name, read from /proc/PID/task/TID/comm (open, a read and the read that finds the end, close).
        Assert.Equal(["sched_getscheduler", "sched_getparam", "getpriority", "sched_getaffinity", "open", "read", "read", "close"], lines.Select(l => l[..l.IndexOf('(', StringComparison.Ordinal)]));
    }

    [Fact]
    public void EveryThread_IsListed_WithItsName()
    {
        IReadOnlyList<ProcessScheduling> threads = ProcessScheduling.GetThreads();

        Assert.Contains(threads, t => t.ThreadId == ThreadWait.CurrentThreadId());
        Assert.All(threads, t => Assert.Equal(Environment.ProcessId, t.ProcessId));
        Assert.Equal(threads.Select(t => t.ThreadId).Order(), threads.Select(t => t.ThreadId));
    }

    [Fact]
    public void APolicy_AndANice_Set_AreWhatChrtAndProcShow()
    {
        ChildProcess child = Sleeper();

        ProcessScheduling batch = Assert.Single(ProcessScheduling.SetPolicy(child.ProcessId, SchedulingPolicy.Batch));
        Assert.Equal(SchedulingPolicy.Batch, batch.Policy);
        Assert.Contains("SCHED_BATCH", Run("chrt", "-p", child.ProcessId.ToString(CultureInfo.InvariantCulture)), StringComparison.Ordinal);

        ProcessScheduling.SetPolicy(child.ProcessId, SchedulingPolicy.Other);
        ProcessScheduling nice = Assert.Single(ProcessScheduling.SetNice(child.ProcessId, 7));
        Assert.Equal(7, nice.Nice);
        Assert.Equal("7", StatFields($"/proc/{child.ProcessId}/stat")[16]);
    }

    [SkippableFact]
    public void ARealtimePolicy_Set_IsWhatChrtShows_AndGoesBack()
    {
        Skip.IfNot(Privileges.MayUseRealtimePriority(10), Privileges.RealtimeMissing(10));
        ChildProcess child = Sleeper();

        ProcessScheduling fifo = Assert.Single(ProcessScheduling.SetPolicy(child.ProcessId, SchedulingPolicy.Fifo, 10, resetOnFork: true));
        Assert.Equal((SchedulingPolicy.Fifo, 10, true), (fifo.Policy, fifo.Priority, fifo.ResetOnFork));
        string chrt = Run("chrt", "-p", child.ProcessId.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("SCHED_FIFO|SCHED_RESET_ON_FORK", chrt, StringComparison.Ordinal);
        Assert.Contains("priority: 10", chrt, StringComparison.Ordinal);

        ProcessScheduling other = Assert.Single(ProcessScheduling.SetPolicy(child.ProcessId, SchedulingPolicy.Other));
        Assert.Equal((SchedulingPolicy.Other, 0), (other.Policy, other.Priority));
    }

    [Fact]
    public void AnAffinity_Set_OnAProcess_ReachesEachOfItsThreads()
    {
        // The CLI is a .NET process: a dozen threads.
        ChildProcess child = Sleeper(Peer.DotnetHost, Peer.CliPath, "timer", "--delay", "30s");
        UntilThreads(child.ProcessId, 4);

        IReadOnlyList<ProcessScheduling> changed = ProcessScheduling.SetAffinity(child.ProcessId, [0]);

        Assert.True(changed.Count > 3, $"{changed.Count} threads changed");
        foreach (string task in Directory.GetDirectories($"/proc/{child.ProcessId}/task"))
        {
            string taskset = Run("taskset", "-cp", Path.GetFileName(task));
            Assert.EndsWith("current affinity list: 0\n", taskset, StringComparison.Ordinal);
        }
        Assert.All(changed, t => Assert.Equal([0], t.Affinity));
    }

    [Fact]
    public void OneThread_CanBeSetAlone()
    {
        ChildProcess child = Sleeper(Peer.DotnetHost, Peer.CliPath, "timer", "--delay", "30s");
        UntilThreads(child.ProcessId, 4);
        int thread = Directory.GetDirectories($"/proc/{child.ProcessId}/task").Select(t => int.Parse(Path.GetFileName(t), CultureInfo.InvariantCulture)).Max();

        ProcessScheduling.SetNice(child.ProcessId, 3, thread);

        Assert.Equal(3, ProcessScheduling.Get(child.ProcessId, thread).Nice);
        Assert.Equal(0, ProcessScheduling.Get(child.ProcessId).Nice);
    }

    [Fact]
    public void ARealtimePolicy_RefusedWithoutPrivilege_SaysWhatWouldAllowIt()
    {
        Peer.Result result = Peer.RunUnprivileged(["prlimit", "--rtprio=0"], "sched", "self", "--policy", "fifo", "--priority", "10");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("EPERM", result.Error, StringComparison.Ordinal);
        Assert.Contains("RLIMIT_RTPRIO of at least 10 (it is 0", result.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ARealtimePolicy_IsAllowed_UnderRLIMIT_RTPRIO_WithoutPrivilege()
    {
        ProcessLimit rtprio = ProcessLimit.Get(ProcessResource.RtPrio);
        Skip.If(rtprio.Hard < 10 && !Capabilities.Has(Capabilities.SysResource),
            $"RLIMIT_RTPRIO's hard limit is {rtprio.HardText} here and this process lacks CAP_SYS_RESOURCE to raise it for the child.");
        Peer.Result result = Peer.RunUnprivileged(["prlimit", "--rtprio=20"], "sched", "self", "--policy", "rr", "--priority", "10");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("SCHED_RR", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingProcess_IsESRCH_NamingIt()
    {
        var e = Assert.Throws<SysprogException>(() => ProcessScheduling.Get(int.MaxValue));

        Assert.Equal(Errno.ESRCH, e.Errno);
        Assert.Contains($"No thread {int.MaxValue}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("priority for other")]
    [InlineData("fifo priority 0")]
    [InlineData("nice 20")]
    [InlineData("cpu -1")]
    [InlineData("no cpu")]
    [InlineData("deadline")]
    public void BadSettings_AreRefused_BeforeAnySystemCall(string problem)
    {
        var lines = new List<string>();
        Action change = problem switch
        {
            "priority for other" => () => ProcessScheduling.SetPolicy(0, SchedulingPolicy.Other, 5, trace: lines.Add),
            "fifo priority 0" => () => ProcessScheduling.SetPolicy(0, SchedulingPolicy.Fifo, 0, trace: lines.Add),
            "nice 20" => () => ProcessScheduling.SetNice(0, 20, trace: lines.Add),
            "cpu -1" => () => ProcessScheduling.SetAffinity(0, [-1], trace: lines.Add),
            "no cpu" => () => ProcessScheduling.SetAffinity(0, [], trace: lines.Add),
            _ => () => ProcessScheduling.SetPolicy(0, SchedulingPolicy.Deadline, trace: lines.Add),
        };

        Assert.ThrowsAny<ArgumentException>(change);

        Assert.Empty(lines);
    }

    [Theory]
    [InlineData("0-3,6", new[] { 0, 1, 2, 3, 6 }, "0-3,6")]
    [InlineData("1", new[] { 1 }, "1")]
    [InlineData(" 2, 0 ", new[] { 0, 2 }, "0,2")]
    [InlineData("0,1,2", new[] { 0, 1, 2 }, "0-2")]
    public void CpuLists_ReadAndWriteAsTheKernelDoes(string text, int[] cpus, string written)
    {
        Assert.Equal(cpus, CpuList.Parse(text));
        Assert.Equal(written, CpuList.Format(cpus));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("3-1")]
    [InlineData("1-2-3")]
    public void BadCpuLists_AreRefused(string text) => Assert.Throws<FormatException>(() => CpuList.Parse(text));

    [Fact]
    public void EveryLimit_IsWhatProcLimitsShows()
    {
        ChildProcess child = Sleeper();

        IReadOnlyList<ProcessLimit> limits = ProcessLimit.GetAll(child.ProcessId);

        Assert.Equal(16, limits.Count);
        string[] table = File.ReadAllLines($"/proc/{child.ProcessId}/limits");
        for (int i = 0; i < limits.Count; i++)
        {
            // "Max open files            1024                 1048576              files"
            string row = table[i + 1];
            string[] values = row[26..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(values[0], limits[i].Soft?.ToString(CultureInfo.InvariantCulture) ?? "unlimited");
            Assert.Equal(values[1], limits[i].Hard?.ToString(CultureInfo.InvariantCulture) ?? "unlimited");
        }
    }

    [Fact]
    public void ALimit_Set_OnAnotherProcess_IsWhatProcLimitsShows()
    {
        ChildProcess child = Sleeper();
        var lines = new List<string>();

        ProcessLimit set = ProcessLimit.Set(ProcessResource.NoFile, 100, null, child.ProcessId, lines.Add);

        Assert.Equal(100, set.Soft);
        Assert.Contains(File.ReadAllLines($"/proc/{child.ProcessId}/limits"), l => l.StartsWith("Max open files", StringComparison.Ordinal) && l[26..].TrimStart().StartsWith("100 ", StringComparison.Ordinal));
        Assert.Matches($@"^prlimit\({child.ProcessId}, RLIMIT_NOFILE, \{{rlim_cur=100, rlim_max=\d+\}}, \{{rlim_cur=\d+, rlim_max=\d+\}}\) = 0$", lines[^1]);

        ProcessLimit unlimited = ProcessLimit.Set(ProcessResource.Core, long.MaxValue, long.MaxValue, child.ProcessId);
        Assert.Null(unlimited.Soft);
        Assert.Equal("unlimited", ProcessLimit.Get(ProcessResource.Core, child.ProcessId).SoftText);
    }

    [Fact]
    public void RaisingAHardLimit_WithoutPrivilege_IsEPERM_Explained()
    {
        Peer.Result result = Peer.RunUnprivileged(["prlimit", "--nofile=64:64"], "limits", "self", "--set", "nofile=128:128");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("EPERM", result.Error, StringComparison.Ordinal);
        Assert.Contains("Raising the hard limit of RLIMIT_NOFILE needs CAP_SYS_RESOURCE", result.Error, StringComparison.Ordinal);
    }

    /// <summary>What Peer.RunUnprivileged runs the CLI as, to start a target with the same ids.</summary>
    private static string[] AsTheUnprivilegedCli() => Environment.UserName == "root"
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
        : [];

    [Fact]
    public void RaisingAHardLimitOfAnotherProcessWithTheSameIds_IsEPERM_ExplainedAsTheHardLimit()
    {
        // The target runs with the CLI's ids and a hard RLIMIT_NICE of 0; once it sleeps, prlimit and setpriv are done.
        ChildProcess target = Sleeper("prlimit", ["--nice=0:0", "--", .. AsTheUnprivilegedCli(), "sleep", "30"]);
        ThreadWait.UntilBlockedIn(target.ProcessId, target.ProcessId, ["clock_nanosleep", "nanosleep"], Soon);

        Peer.Result result = Peer.RunUnprivileged([], "limits", target.ProcessId.ToString(CultureInfo.InvariantCulture), "--set", "nice=0:40");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("EPERM", result.Error, StringComparison.Ordinal);
        Assert.Contains("Raising the hard limit of RLIMIT_NICE needs CAP_SYS_RESOURCE", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("does not run with", result.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ChangingALimitOfAnotherUsersProcess_IsEPERM_ExplainedByTheIds()
    {
        Skip.IfNot(Environment.UserName == "root", "only root can run the CLI as another user (nobody) than this test process's");

        Peer.Result result = Peer.RunUnprivileged([], "limits", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--set", "core=0:0");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"Process {Environment.ProcessId} does not run with this process's real user and group id", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void LoweringALimitThatCanEndThisProcess_IsRefused_UnlessForced()
    {
        ProcessLimit before = ProcessLimit.Get(ProcessResource.NoFile);
        var lines = new List<string>();

        Assert.Throws<InvalidOperationException>(() => ProcessLimit.Set(ProcessResource.NoFile, 100, null, 0, lines.Add));

        Assert.DoesNotContain(lines, l => l.Contains("{rlim_cur=100", StringComparison.Ordinal));
        Assert.Equal(before, ProcessLimit.Get(ProcessResource.NoFile));
        // Raising, or lowering one that cannot end it, needs no force.
        ProcessLimit.Set(ProcessResource.NoFile, before.Soft, null);
        Assert.False(ProcessLimit.CanEndTheProcess(ProcessResource.Core));
    }

    [Theory]
    [InlineData(ProcessResource.Cpu, false)]
    [InlineData(ProcessResource.Cpu, true)]
    [InlineData(ProcessResource.NProc, false)]
    [InlineData(ProcessResource.NProc, true)]
    [InlineData(ProcessResource.SigPending, false)]
    [InlineData(ProcessResource.MemLock, false)]
    [InlineData(ProcessResource.NoFile, true)]
    [InlineData(ProcessResource.AS, true)]
    [InlineData(ProcessResource.Data, false)]
    [InlineData(ProcessResource.Stack, false)]
    [InlineData(ProcessResource.FSize, false)]
    [InlineData(ProcessResource.RtTime, true)]
    public void LoweringALimitThatCanEndOrStarveThisProcess_IsRefused_ByItsIdOrAThreadsId(ProcessResource resource, bool byThreadId)
    {
        int id = byThreadId
            ? ProcFile.ThreadIds(Environment.ProcessId).First(thread => thread != Environment.ProcessId)
            : Environment.ProcessId;
        ProcessLimit before = ProcessLimit.Get(resource);
        // Lower by one only: should the guard fail, the limit this process then runs under is still harmless.
        long lower = (before.Soft ?? (1L << 40)) - 1;
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => ProcessLimit.Set(resource, lower, null, id));
            Assert.Contains(ProcessLimit.NameOf(resource), e.Message, StringComparison.Ordinal);
            if (byThreadId)
            {
                Assert.Contains($"thread {id} is one of its threads", e.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            ProcessLimit.Set(resource, before.Soft ?? long.MaxValue, null, 0, force: true);
        }
        Assert.Equal(before, ProcessLimit.Get(resource));
    }

    [Fact]
    public void ALimitOfAMissingProcess_IsESRCH()
    {
        var e = Assert.Throws<SysprogException>(() => ProcessLimit.Get(ProcessResource.NoFile, int.MaxValue));

        Assert.Equal(Errno.ESRCH, e.Errno);
    }

    [Theory]
    [InlineData("soft above hard")]
    [InlineData("negative")]
    [InlineData("nothing")]
    [InlineData("resource")]
    public void BadLimits_AreRefused_BeforeAnySystemCall(string problem)
    {
        var lines = new List<string>();
        Action change = problem switch
        {
            "soft above hard" => () => ProcessLimit.Set(ProcessResource.NoFile, 200, 100, 0, lines.Add),
            "negative" => () => ProcessLimit.Set(ProcessResource.NoFile, -1, null, 0, lines.Add),
            "nothing" => () => ProcessLimit.Set(ProcessResource.NoFile, null, null, 0, lines.Add),
            _ => () => ProcessLimit.Get((ProcessResource)16, 0, lines.Add),
        };

        Assert.ThrowsAny<ArgumentException>(change);

        Assert.Empty(lines);
    }

    [Fact]
    public void AThreadOfAnotherProcess_IsRefusedWithESRCH_BeforeAnyChange()
    {
        ChildProcess other = Sleeper();
        int niceBefore = ProcessScheduling.Get(other.ProcessId).Nice;
        var lines = new List<string>();
        foreach (Action change in new Action[]
        {
            () => ProcessScheduling.SetNice(Environment.ProcessId, niceBefore == 19 ? 18 : 19, other.ProcessId, lines.Add),
            () => ProcessScheduling.SetPolicy(Environment.ProcessId, SchedulingPolicy.Batch, threadId: other.ProcessId, trace: lines.Add),
            () => ProcessScheduling.SetAffinity(Environment.ProcessId, [0], other.ProcessId, lines.Add),
        })
        {
            var refused = Assert.Throws<SysprogException>(change);
            Assert.Equal(Errno.ESRCH, refused.Errno);
            Assert.Contains($"not a thread of process {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
        }
        Assert.Empty(lines);
        ProcessScheduling after = ProcessScheduling.Get(other.ProcessId);
        Assert.Equal((niceBefore, SchedulingPolicy.Other), (after.Nice, after.Policy));
    }

    [Fact]
    public void Idle_ForThisProcess_OrAnyOfItsThreads_NeedsForce()
    {
        int thread = ProcessScheduling.GetThreads().First(t => t.ThreadId != Environment.ProcessId).ThreadId;
        var lines = new List<string>();
        Assert.Throws<InvalidOperationException>(() => ProcessScheduling.SetPolicy(0, SchedulingPolicy.Idle, trace: lines.Add));
        Assert.Throws<InvalidOperationException>(() => ProcessScheduling.SetPolicy(thread, SchedulingPolicy.Idle, trace: lines.Add));
        Assert.Throws<InvalidOperationException>(() => ProcessScheduling.SetPolicy(Environment.ProcessId, SchedulingPolicy.Idle, threadId: thread, trace: lines.Add));
        Assert.Empty(lines);
        Assert.DoesNotContain(ProcessScheduling.GetThreads(), t => t.Policy == SchedulingPolicy.Idle);

        ChildProcess child = Sleeper();
        Assert.Equal(SchedulingPolicy.Idle, Assert.Single(ProcessScheduling.SetPolicy(child.ProcessId, SchedulingPolicy.Idle)).Policy);
    }
}
