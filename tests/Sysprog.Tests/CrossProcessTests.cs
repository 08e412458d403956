using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Sysprog.Tests;

/// <summary>Real peer processes (the sysprog CLI) sharing one object with this test process.</summary>
public sealed class CrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int Producers = 4;
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    private long RunProducers(long increments, bool racy)
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping view = shm.Map();
        string[] arguments = ["shm", "increment", _name, "--count", increments.ToString(CultureInfo.InvariantCulture),
            "--participants", Producers.ToString(CultureInfo.InvariantCulture), "--timeout", "60s", .. (racy ? new[] { "--racy" } : [])];
        List<Process> peers = Enumerable.Range(0, Producers).Select(_ => Peer.Start(arguments)).ToList();
        foreach (Peer.Result result in peers.Select(Peer.Finish))
        {
            Assert.True(result.ExitCode == 0, result.Error);
        }
        Assert.Equal(Producers, view.ReadInt64(8));
        return view.ReadInt64(0);
    }

    [Fact]
    public void ConcurrentProducers_WithAtomicAdd_LoseNoIncrement()
    {
        const long increments = 500_000;
        Assert.Equal(Producers * increments, RunProducers(increments, racy: false));
    }

    [Fact]
    public void ConcurrentProducers_WithPlainReadAddWrite_ShowTheirLostIncrements()
    {
        // How many are lost depends on scheduling; the count is reported, never asserted.
        const long increments = 500_000;
        long total = RunProducers(increments, racy: true);
        Assert.InRange(total, 1, Producers * increments);
        output.WriteLine($"plain read-add-write: {total:N0} of {Producers * increments:N0}, {Producers * increments - total:N0} lost");
    }

    [Fact]
    public void AConsumerProcess_ReadsWhatThisProcessWrote_AndTheOtherWayRound()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping view = shm.Map();
        view.WriteInt64(0, 123456789);
        Peer.Result read = Peer.Run("shm", "read", _name, "--int64");
        Assert.Equal("123456789", read.Output.Trim());

        Peer.Result write = Peer.Run("shm", "write", _name, "from the peer", "--offset", "64");
        Assert.Equal(0, write.ExitCode);
        Assert.Equal("from the peer", view.ReadString(64, 13));
    }

    [Fact]
    public void PrivateMapping_KeepsItsCopy_WhileTheOtherProcessWritesTheShared()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping privateView = shm.Map(visibility: MappingVisibility.Private);
        using MemoryMapping sharedView = shm.Map();
        privateView.WriteString(0, "mine");
        Assert.Equal(0, Peer.Run("shm", "write", _name, "peer").ExitCode);
        Assert.Equal("mine", privateView.ReadString(0, 4));
        Assert.Equal("peer", sharedView.ReadString(0, 4));
        Assert.Equal("peer", Peer.Run("shm", "read", _name, "--count", "4").Output.Trim());
    }

    [Fact]
    public void TheCli_CreatesListsAndRemoves_WithJsonAndErrnoNamedFailures()
    {
        Peer.Result created = Peer.Run("shm", "create", _name, "--size", "64KiB", "--trace");
        Assert.Equal(0, created.ExitCode);
        Assert.Contains($"shm_open(\"{_name}\", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = ", created.Error, StringComparison.Ordinal);
        Assert.Contains("ftruncate(", created.Error, StringComparison.Ordinal);

        Peer.Result again = Peer.Run("shm", "create", _name, "--size", "4096");
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"sysprog: shm_open(\"{_name}\") failed: EEXIST (File exists)", again.Error.Trim());

        Peer.Result listed = Peer.Run("shm", "list", _name, "--json");
        using JsonDocument json = JsonDocument.Parse(listed.Output);
        JsonElement entry = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(_name, entry.GetProperty("name").GetString());
        Assert.Equal(65536, entry.GetProperty("size").GetInt64());
        Assert.Equal("0600", entry.GetProperty("mode").GetString());

        Assert.Equal(0, Peer.Run("shm", "remove", _name).ExitCode);
        Assert.False(File.Exists("/dev/shm" + _name));
        Assert.Equal(2, Peer.Run("shm", "create", "/a/b", "--size", "1").ExitCode);
        Assert.Equal(2, Peer.Run("shm", "create", _name, "--size", "0").ExitCode);
        Assert.False(File.Exists("/dev/shm" + _name));
    }

    [Fact]
    public void TheCli_IsCalledSysprog_AndAUsageErrorExits2_NotAsAFailedCall()
    {
        Peer.Result help = Peer.Run("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:\n  sysprog [command] [options]", help.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("  sysprog shm [command] [options]", Peer.Run("shm", "--help").Output, StringComparison.Ordinal);

        Peer.Result unknown = Peer.Run("nonsense");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("sysprog: Unrecognized command or argument 'nonsense'.", unknown.Error, StringComparison.Ordinal);
        Peer.Result incomplete = Peer.Run("shm", "create");
        Assert.Equal(2, incomplete.ExitCode);
        Assert.Contains("Try 'sysprog shm create --help'.", incomplete.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", incomplete.Error, StringComparison.Ordinal);

        // A call that fails is 1, whatever it was asked.
        Assert.Equal(1, Peer.Run("shm", "remove", _name).ExitCode);
    }

    [Fact]
    public void TheCli_MapsAFileAndPrintsIt()
    {
        Peer.Result result = Peer.Run("map", "/etc/passwd");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(File.ReadAllText("/etc/passwd"), result.Output);
    }

    [Fact]
    public void TheDemo_RunsTheScreenplayEndToEnd_AndLeavesNothing()
    {
        Peer.Result result = Peer.Run("demo", "--increments", "200000");
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("root:x:0:0", result.Output, StringComparison.Ordinal);
        Assert.Contains("counter = 800,000, expected 800,000: none lost.", result.Output, StringComparison.Ordinal);
        Assert.Contains("consumer read 800000", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"rw-s 00000000 \S+ \d+ /dev/shm/sysprog-demo-\d+  \[SharedMemory\]", result.Output);
        Assert.Contains("7 waits passed at once; the value is now 0.", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"waiter pid \d+ is asleep in sem_wait: the C library counts 1 waiter", result.Output);
        Assert.Matches(@"waiter pid \d+ woke and exited 0", result.Output);
        Assert.Contains("exists: False", result.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles("/dev/shm", "sysprog-demo-*"));
        Assert.Empty(Directory.EnumerateFiles("/dev/shm", "sem.sysprog-demo-*"));
    }
}
