using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.Tests;

/// <summary>The system call tables (against the kernel headers and known numbers), and what a thread is doing, decoded from /proc/PID/task/TID/syscall.</summary>
public sealed class SyscallTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [SkippableFact]
    public void TheX64Table_IsTheKernelHeaders()
    {
        const string header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
        Skip.IfNot(File.Exists(header), $"no {header} (linux-libc-dev) to compare with");
        var expected = File.ReadLines(header).Select(l => Regex.Match(l, @"^#define __NR_(\w+) (\d+)$")).Where(m => m.Success)
            .Select(m => new SyscallEntry(Architecture.X64, int.Parse(m.Groups[2].Value), m.Groups[1].Value)).ToList();

        List<SyscallEntry> table = SyscallTable.Entries(Architecture.X64).ToList();

        Assert.True(expected.Count > 300);
        Assert.Equal(expected.OrderBy(e => e.Number), table.Where(e => e.Number <= expected.Max(x => x.Number)));
    }

    [Theory]
    [InlineData("read", 63)]
    [InlineData("write", 64)]
    [InlineData("openat", 56)]
    [InlineData("futex", 98)]
    [InlineData("epoll_pwait", 22)]
    [InlineData("clone", 220)]
    [InlineData("execve", 221)]
    [InlineData("mmap", 222)]
    [InlineData("exit_group", 94)]
    [InlineData("renameat", 38)]
    [InlineData("newfstatat", 79)]
    [InlineData("getrlimit", 163)]
    [InlineData("clone3", 435)]
    [InlineData("memfd_secret", 447)]
    [InlineData("mseal", 462)]
    public void TheArm64Table_HasTheGenericNumbers(string name, int number)
    {
        Assert.Equal(number, SyscallTable.Number(name, Architecture.Arm64));
        Assert.Equal(name, SyscallTable.Name(number, Architecture.Arm64));
    }

    [Theory]
    [InlineData("open")]
    [InlineData("fork")]
    [InlineData("poll")]
    [InlineData("epoll_wait")]
    public void Arm64_HasNoneOfTheOldCalls(string name) => Assert.Null(SyscallTable.Number(name, Architecture.Arm64));

    [Fact]
    public void Arm64_HasNoCallAt244_WhereTheHeaderOnlyMarksArchitectureSpecificCalls()
    {
        // asm-generic/unistd.h defines __NR_arch_specific_syscall 244 as where an architecture's own calls would begin;
        // arm64 has none there, and no kernel has a call by that name.
        Assert.Null(SyscallTable.Name(244, Architecture.Arm64));
        Assert.Null(SyscallTable.Number("arch_specific_syscall", Architecture.Arm64));
    }

    [Fact]
    public void NamesAndNumbers_GoBothWays_OnEveryTable()
    {
        foreach (Architecture architecture in SyscallTable.Architectures)
        {
            IReadOnlyList<SyscallEntry> entries = SyscallTable.Entries(architecture);
            Assert.Equal(entries.Count, entries.Select(e => e.Name).Distinct().Count());
            Assert.All(entries, e => Assert.Equal(e.Number, SyscallTable.Number(e.Name, architecture)));
        }
        Assert.Null(SyscallTable.Name(-1));
        Assert.Null(SyscallTable.Name(100_000));
        Assert.Throws<PlatformNotSupportedException>(() => SyscallTable.Entries(Architecture.Wasm));
    }

    [Fact]
    public void AProcessBlockedOnASemaphore_IsInFutex_OnTheSemaphoresWord()
    {
        string name = TestNames.New();
        using PosixSemaphore semaphore = PosixSemaphore.Create(name, 0);
        try
        {
            using Process waiter = Peer.Start("sem", "wait", name);
            ThreadSyscall? main = null;
            var clock = Stopwatch.StartNew();
            // The runtime's start-up waits in futexes of its own: this one is on the word in the semaphore's mapping.
            // The state, the syscall and the wait channel are separate /proc reads, and a waiter woken for a moment (a
            // runtime signal, a loaded machine) reads as R between them: one reading with all three asleep is the proof.
            while (!(main is { Name: "futex", WaitChannel: not null, State: 'S' } && OnTheSemaphore(waiter.Id, main.Arguments[0])) && clock.Elapsed < Soon)
            {
                Thread.Sleep(5);
                main = ProcessSyscalls.Read(waiter.Id, waiter.Id).Single();
            }

            Assert.NotNull(main);
            Assert.Equal(ThreadActivity.InSyscall, main.Activity);
            Assert.Equal('S', main.State);
            Assert.Equal(SyscallTable.Number("futex"), main.Number);
            // A semaphore shared between processes: not a _PRIVATE futex.
            Assert.Matches(@"^futex\(0x[0-9a-f]+, FUTEX_WAIT_BITSET\|FUTEX_CLOCK_REALTIME, 0, ", main.Call);
            Assert.Contains("futex", main.WaitChannel, StringComparison.Ordinal);
            semaphore.Post();
            Assert.Equal(0, Peer.Finish(waiter).ExitCode);
        }
        finally
        {
            TestNames.UnlinkSemaphoreIfPresent(name);
        }
    }

    private static bool OnTheSemaphore(int processId, ulong address) =>
        ProcessMaps.Read(processId).Any(m => m.Path.StartsWith("/dev/shm/sem.", StringComparison.Ordinal) && m.Contains(address));

    [Fact]
    public void EveryThreadOfAChild_IsListed_AndADescriptorIsNamed()
    {
        using Pipe pipe = Pipe.Create();
        using ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo("cat") { Descriptors = new Dictionary<int, IDescriptorObject> { [0] = pipe.ReadEnd } });
        try
        {
            ThreadSyscall? reading = null;
            var clock = Stopwatch.StartNew();
            while (reading is not { Name: "read", WaitChannel: not null } && clock.Elapsed < Soon)
            {
                Thread.Sleep(5);
                reading = Assert.Single(ProcessSyscalls.Read(child.ProcessId));
            }

            Assert.NotNull(reading);
            Assert.Matches(@"^read\(0<pipe:\[\d+\]>, 0x[0-9a-f]+, \d+\)$", reading.Call);
            Assert.Equal("cat", reading.ThreadName);
        }
        finally
        {
            child.Signal(Signals.SIGKILL);
            child.WaitForExit(Soon);
        }
    }

    [Theory]
    [InlineData("running", ThreadActivity.Running, "running")]
    [InlineData("-1 0x7ffd1000 0x7f0000001234", ThreadActivity.Blocked, "not in a system call")]
    public void LinesWithoutACall_AreRunningOrBlocked(string line, ThreadActivity activity, string call)
    {
        ThreadSyscall parsed = ProcessSyscalls.Parse(1, 1, "t", 'S', line, null, _ => null, _ => null);

        Assert.Equal((activity, call, (int?)null), (parsed.Activity, parsed.Call, parsed.Number));
    }

    [Fact]
    public void ACallLine_IsDecoded_WithDescriptorsAndPaths()
    {
        int openat = SyscallTable.Number("openat")!.Value;
        string line = $"{openat} 0xffffffffffffff9c 0x7f0000001000 0x80000 0x0 0x0 0x0 0x7ffd1000 0x7f0000002000";

        ThreadSyscall parsed = ProcessSyscalls.Parse(1, 2, "t", 'S', line, "do_filp_open", _ => null, address => address == 0x7f0000001000 ? "/etc/hosts" : null);

        Assert.Equal("openat(AT_FDCWD, \"/etc/hosts\", 0x80000, 0x0)", parsed.Call);
        Assert.Equal([0xffffffffffffff9c, 0x7f0000001000, 0x80000, 0, 0, 0], parsed.Arguments);
        Assert.Equal((0x7ffd1000UL, 0x7f0000002000UL), (parsed.StackPointer, parsed.ProgramCounter));

        int read = SyscallTable.Number("read")!.Value;
        Assert.Equal("read(3</tmp/x>, 0x10, 4096)", ProcessSyscalls.Parse(1, 2, "t", 'S', $"{read} 0x3 0x10 0x1000 0x0 0x0 0x0 0x1 0x2", null, fd => fd == 3 ? "/tmp/x" : null, _ => null).Call);
        Assert.Equal("syscall_9999(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)", ProcessSyscalls.Parse(1, 2, "t", 'S', "9999 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8", null, _ => null, _ => null).Call);
        Assert.Throws<FormatException>(() => ProcessSyscalls.Parse(1, 2, "t", 'S', "202 0x1", null, _ => null, _ => null));
    }

    [Theory]
    [InlineData(0x189, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME")]
    [InlineData(0x81, "FUTEX_WAKE_PRIVATE")]
    [InlineData(0, "FUTEX_WAIT")]
    [InlineData(0x1000, "FUTEX_WAIT|0x1000")]
    public void FutexOperations_AreNamedAsStraceNamesThem(int operation, string text) => Assert.Equal(text, SyscallDecoder.FutexOperation(operation));

    [Fact]
    public void AnotherUsersProcess_IsEACCES_WithWhy()
    {
        Peer.Result result = Peer.RunUnprivileged([], "syscall", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("EACCES", result.Error, StringComparison.Ordinal);
        Assert.Contains("uid", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingProcess_IsESRCH() =>
        Assert.Equal(Errno.ESRCH, Assert.Throws<SysprogException>(() => ProcessSyscalls.Read(int.MaxValue)).Errno);
}
