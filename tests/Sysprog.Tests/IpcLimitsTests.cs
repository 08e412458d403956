using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>The IPC limits: each row as /proc, getrlimit and statfs give it, and the hints where a container's settings bite.</summary>
public sealed class IpcLimitsTests
{
    private static IpcLimit Row(IEnumerable<IpcLimit> limits, string name) => limits.Single(l => l.Name == name);

    /// <summary>Every row that is one sysctl (kernel.sem, four numbers in one file, has a test of its own).</summary>
    private static readonly string[] SysctlNames =
    [
        "fs.mqueue.msg_max", "fs.mqueue.msgsize_max", "fs.mqueue.msg_default", "fs.mqueue.msgsize_default", "fs.mqueue.queues_max",
        "kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
    ];

    public static IEnumerable<object[]> SysctlRows => SysctlNames.Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(SysctlRows))]
    public void SysctlRows_MatchProcSys(string name)
    {
        string text = File.ReadAllText("/proc/sys/" + name.Replace('.', '/')).Trim();
        IpcLimit row = Row(IpcLimits.Read(), name);

        // The text and the Limit show the kernel's number whole, even past long (shmmax and shmall default to
        // 18446744073692774399, which was once clamped to long.MaxValue).
        Assert.StartsWith(text + " ", row.Value + " ", StringComparison.Ordinal);
        Assert.Equal(ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture), row.Limit);
    }

    [Fact]
    public void TheCliJson_PrintsEverySysctlLimitAsTheKernelDoes()
    {
        Peer.Result result = Peer.Run("limits", "--ipc", "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.Output);
        foreach (string name in SysctlNames)
        {
            JsonElement row = json.RootElement.EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
            Assert.Equal(File.ReadAllText("/proc/sys/" + name.Replace('.', '/')).Trim(), row.GetProperty("limit").GetRawText());
        }
    }

    [Fact]
    public void EverySysctlRow_IsCompared()
    {
        string[] sysctlRows = [.. IpcLimits.Read().Select(l => l.Name).Where(n => n.StartsWith("fs.", StringComparison.Ordinal) || n.StartsWith("kernel.", StringComparison.Ordinal))
            .Where(n => !n.StartsWith("kernel.sem ", StringComparison.Ordinal))];

        Assert.Equal(sysctlRows.Order(StringComparer.Ordinal), SysctlNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void KernelSem_IsSplitIntoItsFourFields()
    {
        string[] fields = File.ReadAllText("/proc/sys/kernel/sem").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        IReadOnlyList<IpcLimit> limits = IpcLimits.Read();

        Assert.Equal(["SEMMSL", "SEMMNS", "SEMOPM", "SEMMNI"], limits.Where(l => l.Name.StartsWith("kernel.sem ", StringComparison.Ordinal)).Select(l => l.Name[11..]));
        Assert.Equal(fields.Select(f => (ulong?)ulong.Parse(f, CultureInfo.InvariantCulture)),
            limits.Where(l => l.Name.StartsWith("kernel.sem ", StringComparison.Ordinal)).Select(l => l.Limit));
    }

    [Fact]
    public void SharedMemoryRow_IsStatfsOfDevShm_AndCountsAnObjectMadeHere()
    {
        var drive = new DriveInfo("/dev/shm");
        string name = TestNames.New();
        long before = Row(IpcLimits.Read(), "/dev/shm").Used!.Value;
        using (SharedMemory shm = SharedMemory.Create(name, 1 << 20))
        {
            using MemoryMapping map = shm.Map();
            IpcLimit row = Row(IpcLimits.Read(), "/dev/shm");

            Assert.Equal((ulong)drive.TotalSize, row.Limit);
            Assert.InRange(row.Used!.Value - before, 1 << 20, 2 << 20);
        }
        SharedMemory.Unlink(name);
    }

    [Fact]
    public void ResourceLimitRows_AreWhatPrlimitSet()
    {
        Peer.Result result = Peer.RunWith(["prlimit", "--msgqueue=12345:23456", "--memlock=65536:131072", "--nofile=512:1024", "--"], "limits", "--ipc", "--json");

        Assert.Equal(0, result.ExitCode);
        IpcLimit[] limits = JsonSerializer.Deserialize<IpcLimit[]>(result.Output, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(12345UL, Row(limits, "RLIMIT_MSGQUEUE").Limit);
        Assert.Contains("hard: 23456", Row(limits, "RLIMIT_MSGQUEUE").Value, StringComparison.Ordinal);
        Assert.Equal(65536UL, Row(limits, "RLIMIT_MEMLOCK").Limit);
        // The .NET runtime raises its soft RLIMIT_NOFILE to the hard limit as it starts.
        Assert.Equal(1024UL, Row(limits, "RLIMIT_NOFILE").Limit);
        Assert.InRange(Row(limits, "RLIMIT_NOFILE").Used!.Value, 3, 1023);
    }

    [Fact]
    public void AContainerLikeNamespace_GetsHints_ForASmallDevShm_AndAPrivateIpcNamespace()
    {
        Peer.Result result = Peer.RunWith(
            ["unshare", "--user", "--map-root-user", "--mount", "--ipc", "sh", "-c", "mount -t tmpfs -o size=64m tmpfs /dev/shm && exec \"$0\" \"$@\""],
            "limits", "--ipc", "--json");

        Assert.Equal(0, result.ExitCode);
        IpcLimit[] limits = JsonSerializer.Deserialize<IpcLimit[]>(result.Output, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        IpcLimit shm = Row(limits, "/dev/shm");
        Assert.Equal((ulong)IpcLimits.ContainerSharedMemoryDefault, shm.Limit);
        Assert.Contains("--shm-size", shm.Hint, StringComparison.Ordinal);
        IpcLimit ipc = Row(limits, "ipc");
        Assert.NotEqual((ulong)IpcLimits.InitialNamespace, ipc.Limit);
        Assert.Contains("private IPC namespace", ipc.Hint, StringComparison.Ordinal);
        Assert.Null(Row(IpcLimits.Read(), "/dev/shm").Hint);
    }

    [Fact]
    public void ThisNamespace_IsTheOneProcShows()
    {
        string link = new FileInfo("/proc/self/ns/ipc").LinkTarget!;

        Assert.StartsWith(link, Row(IpcLimits.Read(), "ipc").Value, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCliTable_ListsEveryAreaAndPrintsHintsBelow()
    {
        Peer.Result result = Peer.Run("limits");

        Assert.Equal(0, result.ExitCode);
        foreach (string area in IpcLimits.Read().Select(l => l.Area).Distinct())
        {
            Assert.Contains(area + "\n", result.Output, StringComparison.Ordinal);
        }
    }
}
