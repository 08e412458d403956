using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Nothing a user, a script or another local user does may crash the process: planted files in /dev/shm, shrinking
/// under a mapping, handlers that throw, and closes racing with use on other threads.
/// </summary>
public sealed class HardeningTests : IDisposable
{
    private readonly List<string> _planted = [];

    public void Dispose()
    {
        foreach (string path in _planted)
        {
            if (Directory.Exists(path) && !File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint))
            {
                Directory.Delete(path);
            }
            else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null || IsFifo(path))
            {
                File.Delete(path);
            }
        }
        TestNames.AssertNoneLeft();
    }

    [Fact]
    public void Listings_ShowPlantedEntriesWithTheReason_AndNeverMapThem()
    {
        string prefix = TestNames.New()[1..];
        string Plant(string name) => Track($"/dev/shm/{prefix}{name}");
        File.WriteAllBytes(Track($"/dev/shm/sem.{prefix}zero"), []);
        File.WriteAllBytes(Track($"/dev/shm/sem.{prefix}short"), new byte[16]);
        File.WriteAllBytes(Track($"/dev/shm/sem.{prefix}big"), new byte[4096]);
        Directory.CreateDirectory(Track($"/dev/shm/sem.{prefix}dir"));
        File.CreateSymbolicLink(Track($"/dev/shm/sem.{prefix}link"), "/dev/zero");
        MakeFifo(Track($"/dev/shm/sem.{prefix}fifo"));
        Directory.CreateDirectory(Plant("shmdir"));

        IReadOnlyList<SemaphoreInfo> semaphores = PosixSemaphore.List($"/{prefix}*");
        Assert.Equal(["big", "dir", "fifo", "link", "short", "zero"], semaphores.Select(s => s.Name[(prefix.Length + 1)..]).Order());
        Assert.All(semaphores, s => Assert.Null(s.Value));
        Assert.Contains("0 bytes, not a semaphore", semaphores.Single(s => s.Name.EndsWith("zero", StringComparison.Ordinal)).Problem);
        Assert.Contains("16 bytes", semaphores.Single(s => s.Name.EndsWith("short", StringComparison.Ordinal)).Problem);
        Assert.Contains("4096 bytes", semaphores.Single(s => s.Name.EndsWith("big", StringComparison.Ordinal)).Problem);
        Assert.Contains("directory", semaphores.Single(s => s.Name.EndsWith("dir", StringComparison.Ordinal)).Problem);
        Assert.Contains("symbolic link", semaphores.Single(s => s.Name.EndsWith("link", StringComparison.Ordinal)).Problem);
        Assert.Contains("not a regular file", semaphores.Single(s => s.Name.EndsWith("fifo", StringComparison.Ordinal)).Problem);

        SharedMemoryInfo directory = Assert.Single(SharedMemory.List($"/{prefix}shmdir"));
        Assert.Contains("directory", directory.Problem);

        foreach (string planted in new[] { "zero", "short", "big", "dir", "link", "fifo" })
        {
            var refused = Assert.Throws<SysprogException>(() => PosixSemaphore.Open($"/{prefix}{planted}"));
            Assert.Equal((Errno.EINVAL, "sem_open"), (refused.Errno, refused.Call));
            Assert.Contains("not a semaphore", refused.Message, StringComparison.Ordinal);
        }

        // The CLI died of SIGBUS (exit 135) listing a zero-length sem.* file.
        Peer.Result list = Peer.Run("sem", "list", $"/{prefix}*", "--json");
        Assert.True(list.ExitCode == 0, list.Error);
        using JsonDocument listed = JsonDocument.Parse(list.Output);
        Assert.Equal(6, listed.RootElement.GetArrayLength());
        Assert.All(listed.RootElement.EnumerateArray(), e => Assert.False(string.IsNullOrEmpty(e.GetProperty("problem").GetString())));
        Peer.Result shm = Peer.Run("shm", "list", $"/{prefix}*");
        Assert.True(shm.ExitCode == 0, shm.Error);
        Assert.Contains("directory", shm.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Listings_ShowEntriesThisUserMayNotRead_AsSuch()
    {
        // Mode 0: only CAP_DAC_OVERRIDE opens it, so the unprivileged peer (nobody under root, this user otherwise,
        // owner or not) may not, and this process may only with that capability.
        string semaphore = TestNames.New();
        PosixSemaphore.Create(semaphore, 3, mode: 0).Dispose();
        try
        {
            Peer.Result list = Peer.RunUnprivileged([], "sem", "list", semaphore, "--json");
            Assert.True(list.ExitCode == 0, list.Error);
            using JsonDocument listed = JsonDocument.Parse(list.Output);
            JsonElement entry = Assert.Single(listed.RootElement.EnumerateArray());
            Assert.Equal(JsonValueKind.Null, entry.GetProperty("value").ValueKind);
            Assert.Equal("not readable by this user", entry.GetProperty("problem").GetString());
            SemaphoreInfo ours = Assert.Single(PosixSemaphore.List(semaphore));
            (int? Value, string? Problem) expected = Capabilities.Has(Capabilities.DacOverride) ? (3, null) : (null, "not readable by this user");
            Assert.Equal(expected, (ours.Value, ours.Problem));
        }
        finally
        {
            TestNames.UnlinkSemaphoreIfPresent(semaphore);
        }
    }

    [Fact]
    public async Task AFifoWhereAFileIsExpected_NeverMakesAnOpenWaitForAWriter()
    {
        string folder = Directory.CreateTempSubdirectory("sysprog-planted-fifo-").FullName;
        try
        {
            string path = Fifo.Create(Path.Combine(folder, "planted")).FullName;
            await Task.Run(() => Assert.Throws<ArgumentException>(() => MemoryMapping.MapFile(path))).WaitAsync(TimeSpan.FromSeconds(5));
            await Task.Run(() =>
            {
                using FileLock? held = FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.FromSeconds(1));
                Assert.NotNull(held);
            }).WaitAsync(TimeSpan.FromSeconds(5));
            await Task.Run(() => FileLock.FindConflict(path, FileLockKind.Ofd, FileLockMode.Exclusive)).WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Resize_BelowAMappingThisProcessHolds_IsRefusedNamingIt_UnlessForced()
    {
        string name = TestNames.New();
        using SharedMemory shm = SharedMemory.Create(name, 8192);
        try
        {
            MemoryMapping view = shm.Map();
            view.WriteInt64(4096, 42);
            var refused = Assert.Throws<InvalidOperationException>(() => shm.Resize(1));
            Assert.Contains($"0x{view.Address:x}", refused.Message, StringComparison.Ordinal);
            Assert.Contains("SIGBUS", refused.Message, StringComparison.Ordinal);
            Assert.Equal(8192, shm.Size);
            Assert.Equal(42, view.ReadInt64(4096));

            // Within the mapping's last page is safe: the page still holds part of the object.
            shm.Resize(4097);
            Assert.Equal(42, view.ReadInt64(4096));

            // Another handle's mapping counts too: /proc/self/maps knows them all.
            using SharedMemory other = SharedMemory.Open(name);
            Assert.Throws<InvalidOperationException>(() => other.Resize(1));

            view.Dispose();
            shm.Resize(1);
            Assert.Equal(1, shm.Size);

            using MemoryMapping again = shm.Map();
            shm.Resize(8192);
            shm.Resize(4096, force: true);
            Assert.Equal(4096, shm.Size);
        }
        finally
        {
            TestNames.UnlinkIfPresent(name);
        }
    }

    [Fact]
    public void OnAFullTmpfs_MappingIsENOSPC_NotSIGBUS_ForWritersAndReaders()
    {
        // A 1 MiB tmpfs over /dev/shm, in a user and mount namespace of the test's own ($0 is dotnet, $1 the CLI). The
        // object is all hole; touching its pages would need blocks the tmpfs does not have, which the kernel reports
        // as SIGBUS. The writer's mapping (read-write: fallocate reserves) and the reader's (read-only: the holes are
        // measured against the free space) must both fail with ENOSPC instead.
        const string script = """
            mount -t tmpfs -o size=1m tmpfs /dev/shm || exit 99
            "$0" "$1" shm create /big --size 4MiB || exit 98
            "$0" "$1" shm write /big x --offset 3145728; echo "writer=$?"
            head -c 900000 /dev/zero > /dev/shm/filler
            "$0" "$1" map /dev/shm/big > /dev/null; echo "reader=$?"
            "$0" "$1" shm write /big x --offset 4096; echo "small=$?"
            """;

        Peer.Result result = Peer.RunWith(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("writer=1", result.Output, StringComparison.Ordinal);
        Assert.Contains("reader=1", result.Output, StringComparison.Ordinal);
        Assert.Contains("fallocate(\"/big\") failed: ENOSPC", result.Error, StringComparison.Ordinal);
        Assert.Contains("mmap(\"/dev/shm/big\") failed: ENOSPC", result.Error, StringComparison.Ordinal);
        Assert.Contains("small=1", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ACellLargerThanTheMapping_IsRefused_NotReadPastItsEnd()
    {
        using MemoryMapping tiny = MemoryMapping.MapAnonymous(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => tiny.ReadInt64(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tiny.AddInt64(0, 1));
        Assert.Equal(0, tiny.ReadInt32(0));
    }

    [Fact]
    public void MappingsPast2GiB_AreNeverTruncatedSilently_AndCopyWhole()
    {
        const long length = 3L << 30;
        using MemoryMapping large = MemoryMapping.MapAnonymous(length, MemoryProtection.Read);
        Assert.Throws<ArgumentOutOfRangeException>(() => large.AsReadOnlySpan());
        Assert.Equal(4096, large.AsReadOnlySpan(length - 4096).Length);
        var counter = new CountingStream();
        large.CopyTo(counter);
        Assert.Equal(length, counter.Written);
    }

    [Fact]
    public void AWatcherHandlerThatThrows_StopsTheWatcherWithTheReason_NotTheProcess()
    {
        string name = TestNames.New();
        using MessageQueue queue = MessageQueue.Create(name, 4, 64);
        try
        {
            using var failed = new ManualResetEventSlim();
            Exception? reported = null;
            queue.MessageReceived += (_, _) => throw new InvalidOperationException("handler failed");
            queue.WatchFailed += (_, e) =>
            {
                reported = e.GetException();
                failed.Set();
            };
            queue.StartWatching();
            queue.Send("one");
            Assert.True(failed.Wait(TimeSpan.FromSeconds(30)));
            Assert.False(queue.IsWatching);
            Assert.Equal("handler failed", queue.WatchError?.Message);
            Assert.Same(queue.WatchError, reported);

            // It can be started again, and the error is cleared.
            queue.StartWatching();
            Assert.Null(queue.WatchError);
            queue.StopWatching();
        }
        finally
        {
            TestNames.UnlinkQueueIfPresent(name);
        }
    }

    [Fact]
    public void AByteArray_IsSentWhole_AsRawBytes()
    {
        string name = TestNames.New();
        using MessageQueue queue = MessageQueue.Create(name, maxMessageSize: 128);
        try
        {
            Assert.True(queue.Send(new byte[64]));
            MqMessage received = queue.Receive(TimeSpan.Zero)!;
            Assert.Equal(new byte[64], received.Body);
        }
        finally
        {
            TestNames.UnlinkQueueIfPresent(name);
        }
    }

    [Fact]
    public void AFailedUndo_NeverHidesTheOriginalError()
    {
        var original = new SysprogException(Errno.ENOSPC, "ftruncate", "/x");
        var undo = new SysprogException(Errno.EACCES, "shm_unlink", "/x");
        var thrown = Assert.Throws<SysprogException>(() => ExclusiveCreation.CompleteOrUndo(() => throw original, () => { }, () => throw undo));
        Assert.Equal((Errno.ENOSPC, "ftruncate"), (thrown.Errno, thrown.Call));
        Assert.Same(undo, thrown.InnerException);
        Assert.Contains("shm_unlink", thrown.Message, StringComparison.Ordinal);

        bool closed = false, unlinked = false;
        Assert.Same(original, Assert.Throws<SysprogException>(() =>
            ExclusiveCreation.CompleteOrUndo(() => throw original, () => closed = true, () => unlinked = true)));
        Assert.True(closed && unlinked);
    }

    // ---- Close on one thread while others use the object ----

    private const int StressOperations = 100_000;

    [Fact]
    public void ClosingAMapping_WhileThreadsUseIt_GivesValidResultsOrObjectDisposed_AndNeverTouchesAReusedAddress()
    {
        long operations = Stress(
            () => MemoryMapping.MapAnonymous(4096),
            mapping => Assert.InRange(mapping.AddInt64(0, 1), 1, long.MaxValue),
            mapping =>
            {
                // Whatever the kernel hands out next (often the same address) must see no stray writes.
                using MemoryMapping successor = MemoryMapping.MapAnonymous(4096);
                Thread.Sleep(1);
                Assert.Equal(0, successor.ReadInt64(0));
            });
        Assert.True(operations >= StressOperations, $"{operations} operations");
    }

    [Fact]
    public void ClosingAnEventFd_WhileThreadsUseIt_NeverWritesToTheDescriptorThatReusesItsNumber()
    {
        long operations = Stress(
            () => EventFd.Create(),
            eventFd =>
            {
                eventFd.Add(1);
                _ = eventFd.TryRead();
            },
            _ =>
            {
                using EventFd successor = EventFd.Create();
                Thread.Sleep(1);
                Assert.Null(successor.TryRead());
            });
        Assert.True(operations >= StressOperations, $"{operations} operations");
    }

    [Fact]
    public void ClosingASemaphore_WhileThreadsUseIt_GivesValidResultsOrObjectDisposed()
    {
        string name = TestNames.New();
        try
        {
            long operations = Stress(
                () =>
                {
                    TestNames.UnlinkSemaphoreIfPresent(name);
                    return PosixSemaphore.Create(name, 1);
                },
                semaphore =>
                {
                    semaphore.Post();
                    Assert.True(semaphore.TryWait());
                    Assert.InRange(semaphore.Value, 0, 4);
                },
                _ => { });
            Assert.True(operations >= StressOperations, $"{operations} operations");
        }
        finally
        {
            TestNames.UnlinkSemaphoreIfPresent(name);
        }
    }

    [Fact]
    public void ClosingAQueue_WhileThreadsUseIt_GivesValidResultsOrObjectDisposed()
    {
        string name = TestNames.New();
        try
        {
            byte[] buffer = new byte[64];
            long operations = Stress(
                () =>
                {
                    TestNames.UnlinkQueueIfPresent(name);
                    return MessageQueue.Create(name, maxMessages: 10, maxMessageSize: 64);
                },
                queue =>
                {
                    _ = queue.TrySend("x"u8);
                    if (queue.TryReceive(new byte[64], out int length, out _))
                    {
                        Assert.Equal(1, length);
                    }
                },
                _ => { });
            Assert.True(operations >= StressOperations, $"{operations} operations");
        }
        finally
        {
            TestNames.UnlinkQueueIfPresent(name);
        }
    }

    /// <summary>
    /// Rounds of: three threads use a fresh object until it is closed under them, the closer closes it after a few
    /// hundred operations and runs <paramref name="afterClose"/>. Every operation must succeed or throw
    /// ObjectDisposedException; any other outcome fails the test. Returns how many operations ran in all.
    /// </summary>
    private static long Stress<T>(Func<T> create, Action<T> use, Action<T> afterClose) where T : IDisposable
    {
        FdListing fdsBefore = OpenFds.Snapshot();
        long total = 0;
        var clock = Stopwatch.StartNew();
        while (total < StressOperations && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            T target = create();
            long round = 0;
            Exception? unexpected = null;
            Thread[] users = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        use(target);
                        Interlocked.Increment(ref round);
                    }
                }
                catch (ObjectDisposedException)
                {
                }
                catch (Exception e)
                {
                    unexpected = e;
                }
            })).ToArray();
            foreach (Thread user in users)
            {
                user.Start();
            }
            while (Interlocked.Read(ref round) < 500 && users.Any(u => u.IsAlive))
            {
                Thread.Yield();
            }
            target.Dispose();
            afterClose(target);
            foreach (Thread user in users)
            {
                Assert.True(user.Join(TimeSpan.FromSeconds(30)), "a user thread did not stop after the close");
            }
            Assert.Null(unexpected);
            total += round;
        }
        Assert.Empty(OpenFds.OpenedSince(fdsBefore));
        return total;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SharedMemoryOpen_OfAPlantedFifo_IsRefusedAtOnce_NamingWhatIsThere(bool readOnly)
    {
        string name = TestNames.New();
        string path = Track($"/dev/shm{name}");
        MakeFifo(path);
        // A read-only open of a FIFO waits for a writer: should it wait, a writer ends the wait so the test can fail.
        Task<SysprogException> open = Task.Run(() => Assert.Throws<SysprogException>(() => SharedMemory.Open(name, readOnly)));
        if (await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(10))) != open)
        {
            await using var writer = new FileStream(path, FileMode.Open, FileAccess.Write);
            Assert.Fail($"SharedMemory.Open(readOnly: {readOnly}) waited on a FIFO");
        }
        SysprogException refused = await open;
        Assert.Equal((Errno.EINVAL, "shm_open"), (refused.Errno, refused.Call));
        Assert.Contains("is a FIFO, not a regular file", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SharedMemoryOpen_OfAPlantedFolder_IsRefused_NamingIt()
    {
        string name = TestNames.New();
        Directory.CreateDirectory(Track($"/dev/shm{name}"));
        foreach (bool readOnly in new[] { true, false })
        {
            var refused = Assert.Throws<SysprogException>(() => SharedMemory.Open(name, readOnly));
            Assert.Equal("shm_open", refused.Call);
            Assert.Contains("is a directory, not a shared memory object", refused.Message, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void LimitErrors_NameNoLimitThatWasNotReached()
    {
        // This process has descriptors free: an EMFILE here was another limit (inotify instances, queue bytes), and
        // must not be blamed on RLIMIT_NOFILE. With RLIMIT_FSIZE not set, an EFBIG was the file system's own maximum.
        Assert.Null(ResourceShortage.Explain(Errno.EMFILE, null));
        Assert.Equal("as it was", ResourceShortage.Explain(Errno.EMFILE, "as it was"));
        Skip.IfNot(ProcessLimit.Get(ProcessResource.FSize).Soft is null, "RLIMIT_FSIZE is set for this test run");
        Assert.Null(ResourceShortage.Explain(Errno.EFBIG, null));
        Assert.DoesNotContain("RLIMIT", new SysprogException(Errno.EFBIG, "write", "/x").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenDescriptorCount_CountsWhatIsOpen_WithoutADescriptor()
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.NoFile);
        int? before = ResourceShortage.OpenDescriptorCount(limit);
        Assert.NotNull(before);
        // Other tests open and close descriptors meanwhile: the count is compared with three more held open, as a
        // difference over the same moment would not be; only that more are counted is asserted for the rest.
        using var first = EventFd.Create();
        using var second = EventFd.Create();
        using var third = EventFd.Create();
        Assert.True(ResourceShortage.OpenDescriptorCount(limit) >= 3);
        Assert.True(ResourceShortage.OpenDescriptorCount(limit) <= Directory.GetFileSystemEntries("/proc/self/fd").Length + 64);
    }

    private string Track(string path)
    {
        _planted.Add(path);
        return path;
    }

    private static void MakeFifo(string path)
    {
        using Process mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private static bool IsFifo(string path) =>
        Interop.FileStatus.OfPath(path) is Interop.StatX status && (status.Mode & 0xF000) == 0x1000;

    private sealed class CountingStream : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Written += count;
        public override void Write(ReadOnlySpan<byte> buffer) => Written += buffer.Length;
    }
}

/// <summary>HandleAudit counts what was left to the finalizer, and nothing that was closed.</summary>
[Collection(nameof(HandleAuditTests))]
[CollectionDefinition(nameof(HandleAuditTests), DisableParallelization = true)]
public sealed class HandleAuditTests
{
    [Fact]
    public void CountsHandlesReleasedByTheFinalizer_NotClosedOnes()
    {
        Flush();
        long before = HandleAudit.ReleasedByFinalizer;
        EventFd.Create().Dispose();
        MemoryMapping.MapAnonymous(4096).Dispose();
        Flush();
        Assert.Equal(before, HandleAudit.ReleasedByFinalizer);

        DropUnclosed();
        Flush();

        Assert.Equal(before + 2, HandleAudit.ReleasedByFinalizer);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void DropUnclosed()
    {
        _ = EventFd.Create();
        _ = MemoryMapping.MapAnonymous(4096);
    }

    private static void Flush()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
