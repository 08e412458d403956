using System.Text;
using Xunit;

namespace Sysprog.Tests;

public sealed class MemoryMappingTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"sysprog-map-{Guid.NewGuid():N}");

    public void Dispose()
    {
        File.Delete(_file);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
    }

    private static int PageSize => Environment.SystemPageSize;

    [Fact]
    public void MapFile_ReadOnly_ReadsEtcPasswdThroughMemoryAlone()
    {
        var trace = new List<string>();
        using MemoryMapping view = MemoryMapping.MapFile("/etc/passwd", trace: trace.Add);
        Assert.Equal(File.ReadAllText("/etc/passwd"), view.ReadString());
        Assert.Equal(MappingKind.File, view.Kind);
        Assert.Equal("/etc/passwd", view.Source);
        // The path's status (a missing file or a folder is told apart first), the folder (reached through no link: its
        // real path is the one asked for), then the name in it (see PlantedPath), then the mapping; every descriptor closed.
        Assert.Matches(@"^statx\(AT_FDCWD, ""/etc/passwd"", 0, STATX_BASIC_STATS\) = 0$", trace[0]);
        trace.RemoveAt(0);
        Assert.Matches(@"^open\(""/etc"", O_RDONLY\|O_CLOEXEC\|O_PATH\|O_DIRECTORY\) = \d+$", trace[0]);
        Assert.Matches(@"^readlink\(""/proc/self/fd/\d+"", \.\.\., 4096\) = 4$", trace[1]);
        Assert.Matches(@"^statx\(\d+, """", AT_EMPTY_PATH, STATX_BASIC_STATS\) = 0$", trace[2]);
        Assert.Matches(@"^openat\(\d+, ""passwd"", O_RDONLY\|O_NOCTTY\|O_NONBLOCK\|O_NOFOLLOW\|O_CLOEXEC\) = \d+$", trace[3]);
        Assert.Matches(@"^statx\(\d+, """", AT_EMPTY_PATH, STATX_BASIC_STATS\) = 0$", trace[4]);
        Assert.Matches(@"^close\(\d+\) = 0$", trace[5]);
        // A read-only descriptor cannot reserve blocks: the range's holes are measured (SEEK_HOLE, SEEK_DATA, and
        // fstatfs where there are any) before the file's status, seals and this user say who else could shrink it.
        Assert.Matches(@"^fcntl\(\d+, F_GETFL\) = \d+$", trace[6]);
        int mapped = trace.FindIndex(l => l.StartsWith("mmap(", StringComparison.Ordinal));
        Assert.All(trace[7..(mapped - 3)], l => Assert.Matches(@"^(lseek|fstatfs)\(", l));
        Assert.Matches(@"^statx\(\d+, """", AT_EMPTY_PATH, STATX_BASIC_STATS\) = 0$", trace[mapped - 3]);
        Assert.Matches(@"^fcntl\(\d+, F_GET_SEALS\) = ", trace[mapped - 2]);
        Assert.Matches(@"^geteuid\(\) = \d+$", trace[mapped - 1]);
        Assert.Matches(@"^mmap\(NULL, \d+, PROT_READ, MAP_SHARED, \d+, 0\) = 0x[0-9a-f]+$", trace[mapped]);
        Assert.Matches(@"^close\(\d+\) = 0$", Assert.Single(trace[(mapped + 1)..]));
    }

    [Fact]
    public void Write_ToAReadOnlyMapping_IsAnException_NotACrash()
    {
        using MemoryMapping view = MemoryMapping.MapFile("/etc/passwd");
        var e = Assert.Throws<UnauthorizedAccessException>(() => view.WriteInt32(0, 1));
        Assert.Contains("PROT_READ", e.Message, StringComparison.Ordinal);
        Assert.Throws<UnauthorizedAccessException>(() => view.AsSpan());
        Assert.Throws<UnauthorizedAccessException>(() => view.Write(0, [1, 2]));
        Assert.Throws<UnauthorizedAccessException>(() => view.AddInt64(0, 1));
        Assert.Equal(File.ReadAllBytes("/etc/passwd")[0], view.Read(0, 1)[0]);
    }

    [Fact]
    public void Protect_None_RefusesReads_ThenReadWriteAllowsWrites_WithTrace()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        var trace = new List<string>();
        view.Protect(MemoryProtection.None, trace.Add);
        Assert.Equal($"mprotect(0x{view.Address:x}, {PageSize}, PROT_NONE) = 0", Assert.Single(trace));
        Assert.Throws<UnauthorizedAccessException>(() => view.ReadInt32(0));
        view.Protect(MemoryProtection.ReadWrite);
        view.WriteInt32(0, 5);
        Assert.Equal(5, view.ReadInt32(0));
        // The kernel may merge the region with a neighbour of the same kind, so look for the one containing it.
        Assert.Equal("rw-p", ProcessMaps.Read(Environment.ProcessId).Single(m => m.Contains((ulong)view.Address)).Permissions);
    }

    [Fact]
    public void SharedFileMapping_WritesReachTheFile_AfterMsync()
    {
        File.WriteAllBytes(_file, new byte[PageSize]);
        using MemoryMapping view = MemoryMapping.MapFile(_file, MemoryProtection.ReadWrite, MappingVisibility.Shared);
        view.WriteString(10, "shared");
        var trace = new List<string>();
        view.Sync(trace: trace.Add);
        Assert.Equal($"msync(0x{view.Address:x}, {PageSize}, MS_SYNC) = 0", Assert.Single(trace));
        Assert.Equal("shared", Encoding.UTF8.GetString(File.ReadAllBytes(_file), 10, 6));
    }

    [Fact]
    public void PrivateFileMapping_IsCopyOnWrite_TheFileAndOtherMappingsNeverSeeIt()
    {
        File.WriteAllText(_file, new string('a', PageSize));
        using MemoryMapping shared = MemoryMapping.MapFile(_file, MemoryProtection.Read, MappingVisibility.Shared);
        using MemoryMapping copy = MemoryMapping.MapFile(_file, MemoryProtection.ReadWrite, MappingVisibility.Private);
        copy.WriteString(0, "private");
        copy.Sync();
        Assert.Equal("private", copy.ReadString(0, 7));
        Assert.Equal("aaaaaaa", shared.ReadString(0, 7));
        Assert.Equal("aaaaaaa", File.ReadAllText(_file)[..7]);
    }

    [Fact]
    public void MapAnonymous_IsZeroFilled_AndShowsAsAnonymousInProcMaps()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(3 * PageSize);
        Assert.True(view.AsReadOnlySpan().IndexOfAnyExcept((byte)0) < 0);
        ProcessMapping entry = ProcessMaps.Read(Environment.ProcessId).Single(m => m.Contains((ulong)view.Address));
        Assert.Equal(ProcessMappingKind.Anonymous, entry.Kind);
    }

    [Fact]
    public void Offsets_MustBePageAligned_AndWithinTheFile_BeforeAnyMmap()
    {
        File.WriteAllBytes(_file, new byte[2 * PageSize]);
        var trace = new List<string>();
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryMapping.MapFile(_file, offset: 100, trace: trace.Add));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryMapping.MapFile(_file, offset: PageSize, length: 2 * PageSize, trace: trace.Add));
        Assert.DoesNotContain(trace, l => l.StartsWith("mmap", StringComparison.Ordinal));
        using MemoryMapping second = MemoryMapping.MapFile(_file, offset: PageSize);
        Assert.Equal(PageSize, second.Length);
        Assert.Equal(PageSize, second.FileOffset);
    }

    [Fact]
    public void EmptyFile_CannotBeMapped_WithAClearError()
    {
        File.WriteAllBytes(_file, []);
        var e = Assert.Throws<ArgumentException>(() => MemoryMapping.MapFile(_file));
        Assert.Contains("is empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Access_IsBoundsChecked()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => view.Read(PageSize - 2, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => view.ReadInt64(PageSize - 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => view.ReadInt64(-8));
        Assert.Throws<ArgumentOutOfRangeException>(() => view.AddInt32(2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => view.Write(PageSize, [1]));
        view.Write(PageSize - 1, [9]);
        Assert.Equal(9, view.Read(PageSize - 1, 1)[0]);
    }

    [Fact]
    public void TypedCellsAndAtomics_ReadWriteAddAndCompareExchange()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        view.WriteInt64(8, long.MaxValue - 1);
        Assert.Equal(long.MaxValue, view.IncrementInt64(8));
        Assert.Equal(10, view.AddInt32(0, 10));
        Assert.Equal(11, view.IncrementInt32(0));
        Assert.Equal(11, view.CompareExchangeInt32(0, 20, 11));
        Assert.Equal(20, view.CompareExchangeInt32(0, 30, 11));
        Assert.Equal(20, view.ReadInt32(0));
        Assert.Equal(long.MaxValue, view.CompareExchangeInt64(8, 0, 1));
        Assert.Equal(6, view.WriteString(16, "héllo"));
        Assert.Equal("héllo", view.ReadString(16, 6));
        Assert.Equal("héllo", view.ReadString(16, 6, Encoding.UTF8));
    }

    [Fact]
    public void Atomics_FromManyThreads_LoseNoIncrement()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        Parallel.For(0, 4, _ => SharedCounter.Increment(view, 0, 250_000, atomic: true));
        Assert.Equal(1_000_000, view.ReadInt64(0));
    }

    [Fact]
    public void Advise_CallsMadvise_AndDontNeedZeroesPrivateAnonymousPages()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        view.WriteInt64(0, 99);
        var trace = new List<string>();
        view.Advise(MemoryAdvice.DontNeed, trace.Add);
        Assert.Equal($"madvise(0x{view.Address:x}, {PageSize}, MADV_DONTNEED) = 0", Assert.Single(trace));
        Assert.Equal(0, view.ReadInt64(0));
        view.Advise(MemoryAdvice.Sequential);
        Assert.Throws<ArgumentOutOfRangeException>(() => view.Advise((MemoryAdvice)999));
    }

    [Fact]
    public void Lock_KeepsThePagesResident_AsSmapsLockedShows()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(4 * PageSize);
        view.Lock();
        Assert.True(view.IsLocked);
        ProcessMapping locked = ProcessMaps.Read(Environment.ProcessId, detail: true).Single(m => m.Contains((ulong)view.Address));
        Assert.Equal(4 * PageSize, locked.Locked);
        view.Unlock();
        ProcessMapping unlocked = ProcessMaps.Read(Environment.ProcessId, detail: true).Single(m => m.Contains((ulong)view.Address));
        Assert.Equal(0, unlocked.Locked);
    }

    [Fact]
    public void Sync_RequiresExactlyOneOfSyncOrAsync()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize, visibility: MappingVisibility.Shared);
        Assert.Throws<ArgumentException>(() => view.Sync(MemorySyncOptions.Synchronous | MemorySyncOptions.Asynchronous));
        Assert.Throws<ArgumentException>(() => view.Sync(MemorySyncOptions.Invalidate));
        view.Sync(MemorySyncOptions.Asynchronous | MemorySyncOptions.Invalidate);
    }

    [Fact]
    public void Close_UnmapsOnce_AndLaterAccessThrows()
    {
        MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        ulong address = (ulong)view.Address;
        var trace = new List<string>();
        view.Close(trace.Add);
        view.Close(trace.Add);
        Assert.Equal($"munmap(0x{address:x}, {PageSize}) = 0", Assert.Single(trace));
        Assert.Throws<ObjectDisposedException>(() => view.ReadInt32(0));
        Assert.Throws<ObjectDisposedException>(() => view.Read(0, 1));
        Assert.Throws<ObjectDisposedException>(() => view.Protect(MemoryProtection.Read));
    }

    [Fact]
    public void MlockOverTheLimit_NamesRlimitMemlockAndItsValue()
    {
        // Root holds CAP_IPC_LOCK and is never limited, so the peer runs unprivileged under a 64 KiB limit.
        Peer.Result result = Peer.RunUnprivileged(["prlimit", "--memlock=65536:65536"], "mlock", "--size", "1MiB");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("mlock(anonymous mapping at 0x", result.Error, StringComparison.Ordinal);
        Assert.Contains(") failed: ENOMEM (Cannot allocate memory).", result.Error, StringComparison.Ordinal);
        Assert.Contains("RLIMIT_MEMLOCK", result.Error, StringComparison.Ordinal);
        Assert.Contains("65536 bytes (64 KiB)", result.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void LockAll_LocksTheProcess_AndUnlockAllUndoesIt_WithTrace()
    {
        // mlockall(MCL_CURRENT) weighs the whole address space against RLIMIT_MEMLOCK, even with MCL_ONFAULT, and a
        // .NET process reserves gigabytes: only CAP_IPC_LOCK or no limit at all lets it through.
        ProcessLimit memlock = ProcessLimit.Get(ProcessResource.MemLock);
        Skip.IfNot(Capabilities.Has(Capabilities.IpcLock) || memlock.Soft is null,
            $"needs root: CAP_IPC_LOCK to mlockall a .NET process, whose address space is over RLIMIT_MEMLOCK ({memlock.SoftText} here)");
        // In a peer: MCL_CURRENT|MCL_ONFAULT in this test host would pin whatever the runtime maps from then on.
        Peer.Result result = Peer.Run("mlock", "--all", "--on-fault", "--trace");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Matches(@"locked: VmLck:\s+[1-9]\d* kB", result.Output);
        Assert.Contains("mlockall(MCL_CURRENT|MCL_ONFAULT) = 0", result.Error, StringComparison.Ordinal);
        Assert.Contains("munlockall() = 0", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void LockAllOverTheLimit_NamesRlimitMemlock()
    {
        Peer.Result result = Peer.RunUnprivileged(["prlimit", "--memlock=65536:65536"], "mlock", "--all");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("mlockall(this process) failed: ENOMEM", result.Error, StringComparison.Ordinal);
        Assert.Contains("the soft limit is 65536 bytes (64 KiB)", result.Error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MemoryLock.LockAll(MemoryLockAllOptions.OnFault));
        Assert.Throws<ArgumentException>(() => MemoryLock.LockAll(0));
    }

    [Fact]
    public async Task Protect_RacingAccessesOnOtherThreads_NeverLetsOneTouchMemoryItMayNotAnyMore()
    {
        // Before accesses and Protect were ordered, a read that had checked PROT_READ could copy after an mprotect to
        // PROT_NONE: SIGSEGV, the test host gone.
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        using var stop = new CancellationTokenSource();
        int[] allowed = new int[3], refused = new int[3];
        Task[] readers = Enumerable.Range(0, 3).Select(reader => Task.Factory.StartNew(() =>
        {
            byte[] buffer = new byte[PageSize - 64];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    switch (reader)
                    {
                        case 0: view.Read(64, buffer); break;
                        case 1: view.AddInt64(8, 1); break;
                        default: view.Write(64, buffer); break;
                    }
                    allowed[reader]++;
                }
                catch (UnauthorizedAccessException)
                {
                    refused[reader]++;
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        for (int i = 0; i < 5000; i++)
        {
            view.Protect(i % 2 == 0 ? MemoryProtection.None : MemoryProtection.ReadWrite);
        }
        view.Protect(MemoryProtection.ReadWrite);
        await stop.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30));
        // Every access either ran whole or was refused whole: the counter holds exactly the increments allowed.
        Assert.Equal(allowed[1], view.ReadInt64(8));
        Assert.All(refused.Zip(allowed), counts => Assert.True(counts.First + counts.Second > 0));
    }

    [Fact]
    public async Task Close_RacingAccessesOnOtherThreads_WaitsForThem_AndLaterOnesAreObjectDisposed()
    {
        MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        using var running = new CountdownEvent(3);
        Task<Exception>[] readers = Enumerable.Range(0, 3).Select(reader => Task.Factory.StartNew(() =>
        {
            byte[] buffer = new byte[PageSize / 2];
            running.Signal();
            try
            {
                while (true)
                {
                    view.Read(reader * 8, buffer);
                    view.AddInt64(PageSize - 8, 1);
                }
            }
            catch (Exception e)
            {
                return e;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        running.Wait();
        view.Close();
        Assert.All(await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30)), e => Assert.IsType<ObjectDisposedException>(e));
    }

    [Fact]
    public void HotPaths_AllocateNothing()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(PageSize);
        Span<byte> buffer = stackalloc byte[64];
        SharedCounter.Increment(view, 0, 10, atomic: true);
        SharedCounter.Increment(view, 8, 10, atomic: false);
        view.Read(64, buffer);
        view.Protect(MemoryProtection.ReadWrite);
        view.Sync(MemorySyncOptions.Asynchronous);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SharedCounter.Increment(view, 0, 100_000, atomic: true);
        SharedCounter.Increment(view, 8, 100_000, atomic: false);
        for (int i = 0; i < 1000; i++)
        {
            view.CompareExchangeInt32(16, i + 1, i);
            view.Write(64, buffer);
            view.Read(64, buffer);
        }
        view.Protect(MemoryProtection.ReadWrite);
        view.Sync(MemorySyncOptions.Asynchronous);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(100_010, view.ReadInt64(0));
        Assert.Equal(100_010, view.ReadInt64(8));
    }

    [Fact]
    public void LimitMessage_ExplainsAZeroLimitAsAMissingCapability()
    {
        string text = MemoryLock.FormatLimit(Errno.EPERM, 4096, 0, 0);
        Assert.Contains("RLIMIT_MEMLOCK is 0", text, StringComparison.Ordinal);
        Assert.Contains("CAP_IPC_LOCK", text, StringComparison.Ordinal);
        Assert.Contains("unlimited", MemoryLock.FormatLimit(Errno.ENOMEM, 4096, 65536, null), StringComparison.Ordinal);
    }
}
