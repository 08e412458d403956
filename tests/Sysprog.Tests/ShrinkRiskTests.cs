using System.Diagnostics;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Who besides this user could shrink an object this process maps (SIGBUS on the next touch past the new end): the
/// decision on a status alone, then the real thing through MapFile, shared memory, a received memfd, a semaphore and
/// the CLI, with files given to nobody (chown) or mode 0666 where that needs root.
/// </summary>
public sealed class ShrinkRiskTests : IDisposable
{
    private const uint Self = 1000;
    private const uint Nobody = 65534;
    private const int Regular = FileStatus.Regular;
    private static readonly bool IsRoot = Libc.geteuid() == 0;

    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-shrink-").FullName;
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose()
    {
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        Directory.Delete(_folder, recursive: true);
    }

    private static string? Risk(int mode, uint owner, uint group = Self, uint links = 1, bool sealedAgainstShrinking = false, bool privateGroup = true) =>
        ShrinkRisk.Describe("the object", new StatX { Mode = (ushort)mode, Uid = owner, Gid = group, LinkCount = links }, sealedAgainstShrinking, Self,
            (gid, uid) => privateGroup && gid == Self && uid == Self);

    [Fact]
    public void OwnObject_Mode0600_OrGroupWritableByOwnPrivateGroup_IsNoRisk()
    {
        Assert.Null(Risk(Regular | 0x180, Self));
        Assert.Null(Risk(Regular | 0x1B4, Self));
        Assert.Null(Risk(Regular | 0x124, 0));
    }

    [Fact]
    public void AnotherOwner_EveryoneWritable_OrAnotherGroupWritable_IsARisk_Named()
    {
        Assert.Contains($"its owner, nobody (uid {Nobody})", Risk(Regular | 0x180, Nobody), StringComparison.Ordinal);
        Assert.Contains("every user (it is mode 0666)", Risk(Regular | 0x1B6, Self), StringComparison.Ordinal);
        Assert.Contains("the users of group", Risk(Regular | 0x1B0, Self, group: 4242), StringComparison.Ordinal);
        Assert.Contains("the users of group", Risk(Regular | 0x1B0, Self, privateGroup: false), StringComparison.Ordinal);
        string both = Risk(Regular | 0x1B6, Nobody)!;
        Assert.Contains("its owner, nobody", both, StringComparison.Ordinal);
        Assert.Contains(" and every user", both, StringComparison.Ordinal);
        Assert.Contains("SIGBUS", both, StringComparison.Ordinal);
        Assert.StartsWith("the object can be shrunk by", both, StringComparison.Ordinal);
    }

    [Fact]
    public void SealedAgainstShrinking_NamelessModeBits_AndDevices_AreNoRisk()
    {
        Assert.Null(Risk(Regular | 0x1B6, Nobody, sealedAgainstShrinking: true));
        // A memfd (no name: mode 0777 lets no one new open it), this user's own.
        Assert.Null(Risk(Regular | 0x1FF, Self, links: 0));
        Assert.NotNull(Risk(Regular | 0x1FF, Nobody, links: 0));
        Assert.Null(Risk(FileStatus.CharacterDevice | 0x1B6, Nobody));
    }

