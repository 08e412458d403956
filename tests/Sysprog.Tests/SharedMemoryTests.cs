using Xunit;

namespace Sysprog.Tests;

public sealed class SharedMemoryTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkIfPresent(_name);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        TestNames.AssertNoneLeft();
    }

    [Fact]
    public void Create_MakesAnObjectOfTheSizeWithMode0600_AndTracesEachCall()
    {
        var trace = new List<string>();
        using (SharedMemory shm = SharedMemory.Create(_name, 4096, trace: trace.Add))
        {
            int fd = shm.Fd;
            Assert.Equal(4096, shm.Size);
            Assert.Equal(4096, new FileInfo("/dev/shm" + _name).Length);
            Assert.Equal(FileModes.OwnerReadWrite, File.GetUnixFileMode("/dev/shm" + _name));
            Assert.Equal(("0600", FileModes.OwnerReadWrite), (shm.Mode, shm.UnixFileMode));
            Assert.Equal(
            [
                $"shm_open(\"{_name}\", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = {fd}",
                $"fchmod({fd}, 0600) = 0",
                $"ftruncate({fd}, 4096) = 0",
            ], trace);
            shm.Close(trace.Add);
            Assert.Equal($"close({fd}) = 0", trace[^1]);
        }
        SharedMemory.Unlink(_name);
        Assert.False(File.Exists("/dev/shm" + _name));
    }

    [Fact]
    public void Create_GivesTheRequestedMode_WhateverTheUmask()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 1, FileModes.ParseOctal("0666"));
        Assert.Equal(FileModes.ParseOctal("0666"), File.GetUnixFileMode(shm.Path!));
    }

    [Fact]
    public void Create_WithAnExistingName_FailsWithEEXIST_NamingCallAndObject()
    {
        using SharedMemory first = SharedMemory.Create(_name, 4096);
        var trace = new List<string>();
        var e = Assert.Throws<SysprogException>(() => SharedMemory.Create(_name, 8192, trace: trace.Add));
        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Equal("shm_open", e.Call);
        Assert.Equal(_name, e.Target);
        Assert.Equal($"shm_open(\"{_name}\") failed: EEXIST (File exists)", e.Message);
        Assert.Equal($"shm_open(\"{_name}\", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = -1 EEXIST (File exists)", Assert.Single(trace));
        Assert.Equal(4096, first.Size);
    }

    [Fact]
    public void Open_Missing_FailsWithENOENT_AndSuggestsCreatingIt()
    {
        var e = Assert.Throws<SysprogException>(() => SharedMemory.Open(_name));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.StartsWith($"shm_open(\"{_name}\") failed: ENOENT (No such file or directory).", e.Message, StringComparison.Ordinal);
        Assert.Contains("New-SharedMemory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Existing_NeverResizes_AndSeesTheSameBytes()
    {
        using SharedMemory created = SharedMemory.Create(_name, 12288);
        using MemoryMapping writer = created.Map();
        writer.WriteString(100, "hello");
        using SharedMemory opened = SharedMemory.Open(_name, readOnly: true);
        Assert.Equal(12288, opened.Size);
        Assert.True(opened.IsReadOnly);
        using MemoryMapping reader = opened.Map();
        Assert.Equal(MemoryProtection.Read, reader.Protection);
        Assert.Equal("hello", reader.ReadString(100, 5));
    }

    [Fact]
    public void Resize_ChangesTheSizeSeenByEveryHandle()
    {
        using SharedMemory a = SharedMemory.Create(_name, 4096);
        using SharedMemory b = SharedMemory.Open(_name);
        a.Resize(65536);
        Assert.Equal(65536, b.Size);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Resize(0));
    }

    [Fact]
    public void Fds_AreCloseOnExec()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        Assert.True(OpenFds.IsCloseOnExec(shm.Fd));
    }

    [Fact]
    public void List_ShowsNameSizeModeOwnerAndTimes()
    {
        DateTime before = DateTime.Now.AddSeconds(-2);
        using SharedMemory shm = SharedMemory.Create(_name, 8192, FileModes.ParseOctal("0640"));
        SharedMemoryInfo info = Assert.Single(SharedMemory.List(_name));
        Assert.Equal(_name, info.Name);
        Assert.Equal(8192, info.Size);
        Assert.Equal("0640", info.Mode);
        Assert.Equal(Environment.UserName, info.Owner);
        Assert.InRange(info.LastWriteTime, before, DateTime.Now.AddSeconds(2));
        Assert.Empty(SharedMemory.List(_name + "-not-there"));
        Assert.Contains(SharedMemory.List(TestNames.Prefix + "*"), i => i.Name == _name);
    }

    [Fact]
    public void Unlink_RemovesTheName_ButOpenHandlesAndMappingsKeepWorking()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping view = shm.Map();
        SharedMemory.Unlink(_name);
        Assert.False(File.Exists(shm.Path));
        view.WriteInt64(0, 42);
        Assert.Equal(42, view.ReadInt64(0));
        var e = Assert.Throws<SysprogException>(() => SharedMemory.Unlink(_name));
        Assert.Equal(Errno.ENOENT, e.Errno);
    }

    [Fact]
    public void Close_ReleasesTheFd_AndKeepsMappingsValid()
    {
        FdListing before = OpenFds.Snapshot();
        SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping view = shm.Map();
        shm.Close();
        shm.Close();
        Assert.True(shm.IsClosed);
        Assert.Equal(-1, shm.Fd);
        Assert.Equal(4096, shm.Size);
        Assert.Empty(OpenFds.OpenedSince(before));
        view.WriteInt32(0, 7);
        Assert.Equal(7, view.ReadInt32(0));
        Assert.Throws<ObjectDisposedException>(() => shm.Map());
        Assert.Equal($"{_name} (closed)", shm.ToString());
    }

    [Fact]
    public void AFailedStep_LeavesNothingHalfCreated()
    {
        // ftruncate past RLIMIT_FSIZE fails with EFBIG (SIGXFSZ ignored, so the peer lives to clean up). The runtime's
        // W^X double mapping sizes a memfd too, so it is switched off for this peer.
        Peer.Result result = Peer.RunWith(["env", "DOTNET_EnableWriteXorExecute=0", "bash", "-c", "trap '' XFSZ; ulimit -f 1; exec \"$@\"", "bash"],
            "shm", "create", _name, "--size", "1MiB");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"ftruncate(\"{_name}\") failed: EFBIG (File too large)", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists("/dev/shm" + _name), "the object shm_open made must be unlinked after ftruncate failed");
    }
}
