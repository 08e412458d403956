using System.Runtime.InteropServices;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Signal-driven I/O: O_ASYNC with F_SETOWN_EX and F_SETSIG as the kernel records them, the signal arriving through a
/// SignalFd when the descriptor becomes ready, and the refusals that keep it from ending the process.
/// </summary>
public sealed class SignalDrivenIoTests : IDisposable
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

    private static (int Type, int Pid) Owner(int fd)
    {
        var owner = new FOwnerEx();
        Assert.Equal(0, Libc.fcntl(fd, Libc.F_GETOWN_EX, ref owner));
        return (owner.Type, owner.Pid);
    }

    [Fact]
    public void Enabling_SetsTheOwnerTheSignalAndOAsync_AndDisablingClearsOAsync()
    {
        // Owned by a child of this test, so no signal can reach this process (nor anyone else's) whatever happens: the
        // close at the end alone would signal the reader's owner.
        using ChildProcess sleeper = ChildProcess.Start(new ChildProcessStartInfo("sleep", ["30"]));
        using Pipe pipe = Pipe.Create();
        int other = sleeper.ProcessId;
        var trace = new List<string>();

        pipe.ReadEnd.SetSignalDriven(true, Signals.SIGIO, other, trace.Add);

        Assert.NotEqual(0, OpenFds.StatusFlags(pipe.ReadEnd.Fd) & Libc.O_ASYNC);
        Assert.Equal((Libc.F_OWNER_PID, other), Owner(pipe.ReadEnd.Fd));
        Assert.Equal(Signals.SIGIO, Libc.fcntl(pipe.ReadEnd.Fd, Libc.F_GETSIG, 0));
        Assert.Equal(Signals.SIGIO, pipe.ReadEnd.IoSignal);
        Assert.Collection(trace,
            l => Assert.Equal($"fcntl({pipe.ReadEnd.Fd}, F_SETOWN_EX, {{type=F_OWNER_PID, pid={other}}}) = 0", l),
            l => Assert.Equal($"fcntl({pipe.ReadEnd.Fd}, F_SETSIG, SIGIO) = 0", l),
            l => Assert.StartsWith($"fcntl({pipe.ReadEnd.Fd}, F_GETFL) = ", l, StringComparison.Ordinal),
            l => Assert.Matches($@"^fcntl\({pipe.ReadEnd.Fd}, F_SETFL, O_RDONLY\|.*O_ASYNC.*\) = 0$", l));

        pipe.ReadEnd.SetSignalDriven(false);

        Assert.Equal(0, OpenFds.StatusFlags(pipe.ReadEnd.Fd) & Libc.O_ASYNC);
        Assert.Null(pipe.ReadEnd.IoSignal);
        sleeper.Signal(Signals.SIGKILL);
        Assert.NotNull(sleeper.WaitForExit(Soon));
    }

    [Fact]
    public void AReadyPipe_SignalsThisProcess_ThroughASignalFdOfTheSignal()
    {
        SignalFd signals = Track(SignalFd.Create([Signals.SIGIO]));
        Pipe pipe = Track(Pipe.Create());
        pipe.ReadEnd.SetSignalDriven(true);
        try
        {
            Assert.Null(signals.Read(TimeSpan.Zero));

            pipe.WriteEnd.Write("ready"u8, Soon);

            SignalRecord received = Assert.IsType<SignalRecord>(signals.Read(Soon));
            Assert.Equal(Signals.SIGIO, received.Signal);
            if (signals.HasSenderDetail)
            {
                // A real signalfd (this process was started with SIGIO blocked) has the siginfo: which descriptor, and why.
                Assert.Equal(pipe.ReadEnd.Fd, received.Fd);
                Assert.Equal("POLL_IN", received.CodeName);
                Assert.Contains("POLLIN", received.BandName, StringComparison.Ordinal);
            }
        }
        finally
        {
            pipe.ReadEnd.SetSignalDriven(false);
        }
    }

    [Theory]
    [InlineData(0x041, "POLLIN|POLLRDNORM")]
    [InlineData(0x304, "POLLOUT|POLLWRNORM|POLLWRBAND")]
    [InlineData(0x441, "POLLIN|POLLRDNORM|POLLMSG")]
    [InlineData(0x082, "POLLPRI|POLLRDBAND")]
    [InlineData(0x018, "POLLERR|POLLHUP")]
    public void TheBand_NamesEveryBitTheKernelSetsForEachCode(long band, string named)
    {
        // The bands of fs/fcntl.c's band_table, one per si_code (POLL_IN, POLL_OUT, POLL_MSG, POLL_PRI, POLL_HUP): no bit left as a number.
        Assert.Equal(named, new SignalRecord(Signals.SIGIO, null, null, 1, DateTime.Now, 3, band).BandName);
    }

    [SkippableFact]
    public void ThisProcessAsOwner_IsRefused_WhileNothingHereReceivesTheSignal()
    {
        Pipe pipe = Track(Pipe.Create());
        // SIGPWR: nobody in a test run handles it (SIGIO may be, by a test running beside this one).
        SigAction current;
        unsafe
        {
            Assert.Equal(0, Libc.sigaction(Signals.SIGPWR, null, &current));
        }
        Skip.If(current.Handler != Libc.SIG_DFL, "SIGPWR is handled in this process already (the interrupt's fallback took it)");

        InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => pipe.ReadEnd.SetSignalDriven(true, Signals.SIGPWR));

        Assert.Contains("SIGPWR", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, OpenFds.StatusFlags(pipe.ReadEnd.Fd) & Libc.O_ASYNC);
    }

    [Fact]
    public void AnOwnerWithNoProcess_FailsWithEsrchNamingThePid_AndLeavesOAsyncClear()
    {
        // Above the largest pid_max the kernel allows (2^22): no process has it, ever.
        const int nobodysPid = 0x3FFFFFFF;
        using Pipe pipe = Pipe.Create();

        SysprogException failed = Assert.Throws<SysprogException>(() => pipe.ReadEnd.SetSignalDriven(true, Signals.SIGIO, nobodysPid));

        Assert.Equal(Errno.ESRCH, failed.Errno);
        Assert.Contains($"No process {nobodysPid}", failed.Message, StringComparison.Ordinal);
        Assert.Equal(0, OpenFds.StatusFlags(pipe.ReadEnd.Fd) & Libc.O_ASYNC);
    }

    [Fact]
    public void AKindWithoutSignalDrivenIo_IsRefused_BeforeAnyCall()
    {
        EventFd eventFd = Track(EventFd.Create());
        var trace = new List<string>();

        ArgumentException refused = Assert.Throws<ArgumentException>(() => eventFd.SetSignalDriven(true, Signals.SIGIO, Environment.ProcessId, trace.Add));

        Assert.Contains(eventFd.Description, refused.Message, StringComparison.Ordinal);
        Assert.Empty(trace);
    }
}
