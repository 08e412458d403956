using System.Diagnostics;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// mq_notify across processes, both ways: one notification per arming, only on the empty-to-non-empty transition,
/// another process's registration named on EBUSY, and handlers that throw kept off the notifying thread.
/// </summary>
public sealed class MqNotificationTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _name = TestNames.New();
    private readonly MessageQueue _queue;

    public MqNotificationTests() => _queue = MessageQueue.Create(_name, 4, 64);

    public void Dispose()
    {
        _queue.Dispose();
        TestNames.UnlinkQueueIfPresent(_name);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        TestNames.AssertNoneLeft();
    }

    /// <summary>
    /// Whether a registration on the queue stands, in the kernel's word: mq_notify fails with EBUSY while any process
    /// is registered, and in these tests only this one registers. A probe that gets the registration instead gives it
    /// up at once. NOTIFY_PID in /dev/mqueue would say the same, but needs the mqueue filesystem, which is not
    /// mounted everywhere; a probe also opens no second descriptor of the queue, whose closing would end a registration.
    /// </summary>
    private bool RegistrationStands()
    {
        try
        {
            using MqNotification probe = MqNotification.ByThread(_queue);
            return false;
        }
        catch (SysprogException e) when (e.Errno == Errno.EBUSY)
        {
            return true;
        }
    }

    /// <summary>Another process sends one message (the CLI), so the arrival is not this process's own doing.</summary>
    private void SendFromAnotherProcess(string text) => Assert.Equal(0, Peer.Run("mq", "send", _name, text).ExitCode);

    private static MqNotifiedEventArgs Next(BlockingQueue<MqNotifiedEventArgs> seen) =>
        seen.TryTake(Soon) ?? throw new TimeoutException("no notification came");

    [Theory]
    [InlineData(MqNotifyMethod.Thread)]
    [InlineData(MqNotifyMethod.Signal)]
    public void ItTellsOncePerArming_WhenAnotherProcessSendsToTheEmptyQueue(MqNotifyMethod method)
    {
        var seen = new BlockingQueue<MqNotifiedEventArgs>();
        using MqNotification notification = method == MqNotifyMethod.Thread ? MqNotification.ByThread(_queue) : MqNotification.BySignal(_queue, Signals.SIGUSR1);
        notification.Notified += (_, e) => seen.Add(e);
        Assert.True(RegistrationStands());

        SendFromAnotherProcess("one");
        MqNotifiedEventArgs first = Next(seen);

        Assert.Equal((1, method, _name), (first.Sequence, first.Method, first.QueueName));
        Assert.False(RegistrationStands());
        Assert.False(notification.IsArmed);
        if (method == MqNotifyMethod.Signal)
        {
            Assert.Equal(Signals.SIGUSR1, first.Signal!.Signal);
        }
        Assert.NotNull(_queue.Receive(TimeSpan.Zero));

        notification.Arm();
        SendFromAnotherProcess("two");

        Assert.Equal(2, Next(seen).Sequence);
        Assert.Equal(2, notification.NotificationCount);
    }

    [Fact]
    public void ANonEmptyQueue_DoesNotTell_AndTheRegistrationStands()
    {
        Assert.True(_queue.Send("already here"u8.ToArray(), 0, TimeSpan.Zero));
        using MqNotification notification = MqNotification.ByThread(_queue);

        SendFromAnotherProcess("more");

        // The send has completed: had the kernel told, it would have ended the registration first.
        Assert.True(RegistrationStands());
        Assert.True(notification.IsArmed);
        Assert.Equal(0, notification.NotificationCount);
    }

    [SkippableFact]
    public void AReceiverBlockedInMqReceive_TakesTheMessage_AndTheRegistrationStands()
    {
        string? peer = CPeer.Compile("mqreceiver", """
            #include <mqueue.h>
            #include <stdio.h>
            int main(int argc, char **argv) {
                char body[64];
                mqd_t q = mq_open(argv[1], O_RDONLY);
                if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
                puts("ready"); fflush(stdout);
                ssize_t n = mq_receive(q, body, sizeof body, NULL);
                printf("got %.*s\n", (int)n, body); fflush(stdout);
                return 0;
            }
            """, "-lrt");
        Skip.If(peer is null, "no C compiler (cc) on PATH: this test compiles a tiny blocking mq_receive peer with it");
        using MqNotification notification = MqNotification.ByThread(_queue);
        using Process receiver = Process.Start(new ProcessStartInfo(peer!, [_name]) { RedirectStandardOutput = true })!;
        Assert.Equal("ready", receiver.StandardOutput.ReadLine());
        // Blocked in the kernel's mq_receive (wq_sleep), not merely started: only then does the kernel hand it the message.
        Assert.True(SpinWait.SpinUntil(() => File.ReadAllText($"/proc/{receiver.Id}/wchan") == "wq_sleep", Soon), "the receiver blocks in mq_receive");

        SendFromAnotherProcess("taken");

        Assert.Equal("got taken", receiver.StandardOutput.ReadLine());
        receiver.WaitForExit();
        Assert.True(RegistrationStands());
        Assert.Equal(0, notification.NotificationCount);
    }

    [Fact]
    public void ArmingTwice_IsEBUSY_SayingThisProcessIsRegistered_AndCloseUnregisters()
    {
        var notification = MqNotification.ByThread(_queue);

        var busy = Assert.Throws<SysprogException>(() => notification.Arm());
        notification.Close();

        Assert.Equal(Errno.EBUSY, busy.Errno);
        Assert.Contains("This process is registered already", busy.Message, StringComparison.Ordinal);
        Assert.False(RegistrationStands());
    }

    [SkippableFact]
    public void AnotherProcessesRegistration_IsEBUSY_NamingIt()
    {
        string? peer = CPeer.NotifyRegistrant();
        Skip.If(peer is null, "no C compiler (cc) on PATH: this test compiles a tiny mq_notify peer with it");
        using Process registered = Process.Start(new ProcessStartInfo(peer!, [_name]) { RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("ready", registered.StandardOutput.ReadLine());

            var busy = Assert.Throws<SysprogException>(() => MqNotification.ByThread(_queue));

            Assert.Equal(Errno.EBUSY, busy.Errno);
            // The holder's pid comes from NOTIFY_PID in the mqueue filesystem; without it the error says how to see it.
            Assert.Contains(MessageQueue.IsMqueueFsMounted() ? $"Process {registered.Id} (mqnotify-holder)" : "mount the mqueue filesystem on /dev/mqueue to see which",
                busy.Message, StringComparison.Ordinal);
        }
        finally
        {
            registered.Kill();
            registered.WaitForExit();
        }
    }

    [Fact]
    public void AHandlerThatThrows_IsKeptOffTheNotifyingThread_AndRecorded()
    {
        using MqNotification notification = MqNotification.ByThread(_queue);
        notification.Notified += (_, _) => throw new InvalidOperationException("handler failed");

        SendFromAnotherProcess("one");

        Assert.True(SpinWait.SpinUntil(() => notification.HandlerError is not null, Soon));
        Assert.Equal("handler failed", notification.HandlerError!.Message);
    }

    [SkippableFact]
    public void ClosingAnyDescriptorOfTheQueueHere_EndsTheRegistration_SoListingsLeaveAnArmedQueueUnopened()
    {
        MqueueFilesystem.SkipUnlessMounted();
        using MqNotification notification = MqNotification.ByThread(_queue);

        MessageQueueInfo listed = MessageQueue.List(_name).Single();
        IpcObject inventoried = IpcInventory.Take().Objects.Single(o => o.Kind == IpcObjectKind.MessageQueue && o.Name == _name);

        Assert.True(RegistrationStands());
        Assert.Equal(Environment.ProcessId, listed.NotifyProcessId);
        Assert.Equal(4, listed.MaxMessages);
        Assert.Contains(inventoried.Holders, h => h.ProcessId == Environment.ProcessId && h.How.HasFlag(IpcHold.Notification));

        // The kernel's rule the listings work around: a second descriptor, closed, takes the registration with it.
        MessageQueue.Open(_name).Dispose();

        Assert.False(RegistrationStands());
    }
}

/// <summary>A thread-safe hand-over with a timeout, for events raised on other threads.</summary>
internal sealed class BlockingQueue<T> where T : class
{
    private readonly System.Collections.Concurrent.BlockingCollection<T> _items = [];

    public void Add(T item) => _items.Add(item);

    public T? TryTake(TimeSpan timeout) => _items.TryTake(out T? item, timeout) ? item : null;
}
