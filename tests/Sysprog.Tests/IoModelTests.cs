using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// The I/O models: non-blocking descriptors (O_NONBLOCK where it lives, EAGAIN as "would block"), epoll in full
/// (level and edge triggering, one-shot and re-arming, exclusive wake-ups, EPOLLRDHUP, EPOLLPRI) with its documented
/// quirks, and poll(2) beside it over the same handles.
/// </summary>
public sealed class IoModelTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly List<IDisposable> _objects = [];

    public void Dispose()
    {
        _objects.AsEnumerable().Reverse().ToList().ForEach(o => o.Dispose());
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
    }

    private T Track<T>(T value) where T : IDisposable
    {
        _objects.Add(value);
        return value;
    }

    private const int ONonBlock = 0x800;

    // ---- Non-blocking I/O ----

    [Fact]
    public void ANonBlockingPipe_IsONonBlockInTheKernel_AndAnEmptyReadWouldBlock()
    {
        var lines = new List<string>();
        Pipe pipe = Track(Pipe.Create(trace: lines.Add, nonBlocking: true));

        Assert.Matches(@"^pipe2\(\[\d+, \d+\], O_CLOEXEC\|O_NONBLOCK\) = 0$", lines[0]);
        Assert.True(pipe.ReadEnd.IsNonBlocking);
        Assert.NotEqual(0, OpenFds.StatusFlags(pipe.ReadEnd.Fd) & ONonBlock);
        Assert.NotEqual(0, OpenFds.StatusFlags(pipe.WriteEnd.Fd) & ONonBlock);
        lines.Clear();
        var clock = Stopwatch.StartNew();

        Assert.Null(pipe.ReadEnd.Read(new byte[16], TimeSpan.FromSeconds(10), default, lines.Add));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a non-blocking read waited {clock.Elapsed}");
        Assert.Equal($"read({pipe.ReadEnd.Fd}, ..., 16) = -1 EAGAIN (Resource temporarily unavailable)", Assert.Single(lines));
    }

    [Fact]
    public void SetNonBlocking_OnAPipeEnd_IsFcntlSetfl_AndClearsAgain()
    {
        Pipe pipe = Track(Pipe.Create());
        int fd = pipe.ReadEnd.Fd;
        var lines = new List<string>();

        pipe.ReadEnd.SetNonBlocking(true, lines.Add);

        Assert.Equal([$"fcntl({fd}, F_GETFL) = 0", $"fcntl({fd}, F_SETFL, O_RDONLY|O_NONBLOCK) = 0"], lines);
        Assert.NotEqual(0, OpenFds.StatusFlags(fd) & ONonBlock);
        Assert.True(pipe.ReadEnd.IsNonBlocking);
        Assert.Equal(0, OpenFds.StatusFlags(pipe.WriteEnd.Fd) & ONonBlock);
        pipe.ReadEnd.SetNonBlocking(false);
        Assert.Equal(0, OpenFds.StatusFlags(fd) & ONonBlock);
        Assert.False(pipe.ReadEnd.IsNonBlocking);
    }

    [Fact]
    public void AChildThatInheritsANonBlockingPipeEnd_SeesONonBlock_ForTheOpenFileDescriptionIsShared()
    {
        Pipe input = Track(Pipe.Create(nonBlocking: true));
        Pipe output = Track(Pipe.Create());
        using ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo("cat", ["/proc/self/fdinfo/0"])
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [0] = input.ReadEnd, [1] = output.WriteEnd },
        });
        output.WriteEnd.Close();

        string fdinfo = Encoding.ASCII.GetString(output.ReadEnd.ReadTo("\0"u8, Soon)!);

        Assert.Equal(0, child.WaitForExit(Soon)!.ExitCode);
        int flags = Convert.ToInt32(fdinfo.Split('\n').First(l => l.StartsWith("flags:", StringComparison.Ordinal))[6..].Trim(), 8);
        Assert.NotEqual(0, flags & ONonBlock);
    }

    [Fact]
    public void SetNonBlocking_OnAnEventFd_LeavesTheKernelFlag_AndOnlyStopsTheWaits()
    {
        EventFd eventFd = Track(EventFd.Create());
        var lines = new List<string>();

        eventFd.SetNonBlocking(true, lines.Add);

        Assert.Matches($@"^fcntl\({eventFd.Fd}, F_GETFL\) = \d+$", lines[0]);
        Assert.StartsWith($"# {eventFd.Description} stays O_NONBLOCK in the kernel", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("F_SETFL", StringComparison.Ordinal));
        Assert.True(eventFd.IsNonBlocking);
        var clock = Stopwatch.StartNew();
        Assert.Null(eventFd.Read(TimeSpan.FromSeconds(10)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void ANonBlockingWrite_TakesWhatFits_AndSaysHowMuch()
    {
        Pipe pipe = Track(Pipe.Create(nonBlocking: true));
        int capacity = pipe.Capacity;

        int written = pipe.WriteEnd.Write(new byte[capacity + 10000], TimeSpan.FromSeconds(10));

        Assert.Equal(capacity, written);
        Assert.Equal(0, pipe.WriteEnd.Write(new byte[1], Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void NonBlockingSockets_AreSockNonblock_FromSocketpairAndAccept4()
    {
        var lines = new List<string>();
        SocketPair pair = Track(Socket.CreatePair(SocketKind.Stream, trace: lines.Add, nonBlocking: true));
        Assert.Contains("SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK", lines[0], StringComparison.Ordinal);
        Assert.NotEqual(0, OpenFds.StatusFlags(pair.First.Fd) & ONonBlock);
        Assert.Null(pair.Second.Receive(TimeSpan.FromSeconds(10)));

        Socket listener = Track(Socket.CreateBound(SocketEndpoint.Abstract($"sysprog-test-{Guid.NewGuid():N}")));
        Socket client = Track(Socket.CreateConnected(listener.LocalEndpoint, timeout: Soon)!);
        lines.Clear();
        Socket accepted = Track(listener.Accept(Soon, default, lines.Add, nonBlocking: true)!);
        Assert.Contains(lines, l => l.StartsWith("accept4(", StringComparison.Ordinal) && l.Contains("SOCK_CLOEXEC|SOCK_NONBLOCK", StringComparison.Ordinal));
        Assert.True(accepted.IsNonBlocking);
        Assert.NotEqual(0, OpenFds.StatusFlags(accepted.Fd) & ONonBlock);
        Assert.Equal(0, OpenFds.StatusFlags(client.Fd) & ONonBlock);
    }

    [Fact]
    public void ANonBlockingFifoEnd_StaysNonBlockingAfterTheOpen()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sysprog-test-{Guid.NewGuid():N}.fifo");
        Fifo.Create(path);
        try
        {
            PipeEnd reader = Track(Fifo.Open(path, FileAccess.Read, nonBlocking: true)!);
            PipeEnd writer = Track(Fifo.Open(path, FileAccess.Write, nonBlocking: true)!);
            Assert.True(reader.IsNonBlocking);
            Assert.Null(reader.ReadAvailable(TimeSpan.FromSeconds(10)));
            writer.Write("hi"u8, Soon);
            Assert.Equal("hi"u8.ToArray(), reader.ReadAvailable(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---- epoll in full ----

    [Fact]
    public void LevelTriggered_ReportsAgainWhileReady_EdgeTriggered_OnlyWhenMoreArrives()
    {
        Pipe pipe = Track(Pipe.Create());
        PollSet level = Track(new PollSet());
        PollSet edge = Track(new PollSet());
        level.Add(pipe.ReadEnd);
        var lines = new List<string>();
        edge.Add(pipe.ReadEnd, Readiness.Readable, PollOptions.EdgeTriggered, lines.Add);
        Assert.Contains(lines, l => l.Contains("EPOLL_CTL_ADD", StringComparison.Ordinal) && l.Contains("{events=EPOLLIN|EPOLLET, data=0}", StringComparison.Ordinal));
        var ready = new ReadyHandle[4];
        pipe.WriteEnd.Write("0123456789"u8, Soon);

        Assert.Equal(1, level.Wait(ready, Soon));
        Assert.Equal(1, level.Wait(ready, TimeSpan.Zero));
        Assert.Equal(1, edge.Wait(ready, Soon));
        Assert.Equal(0, edge.Wait(ready, TimeSpan.Zero));
        pipe.WriteEnd.Write("more"u8, Soon);
        Assert.Equal(1, edge.Wait(ready, Soon));
        Assert.True(ready[0].Readable);
    }

    [Fact]
    public void EdgeTriggered_StarvesAReaderThatDoesNotDrain_UntilMoreArrives()
    {
        Pipe pipe = Track(Pipe.Create(nonBlocking: true));
        PollSet set = Track(new PollSet());
        set.Add(pipe.ReadEnd, Readiness.Readable, PollOptions.EdgeTriggered);
        var ready = new ReadyHandle[1];
        pipe.WriteEnd.Write("0123456789"u8, Soon);
        Assert.Equal(1, set.Wait(ready, Soon));

        // The reader takes one byte and waits again: nine are left, and the set says nothing.
        Assert.Equal(1, pipe.ReadEnd.Read(new byte[1], Soon));
        Assert.Equal(9, pipe.ReadEnd.BytesAvailable);
        Assert.Equal(0, set.Wait(ready, TimeSpan.FromMilliseconds(100)));

        // Only new data makes an edge; a reader that drains until a read would block never starves.
        pipe.WriteEnd.Write("!"u8, Soon);
        Assert.Equal(1, set.Wait(ready, Soon));
        var buffer = new byte[4];
        int drained = 0;
        while (pipe.ReadEnd.Read(buffer, Soon) is int count)
        {
            drained += count;
        }
        Assert.Equal(10, drained);
        Assert.Equal(0, set.Wait(ready, TimeSpan.Zero));
    }

    [Fact]
    public void OneShot_ReportsOnce_UntilRearmedWithEpollCtlMod()
    {
        EventFd eventFd = Track(EventFd.Create(1));
        var lines = new List<string>();
        PollSet set = Track(new PollSet());
        int index = set.Add(eventFd, Readiness.Readable, PollOptions.OneShot);
        var ready = new ReadyHandle[1];

        Assert.Equal(1, set.Wait(ready, Soon, default, lines.Add));
        Assert.Matches($@"^epoll_wait\(\d+, \[\{{events=EPOLLIN, data={index}\}}\], 2, \d+\) = 1$", Assert.Single(lines));
        Assert.Equal(0, set.Wait(ready, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(1UL, eventFd.Count);
        lines.Clear();
        set.Modify(eventFd, Readiness.Readable, PollOptions.OneShot, lines.Add);

        Assert.Matches($@"^epoll_ctl\(\d+, EPOLL_CTL_MOD, {eventFd.Fd}, \{{events=EPOLLIN\|EPOLLONESHOT, data={index}\}}\) = 0$", Assert.Single(lines));
        Assert.Equal(1, set.Wait(ready, Soon));
        Assert.Same(eventFd, ready[0].Handle);
        Assert.Equal(0, set.Wait(ready, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(PollOptions.Exclusive, 1)]
    [InlineData(PollOptions.None, 3)]
    public async Task OneEvent_WakesOneExclusiveWaiter_OrEveryOtherWaiter(PollOptions options, int expectedWoken)
    {
        EventFd eventFd = Track(EventFd.Create());
        var waiters = new List<Task<int>>();
        for (int i = 0; i < 3; i++)
        {
            (Task<int> waiter, int thread) = await ThreadWait.StartOnThreadOfItsOwn(() =>
            {
                using var set = new PollSet();
                set.Add(eventFd, Readiness.Readable, options);
                return set.Wait(new ReadyHandle[1], TimeSpan.FromSeconds(2));
            });
            ThreadWait.UntilBlockedIn(thread, ThreadWait.Epoll);
            waiters.Add(waiter);
        }

        eventFd.Add(1);

        int[] reported = await Task.WhenAll(waiters).WaitAsync(Soon);
        Assert.Equal(expectedWoken, reported.Count(n => n > 0));
    }

    [Fact]
    public void Exclusive_IsRefusedWithOneShotOrPriority_AndByModify_BeforeAnySystemCall()
    {
        EventFd eventFd = Track(EventFd.Create());
        var lines = new List<string>();
        PollSet set = Track(new PollSet());

        Assert.Equal("options", Assert.Throws<ArgumentException>(() => set.Add(eventFd, Readiness.Readable, PollOptions.Exclusive | PollOptions.OneShot, lines.Add)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => set.Add(eventFd, Readiness.Readable | Readiness.Priority, PollOptions.Exclusive, lines.Add)).ParamName);
        Assert.Empty(lines);
        set.Add(eventFd, Readiness.Readable, PollOptions.Exclusive);
        Assert.Throws<InvalidOperationException>(() => set.Modify(eventFd, Readiness.Readable, PollOptions.None, lines.Add));
        Assert.Throws<ArgumentException>(() => set.Modify(eventFd, Readiness.Readable, PollOptions.Exclusive, lines.Add));
        Assert.Empty(lines);
    }

    [Fact]
    public void ReadHangUp_ReportsAPeerThatShutDownItsSendingSide_OnlyWhenAskedFor()
    {
        SocketPair pair = Track(Socket.CreatePair());
        PollSet asking = Track(new PollSet());
        PollSet notAsking = Track(new PollSet());
        asking.Add(pair.Second, Readiness.Readable | Readiness.ReadHangUp);
        notAsking.Add(pair.Second, Readiness.Readable);
        var ready = new ReadyHandle[1];

        pair.First.Shutdown(SocketShutdown.Send);

        Assert.Equal(1, asking.Wait(ready, Soon));
        Assert.True(ready[0].ReadHangUp);
        Assert.True(ready[0].Readable);
        Assert.Equal("IN|RDHUP", ready[0].Events);
        Assert.Equal(1, notAsking.Wait(ready, Soon));
        Assert.False(ready[0].ReadHangUp);
    }

    [Fact]
    public void Priority_ReportsTcpUrgentData_UntilItIsRead()
    {
        Socket listener = Track(Socket.CreateBound(SocketEndpoint.Internet(IPAddress.Loopback, 0)));
        Socket client = Track(Socket.CreateConnected(listener.LocalEndpoint, timeout: Soon)!);
        Socket server = Track(listener.Accept(Soon)!);
        PollSet set = Track(new PollSet());
        set.Add(server, Readiness.Priority);
        var ready = new ReadyHandle[1];
        Assert.Equal(0, set.Wait(ready, TimeSpan.Zero));
        Assert.Null(server.ReceiveUrgent());

        client.SendUrgent((byte)'!');

        Assert.Equal(1, set.Wait(ready, Soon));
        Assert.True(ready[0].Priority);
        Assert.Equal((byte)'!', server.ReceiveUrgent());
        Assert.Equal(0, set.Wait(ready, TimeSpan.Zero));
        SocketPair unix = Track(Socket.CreatePair());
        Assert.Throws<InvalidOperationException>(() => unix.First.SendUrgent(1));
    }

    [Fact]
    public void ADuplicatedDescriptor_KeepsAClosedMemberInTheSet_WhichCanNoLongerBeRemoved()
    {
        EventFd eventFd = EventFd.Create();
        PollSet set = Track(new PollSet());
        set.Add(eventFd);
        FileDescriptor duplicate = Track(FileDescriptor.Duplicate(eventFd.Fd));
        eventFd.Close();
        var ready = new ReadyHandle[1];

        duplicate.Write(BitConverter.GetBytes(1UL), Soon);

        Assert.Equal(1, set.Wait(ready, Soon));
        Assert.Same(eventFd, ready[0].Handle);
        Assert.True(eventFd.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => set.Remove(eventFd));
        // Once the last descriptor of the open file description closes, the kernel takes it out of the set.
        duplicate.Close();
        Assert.Equal(0, set.Wait(ready, TimeSpan.FromMilliseconds(50)));
    }

    private const string EpollChildSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/epoll.h>
        /* Waits COUNT times on the epoll set it inherited as descriptor 3 and prints the data of each event. */
        int main(int argc, char **argv) {
            for (int i = 0; i < atoi(argv[1]); i++) {
                struct epoll_event events[8];
                int n = epoll_wait(3, events, 8, 10000);
                if (n <= 0) { printf("none\n"); return 1; }
                for (int j = 0; j < n; j++) printf("%llu\n", (unsigned long long)events[j].data.u64);
                fflush(stdout);
            }
            return 0;
        }
        """;

    [SkippableFact]
    public void ASetPassedToAChild_IsOneSet_InBothProcesses()
    {
        string? peer = CPeer.Compile("epoll-child", EpollChildSource);
        Skip.If(peer is null, "no C compiler (cc) to build the child that waits on the inherited set");
        EventFd first = Track(EventFd.Create());
        PollSet set = Track(new PollSet());
        set.Add(first, Readiness.Readable, PollOptions.OneShot);
        Pipe output = Track(Pipe.Create());
        using ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo(peer!, ["2"])
        {
            Descriptors = new Dictionary<int, IDescriptorObject> { [1] = output.WriteEnd, [3] = set },
        });
        output.WriteEnd.Close();
        ThreadWait.UntilBlockedIn(child.ProcessId, child.ProcessId, ThreadWait.Epoll);

        first.Add(1);

        Assert.Equal("0\n", Encoding.ASCII.GetString(output.ReadEnd.ReadTo("\n"u8, Soon)!));
        // The child's wait took the one-shot event: the member is disarmed here too, though still readable.
        Assert.Equal(1UL, first.Count);
        Assert.Equal(0, set.Wait(new ReadyHandle[1], TimeSpan.FromMilliseconds(50)));
        // What this process adds after the child started is in the child's set as well.
        EventFd second = Track(EventFd.Create(1));
        set.Add(second);
        Assert.Equal("1\n", Encoding.ASCII.GetString(output.ReadEnd.ReadTo("\n"u8, Soon)!));
        Assert.Equal(0, child.WaitForExit(Soon)!.ExitCode);
    }

    // ---- poll(2) beside epoll ----

    [Fact]
    public void PollAndEpoll_ReportTheSameFew_AmongManyHandles()
    {
        var eventFds = Enumerable.Range(0, 50).Select(_ => Track(EventFd.Create())).ToList();
        int[] readyIndexes = [3, 17, 42];
        foreach (int index in readyIndexes)
        {
            eventFds[index].Add(1);
        }
        PollSet set = Track(new PollSet());
        PollList list = Track(new PollList());
        eventFds.ForEach(e => set.Add(e));
        eventFds.ForEach(e => list.Add(e));
        var ready = new ReadyHandle[50];

        int fromEpoll = set.Wait(ready, Soon);
        int[] epollIndexes = ready[..fromEpoll].Select(r => r.Index).Order().ToArray();
        int fromPoll = list.Wait(ready, Soon);

        Assert.Equal(readyIndexes, epollIndexes);
        Assert.Equal(readyIndexes, ready[..fromPoll].Select(r => r.Index).ToArray());
        Assert.All(ready[..fromPoll], r => Assert.Same(eventFds[r.Index], r.Handle));
        Assert.Equal(readyIndexes, PollSet.WaitFor(eventFds, Readiness.Readable, false, Soon, mechanism: WaitMechanism.Poll).Select(r => r.Index).ToArray());
    }

    [Fact]
    public void PollList_PassesTheWholeList_ARemovedEntryAsFdMinusOne()
    {
        EventFd kept = Track(EventFd.Create(1));
        EventFd removed = Track(EventFd.Create(1));
        var lines = new List<string>();
        PollList list = Track(new PollList(lines.Add));
        list.Add(removed, Readiness.Readable | Readiness.Writable);
        list.Add(kept);
        list.Remove(removed);
        Assert.StartsWith("eventfd(", Assert.Single(lines), StringComparison.Ordinal);
        lines.Clear();
        var ready = new ReadyHandle[2];

        Assert.Equal(1, list.Wait(ready, Soon, default, lines.Add));

        Assert.Equal(1, ready[0].Index);
        Assert.Matches(@"^poll\(\[\{fd=\d+, events=POLLIN\}, \{fd=-1, events=0\}, \{fd=" + kept.Fd + @", events=POLLIN, revents=POLLIN\}\], 3, \d+\) = 1$", Assert.Single(lines));
    }

    [Fact]
    public void PollList_RefusesToWaitOnAClosedMember()
    {
        EventFd closed = EventFd.Create();
        PollList list = Track(new PollList());
        list.Add(closed);
        closed.Close();

        Assert.Throws<ObjectDisposedException>(() => list.Wait(new ReadyHandle[1], TimeSpan.Zero));
    }

    [Fact]
    public async Task PollList_AMemberRemovedDuringAWait_IsReleasedWhenItEnds_SoItsCloseCloses()
    {
        EventFd wake = Track(EventFd.Create());
        EventFd removed = Track(EventFd.Create());
        PollList list = Track(new PollList());
        list.Add(wake);
        list.Add(removed);
        (Task<int> wait, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => list.Wait(new ReadyHandle[2], Soon));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Poll);

        list.Remove(removed);
        wake.Add(1);
        Assert.Equal(1, await wait.WaitAsync(Soon));
        removed.Close();

        // The wait's hold was given back: the descriptor is closed, not kept open by a reference nobody releases.
        Assert.True(((IPollable)removed).DescriptorHandle.IsClosed);
    }

    [Fact]
    public async Task PollList_AWaitStopsAtOnce_WhenCancelled()
    {
        EventFd never = Track(EventFd.Create());
        PollList list = Track(new PollList());
        list.Add(never);
        using var cancel = new CancellationTokenSource();
        (Task<int> wait, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => list.Wait(new ReadyHandle[1], Timeout.InfiniteTimeSpan, cancel.Token));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Poll);
        long cancelledAt = Stopwatch.GetTimestamp();

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Soon));
        Assert.True(Stopwatch.GetElapsedTime(cancelledAt) < TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void PollList_Wait_AllocatesNothing()
    {
        EventFd ready = Track(EventFd.Create(1));
        EventFd quiet = Track(EventFd.Create());
        PollList list = Track(new PollList());
        list.Add(quiet);
        list.Add(ready);
        var results = new ReadyHandle[2];
        list.Wait(results, Soon);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            list.Wait(results, Soon);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
