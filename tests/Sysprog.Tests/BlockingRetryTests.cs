using System.Diagnostics;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Every fd-based blocking operation goes through one wait-and-retry rule (FdRetry), so each one, put in a state
/// where it would block, behaves the same way: a zero timeout returns false after one traced attempt and no poll;
/// a timeout waits in poll(2) and then returns false; a non-blocking object does not wait, whatever the timeout: one
/// attempt, EAGAIN, false ("would block"); a token cancels the wait.
/// </summary>
public sealed class BlockingRetryTests : IDisposable
{
    private readonly List<IDisposable> _objects = [];
    private readonly List<string> _queues = [];

    public void Dispose()
    {
        _objects.ForEach(o => o.Dispose());
        _queues.ForEach(TestNames.UnlinkQueueIfPresent);
        TestNames.AssertNoneLeft();
    }

    /// <summary>One operation in its would-block state: given a timeout, a token and a trace, it returns whether it succeeded.</summary>
    private delegate bool Blocked(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace trace);

    public static TheoryData<string> Operations => new() { "mq send", "mq receive", "eventfd add", "eventfd read", "timerfd read", "inotify read" };

    public static TheoryData<string> NonBlockingOperations => new()
    {
        "mq send", "mq receive", "eventfd add", "eventfd read", "timerfd read", "inotify read", "pipe read", "pipe write", "fifo read",
        "socket receive", "socket send", "accept",
    };