    [Fact]
    public void MapFile_OwnFile0600_HasNoRisk_AndMode0666Has()
    {
        string path = Path.Combine(_folder, "data");
        File.WriteAllBytes(path, new byte[4096]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (MemoryMapping own = MemoryMapping.MapFile(path))
        {
            Assert.Null(own.ShrinkRisk);
        }
        File.SetUnixFileMode(path, (UnixFileMode)0x1B6);
        using MemoryMapping everyone = MemoryMapping.MapFile(path);
        Assert.Contains("every user (it is mode 0666)", everyone.ShrinkRisk, StringComparison.Ordinal);
        Assert.StartsWith(path, everyone.ShrinkRisk, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void MapFile_AndSharedMemory_OwnedByNobody_AreRisks_UnlessSealed()
    {
        Skip.IfNot(IsRoot, "giving a file to another user (chown to nobody) needs root");
        string path = Path.Combine(_folder, "theirs");
        File.WriteAllBytes(path, new byte[4096]);
        Chown(path, Nobody);
        using (MemoryMapping theirs = MemoryMapping.MapFile(path))
        {
            Assert.Contains($"its owner, nobody (uid {Nobody})", theirs.ShrinkRisk, StringComparison.Ordinal);
        }

        string name = $"/sysprog-shrink-{Environment.ProcessId}";
        using SharedMemory shm = SharedMemory.Create(name, 4096);
        try
        {
            using (MemoryMapping own = shm.Map())
            {
                Assert.Null(own.ShrinkRisk);
            }
            Chown($"{SharedMemory.Directory}{name}", Nobody);
            using MemoryMapping given = shm.Map();
            Assert.Contains("its owner, nobody", given.ShrinkRisk, StringComparison.Ordinal);
        }
        finally
        {
            SharedMemory.Unlink(name);
        }

        // A memfd sealed against shrinking is safe to map whoever made it.
        using SharedMemory sealedMemory = SharedMemory.CreateAnonymous("sysprog-shrink", 4096, MemorySeals.Shrink);
        using MemoryMapping sealedMap = sealedMemory.Map();
        Assert.Null(sealedMap.ShrinkRisk);
    }

    [SkippableFact]
    public void Semaphore_FileOwnedByNobodyOr0666_IsARisk_AndTheCliWarns()
    {
        Skip.IfNot(IsRoot, "giving a file to another user (chown to nobody) needs root");
        string name = $"/sysprog-shrink-{Environment.ProcessId}";
        using (PosixSemaphore made = PosixSemaphore.Create(name, 1))
        {
            using PosixSemaphore own = PosixSemaphore.Open(name);
            Assert.Null(own.ShrinkRisk);
        }
        try
        {
            Chown($"{SharedMemory.Directory}/sem.{name[1..]}", Nobody);
            using (PosixSemaphore theirs = PosixSemaphore.Open(name))
            {
                Assert.Contains($"The semaphore {name}", theirs.ShrinkRisk, StringComparison.Ordinal);
                Assert.Contains("its owner, nobody", theirs.ShrinkRisk, StringComparison.Ordinal);
            }
            Peer.Result cli = Peer.Run("sem", "value", name);
            Assert.Equal(0, cli.ExitCode);
            Assert.Contains("sysprog: warning: The semaphore", cli.Error, StringComparison.Ordinal);
            Assert.Equal("1\n", cli.Output);
        }
        finally
        {
            PosixSemaphore.Unlink(name);
        }
    }

    [Fact]
    public void Cli_MapOfAFileEveryoneCanWrite_Warns_AndOfItsOwnDoesNot()
    {
        string path = Path.Combine(_folder, "text");
        File.WriteAllText(path, "hello");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Peer.Result own = Peer.Run("map", path);
        Assert.Equal((0, "hello", ""), (own.ExitCode, own.Output, own.Error));
        File.SetUnixFileMode(path, (UnixFileMode)0x1B6);
        Peer.Result everyone = Peer.Run("map", path);
        Assert.Equal((0, "hello"), (everyone.ExitCode, everyone.Output));
        Assert.Contains("sysprog: warning: ", everyone.Error, StringComparison.Ordinal);
        Assert.Contains("every user (it is mode 0666)", everyone.Error, StringComparison.Ordinal);
    }

    private static void Chown(string path, uint uid)
    {
        using Process chown = Process.Start(new ProcessStartInfo("chown", [uid.ToString(System.Globalization.CultureInfo.InvariantCulture), path]) { UseShellExecute = false })!;
        Assert.True(chown.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, chown.ExitCode);
    }
}
