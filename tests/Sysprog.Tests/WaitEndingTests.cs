using System.Diagnostics;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Every kind of wait ends promptly from outside, whatever the machine's state: a cancelled token ends it even when
/// the per-user signal queue has no room (RLIMIT_SIGPENDING reached, so the real-time signal that interrupts waits
/// cannot be queued), and a Close of the object on another thread ends it with ObjectDisposedException. Each waiter
/// is proved asleep in its system call first, and each end is timed from the cancel or the Close.
/// </summary>
public sealed class WaitEndingTests : IDisposable
{
    /// <summary>What issue 27 asks of every wait: ended within this of the cancel or the Close.</summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromMilliseconds(300);

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly List<IDisposable> _objects = [];
    private readonly List<string> _names = [];
    private readonly List<int> _children = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-test-wait-").FullName;

    public void Dispose()
    {
        _objects.ForEach(o => o.Dispose());
        foreach (int child in _children)
        {
            // Closed while it ran, it is kept (unreaped, so its pid stays its own) for Sysprog to reap once it ends.
            _ = Libc_kill(child, Signals.SIGKILL);
        }
        _names.ForEach(name =>
        {
            TestNames.UnlinkSemaphoreIfPresent(name);
            TestNames.UnlinkQueueIfPresent(name);
        });
        Directory.Delete(_folder, recursive: true);
        SpinWait.SpinUntil(() =>
        {
            ChildReaper.Sweep();
            return OpenFds.OpenedSince(_fdsBefore).Length == 0;
        }, TimeSpan.FromSeconds(5));
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        TestNames.AssertNoneLeft();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Libc_kill(int processId, int signal);

    /// <summary>One wait, ready to start: the call (given a timeout and a token), what proves it asleep, and the Close that ends it.</summary>
    private sealed record Wait(Func<TimeSpan, CancellationToken, object?> Call, Action<int> UntilAsleep, Action Close, string ClosedName);

    public static TheoryData<string> Kinds => new()
    {
        "semaphore", "semaphore in a mapping", "queue receive", "queue send", "eventfd read", "eventfd add", "timerfd read",
        "signalfd read", "inotify read", "socket accept", "socket connect", "socket receive", "pipe read", "pipe write",
        "child process", "pty read", "poll set", "poll set member",
    };

    /// <summary>The kinds whose wait has no timeout and no token: one call that blocks in the kernel, as C makes it, which only a Close can end.</summary>
    public static TheoryData<string> UnboundedKinds => new()
    {
        "semaphore", "semaphore in a mapping", "queue receive", "queue send", "eventfd read", "socket accept", "socket connect",
        "socket receive", "pipe read", "pipe write", "child process", "inotify read",
    };

    /// <summary>Waits that have no object a Close could end (they open or lock by path): the token alone ends them.</summary>
    public static TheoryData<string> CancelOnlyKinds => new() { "fifo open", "file lock" };

    private T Track<T>(T value) where T : IDisposable
    {
        _objects.Add(value);
        return value;
    }

    private string NewName()
    {
        string name = TestNames.New();
        _names.Add(name);
        return name;
    }

    private static Action<int> In(string[] syscalls) => thread => ThreadWait.UntilBlockedIn(thread, syscalls);

    private Wait Prepare(string kind, bool unbounded = false)
    {
        switch (kind)
        {
            case "semaphore":
            {
                PosixSemaphore semaphore = Track(PosixSemaphore.Create(NewName(), 0));
                return new Wait((t, c) => semaphore.Wait(t, c), In(ThreadWait.Futex), () => semaphore.Close(), semaphore.Name!);
            }
            case "semaphore in a mapping":
            {
                MemoryMapping mapping = Track(MemoryMapping.MapAnonymous(4096, visibility: MappingVisibility.Shared));
                PosixSemaphore semaphore = PosixSemaphore.Initialize(mapping, 0, 0);
                return new Wait((t, c) => semaphore.Wait(t, c), In(ThreadWait.Futex), () => mapping.Close(), "semaphore at offset 0 of anonymous");
            }
            case "queue receive":
            case "queue send":
            {
                MessageQueue queue = Track(MessageQueue.Create(NewName(), maxMessages: 1, maxMessageSize: 16));
                var buffer = new byte[16];
                bool sending = kind == "queue send";
                if (sending)
                {
                    Assert.True(queue.Send("fills it", timeout: TimeSpan.Zero));
                }
                string[] blockedIn = !unbounded ? ThreadWait.Poll : sending ? ["mq_timedsend"] : ["mq_timedreceive"];
                return new Wait((t, c) => sending ? queue.Send("one more"u8, 0, t, c) : queue.Receive(buffer, out _, out _, t, c), In(blockedIn),
                    () => queue.Close(), queue.Name);
            }
            case "eventfd read":
            {
                EventFd eventFd = Track(EventFd.Create());
                return new Wait((t, c) => eventFd.Read(t, c), In(ThreadWait.Poll), () => eventFd.Close(), eventFd.Description);
            }
            case "eventfd add":
            {
                EventFd full = Track(EventFd.Create());
                Assert.True(full.Add(EventFd.MaxValue, TimeSpan.Zero));
                return new Wait((t, c) => full.Add(1, t, c), In(ThreadWait.Poll), () => full.Close(), full.Description);
            }
            case "timerfd read":
            {
                TimerFd timer = Track(TimerFd.Create());
                return new Wait((t, c) => timer.Read(t, c), In(ThreadWait.Poll), () => timer.Close(), timer.Description);
            }
            case "signalfd read":
            {
                SignalFd signals = Track(SignalFd.Create([Signals.SIGUSR2]));
                return new Wait((t, c) => signals.Read(t, c), In(ThreadWait.Poll), () => signals.Close(), signals.Description);
            }
            case "inotify read":
            {
                Inotify inotify = Track(Inotify.Create());
                inotify.AddWatch(_folder, InotifyEvents.DeleteSelf);
                return new Wait((t, c) => inotify.Read(t, c), In(ThreadWait.Poll), () => inotify.Close(), inotify.Description);
            }
            case "socket accept":
            {
                Socket listener = Track(Socket.CreateBound(SocketEndpoint.Abstract(NewName()[1..])));
                return new Wait((t, c) => listener.Accept(t, c), In(ThreadWait.Poll), () => listener.Close(), listener.Description);
            }
            case "socket connect":
            {
                // A UNIX listen queue takes backlog + 1 connections; the next connect sleeps in connect(2) until there is room.
                SocketEndpoint endpoint = SocketEndpoint.Abstract(NewName()[1..]);
                Track(Socket.CreateBound(endpoint, backlog: 1));
                Track(Socket.CreateConnected(endpoint, timeout: Long)!);
                Track(Socket.CreateConnected(endpoint, timeout: Long)!);
                Socket client = Track(Socket.Create(SocketFamily.Unix, SocketKind.Stream));
                return new Wait((t, c) => client.Connect(endpoint, t, c), In(["connect"]), () => client.Close(), client.Description);
            }
            case "socket receive":
            {
                SocketPair pair = Track(Socket.CreatePair());
                return new Wait((t, c) => pair.Second.Receive(t, c), In(unbounded ? ["recvmsg"] : ThreadWait.Poll), () => pair.Second.Close(), pair.Second.Description);
            }
            case "pipe read":
            {
                Pipe pipe = Track(Pipe.Create());
                var buffer = new byte[16];
                return new Wait((t, c) => pipe.ReadEnd.Read(buffer, t, c), In(unbounded ? ["read"] : ThreadWait.Poll), () => pipe.ReadEnd.Close(),
                    pipe.ReadEnd.Description);
            }
            case "pipe write":
            {
                Pipe pipe = Track(Pipe.Create());
                while (pipe.WriteEnd.WriteWithoutWaiting(new byte[4096]) > 0)
                {
                }
                return new Wait((t, c) =>
                {
                    pipe.WriteEnd.Write(new byte[4096], t, c);
                    return null;
                }, In(unbounded ? ["write"] : ThreadWait.Poll), () => pipe.WriteEnd.Close(),
                    pipe.WriteEnd.Description);
            }
            case "child process":
            {
                ChildProcess child = Track(ChildProcess.Start(new ChildProcessStartInfo("sleep", ["60"])));
                _children.Add(child.ProcessId);
                return new Wait((t, c) => child.WaitForExit(t, c), In(ThreadWait.Poll), () => child.Close(), child.Description);
            }
            case "pty read":
            {
                // Its Close hangs the terminal up, which ends the program, and reaps it.
                Pty pty = Track(Pty.Start("sleep", ["60"]));
                return new Wait((t, c) => pty.Read(t, c), In(ThreadWait.Poll), () => pty.Close(), pty.Description);
            }
            case "poll set":
            {
                PollSet set = Track(new PollSet());
                set.Add(Track(EventFd.Create()));
                var ready = new ReadyHandle[1];
                return new Wait((t, c) => set.Wait(ready, t, c), In(ThreadWait.Epoll), set.Dispose, "poll set");
            }
            case "poll set member":
            {
                EventFd member = Track(EventFd.Create());
                return new Wait((t, c) => PollSet.WaitFor([member], Readiness.Readable, all: false, t, c), In(ThreadWait.Epoll), () => member.Close(),
                    member.Description);
            }
            case "fifo open":
            {
                string path = Fifo.Create(Path.Combine(_folder, "fifo")).FullName;
                return new Wait((t, c) => Fifo.Open(path, FileAccess.Read, timeout: t, cancellationToken: c),
                    thread => ThreadWait.UntilSleepingIn(thread, "wait_for_partner"), () => { }, path);
            }
            case "file lock":
            {
                // flock locks belong to the open file description: a second open in this same process conflicts.
                string path = Path.Combine(_folder, "lock");
                Track(FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero)!);
                return new Wait((t, c) => FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, t, c), In(["flock"]), () => { }, path);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    [MemberData(nameof(CancelOnlyKinds))]
    public async Task ACancelledWait_EndsPromptly_WhenTheSignalQueueHasNoRoom(string kind)
    {
        Wait wait = Prepare(kind);
        using var cancellation = new CancellationTokenSource();
        var timed = new TimedWait(wait, Long, cancellation.Token);
        (Task<object?> waiting, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(timed.Run);
        wait.UntilAsleep(waiter);
        using (ThreadInterrupt.TryArm(default, null, null, "test"))
        {
            // Chosen and installed, so that sending it below interrupts nothing.
        }
        using (new SignalQueueWithoutRoom())
        {
            // The proof that the queue has no room for the waiter: the real-time signal is refused outright.
            SyscallResult refused = Libc.tgkill(Environment.ProcessId, waiter, ThreadInterrupt.Signal);
            Assert.Equal(Errno.EAGAIN, refused.Errno);
            long cancelledAt = Stopwatch.GetTimestamp();
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Long));
            timed.AssertEndedPromptlyAfter(cancelledAt, $"the {kind} wait", "the cancel");
        }
        if (!kind.StartsWith("poll set", StringComparison.Ordinal))
        {
            // A poll set is woken through an eventfd of its own, not by a signal.
            Assert.True(ThreadInterrupt.FallbackSignal > 0, "the fallback signal was not chosen");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public Task AWait_EndsPromptly_WithTheClosedError_WhenAnotherThreadClosesItsObject(string kind) =>
        ClosedWhileWaiting(Prepare(kind), kind, Long, new CancellationTokenSource().Token);

    [Theory]
    [MemberData(nameof(UnboundedKinds))]
    public Task AWaitWithNoTimeoutAndNoToken_EndsPromptly_WithTheClosedError_WhenAnotherThreadClosesItsObject(string kind) =>
        ClosedWhileWaiting(Prepare(kind, unbounded: true), kind, Timeout.InfiniteTimeSpan, CancellationToken.None);

    [Theory]
    [MemberData(nameof(UnboundedKinds))]
    public async Task AClose_EndsAWait_AlsoWhenTheSignalQueueHasNoRoom(string kind)
    {
        using (new SignalQueueWithoutRoom())
        {
            await ClosedWhileWaiting(Prepare(kind, unbounded: true), kind, Timeout.InfiniteTimeSpan, CancellationToken.None);
        }
    }

    private static async Task ClosedWhileWaiting(Wait wait, string kind, TimeSpan timeout, CancellationToken token)
    {
        var timed = new TimedWait(wait, timeout, token);
        (Task<object?> waiting, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(timed.Run);
        wait.UntilAsleep(waiter);
        long closedAt = Stopwatch.GetTimestamp();
        // On a thread of its own, not the pool's, which a loaded machine may be slow to grow.
        (Task<object?> closer, _) = await ThreadWait.StartOnThreadOfItsOwn<object?>(() =>
        {
            wait.Close();
            return null;
        });
        ObjectDisposedException closed = await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(Long));
        await closer.WaitAsync(Long);
        timed.AssertEndedPromptlyAfter(closedAt, $"the {kind} wait", "the Close");
        Assert.Equal(wait.ClosedName, closed.ObjectName);
        Assert.Contains("was closed while", closed.Message, StringComparison.Ordinal);
    }

    /// <summary>A wait that notes, on its own thread, the moment it ended: what a test times, whatever its continuations wait for.</summary>
    private sealed class TimedWait(Wait wait, TimeSpan timeout, CancellationToken token)
    {
        private long _endedAt;

        public object? Run()
        {
            try
            {
                return wait.Call(timeout, token);
            }
            finally
            {
                _endedAt = Stopwatch.GetTimestamp();
            }
        }

        public void AssertEndedPromptlyAfter(long startedAt, string what, string after)
        {
            TimeSpan took = Stopwatch.GetElapsedTime(startedAt, _endedAt);
            Assert.True(took < Promptly, $"{what} ended {took.TotalMilliseconds:F0} ms after {after}");
        }
    }

    /// <summary>
    /// Only a wait in progress is ended by a member's Close: a later wait goes by the kernel's rule, under which the
    /// last descriptor of a member closing takes it out of the set (IoModelTests shows a duplicate keeping it in).
    /// </summary>
    [Fact]
    public void AMemberClosedWhileNoOneWaits_LeavesTheSet_AsTheKernelSays()
    {
        PollSet set = Track(new PollSet());
        EventFd member = Track(EventFd.Create());
        set.Add(member);
        member.Add(1);
        member.Close();
        var ready = new ReadyHandle[1];
        Assert.Equal(0, set.Wait(ready, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task AThreadThatWaitedOnAnObject_IsNotDisturbedByItsCloseWhileWaitingOnAnother()
    {
        EventFd first = Track(EventFd.Create());
        EventFd second = Track(EventFd.Create());
        using var firstWaitOver = new ManualResetEventSlim();
        (Task<ulong?> waiting, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() =>
        {
            // This thread waited on the first one, and no longer does.
            Assert.Null(first.Read(TimeSpan.FromMilliseconds(20)));
            firstWaitOver.Set();
            return second.Read(Long);
        });
        Assert.True(firstWaitOver.Wait(Long));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Poll);
        first.Close();
        // The Close had no one to wake: the waiter still sleeps in the same poll, and ends only with what it waits for.
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Poll);
        Assert.False(waiting.IsCompleted);
        second.Add(5);
        Assert.Equal(5UL, await waiting.WaitAsync(Long));
    }

    /// <summary>
    /// Lowers this process's soft RLIMIT_SIGPENDING to 0 while it lives: the kernel checks the receiving process's
    /// limit when it queues a signal, so every real-time signal sent to a thread of this process fails with EAGAIN,
    /// as when another process of the same user fills the queue. Standard signals still arrive.
    /// </summary>
    private sealed class SignalQueueWithoutRoom : IDisposable
    {
        private readonly long? _soft = ProcessLimit.Get(ProcessResource.SigPending).Soft;

        public SignalQueueWithoutRoom() => ProcessLimit.Set(ProcessResource.SigPending, 0, null, force: true);

        public void Dispose() => ProcessLimit.Set(ProcessResource.SigPending, _soft ?? long.MaxValue, null, force: true);
    }
}
