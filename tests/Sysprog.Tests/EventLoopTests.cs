using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// The single-threaded event loop: handlers called on the loop's own thread for ready handles, adding, removing and
/// stopping from inside, closed handles forgotten, and the ways a run ends (stopped, no handles, timed out, cancelled,
/// a handler's exception).
/// </summary>
public sealed class EventLoopTests : IDisposable
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

    [Fact]
    public void Run_CallsEachReadyHandlesHandler_OnTheThreadThatRunsIt_UntilOneStops()
    {
        EventFd first = Track(EventFd.Create(1));
        EventFd second = Track(EventFd.Create());
        EventLoop loop = Track(new EventLoop());
        var calls = new List<string>();
        int thread = Environment.CurrentManagedThreadId;
        loop.Add(first, (Action<EventLoopEvent>)(e =>
        {
            Assert.Equal(thread, Environment.CurrentManagedThreadId);
            calls.Add($"first {first.TryRead()} {e.Events}");
            second.Add(2);
        }));
        loop.Add(second, (Action<EventLoopEvent>)(e =>
        {
            calls.Add($"second {second.TryRead()}");
            e.Loop.Stop();
        }));

        Assert.Equal(EventLoopEnd.Stopped, loop.Run(Soon));

        Assert.Equal(["first 1 IN", "second 2"], calls);
        Assert.Equal(2, loop.Dispatched);
    }

    [Fact]
    public void Run_EndsWhenNoHandleIsLeft_AHandlerRemovingOneAndClosingAnother()
    {
        EventFd removed = Track(EventFd.Create(1));
        EventFd closed = EventFd.Create(1);
        EventLoop loop = Track(new EventLoop());
        loop.Add(removed, (Action<EventLoopEvent>)(e => e.Loop.Remove(e.Handle)));
        loop.Add(closed, (Action<EventLoopEvent>)(e => closed.Close()));

        Assert.Equal(EventLoopEnd.NoHandles, loop.Run(Soon));

        Assert.Equal(0, loop.Count);
        Assert.Equal(2, loop.Dispatched);
    }

    [Fact]
    public void Run_DoesNotCallTheHandlerOfAHandleAnEarlierHandlerOfTheRoundRemoved()
    {
        EventFd first = Track(EventFd.Create(1));
        EventFd second = Track(EventFd.Create(1));
        EventLoop loop = Track(new EventLoop());
        var called = new List<IPollable>();
        // Whichever runs first takes the other out: both are ready in the same epoll_wait.
        loop.Add(first, (Action<EventLoopEvent>)(e => { called.Add(e.Handle); e.Loop.Remove(second); first.TryRead(); }));
        loop.Add(second, (Action<EventLoopEvent>)(e => { called.Add(e.Handle); e.Loop.Remove(first); second.TryRead(); }));

        loop.Run(TimeSpan.FromMilliseconds(300));

        Assert.Single(called);
    }

    [Fact]
    public void Run_EndsWhenItsTimePasses_WithNothingReady()
    {
        EventFd quiet = Track(EventFd.Create());
        EventLoop loop = Track(new EventLoop());
        loop.Add(quiet, (Action<EventLoopEvent>)(_ => throw new InvalidOperationException("nothing was written")));
        var clock = Stopwatch.StartNew();

        Assert.Equal(EventLoopEnd.TimedOut, loop.Run(TimeSpan.FromMilliseconds(200)));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(195), Soon);
    }

    [Fact]
    public void Run_EndsWithAHandlersException_LeavingTheHandlesOpenAndInTheLoop()
    {
        EventFd ready = Track(EventFd.Create(1));
        EventLoop loop = Track(new EventLoop());
        loop.Add(ready, (Action<EventLoopEvent>)(_ => throw new FormatException("handler failed")));

        Assert.Equal("handler failed", Assert.Throws<FormatException>(() => loop.Run(Soon)).Message);

        Assert.False(ready.IsClosed);
        Assert.Same(ready, Assert.Single(loop.Handles));
    }

    [Fact]
    public void Run_ByDefault_CallsActions_AndNamesAHandlerItCannotCall()
    {
        EventFd ready = Track(EventFd.Create(1));
        EventLoop loop = Track(new EventLoop());
        loop.Add(ready, "a string");

        InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => loop.Run(Soon));

        Assert.Contains(ready.Description, refused.Message, StringComparison.Ordinal);
        Assert.Contains("String", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_RefusesAHandleInTheLoopAlready_AndAHandlerCannotRunTheLoopAgain()
    {
        EventFd ready = Track(EventFd.Create(1));
        EventLoop loop = Track(new EventLoop());
        Exception? inner = null;
        loop.Add(ready, (Action<EventLoopEvent>)(e =>
        {
            inner = Record.Exception(() => e.Loop.Run(Soon));
            e.Loop.Stop();
        }));

        Assert.Throws<ArgumentException>(() => loop.Add(ready, (Action<EventLoopEvent>)(_ => { })));
        loop.Run(Soon);

        Assert.IsType<InvalidOperationException>(inner);
    }

    [Fact]
    public async Task Run_StopsAtOnce_WhenCancelled_WhileAsleepInEpollWait()
    {
        EventFd never = Track(EventFd.Create());
        EventLoop loop = Track(new EventLoop());
        loop.Add(never, (Action<EventLoopEvent>)(_ => { }));
        using var cancel = new CancellationTokenSource();
        (Task<EventLoopEnd> run, int runner) = await ThreadWait.StartOnThreadOfItsOwn(() => loop.Run(Timeout.InfiniteTimeSpan, cancel.Token));
        ThreadWait.UntilBlockedIn(runner, ThreadWait.Epoll);
        long cancelledAt = Stopwatch.GetTimestamp();

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Soon));
        Assert.True(Stopwatch.GetElapsedTime(cancelledAt) < TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void TheCliEchoServer_ServesClientsOnOneThread_AndStopsOnSigterm()
    {
        string name = $"@{TestNames.New()[1..]}";
        using Process server = Peer.Start("demo", "echo", name, "--every", "100ms");
        // The loop runs on the CLI's main thread (its thread id is the process id): asleep in epoll_wait, it is serving.
        ThreadWait.UntilBlockedIn(server.Id, server.Id, ThreadWait.Epoll, TimeSpan.FromSeconds(60));
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                Socket client = Socket.Create(SocketFamily.Unix, SocketKind.Stream);
                clients.Add(client);
                Assert.True(client.Connect(SocketEndpoint.ParseUnix(name), Soon));
            }
            for (int i = 0; i < 2; i++)
            {
                clients[i].Send(Encoding.UTF8.GetBytes($"hello {i}"));
            }
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal($"hello {i}", clients[i].Receive(Soon)!.Text);
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        using (Process kill = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        Peer.Result result = Peer.Finish(server);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("SIGTERM: stopping", result.Output, StringComparison.Ordinal);
        Assert.Contains("stopped: 2 messages echoed", result.Output, StringComparison.Ordinal);
        Assert.Equal(2, result.Output.Split('\n').Count(l => l.StartsWith("client ", StringComparison.Ordinal) && l.Contains("connected", StringComparison.Ordinal)));
    }
}
