using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Sysprog.Tests;

/// <summary>flock, POSIX and OFD locks against a holder in another process (the sysprog CLI), each kind's ownership rule, and waits.</summary>
public sealed partial class FileLockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-locks-").FullName;
    private readonly string _path;
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly List<Process> _peers = [];

    public FileLockTests() => _path = Path.Combine(_folder, "sysprog-test.lock");

    public void Dispose()
    {
        foreach (Process peer in _peers)
        {
            if (!peer.HasExited)
            {
                peer.Kill(entireProcessTree: true);
                peer.WaitForExit();
            }
            peer.Dispose();
        }
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Starts `sysprog lock` holding the lock(s) and returns once it says so for each range.</summary>
    private Process Hold(FileLockKind kind, bool shared = false, string[]? command = null, params string[] ranges)
    {
        var arguments = new List<string> { "lock", _path, "--kind", kind.ToString() };
        if (shared)
        {
            arguments.Add("--shared");
        }
        foreach (string range in ranges)
        {
            arguments.AddRange(["--range", range]);
        }
        if (command is not null)
        {
            arguments.AddRange(["--", .. command]);
        }
        Process peer = Peer.Start([.. arguments]);
        _peers.Add(peer);
        for (int i = 0; i < Math.Max(1, ranges.Length); i++)
        {
            string? line = peer.StandardOutput.ReadLine();
            if (line?.StartsWith("locked: ", StringComparison.Ordinal) != true)
            {
                Assert.Fail($"peer said {line}; {peer.StandardError.ReadToEnd()}");
            }
        }
        return peer;
    }

    private static void StopPeer(Process peer)
    {
        peer.Kill();
        peer.WaitForExit();
    }

    /// <summary>The system call a blocking lock of <paramref name="kind"/> sleeps in: flock(2), or fcntl(2) F_SETLKW / F_OFD_SETLKW.</summary>
    private static string[] LockingSyscall(FileLockKind kind) => kind == FileLockKind.Flock ? ["flock"] : ["fcntl"];

    [Theory]
    [InlineData(FileLockKind.Flock)]
    [InlineData(FileLockKind.Posix)]
    [InlineData(FileLockKind.Ofd)]
    public void EachKind_ConflictsWithAnotherProcess_WhichIsNamed_UntilItGoes(FileLockKind kind)
    {
        Process holder = Hold(kind);

        Assert.Null(FileLock.Acquire(_path, kind, FileLockMode.Shared, TimeSpan.Zero));
        FileLockConflict conflict = FileLock.FindConflict(_path, kind, FileLockMode.Exclusive)!;
        Assert.Equal(FileLockMode.Exclusive, conflict.Mode);
        Assert.Equal(kind, conflict.Kind);
        // The kernel gives an OFD lock's owner as -1: an open file description has no single process.
        Assert.Equal(kind == FileLockKind.Ofd ? null : holder.Id, conflict.ProcessId);

        StopPeer(holder);
        Assert.Null(FileLock.FindConflict(_path, kind, FileLockMode.Exclusive));
        using FileLock taken = FileLock.Acquire(_path, kind, FileLockMode.Exclusive, TimeSpan.Zero)!;
        Assert.NotNull(taken);
        Assert.Equal(Environment.ProcessId, FileLockInfo.List(_path).Single().HeldBy.Single());
    }

    [Theory]
    [InlineData(FileLockKind.Flock)]
    [InlineData(FileLockKind.Posix)]
    [InlineData(FileLockKind.Ofd)]
    public void SharedLocks_Coexist_ButExcludeAnExclusiveOne(FileLockKind kind)
    {
        Hold(kind, shared: true);

        using FileLock shared = FileLock.Acquire(_path, kind, FileLockMode.Shared, TimeSpan.Zero)!;
        Assert.NotNull(shared);
        Assert.Null(FileLock.Acquire(_path, kind == FileLockKind.Posix ? FileLockKind.Ofd : kind, FileLockMode.Exclusive, TimeSpan.Zero));
        Assert.Equal(2, FileLockInfo.List(_path).Count(l => l.Mode == FileLockMode.Shared));
    }

    [Fact]
    public void ByteRanges_OfDifferentProcesses_DoNotConflictUnlessTheyOverlap()
    {
        Hold(FileLockKind.Posix, false, null, "10-19");

        using FileLock before = FileLock.Acquire(_path, FileLockKind.Ofd, FileLockMode.Exclusive, TimeSpan.Zero, default, 0, 10)!;
        using FileLock after = FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.Zero, default, 20, 0)!;
        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.Null(FileLock.Acquire(_path, FileLockKind.Ofd, FileLockMode.Shared, TimeSpan.Zero, default, 19, 1));
        FileLockConflict conflict = FileLock.FindConflict(_path, FileLockKind.Ofd, FileLockMode.Shared, 15, 100)!;
        Assert.Equal((10L, 10L), (conflict.Start, conflict.Length));
    }

    [Theory]
    [InlineData(FileLockKind.Flock)]
    [InlineData(FileLockKind.Posix)]
    [InlineData(FileLockKind.Ofd)]
    public void AWait_SleepsInTheKernel_WithoutCpu_AndStopsWithin100ms_OfCancellation(FileLockKind kind)
    {
        Hold(kind);
        using var cancel = new CancellationTokenSource();
        int threadId = 0;
        TimeSpan? stoppedAt = null;
        Exception? unexpected = null;
        var clock = Stopwatch.StartNew();
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref threadId, ThreadWait.CurrentThreadId());
            try
            {
                FileLock.Acquire(_path, kind, FileLockMode.Exclusive, Timeout.InfiniteTimeSpan, cancel.Token)?.Dispose();
                unexpected = new InvalidOperationException("the lock was taken");
            }
            catch (OperationCanceledException)
            {
                stoppedAt = clock.Elapsed;
            }
            catch (Exception e)
            {
                unexpected = e;
            }
        });
        waiter.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref threadId) != 0);
        ThreadWait.UntilBlockedIn(threadId, LockingSyscall(kind));

        TimeSpan cpuBefore = ThreadCpuOf(threadId);
        Thread.Sleep(300);
        TimeSpan cpuUsed = ThreadCpuOf(threadId) - cpuBefore;
        TimeSpan cancelledAt = clock.Elapsed;
        cancel.Cancel();
        Assert.True(waiter.Join(TimeSpan.FromSeconds(5)), "the waiter did not stop");

        Assert.True(cpuUsed < TimeSpan.FromMilliseconds(2), $"the waiter used {cpuUsed.TotalMilliseconds} ms of CPU in 300 ms of waiting");
        Assert.Null(unexpected);
        TimeSpan reaction = stoppedAt!.Value - cancelledAt;
        Assert.True(reaction < TimeSpan.FromMilliseconds(100), $"stopped {reaction.TotalMilliseconds} ms after the cancel");
        Assert.NotEqual(0, FileLock.InterruptSignal);
        ArgumentException refused = Assert.Throws<ArgumentException>(() => SignalFd.Create([FileLock.InterruptSignal]));
        Assert.Contains("interrupts waits", refused.Message, StringComparison.Ordinal);
    }

    private static TimeSpan ThreadCpuOf(int threadId) => TimeSpan.FromTicks(
        long.Parse(File.ReadAllText($"/proc/self/task/{threadId}/schedstat").Split(' ')[0], CultureInfo.InvariantCulture) / 100);

    [Fact]
    public void AWait_ReturnsNull_WhenItsTimeoutPasses()
    {
        Hold(FileLockKind.Flock);

        var clock = Stopwatch.StartNew();
        Assert.Null(FileLock.Acquire(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.FromMilliseconds(300)));
        TimeSpan waited = clock.Elapsed;
        Assert.True(waited >= TimeSpan.FromMilliseconds(290) && waited < TimeSpan.FromMilliseconds(1300), $"waited {waited.TotalMilliseconds} ms");
        Assert.Contains($"held by process {_peers[0].Id}", FileLock.TimedOutMessage(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.FromMilliseconds(300)),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FileLockKind.Flock)]
    [InlineData(FileLockKind.Posix)]
    [InlineData(FileLockKind.Ofd)]
    public void AWaiter_GetsTheLock_WhenTheHolderGoes(FileLockKind kind)
    {
        Process holder = Hold(kind);
        int threadId = 0;
        FileLock? taken = null;
        Exception? failed = null;
        var waiter = new Thread(() =>
        {
            Volatile.Write(ref threadId, ThreadWait.CurrentThreadId());
            try
            {
                taken = FileLock.Acquire(_path, kind, FileLockMode.Exclusive, TimeSpan.FromSeconds(30));
            }
            catch (Exception e)
            {
                // Reported by the asserts below: an exception escaping a thread would end the whole test run.
                failed = e;
            }
        });
        waiter.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref threadId) != 0);
        ThreadWait.UntilBlockedIn(threadId, LockingSyscall(kind));
        FileLockInfo waiting = FileLockInfo.List(_path).Single(l => l.IsWaiting);
        Assert.Equal(kind == FileLockKind.Ofd ? null : Environment.ProcessId, waiting.ProcessId);
        Assert.Equal(_path, waiting.Path);

        StopPeer(holder);

        Assert.True(waiter.Join(TimeSpan.FromSeconds(10)), "the waiter did not get the lock");
        Assert.Null(failed);
        Assert.NotNull(taken);
        taken.Release();
    }

    [Fact]
    public void APosixDeadlock_IsReported_NamingBothRanges()
    {
        using FileLock mine = FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.Zero, default, 0, 10)!;
        // The peer takes 10-19, then waits for 0-9, which this process holds.
        Process peer = Peer.Start("lock", _path, "--kind", "posix", "--range", "10-19", "--range", "0-9");
        _peers.Add(peer);
        Assert.StartsWith("locked: ", peer.StandardOutput.ReadLine(), StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();
        while (!FileLockInfo.List(_path).Any(l => l.IsWaiting && l.ProcessId == peer.Id))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the peer never waited");
            Thread.Sleep(5);
        }

        SysprogException e = Assert.Throws<SysprogException>(() =>
            FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.FromSeconds(10), default, 10, 10));

        Assert.Equal(Errno.EDEADLK, e.Errno);
        Assert.Contains("wants bytes 10-19", e.Message, StringComparison.Ordinal);
        Assert.Contains($"process {peer.Id}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"waiting for bytes 0-9 of {_path}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APosixLock_IsDropped_WhenAnyDescriptorOfTheFileCloses_ButFlockAndOfdLocksAreNot()
    {
        using FileLock posix = FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.Zero, default, 0, 10)!;
        using FileLock ofd = FileLock.Acquire(_path, FileLockKind.Ofd, FileLockMode.Exclusive, TimeSpan.Zero, default, 20, 10)!;
        using FileLock flock = FileLock.Acquire(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero)!;
        Assert.Equal(124, TryFromPeer(FileLockKind.Posix, "0-9"));

        // Any open and close of the file by this process. (Not .NET's File.ReadAllText: .NET takes a flock of its own on
        // open, which the exclusive flock held here refuses.)
        int fd = open(_path, 0);
        Assert.True(fd >= 0);
        close(fd);

        Assert.Equal(0, TryFromPeer(FileLockKind.Posix, "0-9"));
        Assert.Equal(124, TryFromPeer(FileLockKind.Ofd, "20-29"));
        Assert.Equal(124, TryFromPeer(FileLockKind.Flock, null));
    }

    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial int close(int fd);

    /// <summary>The exit code of `sysprog lock --timeout 0` in another process: 0 when it got the lock, 124 (timed out) when it is held.</summary>
    private int TryFromPeer(FileLockKind kind, string? range)
    {
        List<string> arguments = ["lock", _path, "--kind", kind.ToString(), "--timeout", "0"];
        if (range is not null)
        {
            arguments.AddRange(["--range", range]);
        }
        arguments.AddRange(["--", "true"]);
        return Peer.Run([.. arguments]).ExitCode;
    }

    [Fact]
    public void SysprogsOwnDescriptors_NeverDropItsPosixLocks_AndOverlapsAreRefused()
    {
        FileLock first = FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.Zero, default, 0, 10)!;
        FileLock second = FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Shared, TimeSpan.Zero, default, 20, 10)!;
        Assert.Equal(first.Fd, second.Fd);

        InvalidOperationException overlap = Assert.Throws<InvalidOperationException>(() =>
            FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Shared, TimeSpan.Zero, default, 5, 10));
        Assert.Contains("bytes 0-9", overlap.Message, StringComparison.Ordinal);
        FileLock.Acquire(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero)!.Release();
        FileLock.Acquire(_path, FileLockKind.Ofd, FileLockMode.Exclusive, TimeSpan.Zero, default, 40, 1)!.Release();
        Assert.Null(FileLock.FindConflict(_path, FileLockKind.Flock, FileLockMode.Exclusive));
        second.Release();

        Assert.Equal(124, TryFromPeer(FileLockKind.Posix, "0-9"));
        Assert.Equal(0, TryFromPeer(FileLockKind.Posix, "20-29"));
        first.Release();
        Assert.Equal(0, TryFromPeer(FileLockKind.Posix, "0-9"));
    }

    [Theory]
    [InlineData(FileLockKind.Flock, true)]
    [InlineData(FileLockKind.Ofd, true)]
    [InlineData(FileLockKind.Posix, false)]
    public void AChildStartedWithTheDescriptor_KeepsAFlockOrOfdLock_ButNeverAPosixOne(FileLockKind kind, bool childHolds)
    {
        // sysprog lock runs sh with the descriptor (as flock(1) does); sh leaves a sleep behind with it, and sysprog exits.
        Peer.Result run = Peer.Run("lock", _path, "--kind", kind.ToString(), "--", "sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!");
        Assert.Equal(0, run.ExitCode);
        using Process child = Process.GetProcessById(int.Parse(run.Output.Split('\n')[^2].Trim(), CultureInfo.InvariantCulture));
        try
        {
            FileLockConflict? conflict = FileLock.FindConflict(_path, kind, FileLockMode.Exclusive);
            Assert.Equal(childHolds, conflict is not null);
            if (childHolds)
            {
                Assert.Contains(child.Id, FileLockInfo.List(_path).Single().HeldBy);
            }
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
        Assert.Null(FileLock.FindConflict(_path, kind, FileLockMode.Exclusive));
    }

    [Theory]
    [InlineData(FileLockKind.Flock)]
    [InlineData(FileLockKind.Ofd)]
    public void ALockACommandInherits_IsHeldByTheCommandToo_WhileTheLockerStillRuns(FileLockKind kind)
    {
        // As flock -x FILE -c 'sleep 600': the locker waits for its command, which holds the lock's open file
        // description too. /proc/locks names only the locker (or nobody, for OFD); the command's fdinfo has the lock.
        Process locker = Hold(kind, command: ["sh", "-c", "echo $$; exec sleep 30"]);
        int command = int.Parse(locker.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);

        FileLockInfo listed = Assert.Single(FileLockInfo.List(_path));

        Assert.Equal(kind == FileLockKind.Flock ? locker.Id : null, listed.ProcessId);
        Assert.Equal([locker.Id, command], listed.HeldBy.Order());
        Assert.Equal(_path, Assert.Single(FileLockInfo.List(processId: command)).Path);
    }

    [Fact]
    public void ACreatedLockFile_HasTheModeAskedFor_AndAnExistingOneIsLeftAsItIs()
    {
        using (FileLock.Acquire(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero, createMode: UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead, File.GetUnixFileMode(_path));
        }
        File.WriteAllText(_path, "kept");
        using (FileLock.Acquire(_path, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.Zero))
        {
            Assert.Equal("kept", File.ReadAllText(_path));
        }
    }

    [Fact]
    public void FlockTakesNoRange_AndAReleasedLockIsGoneFromTheListing()
    {
        Assert.Throws<ArgumentException>(() => FileLock.Acquire(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero, default, 5, 0));
        Assert.False(File.Exists(_path));

        FileLock held = FileLock.Acquire(_path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero)!;
        Assert.Single(FileLockInfo.List(processId: Environment.ProcessId), l => l.Path == _path);
        held.Release();
        held.Release();
        Assert.True(held.IsReleased);
        Assert.Equal(-1, held.Fd);
        Assert.DoesNotContain(FileLockInfo.List(processId: Environment.ProcessId), l => l.Path == _path);
    }

    [Fact]
    public void ProcLocksLines_AreParsed_IncludingWaitersAndEof()
    {
        FileLockInfo[] parsed = FileLockInfo.Parse([
            "1: POSIX  ADVISORY  WRITE 25214 fe:00:11660591 5 14",
            "1: -> POSIX  ADVISORY  WRITE 3000 fe:00:11660591 0 EOF",
            "2: OFDLCK ADVISORY  READ  -1 08:1f:42 0 EOF",
            "3: LEASE  ACTIVE    READ  77 00:19:9 0 EOF",
            "garbage",
            "",
        ]).ToArray();

        Assert.Equal(4, parsed.Length);
        Assert.Equal((FileLockKind.Posix, FileLockMode.Exclusive, 25214, 5L, 10L, "fe:00", 11660591UL),
            (parsed[0].Kind!.Value, parsed[0].Mode!.Value, parsed[0].ProcessId!.Value, parsed[0].Start, parsed[0].Length, parsed[0].Device, parsed[0].Inode));
        Assert.True(parsed[1].IsWaiting);
        Assert.Equal(1, parsed[1].Id);
        Assert.Null(parsed[1].End);
        Assert.Equal((FileLockKind?)FileLockKind.Ofd, parsed[2].Kind);
        Assert.Null(parsed[2].ProcessId);
        Assert.Equal("08:1f", parsed[2].Device);
        Assert.Null(parsed[3].Kind);
        Assert.Equal("LEASE", parsed[3].Type);
    }

    [Fact]
    public void ByteRangeText_ParsesAndDescribes()
    {
        Assert.Equal((10L, 10L), ByteRanges.Parse("10-19"));
        Assert.Equal((10L, 0L), ByteRanges.Parse("10-"));
        Assert.Equal((7L, 1L), ByteRanges.Parse("7"));
        Assert.Equal((0L, 0L), ByteRanges.Parse(""));
        Assert.Throws<FormatException>(() => ByteRanges.Parse("19-10"));
        Assert.Throws<FormatException>(() => ByteRanges.Parse("a-b"));
        Assert.Equal("bytes 10-19", ByteRanges.Describe(10, 10));
        Assert.Equal("bytes 10 to the end", ByteRanges.Describe(10, 0));
        Assert.Equal("the whole file", ByteRanges.Describe(0, 0));
    }
}
