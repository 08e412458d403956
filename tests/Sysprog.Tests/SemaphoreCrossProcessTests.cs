using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Semaphores shared with peer processes (the sysprog CLI).</summary>
public sealed class SemaphoreCrossProcessTests : IDisposable
{
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkSemaphoreIfPresent(_name);
        TestNames.UnlinkIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    [Fact]
    public async Task TheEighthWait_BlocksUntilAnotherProcessPosts()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 7);
        for (int i = 0; i < 7; i++)
        {
            Assert.True(semaphore.Wait(TimeSpan.Zero));
        }
        (Task<bool> eighth, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => semaphore.Wait(TimeSpan.FromSeconds(60)));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Futex);
        Assert.False(eighth.IsCompleted, "the eighth wait returned with the value at 0");
        Peer.Result post = Peer.Run("sem", "post", _name);
        Assert.True(post.ExitCode == 0, post.Error);
        Assert.True(await eighth.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void ProtectedIncrements_FromFourProcesses_EndAtExactlyNTimesM()
    {
        const int Producers = 4;
        const long Increments = 20_000;
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping view = shm.Map();
        using PosixSemaphore guard = PosixSemaphore.Create(_name, 1);
        string[] arguments = ["shm", "increment", _name, "--count", Increments.ToString(CultureInfo.InvariantCulture), "--semaphore", _name,
            "--participants", Producers.ToString(CultureInfo.InvariantCulture), "--timeout", "60s"];
        List<Process> peers = Enumerable.Range(0, Producers).Select(_ => Peer.Start(arguments)).ToList();
        foreach (Peer.Result result in peers.Select(Peer.Finish))
        {
            Assert.True(result.ExitCode == 0, result.Error);
        }
        Assert.Equal(Producers * Increments, view.ReadInt64(0));
        Assert.Equal(1, guard.Value);
    }

    [Fact]
    public void AnUnnamedSemaphoreInSharedMemory_GuardsIncrementsFromFourProcesses()
    {
        const int Producers = 4;
        const long Increments = 20_000;
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping view = shm.Map();
        PosixSemaphore guard = PosixSemaphore.Initialize(view, 64, 1);
        string[] arguments = ["shm", "increment", _name, "--count", Increments.ToString(CultureInfo.InvariantCulture), "--semaphore-at", "64",
            "--participants", Producers.ToString(CultureInfo.InvariantCulture), "--timeout", "60s"];
        List<Process> peers = Enumerable.Range(0, Producers).Select(_ => Peer.Start(arguments)).ToList();
        foreach (Peer.Result result in peers.Select(Peer.Finish))
        {
            Assert.True(result.ExitCode == 0, result.Error);
        }
        Assert.Equal(Producers * Increments, view.ReadInt64(0));
        Assert.Equal(1, guard.Value);
        guard.Destroy();
    }

    [Fact]
    public void AHolderKilledWithoutPosting_LeavesAWaiterThatTimesOut()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 1);
        using Process holder = Peer.Start("sem", "wait", _name, "--hold");
        Assert.Equal($"took {_name}", holder.StandardOutput.ReadLine());
        holder.Kill();
        holder.WaitForExit();
        Assert.Equal(0, semaphore.Value);
        var clock = Stopwatch.StartNew();
        Assert.False(semaphore.Wait(TimeSpan.FromMilliseconds(300)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(295));
    }

    [Fact]
    public void TheCli_CreatesWaitsPostsListsAndRemoves_AndATimedOutWaitExitsNonZero()
    {
        Assert.Equal(0, Peer.Run("sem", "create", _name, "--value", "2").ExitCode);
        Peer.Result listed = Peer.Run("sem", "list", _name, "--json");
        using (JsonDocument json = JsonDocument.Parse(listed.Output))
        {
            JsonElement entry = Assert.Single(json.RootElement.EnumerateArray());
            Assert.Equal(2, entry.GetProperty("value").GetInt32());
            Assert.Equal("0600", entry.GetProperty("mode").GetString());
        }
        Assert.Equal(0, Peer.Run("sem", "wait", _name, "--timeout", "1s").ExitCode);
        Assert.Equal(0, Peer.Run("sem", "wait", _name, "--timeout", "1s").ExitCode);
        Peer.Result timedOut = Peer.Run("sem", "wait", _name, "--timeout", "200ms");
        Assert.Equal(124, timedOut.ExitCode); // as timeout(1): not yet, rather than failed
        Assert.Contains("not available within 200ms", timedOut.Error, StringComparison.Ordinal);
        Assert.Equal(0, Peer.Run("sem", "post", _name, "--count", "3").ExitCode);
        Assert.Equal("3", Peer.Run("sem", "value", _name).Output.Trim());
        Peer.Result again = Peer.Run("sem", "create", _name);
        Assert.Equal($"sysprog: sem_open(\"{_name}\") failed: EEXIST (File exists)", again.Error.Trim());
        Assert.Equal(0, Peer.Run("sem", "remove", _name).ExitCode);
        Assert.Equal(1, Peer.Run("sem", "value", _name).ExitCode);
        Assert.Equal(2, Peer.Run("sem", "wait", _name, "--timeout", "-1s").ExitCode);
    }

    /// <summary>
    /// The CLI's exit codes tell apart what a script must handle differently: 2 a usage error, 1 a failed call, 124
    /// a wait that ran out its timeout (as timeout(1) exits), 130 a wait stopped by Ctrl+C (SIGINT, sent only once
    /// the C library counts the CLI as a waiter on the semaphore, so it is asleep in sem_wait, not starting up).
    /// </summary>
    [Fact]
    public void TheCliExitCodes_TellUsageErrorsFailuresTimeoutsAndCtrlCApart()
    {
        Assert.Equal(2, Peer.Run("sem", "wait", _name, "--no-such-option").ExitCode);
        Peer.Result missing = Peer.Run("sem", "wait", _name, "--timeout", "1s");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("ENOENT", missing.Error, StringComparison.Ordinal);
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        Assert.Equal(124, Peer.Run("sem", "wait", _name, "--timeout", "50ms").ExitCode);
        // SIGINT set to its default first: a run started in the background by a shell without job control inherits
        // it ignored, and .NET then leaves it ignored, as programs should.
        using Process waiter = Peer.StartWith(["env", "--default-signal=INT"], "sem", "wait", _name);
        var clock = Stopwatch.StartNew();
        while (semaphore.Waiters == 0)
        {
            Assert.False(waiter.HasExited, "the CLI ended before it waited");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the CLI never waited on the semaphore");
            Thread.Sleep(10);
        }
        Assert.Equal(0, Interop.Libc.kill(waiter.Id, Signals.SIGINT));
        Peer.Result interrupted = Peer.Finish(waiter);
        Assert.Equal(130, interrupted.ExitCode);
        Assert.Equal(0, semaphore.Value);
    }
}
