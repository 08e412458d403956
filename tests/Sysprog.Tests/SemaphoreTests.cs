using System.Diagnostics;
using Xunit;

namespace Sysprog.Tests;

public sealed class SemaphoreTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkSemaphoreIfPresent(_name);
        TestNames.UnlinkIfPresent(_name);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        TestNames.AssertNoneLeft();
    }

    [Fact]
    public void ValueSeven_SevenWaitsReturnAtOnce_TheEighthWouldBlock()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 7);
        Assert.Equal(7, semaphore.Value);
        for (int i = 0; i < 7; i++)
        {
            Assert.True(semaphore.TryWait());
        }
        Assert.False(semaphore.TryWait());
        Assert.False(semaphore.Wait(TimeSpan.Zero));
        semaphore.Post();
        Assert.Equal(1, semaphore.Value);
        Assert.True(semaphore.Wait(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Create_Mode0600_ExactTrace_AndListShowsNameValueModeOwner()
    {
        var trace = new List<string>();
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 3, trace: trace.Add);
        Assert.Matches($@"^sem_open\(""{_name}"", O_RDONLY\|O_CREAT\|O_EXCL, 0600, 3\) = 0x[0-9a-f]+$", trace[0]);
        // The mode is checked, and changed only where the umask narrowed it, through a descriptor of the file just made.
        Assert.Matches($@"^open\(""/dev/shm/sem\.{_name[1..]}"", O_RDONLY\|O_NOFOLLOW\|O_CLOEXEC\|O_PATH\) = \d+$", trace[1]);
        Assert.Equal(FileModes.OwnerReadWrite, File.GetUnixFileMode(semaphore.Location));
        SemaphoreInfo info = Assert.Single(PosixSemaphore.List(_name));
        Assert.Equal((_name, 3, FileModes.OwnerReadWrite, Environment.UserName), (info.Name, info.Value!.Value, info.UnixFileMode, info.Owner));
        Assert.DoesNotContain(SharedMemory.List(), i => i.Name == _name);
        semaphore.Close(trace.Add);
        Assert.Matches(@"^sem_close\(0x[0-9a-f]+\) = 0$", trace[^1]);
        Assert.True(semaphore.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => semaphore.Post());
    }

    [Fact]
    public void Create_Existing_IsEEXIST_Open_Missing_IsENOENT_WithAHint()
    {
        using (PosixSemaphore.Create(_name, 1))
        {
            Assert.Equal(Errno.EEXIST, Assert.Throws<SysprogException>(() => PosixSemaphore.Create(_name, 1)).Errno);
        }
        PosixSemaphore.Unlink(_name);
        var e = Assert.Throws<SysprogException>(() => PosixSemaphore.Open(_name));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.StartsWith($"sem_open(\"{_name}\") failed: ENOENT (No such file or directory).", e.Message, StringComparison.Ordinal);
        Assert.Contains("New-Semaphore", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInput_IsRefusedBeforeAnySyscall()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PosixSemaphore.Create(_name, -1));
        Assert.Throws<ArgumentException>(() => PosixSemaphore.Create("/" + new string('s', 252), 1));
        Assert.Throws<ArgumentException>(() => PosixSemaphore.Create("/a/b", 1));
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Wait(TimeSpan.FromSeconds(-2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => semaphore.Wait(TimeSpan.FromDays(365)));
        Assert.Equal(1, semaphore.Value);
    }

    [Fact]
    public void Post_AtSemValueMax_IsEOVERFLOW_Named()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, PosixSemaphore.MaxValue);
        var e = Assert.Throws<SysprogException>(() => semaphore.Post());
        Assert.Equal(Errno.EOVERFLOW, e.Errno);
        Assert.Contains("EOVERFLOW", e.Message, StringComparison.Ordinal);
        Assert.Contains("SEM_VALUE_MAX (2147483647)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wait_TimesOut_DistinctlyFromSuccess_AfterTheTimeout()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        var trace = new List<string>();
        var clock = Stopwatch.StartNew();
        Assert.False(semaphore.Wait(TimeSpan.FromMilliseconds(300), trace: trace.Add));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(295), TimeSpan.FromSeconds(5));
        Assert.Equal(2, trace.Count);
        Assert.Matches(@"^sem_trywait\(0x[0-9a-f]+\) = -1 EAGAIN", trace[0]);
        Assert.Matches(@"^sem_clockwait\(0x[0-9a-f]+, CLOCK_MONOTONIC, \{tv_sec=\d+, tv_nsec=\d+\}\) = -1 ETIMEDOUT", trace[1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaitWithAToken_SleepsUntilCancelled_AndStopsAtOnce(bool timed)
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        using var cancel = new CancellationTokenSource();
        (Task<bool> wait, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() =>
        {
            try
            {
                semaphore.Wait(timed ? TimeSpan.FromMinutes(5) : Timeout.InfiniteTimeSpan, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                return true;
            }
            throw new InvalidOperationException("the wait returned without being posted or cancelled");
        });
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Futex);
        // The wake-ups while it should sleep, counted by the kernel: a wait in 20 ms slices would wake 25 times in
        // these 500 ms, one sleep not at all. The thread is in a native call, which the runtime's suspensions for the
        // garbage collector leave alone. What cancellation costs afterwards (the interrupt, the exception, waiting for
        // the canceller to stop) is not counted: under load it takes a varying number of short sleeps.
        long before = VoluntarySwitches(waiter);
        await Task.Delay(500);
        long during = VoluntarySwitches(waiter) - before;
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Futex, TimeSpan.Zero);
        Assert.False(wait.IsCompleted);
        Assert.InRange(during, 0, 1);
        long cancelledAt = Stopwatch.GetTimestamp();
        cancel.Cancel();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        TimeSpan latency = Stopwatch.GetElapsedTime(cancelledAt);
        Assert.True(latency < TimeSpan.FromMilliseconds(100), $"stopped {latency.TotalMilliseconds} ms after cancellation");
    }

    private static long VoluntarySwitches(int threadId) =>
        long.Parse(File.ReadLines($"/proc/self/task/{threadId}/status").Single(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
            .Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Wait_ReturnsWhenAnotherThreadPosts()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        (Task<bool> wait, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => semaphore.Wait(TimeSpan.FromSeconds(30)));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Futex);
        semaphore.Post();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, semaphore.Value);
    }

    [Fact]
    public void Unnamed_InSharedMemory_IsSharedBetweenMappings()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping first = shm.Map();
        using MemoryMapping second = shm.Map();
        var trace = new List<string>();
        PosixSemaphore a = PosixSemaphore.Initialize(first, 64, 0, trace.Add);
        Assert.Matches(@"^sem_init\(0x[0-9a-f]+, 1, 0\) = 0$", Assert.Single(trace));
        PosixSemaphore b = PosixSemaphore.Attach(second, 64);
        Assert.False(b.IsNamed);
        a.Post();
        Assert.Equal(1, b.Value);
        Assert.True(b.TryWait());
        Assert.Equal(0, a.Value);
        a.Destroy();
        Assert.Throws<ArgumentOutOfRangeException>(() => PosixSemaphore.Attach(first, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => PosixSemaphore.Attach(first, 4096 - 16));
        using MemoryMapping copy = shm.Map(visibility: MappingVisibility.Private);
        Assert.Throws<ArgumentException>(() => PosixSemaphore.Attach(copy, 0));
        first.Close();
        Assert.Throws<ObjectDisposedException>(() => a.Post());
    }

    [Theory]
    [InlineData(MemoryProtection.None, "---", "PROT_NONE")]
    [InlineData(MemoryProtection.Read, "r--", "PROT_READ")]
    public void InAMappingMadeNotReadWrite_EveryCallIsEacces_NotSigsegv(MemoryProtection protection, string shown, string prot)
    {
        using MemoryMapping mapping = MemoryMapping.MapAnonymous(4096, visibility: MappingVisibility.Shared);
        PosixSemaphore semaphore = PosixSemaphore.Initialize(mapping, 64, 1);
        mapping.Protect(protection);
        foreach ((string call, Action use) in new (string, Action)[]
        {
            ("sem_post", () => semaphore.Post()),
            ("sem_trywait", () => semaphore.TryWait()),
            ("sem_wait", () => semaphore.Wait(TimeSpan.FromSeconds(1))),
            ("sem_getvalue", () => _ = semaphore.Value),
            ("sem_t", () => _ = semaphore.Waiters),
            ("sem_destroy", () => semaphore.Destroy()),
        })
        {
            var e = Assert.Throws<SysprogException>(use);
            Assert.Equal(Errno.EACCES, e.Errno);
            Assert.Equal(call, e.Call);
            Assert.Equal("semaphore at offset 64 of anonymous", e.Target);
            Assert.Contains($"is {shown} ({prot})", e.Message, StringComparison.Ordinal);
        }
        Assert.Contains("not accessible", semaphore.ToString(), StringComparison.Ordinal);
        mapping.Protect(MemoryProtection.ReadWrite);
        Assert.True(semaphore.TryWait());
        semaphore.Post();
        Assert.Equal(1, semaphore.Value);
    }

    [Fact]
    public async Task AWaitInProgress_KeepsProtectFromTakingReadWriteAway()
    {
        using MemoryMapping mapping = MemoryMapping.MapAnonymous(4096, visibility: MappingVisibility.Shared);
        PosixSemaphore semaphore = PosixSemaphore.Initialize(mapping, 0, 0);
        (Task<bool> wait, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => semaphore.Wait(TimeSpan.FromSeconds(30)));
        ThreadWait.UntilSleepingIn(waiter, "futex");
        var e = Assert.Throws<SysprogException>(() => mapping.Protect(MemoryProtection.Read));
        Assert.Equal(Errno.EBUSY, e.Errno);
        Assert.Contains("1 semaphore wait is in progress", e.Message, StringComparison.Ordinal);
        Assert.Equal(MemoryProtection.ReadWrite, mapping.Protection);
        // Adding access takes nothing from the waiter.
        mapping.Protect(MemoryProtection.ReadWrite | MemoryProtection.Execute);
        semaphore.Post();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(30)));
        mapping.Protect(MemoryProtection.None);
        Assert.Equal(Errno.EACCES, Assert.Throws<SysprogException>(() => semaphore.Post()).Errno);
    }

    [Fact]
    public void InAMapping_PostAndWait_AllocateNothing()
    {
        using MemoryMapping mapping = MemoryMapping.MapAnonymous(4096, visibility: MappingVisibility.Shared);
        PosixSemaphore semaphore = PosixSemaphore.Initialize(mapping, 0, 0);
        void Operations()
        {
            semaphore.Post();
            semaphore.Wait(Timeout.InfiniteTimeSpan);
            semaphore.Post();
            semaphore.Wait(TimeSpan.FromSeconds(1));
            semaphore.Post();
            semaphore.TryWait();
            _ = semaphore.Value;
        }
        Operations();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Operations();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void PostAndWait_AllocateNothing()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        using var cancellation = new CancellationTokenSource();
        CancellationToken token = cancellation.Token;
        void Operations()
        {
            semaphore.Post();
            semaphore.Wait(Timeout.InfiniteTimeSpan);
            semaphore.Post();
            semaphore.Wait(TimeSpan.FromSeconds(1));
            semaphore.Post();
            semaphore.Wait(Timeout.InfiniteTimeSpan, token);
            semaphore.Post();
            semaphore.Wait(TimeSpan.FromSeconds(1), token);
            semaphore.Post();
            semaphore.TryWait();
        }
        Operations();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Operations();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>sem_wait and sem_clockwait fail with EINTR whenever a signal handler runs, SA_RESTART or not.</summary>
public sealed partial class SemaphoreSignalTests : IDisposable
{
    private const int SIGCONT = 18;
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkSemaphoreIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial int tgkill(int processId, int threadId, int signal);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Waits_AreRetriedWhenASignalInterruptsThem(bool timed)
    {
        // A handler makes SIGCONT interrupt the blocked call rather than be ignored.
        using var handler = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGCONT, _ => { });
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        (Task<bool> wait, int threadId) = await ThreadWait.StartOnThreadOfItsOwn(() => semaphore.Wait(timed ? TimeSpan.FromSeconds(30) : Timeout.InfiniteTimeSpan));
        // Each signal finds the waiter asleep on the semaphore's futex, and each time it goes back to sleep there.
        for (int i = 0; i < 20; i++)
        {
            ThreadWait.UntilBlockedIn(threadId, ThreadWait.Futex);
            Assert.Equal(0, tgkill(Environment.ProcessId, threadId, SIGCONT));
        }
        ThreadWait.UntilBlockedIn(threadId, ThreadWait.Futex);
        Assert.False(wait.IsCompleted, "the wait ended before the semaphore was posted");
        semaphore.Post();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
