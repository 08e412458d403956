using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Sysprog.Tests;

public sealed class EventFdTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose() => Assert.Empty(OpenFds.OpenedSince(_fdsBefore));

    [Fact]
    public void PlainMode_ReadReturnsTheSumAndResets()
    {
        var trace = new List<string>();
        using EventFd eventFd = EventFd.Create(5, trace: trace.Add);
        Assert.Equal($"eventfd(5, EFD_NONBLOCK|EFD_CLOEXEC) = {eventFd.Fd}", trace[0]);
        Assert.True(OpenFds.IsCloseOnExec(eventFd.Fd));
        eventFd.Add(3);
        eventFd.Add(2);
        Assert.Equal(10UL, eventFd.Count);
        Assert.Equal(10UL, eventFd.Read(TimeSpan.FromSeconds(1)));
        Assert.Null(eventFd.TryRead());
    }

    [Fact]
    public void SemaphoreMode_ReadTakesOneAtATime()
    {
        using EventFd eventFd = EventFd.Create(3, semaphore: true);
        Assert.True(eventFd.IsSemaphore);
        Assert.Equal([1UL, 1UL, 1UL], Enumerable.Range(0, 3).Select(_ => eventFd.TryRead()!.Value));
        Assert.Null(eventFd.TryRead());
    }

    [Fact]
    public void Overflow_WouldBlockAtOnce_WhenNonBlocking_AndIsATimeoutOtherwise()
    {
        using EventFd eventFd = EventFd.Create(0);
        eventFd.Add(EventFd.MaxValue);
        Assert.Equal(Errno.EAGAIN, Assert.Throws<SysprogException>(() => eventFd.Add(1)).Errno);
        var clock = Stopwatch.StartNew();
        Assert.False(eventFd.Add(1, TimeSpan.FromMilliseconds(200)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(195));
        eventFd.SetNonBlocking(true);
        clock.Restart();
        Assert.False(eventFd.Add(1, TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a non-blocking add waited {clock.Elapsed}");
        Assert.Throws<ArgumentOutOfRangeException>(() => eventFd.Add(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => eventFd.Add(ulong.MaxValue));
    }

    [Fact]
    public async Task AReadWaits_UntilAnAdd_AndStopsAtOnceWhenCancelled()
    {
        using EventFd eventFd = EventFd.Create();
        (Task<ulong?> read, int reader) = await ThreadWait.StartOnThreadOfItsOwn(() => eventFd.Read(TimeSpan.FromSeconds(30)));
        ThreadWait.UntilBlockedIn(reader, ThreadWait.Poll);
        Assert.False(read.IsCompleted);
        eventFd.Add(7);
        Assert.Equal(7UL, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        using var cancel = new CancellationTokenSource();
        (Task<ulong?> blocked, int blockedReader) = await ThreadWait.StartOnThreadOfItsOwn(() => eventFd.Read(Timeout.InfiniteTimeSpan, cancel.Token));
        ThreadWait.UntilBlockedIn(blockedReader, ThreadWait.Poll);
        long cancelledAt = Stopwatch.GetTimestamp();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(Stopwatch.GetElapsedTime(cancelledAt) < TimeSpan.FromMilliseconds(100));
        Assert.Null(eventFd.Read(TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void AnInheritableEventFd_IsUsedByAChildByNumber()
    {
        using EventFd eventFd = EventFd.Create(inheritable: true);
        Assert.True(eventFd.IsInheritable);
        Peer.Result child = Peer.Run("eventfd", "add", "--fd", eventFd.Fd.ToString(CultureInfo.InvariantCulture), "--value", "42");
        Assert.True(child.ExitCode == 0, child.Error);
        Assert.Equal(42UL, eventFd.Read(TimeSpan.FromSeconds(5)));
        eventFd.SetInheritable(false);
        Peer.Result notPassed = Peer.Run("eventfd", "add", "--fd", eventFd.Fd.ToString(CultureInfo.InvariantCulture));
        Assert.NotEqual(0, notPassed.ExitCode);
    }

    [Fact]
    public void AnotherProcess_TakesTheEventFdWithPidfdGetfd()
    {
        using EventFd eventFd = EventFd.Create();
        Peer.Result child = Peer.Run("eventfd", "add", "--from-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            "--fd", eventFd.Fd.ToString(CultureInfo.InvariantCulture), "--value", "9", "--trace");
        Assert.True(child.ExitCode == 0, child.Error);
        Assert.Contains("pidfd_getfd(", child.Error, StringComparison.Ordinal);
        Assert.Equal(9UL, eventFd.Read(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void TakingADescriptorWithoutPtracePermission_IsEPERM_Explained()
    {
        Peer.Result child = Peer.RunUnprivileged([], "eventfd", "add", "--from-pid", "1", "--fd", "0");
        Assert.Equal(1, child.ExitCode);
        Assert.Contains("pidfd_getfd(fd 0 of process 1) failed: EPERM", child.Error, StringComparison.Ordinal);
        Assert.Contains("ptrace access check", child.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AdoptingSomethingElse_IsRefusedClearly()
    {
        Assert.Contains("not an eventfd", Assert.Throws<ArgumentException>(() => EventFd.FromDescriptor(0)).Message, StringComparison.Ordinal);
        Assert.Equal(Errno.EBADF, Assert.Throws<SysprogException>(() => EventFd.FromDescriptor(99999)).Errno);
    }

    [Fact]
    public void CrossProcessPingPong_OverInheritedEventFds()
    {
        using EventFd ping = EventFd.Create(inheritable: true);
        using EventFd pong = EventFd.Create(inheritable: true);
        using Process child = Peer.Start("eventfd", "pong", "--ping", ping.Fd.ToString(CultureInfo.InvariantCulture),
            "--pong", pong.Fd.ToString(CultureInfo.InvariantCulture), "--count", "1000");
        for (int i = 0; i < 1000; i++)
        {
            ping.Add(1);
            Assert.Equal(1UL, pong.Read(TimeSpan.FromSeconds(30)));
        }
        Peer.Result result = Peer.Finish(child);
        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Fact]
    public void AddAndRead_AllocateNothing()
    {
        using EventFd eventFd = EventFd.Create();
        eventFd.Add(1);
        eventFd.Read(TimeSpan.FromSeconds(1));
        eventFd.Add(1, TimeSpan.FromSeconds(1));
        eventFd.TryRead();
        using var cancellation = new CancellationTokenSource();
        CancellationToken token = cancellation.Token;
        eventFd.Add(1, Timeout.InfiniteTimeSpan, token);
        eventFd.Read(Timeout.InfiniteTimeSpan, token);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            eventFd.Add(2);
            eventFd.Read(TimeSpan.FromSeconds(1));
            eventFd.Add(1, TimeSpan.FromSeconds(1));
            eventFd.TryRead();
            eventFd.Add(1, Timeout.InfiniteTimeSpan, token);
            eventFd.Read(Timeout.InfiniteTimeSpan, token);
            eventFd.Add(1, TimeSpan.FromSeconds(1), token);
            eventFd.Read(TimeSpan.FromSeconds(1), token);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ACancellableWaitThatBlocks_AllocatesNothing_AndCreatesNoDescriptor()
    {
        using EventFd ping = EventFd.Create();
        using EventFd pong = EventFd.Create();
        using var cancellation = new CancellationTokenSource();
        CancellationToken token = cancellation.Token;
        const int warmUp = 100, rounds = 10_000;
        Exception? echoFailed = null;
        var echo = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < warmUp + rounds + 1; i++)
                {
                    ping.Read(Timeout.InfiniteTimeSpan);
                    // A moment's work before answering, so the reader is nearly always in poll by then: the path measured.
                    Thread.SpinWait(1000);
                    pong.Add(1);
                }
            }
            catch (Exception e)
            {
                echoFailed = e;
            }
        });
        echo.Start();
        for (int i = 0; i < warmUp; i++)
        {
            ping.Add(1);
            pong.Read(Timeout.InfiniteTimeSpan, token);
        }
        // Nothing is sent: this read surely waits in poll (and times out), so the thread's one-time interrupt object
        // exists before counting, however fast the echo answered the warm-up.
        Assert.Null(pong.Read(TimeSpan.FromMilliseconds(50), token));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < rounds; i++)
        {
            // The echo has not answered yet when the read starts, mostly: the read finds EAGAIN and waits in poll.
            ping.Add(1);
            pong.Read(TimeSpan.FromSeconds(10), token);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var trace = new List<string>();
        Assert.Null(pong.Read(TimeSpan.FromMilliseconds(50), token, trace.Add));
        ping.Add(1);
        Assert.Equal(1UL, pong.Read(TimeSpan.FromSeconds(10), token));
        echo.Join();

        Assert.Null(echoFailed);
        Assert.Equal(0, allocated);
        Assert.Contains(trace, line => line.StartsWith("poll(", StringComparison.Ordinal));
        Assert.DoesNotContain(trace, line => line.StartsWith("eventfd(", StringComparison.Ordinal));
    }
}

public sealed class TimerFdTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose() => Assert.Empty(OpenFds.OpenedSince(_fdsBefore));

    [Fact]
    public void AOneShotTimer_ExpiresOnceAfterItsDelay()
    {
        using TimerFd timer = TimerFd.Create();
        Assert.False(timer.IsArmed);
        var clock = Stopwatch.StartNew();
        timer.Arm(TimeSpan.FromMilliseconds(150));
        Assert.True(timer.IsArmed);
        Assert.InRange(timer.Remaining, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(150));
        Assert.Equal(1UL, timer.Read(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(145));
        Assert.False(timer.IsArmed);
        Assert.Null(timer.Read(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void APeriodicTimer_CountsTheExpirationsSinceTheLastRead()
    {
        using TimerFd timer = TimerFd.Create(TimerClock.Boottime);
        var interval = TimeSpan.FromMilliseconds(20);
        var clock = Stopwatch.StartNew();
        timer.Arm(interval, interval);
        TimeSpan armed = clock.Elapsed;
        Assert.Equal(interval, timer.Interval);
        ulong first = timer.Read(TimeSpan.FromSeconds(5))!.Value;
        Thread.Sleep(200);
        TimeSpan beforeRead = clock.Elapsed;
        ulong second = timer.Read(TimeSpan.FromSeconds(5))!.Value;
        TimeSpan afterRead = clock.Elapsed;
        // However late this thread ran on a loaded machine, the two reads together count every period that ended
        // before the second read: at least those that ended before it started (one fewer if the kernel's timer
        // interrupt for the last one was itself late), at most those that ended before it returned.
        long total = (long)(first + second);
        Assert.InRange(total, (long)((beforeRead - armed) / interval) - 1, (long)(afterRead / interval));
        Assert.True(second >= 1, $"the second read counted {second} expirations after 200 ms of 20 ms periods");
        timer.Disarm();
        Assert.False(timer.IsArmed);
    }

    [Fact]
    public void ARealtimeTimer_ArmsAtADate_OthersRefuse()
    {
        using TimerFd timer = TimerFd.Create(TimerClock.Realtime);
        var trace = new List<string>();
        timer.ArmAt(DateTimeOffset.UtcNow.AddMilliseconds(100), trace: trace.Add);
        Assert.Contains("TFD_TIMER_ABSTIME", Assert.Single(trace), StringComparison.Ordinal);
        Assert.Equal(1UL, timer.Read(TimeSpan.FromSeconds(5)));
        using TimerFd monotonic = TimerFd.Create(TimerClock.Monotonic);
        Assert.Throws<InvalidOperationException>(() => monotonic.ArmAt(DateTimeOffset.UtcNow.AddSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => monotonic.Arm(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => monotonic.Arm(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(-1)));
    }
}

public sealed class SignalFdTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose() => Assert.Empty(OpenFds.OpenedSince(_fdsBefore));

    internal static bool Caught(int signal) =>
        (ulong.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigCgt:", StringComparison.Ordinal))[7..].Trim(),
            NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (signal - 1))) != 0;

    private static void Kill(string signal, int processId)
    {
        using Process kill = Process.Start("kill", $"-{signal} {processId}")!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public void InThisProcess_ARealKillArrives_ThroughTheRuntimeHandler_AndClosingRestoresTheDefault()
    {
        Assert.False(Caught(Signals.SIGUSR2));
        using (SignalFd signalFd = SignalFd.Create([Signals.SIGUSR2]))
        {
            Assert.False(signalFd.HasSenderDetail);
            Assert.True(Caught(Signals.SIGUSR2));
            Kill("USR2", Environment.ProcessId);
            SignalRecord record = signalFd.Read(TimeSpan.FromSeconds(10))!;
            Assert.Equal((Signals.SIGUSR2, "SIGUSR2"), (record.Signal, record.Name));
            Assert.Null(record.SenderPid);
            Assert.Null(signalFd.Read(TimeSpan.FromMilliseconds(100)));
        }
        Assert.False(Caught(Signals.SIGUSR2));
    }

    [SkippableFact]
    public void InAProcessStartedWithTheSignalBlocked_ARealSignalfdGivesTheSender()
    {
        Skip.If(!File.Exists("/usr/bin/python3"), "python3 is needed to start the peer with SIGUSR1 blocked");
        string launcher = $"import signal, os, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR1}}); os.execvp(sys.argv[1], sys.argv[1:])";
        using Process peer = Peer.StartWith(["python3", "-c", launcher], "signal", "USR1", "--json");
        string? ready = peer.StandardOutput.ReadLine();
        Assert.Equal($"ready {peer.Id} signalfd", ready);
        using Process kill = Process.Start("kill", $"-USR1 {peer.Id}")!;
        kill.WaitForExit();
        Peer.Result result = Peer.Finish(peer);
        Assert.True(result.ExitCode == 0, result.Error);
        using var json = System.Text.Json.JsonDocument.Parse(result.Output);
        Assert.Equal(kill.Id, json.RootElement.GetProperty("senderPid").GetInt32());
        Assert.Equal("SI_USER", json.RootElement.GetProperty("codeName").GetString());
        Assert.Equal("SIGUSR1", json.RootElement.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData(Signals.SIGKILL, "cannot be caught")]
    [InlineData(Signals.SIGSTOP, "cannot be caught")]
    [InlineData(Signals.SIGSEGV, "exceptions")]
    [InlineData(Signals.SIGPIPE, "EPIPE")]
    [InlineData(Signals.SIGRTMIN, "garbage collection")]
    [InlineData(65, "no signal 65")]
    public void SignalsThatCannotBeReceivedHere_AreRefusedWithTheReason(int signal, string reason) =>
        Assert.Contains(reason, Assert.Throws<ArgumentException>(() => SignalFd.Create([signal])).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("USR1", 10)]
    [InlineData("sigterm", 15)]
    [InlineData("9", 9)]
    [InlineData("RTMIN+2", 36)]
    public void SignalNames_Parse(string text, int signal)
    {
        Assert.Equal(signal, Signals.Parse(text));
        Assert.Equal(signal, Signals.Parse(Signals.Name(signal)));
    }
}

public sealed class PollSetTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _queue = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkQueueIfPresent(_queue);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
    }

    [Fact]
    public void WaitAny_ReturnsExactlyTheReadySet_OfMixedHandles()
    {
        using EventFd quiet = EventFd.Create();
        using EventFd loud = EventFd.Create(1);
        using TimerFd timer = TimerFd.Create();
        using MessageQueue queue = MessageQueue.Create(_queue, 4, 32);
        queue.Send("x");
        IReadOnlyList<ReadyHandle> ready = PollSet.WaitFor([quiet, loud, timer, queue], Readiness.Readable, all: false, TimeSpan.FromSeconds(5));
        Assert.Equal([1, 3], ready.Select(r => r.Index));
        Assert.Same(loud, ready[0].Handle);
        Assert.Same(queue, ready[1].Handle);
        Assert.All(ready, r => Assert.True(r.Readable));
    }

    [Fact]
    public void WaitAll_WaitsUntilEachHasBeenReady_AndTimesOutEmpty()
    {
        using EventFd first = EventFd.Create(1);
        using TimerFd timer = TimerFd.Create();
        timer.Arm(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        IReadOnlyList<ReadyHandle> both = PollSet.WaitFor([first, timer], Readiness.Readable, all: true, TimeSpan.FromSeconds(5));
        Assert.Equal(2, both.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(95));
        using EventFd never = EventFd.Create();
        Assert.Empty(PollSet.WaitFor([first, never], Readiness.Readable, all: true, TimeSpan.FromMilliseconds(100)));
        Assert.Empty(PollSet.WaitFor([never], Readiness.Readable, all: false, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void Writable_ReportsAQueueWithRoom()
    {
        using MessageQueue queue = MessageQueue.Create(_queue, 1, 16);
        Assert.True(Assert.Single(PollSet.WaitFor([queue], Readiness.Writable, false, TimeSpan.FromSeconds(1))).Writable);
        queue.Send("full");
        Assert.Empty(PollSet.WaitFor([queue], Readiness.Writable, false, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task AWait_StopsWithin100ms_OfCancellation()
    {
        using EventFd never = EventFd.Create();
        using var set = new PollSet();
        set.Add(never);
        using var cancel = new CancellationTokenSource();
        (Task<int> wait, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => set.Wait(new ReadyHandle[1], Timeout.InfiniteTimeSpan, cancel.Token));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Epoll);
        Assert.False(wait.IsCompleted);
        long cancelledAt = Stopwatch.GetTimestamp();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(Stopwatch.GetElapsedTime(cancelledAt) < TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void AnEventLoop_ServesATimerAnEventFdAndAQueue_FromOneThread()
    {
        using TimerFd timer = TimerFd.Create();
        using EventFd wakeups = EventFd.Create();
        using MessageQueue queue = MessageQueue.Create(_queue, 8, 64);
        using var loop = new PollSet();
        loop.Add(timer);
        loop.Add(wakeups);
        loop.Add(queue);
        timer.Arm(TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(30));
        wakeups.Add(1);
        queue.Send("job");
        var served = new HashSet<string>();
        var ready = new ReadyHandle[3];
        var clock = Stopwatch.StartNew();
        while (served.Count < 3 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            int count = loop.Wait(ready, TimeSpan.FromSeconds(5));
            foreach (ReadyHandle r in ready.AsSpan(0, count))
            {
                switch (r.Handle)
                {
                    case TimerFd t: t.Read(TimeSpan.Zero); served.Add("timer"); break;
                    case EventFd e: e.TryRead(); served.Add("eventfd"); break;
                    case MessageQueue q: served.Add("queue:" + q.Receive(TimeSpan.Zero)!.Text); break;
                }
            }
        }
        Assert.Equal(["eventfd", "queue:job", "timer"], served.Order());
    }

    [Fact]
    public void Wait_AllocatesNothing()
    {
        using EventFd ready = EventFd.Create(1);
        using var set = new PollSet();
        set.Add(ready);
        var results = new ReadyHandle[4];
        set.Wait(results, TimeSpan.FromSeconds(1));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            set.Wait(results, TimeSpan.FromSeconds(1));
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>
/// A signalfd left to the finalizer, on purpose: outside <see cref="SignalFdTests"/>, whose leak check would report
/// it; the test checks itself that the descriptor is closed.
/// </summary>
public sealed class SignalFdFinalizerTests
{
    private static bool Caught(int signal) => SignalFdTests.Caught(signal);

    [Fact]
    public void Dropped_IsFinalized_ItsDescriptorClosed_AndTheSignalNoLongerCaught()
    {
        Assert.False(Caught(Signals.SIGUSR2));
        int fd = DropUnclosed();
        Assert.True(Caught(Signals.SIGUSR2));
        Assert.Equal("anon_inode:[eventfd]", OpenFds.Target(fd));
        // Two rounds: the object's descriptor and registrations are finalized in the first, what those freed in the next.
        for (int round = 0; round < 2; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(Caught(Signals.SIGUSR2));
        // Closed (or, if the number was taken again since, by something else).
        Assert.NotEqual("anon_inode:[eventfd]", OpenFds.Target(fd));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int DropUnclosed() => SignalFd.Create([Signals.SIGUSR2]).Fd;
}