    private Blocked WouldBlock(string operation, bool nonBlocking = false)
    {
        switch (operation)
        {
            case "mq send":
            case "mq receive":
                MessageQueue queue = Track(MessageQueue.Create(TrackQueue(TestNames.New()), maxMessages: 1, maxMessageSize: 16));
                if (nonBlocking)
                {
                    queue = Track(MessageQueue.Open(queue.Name, nonBlocking: true));
                }
                if (operation == "mq send")
                {
                    Assert.True(queue.Send("fills it", timeout: TimeSpan.Zero));
                    return (timeout, token, trace) => queue.Send("one more"u8, 0, timeout, token, trace);
                }
                var buffer = new byte[16];
                return (timeout, token, trace) => queue.Receive(buffer, out _, out _, timeout, token, trace);
            case "eventfd add":
                EventFd full = Track(EventFd.Create(nonBlocking: nonBlocking));
                Assert.True(full.Add(EventFd.MaxValue, TimeSpan.Zero));
                return (timeout, token, trace) => full.Add(1, timeout, token, trace);
            case "eventfd read":
                EventFd empty = Track(EventFd.Create(nonBlocking: nonBlocking));
                return (timeout, token, trace) => empty.Read(timeout, token, trace) is not null;
            case "timerfd read":
                TimerFd unarmed = Track(TimerFd.Create(nonBlocking: nonBlocking));
                return (timeout, token, trace) => unarmed.Read(timeout, token, trace) is not null;
            case "inotify read":
                Inotify quiet = Track(Inotify.Create(nonBlocking: nonBlocking));
                quiet.AddWatch(Path.GetTempPath(), InotifyEvents.DeleteSelf);
                return (timeout, token, trace) => quiet.Read(timeout, token, trace) is not null;
            case "pipe read":
                Pipe emptyPipe = Track(Pipe.Create(nonBlocking: nonBlocking));
                var into = new byte[16];
                return (timeout, token, trace) => emptyPipe.ReadEnd.Read(into, timeout, token, trace) is not null;
            case "pipe write":
                Pipe fullPipe = Track(Pipe.Create(nonBlocking: nonBlocking));
                while (fullPipe.WriteEnd.WriteWithoutWaiting(new byte[4096]) == 4096)
                {
                }
                return (timeout, token, trace) => fullPipe.WriteEnd.Write("x"u8, timeout, token, trace) == 1;
            case "fifo read":
                string fifo = Path.Combine(Path.GetTempPath(), $"sysprog-test-{Guid.NewGuid():N}.fifo");
                Fifo.Create(fifo);
                PipeEnd reader = Track(Fifo.Open(fifo, FileAccess.Read, nonBlocking: nonBlocking)!);
                // A writer that writes nothing: with none, a read is the end of the stream, not a wait.
                Track(Fifo.Open(fifo, FileAccess.Write, nonBlocking: true)!);
                File.Delete(fifo);
                var fromFifo = new byte[16];
                return (timeout, token, trace) => reader.Read(fromFifo, timeout, token, trace) is not null;
            case "socket receive":
                SocketPair quietPair = Track(Socket.CreatePair(nonBlocking: nonBlocking));
                return (timeout, token, trace) => quietPair.Second.Receive(timeout, token, trace) is not null;
            case "socket send":
                SocketPair fullPair = Track(Socket.CreatePair(SocketKind.Datagram, nonBlocking: nonBlocking));
                while (fullPair.First.Send("x"u8, timeout: TimeSpan.Zero) == 1)
                {
                }
                return (timeout, token, trace) => fullPair.First.Send("x"u8, null, null, timeout, token, trace) == 1;
            case "accept":
                Socket listener = Track(Socket.CreateBound(SocketEndpoint.Abstract($"sysprog-test-{Guid.NewGuid():N}"), nonBlocking: nonBlocking));
                return (timeout, token, trace) => listener.Accept(timeout, token, trace) is not null;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public void ZeroTimeout_OneTracedAttempt_NoPoll_False(string operation)
    {
        Blocked blocked = WouldBlock(operation);
        var lines = new List<string>();

        Assert.False(blocked(TimeSpan.Zero, default, lines.Add));

        string attempt = Assert.Single(lines);
        Assert.Matches(@"^(write|read|mq_timedsend|mq_timedreceive)\(.*\) = -1 (EAGAIN|ETIMEDOUT) \(", attempt);
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public void Timeout_WaitsInPoll_ThenFalse(string operation)
    {
        Blocked blocked = WouldBlock(operation);
        var lines = new List<string>();
        var clock = Stopwatch.StartNew();

        Assert.False(blocked(TimeSpan.FromMilliseconds(60), default, lines.Add));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(55), TimeSpan.FromSeconds(5));
        Assert.Matches(@"= -1 (EAGAIN|ETIMEDOUT) \(", lines[0]);
        Assert.Contains(lines, line => line.StartsWith("poll(", StringComparison.Ordinal) && line.EndsWith("= 0", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.EndsWith(") = 1", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(NonBlockingOperations))]
    public void NonBlockingObject_WithATimeout_WouldBlockAfterOneAttempt(string operation)
    {
        Blocked blocked = WouldBlock(operation, nonBlocking: true);
        var lines = new List<string>();
        var clock = Stopwatch.StartNew();

        Assert.False(blocked(TimeSpan.FromSeconds(10), default, lines.Add));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(lines, line => line.StartsWith("poll(", StringComparison.Ordinal));
        Assert.Matches(@"= -1 (EAGAIN|ETIMEDOUT) \(", Assert.Single(lines));
    }

    [Theory]
    [MemberData(nameof(NonBlockingOperations))]
    public void NonBlockingObject_ZeroTimeout_IsATry(string operation)
    {
        Blocked blocked = WouldBlock(operation, nonBlocking: true);

        Assert.False(blocked(TimeSpan.Zero, default, _ => { }));
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Cancellation_EndsTheWaitAtOnce(string operation)
    {
        Blocked blocked = WouldBlock(operation);
        using var cancellation = new CancellationTokenSource();
        (Task<bool> waiter, int waiterThread) = await ThreadWait.StartOnThreadOfItsOwn(() => blocked(Timeout.InfiniteTimeSpan, cancellation.Token, _ => { }));
        ThreadWait.UntilBlockedIn(waiterThread, ThreadWait.Poll);
        var clock = Stopwatch.StartNew();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    private T Track<T>(T value) where T : IDisposable
    {
        _objects.Add(value);
        return value;
    }

    private string TrackQueue(string name)
    {
        _queues.Add(name);
        return name;
    }
}
