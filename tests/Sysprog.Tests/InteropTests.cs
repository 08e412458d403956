using System.Runtime.InteropServices;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

public class InteropTests
{
    [Theory]
    [InlineData("libc", "mmap")]
    [InlineData("libc", "statx")]
    [InlineData("librt", "shm_open")]
    [InlineData("librt", "shm_unlink")]
    [InlineData("librt", "mq_open")]
    [InlineData("libpthread", "sem_open")]
    public void LogicalLibraries_ResolveTheSymbolsBoundThroughThem(string library, string symbol) =>
        Assert.True(NativeLibrary.TryGetExport(Libc.Load(library), symbol, out IntPtr address) && address != IntPtr.Zero,
            $"{symbol} not found through {library}");

    [Fact]
    public void Candidates_FallBackToLibc_ForLibrariesMuslDoesNotHave()
    {
        Assert.Equal(["librt.so.1", "libc.so.6"], Libc.Candidates("librt").Take(2));
        Assert.Contains(Libc.Candidates("libc"), c => c.StartsWith("libc.musl-", StringComparison.Ordinal));
        Assert.Empty(Libc.Candidates("libnothing"));
    }

    [Fact]
    public void SysprogException_NamesCallObjectAndErrno()
    {
        var e = new SysprogException(Errno.EEXIST, "shm_open", "/demo");
        Assert.Equal("shm_open(\"/demo\") failed: EEXIST (File exists)", e.Message);
        Assert.Equal((int)Errno.EEXIST, e.HResult);
        Assert.Equal("errno 200", ((Errno)200).Symbol());
    }

    [Fact]
    public void SafeFdHandle_ClosesItsFd_AndTracesTheClose()
    {
        HashSet<int> before = OpenFds.Snapshot();
        int fd = Libc.open("/etc/passwd", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Assert.True(fd >= 0);
        var handle = new SafeFdHandle(fd);
        var lines = new List<string>();
        handle.Close(lines.Add);
        Assert.Equal([$"close({fd}) = 0"], lines);
        Assert.Empty(OpenFds.OpenedSince(before));
    }
}
