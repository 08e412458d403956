using System.Diagnostics;
using System.Runtime.CompilerServices;
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
        FdListing before = OpenFds.Snapshot();
        int fd = Libc.open("/etc/passwd", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Assert.True(fd >= 0);
        var handle = new SafeFdHandle(fd);
        var lines = new List<string>();
        handle.Close(lines.Add);
        Assert.Equal([$"close({fd}) = 0"], lines);
        Assert.Empty(OpenFds.OpenedSince(before));
    }

    /// <summary>The structs libc reads or writes through our pointers have the sizes and offsets the C compiler gives them.</summary>
    [SkippableFact]
    public void Structs_HandedToLibc_MatchTheCLayout()
    {
        string? peer = CPeer.Compile("struct-layout", """
            #define _GNU_SOURCE
            #include <signal.h>
            #include <stddef.h>
            #include <stdio.h>
            #include <sched.h>
            #include <sys/resource.h>
            #include <sys/wait.h>
            #include <sys/ioctl.h>
            #include <poll.h>
            #include <sys/utsname.h>
            int main(void) {
                printf("sigset_t %zu\n", sizeof(sigset_t));
                printf("struct sigaction %zu %zu\n", sizeof(struct sigaction), offsetof(struct sigaction, sa_flags));
                printf("siginfo_t %zu %zu %zu %zu\n", sizeof(siginfo_t), offsetof(siginfo_t, si_code), offsetof(siginfo_t, si_pid), offsetof(siginfo_t, si_status));
                printf("struct rlimit %zu\n", sizeof(struct rlimit));
                printf("struct sched_param %zu\n", sizeof(struct sched_param));
                printf("struct winsize %zu\n", sizeof(struct winsize));
                printf("struct pollfd %zu\n", sizeof(struct pollfd));
                printf("struct utsname %zu %zu\n", sizeof(struct utsname), offsetof(struct utsname, machine));
                return 0;
            }
            """);
        Skip.If(peer is null, "no C compiler (cc) to ask for the layouts");
        var info = new ProcessStartInfo(peer) { RedirectStandardOutput = true };
        using Process run = Process.Start(info)!;
        string[] expected = run.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        run.WaitForExit();

        string[] actual =
        [
            $"sigset_t {Unsafe.SizeOf<SigSet>()}",
            $"struct sigaction {Unsafe.SizeOf<SigAction>()} {Marshal.OffsetOf<SigAction>(nameof(SigAction.Flags))}",
            $"siginfo_t {Unsafe.SizeOf<ChildSignalInfo>()} {Marshal.OffsetOf<ChildSignalInfo>(nameof(ChildSignalInfo.Code))} {Marshal.OffsetOf<ChildSignalInfo>(nameof(ChildSignalInfo.ProcessId))} {Marshal.OffsetOf<ChildSignalInfo>(nameof(ChildSignalInfo.Status))}",
            $"struct rlimit {Unsafe.SizeOf<RLimit>()}",
            $"struct sched_param {Unsafe.SizeOf<SchedParam>()}",
            $"struct winsize {Unsafe.SizeOf<WindowSize>()}",
            $"struct pollfd {Unsafe.SizeOf<PollFd>()}",
            $"struct utsname {Unsafe.SizeOf<UtsName>()} {Marshal.OffsetOf<UtsName>(nameof(UtsName.Machine))}",
        ];
        Assert.Equal(expected, actual);
    }
}
