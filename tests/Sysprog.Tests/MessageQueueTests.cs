using System.Diagnostics;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

public sealed class MessageQueueTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkQueueIfPresent(_name);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        TestNames.AssertNoneLeft();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Create_GivesTheCapacityAndMode0600_AndTracesTheCall()
    {
        var trace = new List<string>();
        using MessageQueue queue = MessageQueue.Create(_name, 5, 256, trace: trace.Add);
        Assert.Equal($"mq_open(\"{_name}\", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600, {{mq_maxmsg=5, mq_msgsize=256}}) = {queue.Fd}", trace[0]);
        Assert.Equal($"fchmod({queue.Fd}, 0600) = 0", trace[1]);
        Assert.Equal((5L, 256L, 0L, false), (queue.MaxMessages, queue.MaxMessageSize, queue.CurrentMessages, queue.IsNonBlocking));
        Assert.True(OpenFds.IsCloseOnExec(queue.Fd));
        Assert.Equal(Errno.EEXIST, Assert.Throws<SysprogException>(() => MessageQueue.Create(_name)).Errno);
    }

    [Fact]
    public void Open_Missing_IsENOENT_WithAHint_AndBadInputIsRefusedFirst()
    {
        var e = Assert.Throws<SysprogException>(() => MessageQueue.Open(_name));
        Assert.StartsWith($"mq_open(\"{_name}\") failed: ENOENT (No such file or directory).", e.Message, StringComparison.Ordinal);
        Assert.Contains("New-MessageQueue", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.Create(_name, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.Create(_name, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.Create(_name, 65537));
        Assert.Throws<ArgumentException>(() => MessageQueue.Create("/a/b"));
    }

    [Fact]
    public void Receive_ReturnsHighestPriorityFirst_FifoWithinAPriority()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 10, 64);
        foreach ((string text, int priority) in new[] { ("a1", 1), ("b5", 5), ("c1", 1), ("d9", 9), ("e5", 5), ("f0", 0) })
        {
            Assert.True(queue.TrySend(Bytes(text), priority));
        }
        var received = new List<string>();
        byte[] buffer = new byte[64];
        while (queue.TryReceive(buffer, out int length, out int priority))
        {
            received.Add($"{Encoding.UTF8.GetString(buffer, 0, length)}@{priority}");
        }
        Assert.Equal(["d9@9", "b5@5", "e5@5", "a1@1", "c1@1", "f0@0"], received);
    }

    [Fact]
    public void TooLargeABody_OrTooSmallABuffer_IsRefusedNamingBothSizes()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 2, 16);
        var e = Assert.Throws<ArgumentException>(() => queue.TrySend(new byte[17]));
        Assert.Contains("17 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("at most 16 bytes (mq_msgsize)", e.Message, StringComparison.Ordinal);
        Assert.Contains("at least its mq_msgsize, 16 bytes", Assert.Throws<ArgumentException>(() => queue.TryReceive(new byte[8], out _, out _)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TrySend(new byte[1], 32768));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TrySend(new byte[1], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Send(new byte[1], 0, TimeSpan.FromSeconds(-3)));
    }

    [Fact]
    public void AFullQueue_TimesOutASend_AndAnEmptyOneAReceive_AfterTheTimeout()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 1, 16);
        Assert.True(queue.TrySend(Bytes("x")));
        Assert.False(queue.TrySend(Bytes("y")));
        var clock = Stopwatch.StartNew();
        Assert.False(queue.Send(Bytes("y"), 0, TimeSpan.FromMilliseconds(300)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(295), TimeSpan.FromSeconds(5));
        Assert.NotNull(queue.Receive(TimeSpan.Zero));
        clock.Restart();
        Assert.Null(queue.Receive(TimeSpan.FromMilliseconds(300)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(295), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ABlockedReceive_WakesWhenAnotherThreadSends_AndStopsAtOnceWhenCancelled()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 4, 32);
        (Task<MqMessage?> receive, int receiver) = await ThreadWait.StartOnThreadOfItsOwn(() => queue.Receive(TimeSpan.FromSeconds(30)));
        ThreadWait.UntilBlockedIn(receiver, ThreadWait.Poll);
        Assert.False(receive.IsCompleted);
        Assert.True(queue.Send("hello", 3));
        MqMessage? message = await receive.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(("hello", 3, 5, _name), (message!.Text, message.Priority, message.Length, message.Queue));

        using var cancel = new CancellationTokenSource();
        (Task<MqMessage?> blocked, int blockedReceiver) = await ThreadWait.StartOnThreadOfItsOwn(() => queue.Receive(Timeout.InfiniteTimeSpan, cancel.Token));
        ThreadWait.UntilBlockedIn(blockedReceiver, ThreadWait.Poll);
        Assert.False(blocked.IsCompleted);
        long cancelledAt = Stopwatch.GetTimestamp();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(Stopwatch.GetElapsedTime(cancelledAt) < TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void NonBlocking_SetWithMqSetattr_MakesAFullQueueWouldBlock()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 1, 16);
        var trace = new List<string>();
        queue.SetNonBlocking(true, trace.Add);
        Assert.Equal($"mq_setattr({queue.Fd}, {{mq_flags=O_NONBLOCK}}) = 0", Assert.Single(trace));
        Assert.True(queue.IsNonBlocking);
        Assert.True(queue.TrySend(Bytes("x")));
        Assert.False(queue.TrySend(Bytes("y")));
        var clock = Stopwatch.StartNew();
        Assert.False(queue.Send(Bytes("y"), 0, TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a non-blocking send to a full queue waited {clock.Elapsed}");
        queue.SetNonBlocking(false);
        Assert.False(queue.IsNonBlocking);
    }

    [Fact]
    public void AReadOnlyDescriptor_CannotSend_AWriteOnlyCannotReceive()
    {
        using MessageQueue created = MessageQueue.Create(_name, 2, 16);
        using MessageQueue reader = MessageQueue.Open(_name, FileAccess.Read);
        using MessageQueue writer = MessageQueue.Open(_name, FileAccess.Write);
        Assert.Throws<UnauthorizedAccessException>(() => reader.TrySend(Bytes("x")));
        Assert.Throws<UnauthorizedAccessException>(() => writer.TryReceive(new byte[16], out _, out _));
        Assert.True(writer.TrySend(Bytes("x")));
        Assert.Equal("x", reader.Receive(TimeSpan.Zero)!.Text);
    }

    [Fact]
    public void TheWatcher_RaisesAnEventPerArrivingMessage_AndStops()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 10, 32);
        var arrived = new System.Collections.Concurrent.BlockingCollection<MqMessage>();
        queue.MessageReceived += (_, e) => arrived.Add(e.Message);
        queue.StartWatching();
        Assert.True(queue.IsWatching);
        Assert.Throws<InvalidOperationException>(() => queue.StartWatching());
        using MessageQueue sender = MessageQueue.Open(_name, FileAccess.Write);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(sender.TrySend(Bytes($"m{i}"), i));
        }
        var texts = Enumerable.Range(0, 5).Select(_ => arrived.TryTake(out MqMessage? m, TimeSpan.FromSeconds(10)) ? m.Text : "missing").ToList();
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], texts.Order(StringComparer.Ordinal));
        queue.StopWatching();
        Assert.False(queue.IsWatching);
        Assert.True(sender.TrySend(Bytes("after")));
        Assert.Equal(1, queue.CurrentMessages);
    }

    [Fact]
    public void SendAndReceive_OfSpans_AllocateNothing()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 10, 64);
        Span<byte> body = stackalloc byte[64];
        Span<byte> buffer = stackalloc byte[64];
        queue.TrySend(body, 1);
        queue.TryReceive(buffer, out _, out _);
        using var cancellation = new CancellationTokenSource();
        CancellationToken token = cancellation.Token;
        queue.Send(body, 1, TimeSpan.FromSeconds(1));
        queue.Receive(buffer, out _, out _, TimeSpan.FromSeconds(1));
        queue.Send(body, 1, Timeout.InfiniteTimeSpan, token);
        queue.Receive(buffer, out _, out _, Timeout.InfiniteTimeSpan, token);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            queue.Send(body, i % 5, TimeSpan.FromSeconds(1));
            queue.Receive(buffer, out int length, out int priority, TimeSpan.FromSeconds(1));
            queue.Send(body, i % 5, Timeout.InfiniteTimeSpan, token);
            queue.Receive(buffer, out length, out priority, Timeout.InfiniteTimeSpan, token);
            queue.Send(body, 3, TimeSpan.FromSeconds(1), token);
            queue.Receive(buffer, out length, out priority, TimeSpan.FromSeconds(1), token);
            queue.TrySend(body[..8], 2);
            queue.TryReceive(buffer, out length, out priority);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [SkippableFact]
    public void List_ShowsCountsQsizeModeAndOwner_FromTheMqueueFilesystem()
    {
        MqueueFilesystem.SkipUnlessMounted();
        using MessageQueue queue = MessageQueue.Create(_name, 4, 100, FileModes.ParseOctal("0640"));
        queue.TrySend(Bytes("12345"));
        queue.TrySend(Bytes("123"));
        MessageQueueInfo info = Assert.Single(MessageQueue.List(_name));
        Assert.Equal((_name, 2L, 4L, 100L, 8L), (info.Name, info.CurrentMessages!.Value, info.MaxMessages!.Value, info.MaxMessageSize!.Value, info.QueueBytes!.Value));
        Assert.Equal("0640", info.Mode);
        Assert.Equal(Environment.UserName, info.Owner);
    }

    [Fact]
    public void LimitErrors_NameTheLimitItsValueAndHowToRaiseIt()
    {
        Peer.Result count = Peer.RunUnprivileged([], "mq", "create", _name, "--max-messages", "11");
        Assert.Equal(1, count.ExitCode);
        Assert.Contains($"mq_open(\"{_name}\") failed: EINVAL", count.Error, StringComparison.Ordinal);
        Assert.Contains($"above fs.mqueue.msg_max ({MessageQueueLimits.MessageCountMax})", count.Error, StringComparison.Ordinal);
        Assert.Contains("sysctl fs.mqueue.msg_max=11", count.Error, StringComparison.Ordinal);

        Peer.Result size = Peer.RunUnprivileged([], "mq", "create", _name, "--message-size", "1MiB");
        Assert.Contains($"above fs.mqueue.msgsize_max ({MessageQueueLimits.MessageSizeMax})", size.Error, StringComparison.Ordinal);

        Peer.Result bytes = Peer.RunUnprivileged(["prlimit", "--msgqueue=4096:4096"], "mq", "create", _name, "--max-messages", "10", "--message-size", "8192");
        Assert.Contains($"mq_open(\"{_name}\") failed: EMFILE", bytes.Error, StringComparison.Ordinal);
        Assert.Contains("RLIMIT_MSGQUEUE, which is 4096 bytes", bytes.Error, StringComparison.Ordinal);
        // What the user's queues hold already, where the mqueue filesystem lists them; that it cannot be seen, elsewhere.
        Assert.Contains(MessageQueue.IsMqueueFsMounted() ? " in /dev/mqueue reserve" : "cannot be seen here: the mqueue filesystem is not mounted",
            bytes.Error, StringComparison.Ordinal);
        Assert.Contains("ulimit -q", bytes.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void StoppingTheWatcherAsItGoesBackToWaiting_NeverLosesTheCancellation()
    {
        // The watcher takes a message, raises the event, and goes back to waiting while StopWatching cancels it: the
        // cancellation then lands anywhere in the start of the wait, including while it arms its interrupt (whose
        // callback then runs on the watcher's own thread). A lost one would leave StopWatching joined forever.
        using MessageQueue queue = MessageQueue.Create(_name, 2, 64);
        using var received = new SemaphoreSlim(0);
        queue.MessageReceived += (_, _) => received.Release();
        for (int i = 0; i < 1000; i++)
        {
            queue.StartWatching();
            Assert.True(queue.Send("tick"u8.ToArray(), 0, TimeSpan.Zero));
            Assert.True(received.Wait(TimeSpan.FromSeconds(10)));
            var stop = new Thread(queue.StopWatching) { IsBackground = true };
            stop.Start();
            Assert.True(stop.Join(TimeSpan.FromSeconds(10)), $"StopWatching {i} did not end: the watcher missed its cancellation");
        }
    }
}
