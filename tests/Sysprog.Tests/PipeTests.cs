using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.Tests;

public sealed class PipeTests : IDisposable
{
    private static readonly TimeSpan Forever = Timeout.InfiniteTimeSpan;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose() => Assert.Empty(OpenFds.OpenedSince(_fdsBefore));

    private static string[] DescriptorsOf(ulong inode) => Directory.EnumerateFileSystemEntries("/proc/self/fd")
        .Where(p => new FileInfo(p).LinkTarget == $"pipe:[{inode}]").ToArray();

    [Fact]
    public void APipe_HasTwoBlockingCloseOnExecEnds_OfOneInode_AndClosingLeavesNoDescriptor()
    {
        var trace = new List<string>();
        ulong inode;
        using (Pipe pipe = Pipe.Create(trace: trace.Add))
        {
            // The pipe, then the status of its read end, for the inode that names it.
            Assert.Equal(2, trace.Count);
            Assert.Matches(@"^pipe2\(\[(\d+), \d+\], O_CLOEXEC\) = 0$", trace[0]);
            Assert.Matches(@"^statx\(\d+, """", AT_EMPTY_PATH, STATX_BASIC_STATS\) = 0$", trace[1]);
            inode = pipe.Inode;
            Assert.Equal(2, DescriptorsOf(inode).Length);
            Assert.Equal(pipe.ReadEnd.Inode, pipe.WriteEnd.Inode);
            Assert.True(pipe.ReadEnd.CanRead && !pipe.ReadEnd.CanWrite && pipe.WriteEnd.CanWrite && !pipe.WriteEnd.CanRead);
            // A child handed an end gets the ordinary blocking pipe: no O_NONBLOCK on the shared description.
            Assert.Equal(0, OpenFds.StatusFlags(pipe.ReadEnd.Fd) & 0x800);
            Assert.Equal(0, OpenFds.StatusFlags(pipe.WriteEnd.Fd) & 0x800);
            Assert.True(OpenFds.IsCloseOnExec(pipe.ReadEnd.Fd));
            Assert.Equal(64 * 1024, pipe.Capacity);
            Assert.Equal($"pipe:[{inode}] (read end)", pipe.ReadEnd.Description);
        }
        Assert.Empty(DescriptorsOf(inode));
    }

    [Fact]
    public void Reads_TakeACount_WhatIsThere_OrUpToADelimiter_AndKeepTheRest()
    {
        using Pipe pipe = Pipe.Create();
        pipe.WriteEnd.Write("one\ntwo\nthree"u8, Long);
        Assert.Equal(13, pipe.BytesAvailable);
        Assert.Equal("one\n"u8.ToArray(), pipe.ReadEnd.ReadTo("\n"u8, Long));
        // The rest was read with the first line and waits in the end's buffer.
        Assert.Equal(9, pipe.ReadEnd.BufferedCount);
        Assert.Equal(9, pipe.BytesAvailable);
        Assert.Equal("tw"u8.ToArray(), pipe.ReadEnd.ReadExactly(2, Long));
        Assert.Equal("o\nthree"u8.ToArray(), pipe.ReadEnd.ReadAvailable(Long));
        pipe.WriteEnd.Close();
        Assert.Empty(pipe.ReadEnd.ReadAvailable(Long)!);
        Assert.True(pipe.ReadEnd.IsEnded);
    }

    [Fact]
    public void ADelimiterSplitAcrossWrites_IsFound()
    {
        using Pipe pipe = Pipe.Create();
        pipe.WriteEnd.Write("ab\r"u8, Long);
        Assert.Null(pipe.ReadEnd.ReadTo("\r\n"u8, TimeSpan.FromMilliseconds(50)));
        pipe.WriteEnd.Write("\ncd"u8, Long);
        Assert.Equal("ab\r\n"u8.ToArray(), pipe.ReadEnd.ReadTo("\r\n"u8, Long));
        pipe.WriteEnd.Close();
        Assert.Equal("cd"u8.ToArray(), pipe.ReadEnd.ReadTo("\r\n"u8, Long));
    }

    [Fact]
    public void WhatArrivedBeforeATimeout_IsNotLost()
    {
        using Pipe pipe = Pipe.Create();
        pipe.WriteEnd.Write("1234"u8, Long);
        Assert.Null(pipe.ReadEnd.ReadExactly(10, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(4, pipe.ReadEnd.BufferedCount);
        pipe.WriteEnd.Write("567890"u8, Long);
        Assert.Equal("1234567890"u8.ToArray(), pipe.ReadEnd.ReadExactly(10, Long));
    }

    [Fact]
    public void ACharacterSplitAcrossWrites_IsDecodedWhole()
    {
        using Pipe pipe = Pipe.Create();
        byte[] e = Encoding.UTF8.GetBytes("é");
        pipe.WriteEnd.Write(e.AsSpan(0, 1), Long);
        Assert.Null(pipe.ReadEnd.ReadAvailableText(null, TimeSpan.FromMilliseconds(50)));
        pipe.WriteEnd.Write(e.AsSpan(1), Long);
        Assert.Equal("é", pipe.ReadEnd.ReadAvailableText(null, Long));
    }

    [Theory]
    [InlineData("utf8", new byte[] { 0x41, 0xE2, 0x82 }, 2)]
    [InlineData("utf8", new byte[] { 0x41, 0xE2, 0x82, 0xAC }, 0)]
    [InlineData("utf8", new byte[] { 0xF0, 0x9F, 0x98 }, 3)]
    [InlineData("utf8", new byte[] { 0x80 }, 0)]
    [InlineData("unicode", new byte[] { 0x41, 0x00, 0x3D }, 1)]
    [InlineData("unicode", new byte[] { 0x41, 0x00, 0x3D, 0xD8 }, 2)]
    [InlineData("bigendianunicode", new byte[] { 0xD8, 0x3D }, 2)]
    [InlineData("utf32", new byte[] { 0x41, 0, 0, 0, 0x42 }, 1)]
    [InlineData("latin1", new byte[] { 0xE9 }, 0)]
    public void IncompleteTail_FindsACharacterCutShort(string encoding, byte[] bytes, int expected) =>
        Assert.Equal(expected, TextEncodings.IncompleteTail(TextEncodings.Parse(encoding), bytes));

    [Fact]
    public void WritingWithNoReaderLeft_IsEpipeNamingIt_AndDoesNotKillTheProcess()
    {
        using Pipe pipe = Pipe.Create();
        pipe.ReadEnd.Close();
        var error = Assert.Throws<SysprogException>(() => pipe.WriteEnd.Write("x"u8, Forever));
        Assert.Equal((Errno.EPIPE, "write"), (error.Errno, error.Call));
        Assert.Contains("every read end is closed", error.Message, StringComparison.Ordinal);
        Assert.Contains(pipe.WriteEnd.Description, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheWrongEnd_IsRefusedBeforeAnyCall()
    {
        using Pipe pipe = Pipe.Create();
        var trace = new List<string>();
        Assert.Contains("write end", Assert.Throws<InvalidOperationException>(() => pipe.WriteEnd.ReadAvailable(Long, default, trace.Add)).Message, StringComparison.Ordinal);
        Assert.Contains("read end", Assert.Throws<InvalidOperationException>(() => pipe.ReadEnd.Write("x"u8, Long, default, trace.Add)).Message, StringComparison.Ordinal);
        Assert.Empty(trace);
    }

    [Fact]
    public void AFullPipe_TimesOutSayingHowMuchWent()
    {
        using Pipe pipe = Pipe.Create();
        int capacity = pipe.Capacity;
        var error = Assert.Throws<TimeoutException>(() => pipe.WriteEnd.Write(new byte[capacity + 100], TimeSpan.FromMilliseconds(100)));
        Assert.Contains($"took {capacity} of {capacity + 100} bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(capacity, pipe.BytesAvailable);
    }

    [Fact]
    public void Capacity_IsSetRoundedUp_AndCannotShrinkBelowWhatIsInIt()
    {
        using Pipe pipe = Pipe.Create(capacity: 3 * 4096);
        Assert.Equal(4 * 4096, pipe.Capacity);
        pipe.WriteEnd.Write(new byte[8192], Long);
        var error = Assert.Throws<SysprogException>(() => pipe.ReadEnd.SetCapacity(4096));
        Assert.Equal((Errno.EBUSY, "fcntl"), (error.Errno, error.Call));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pipe.Create(capacity: -1));
    }

    [Fact]
    public void PacketMode_ReadsOneWriteAtATime()
    {
        using Pipe pipe = Pipe.Create(packetMode: true);
        Assert.True(pipe.IsPacketMode);
        pipe.WriteEnd.Write("abc"u8, Long);
        pipe.WriteEnd.Write("de"u8, Long);
        byte[] buffer = new byte[100];
        Assert.Equal(3, pipe.ReadEnd.Read(buffer, Long));
        Assert.Equal(2, pipe.ReadEnd.Read(buffer, Long));
    }

    [Fact]
    public void APlainWait_IsOneBlockingRead_AndOneWithATokenTriesWithoutWaitingFirst()
    {
        using Pipe pipe = Pipe.Create();
        using var cancellation = new CancellationTokenSource();
        byte[] buffer = new byte[8];
        var trace = new List<string>();
        pipe.WriteEnd.Write("x"u8, Long);
        Assert.Equal(1, pipe.ReadEnd.Read(buffer, Forever, default, trace.Add));
        Assert.Matches(@"^read\(\d+, ""x"", 8\) = 1$", Assert.Single(ReadsAndWaits(trace, pipe.ReadEnd.Fd)));
        trace.Clear();
        pipe.WriteEnd.Write("y"u8, Long);
        Assert.Equal(1, pipe.ReadEnd.Read(buffer, Forever, cancellation.Token, trace.Add));
        Assert.Matches(@"^preadv2\(\d+, ""y"", 8\) = 1$", Assert.Single(ReadsAndWaits(trace, pipe.ReadEnd.Fd)));
    }

    // The reads of and waits on descriptor fd in a trace: a process's first cancellable wait also narrates the one-time
    // look at its threads' signal handling (/proc/self/task/*/status), which depends on the tests run before.
    private static string[] ReadsAndWaits(List<string> trace, int fd) =>
        trace.Where(l => l.StartsWith($"read({fd},", StringComparison.Ordinal) || l.StartsWith($"preadv2({fd},", StringComparison.Ordinal)
            || l.Contains($"{{fd={fd},", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task AWaitingRead_StopsOnCancellation_OnceItReallyWaits()
    {
        using Pipe pipe = Pipe.Create();
        using var cancellation = new CancellationTokenSource();
        (Task<int?> read, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => pipe.ReadEnd.Read(new byte[8], Forever, cancellation.Token));
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Poll);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void AReadEndWithBufferedBytes_IsReadyForAWait()
    {
        using Pipe pipe = Pipe.Create();
        pipe.WriteEnd.Write("a\nb"u8, Long);
        pipe.ReadEnd.ReadTo("\n"u8, Long);
        Assert.Equal(0, pipe.ReadEnd.BytesAvailable);
        ReadyHandle ready = Assert.Single(PollSet.WaitFor([pipe.ReadEnd], Readiness.Readable, all: false, TimeSpan.FromSeconds(5)));
        Assert.True(ready.Readable);
    }

    [Fact]
    public void ReadsAndWritesOfSpans_AllocateNothing()
    {
        using Pipe pipe = Pipe.Create();
        using var cancellation = new CancellationTokenSource();
        byte[] message = new byte[64];
        byte[] buffer = new byte[64];
        void Operations()
        {
            pipe.WriteEnd.Write(message, Forever);
            pipe.ReadEnd.Read(buffer, Forever);
            pipe.WriteEnd.Write(message, Long, cancellation.Token);
            pipe.ReadEnd.Read(buffer, Long, cancellation.Token);
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

public sealed class FifoTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-fifo-").FullName;
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
    }

    [Fact]
    public void Create_MakesAFifoOfTheExactMode_AndNeverOverSomething()
    {
        string path = Path.Combine(_folder, "f");
        var trace = new List<string>();
        FileInfo made = Fifo.Create(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, trace.Add);
        Assert.Equal(path, made.FullName);
        Assert.True(Fifo.IsFifo(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
        // Made in the folder the path was walked to, not by a second lookup of the whole path.
        Assert.Single(trace, line => Regex.IsMatch(line, "^mkfifoat\\(\\d+, \"f\", 0660\\) = 0$"));
        var error = Assert.Throws<SysprogException>(() => Fifo.Create(path));
        Assert.Equal((Errno.EEXIST, "mkfifoat"), (error.Errno, error.Call));
    }

    [Fact]
    public void ANonBlockingOpenForWriting_WithoutAReader_IsEnxioExplained()
    {
        string path = Fifo.Create(Path.Combine(_folder, "f")).FullName;
        var error = Assert.Throws<SysprogException>(() => Fifo.Open(path, FileAccess.Write, nonBlocking: true));
        Assert.Equal((Errno.ENXIO, "open"), (error.Errno, error.Call));
        Assert.Contains("No process has the FIFO open for reading", error.Message, StringComparison.Ordinal);
        // For reading, it needs no writer.
        using PipeEnd reader = Fifo.Open(path, FileAccess.Read, nonBlocking: true)!;
        using PipeEnd writer = Fifo.Open(path, FileAccess.Write, nonBlocking: true)!;
        writer.Write("hi"u8, Long);
        Assert.Equal("hi"u8.ToArray(), reader.ReadExactly(2, Long));
        Assert.Equal($"FIFO {path} (read end)", reader.Description);
    }

    [Fact]
    public void ABlockingOpen_WaitsForTheOtherSide_ForAtMostItsTimeout()
    {
        string path = Fifo.Create(Path.Combine(_folder, "f")).FullName;
        var clock = Stopwatch.StartNew();
        Assert.Null(Fifo.Open(path, FileAccess.Read, timeout: TimeSpan.FromMilliseconds(200)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(10));
        Assert.Null(Fifo.Open(path, FileAccess.Write, timeout: TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task ABlockingOpen_ReturnsWhenTheOtherSideOpens_AndStopsOnCancellation()
    {
        string path = Fifo.Create(Path.Combine(_folder, "f")).FullName;
        (Task<PipeEnd?> open, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => Fifo.Open(path, FileAccess.Read, timeout: Long));
        ThreadWait.UntilSleepingIn(waiter, "wait_for_partner");
        using (PipeEnd writer = Fifo.Open(path, FileAccess.Write, timeout: Long)!)
        using (PipeEnd reader = (await open.WaitAsync(Long))!)
        {
            writer.Write("x"u8, Long);
            Assert.Equal("x"u8.ToArray(), reader.ReadExactly(1, Long));
        }

        using var cancellation = new CancellationTokenSource();
        (Task<PipeEnd?> second, int secondWaiter) = await ThreadWait.StartOnThreadOfItsOwn(() => Fifo.Open(path, FileAccess.Write, cancellationToken: cancellation.Token));
        ThreadWait.UntilSleepingIn(secondWaiter, "wait_for_partner");
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void AnythingButAFifo_IsRefusedBeforeItIsOpened()
    {
        string file = Path.Combine(_folder, "plain");
        File.WriteAllText(file, "");
        var trace = new List<string>();
        Assert.Throws<ArgumentException>(() => Fifo.Open(file, FileAccess.Read, trace: trace.Add));
        // Only looked at (O_PATH), never opened.
        Assert.DoesNotContain(trace, line => line.StartsWith("open", StringComparison.Ordinal) && !line.Contains("O_PATH", StringComparison.Ordinal));
        var missing = Assert.Throws<SysprogException>(() => Fifo.Open(Path.Combine(_folder, "none"), FileAccess.Read));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Throws<ArgumentException>(() => Fifo.Open(file, FileAccess.ReadWrite));
    }

    [Fact]
    public void TheCli_WritesAndReadsAFifo_WaitingForThisProcessOnTheOtherSide()
    {
        string path = Fifo.Create(Path.Combine(_folder, "f")).FullName;
        using (Process writer = Peer.Start("fifo", "write", path, "from", "the", "cli"))
        using (PipeEnd reader = Fifo.Open(path, FileAccess.Read, timeout: Long)!)
        {
            Assert.Equal("from the cli\n", reader.ReadAvailableText(null, Long));
            Assert.Equal(0, Peer.Finish(writer).ExitCode);
        }
        using (Process peer = Peer.Start("fifo", "read", path, "--timeout", "30s"))
        {
            using (PipeEnd writer = Fifo.Open(path, FileAccess.Write, timeout: Long)!)
            {
                writer.Write("to the cli\n", null, Long);
            }
            Peer.Result read = Peer.Finish(peer);
            Assert.Equal((0, "to the cli\n"), (read.ExitCode, read.Output));
        }
        Peer.Result refused = Peer.Run("fifo", "write", path, "x", "--nonblock");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("ENXIO", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCli_FillsAPipeToItsCapacity()
    {
        Peer.Result result = Peer.Run("pipe", "--capacity", "256K", "--json");
        Assert.Equal(0, result.ExitCode);
        using var report = System.Text.Json.JsonDocument.Parse(result.Output);
        Assert.Equal(256 * 1024, report.RootElement.GetProperty("capacity").GetInt32());
        Assert.Equal(256 * 1024, report.RootElement.GetProperty("filled").GetInt64());
        Assert.Equal(4096, report.RootElement.GetProperty("pipeBuf").GetInt32());
    }

    [SkippableFact]
    public void WritesOfAtMostPipeBuf_FromSeveralProcesses_NeverInterleave()
    {
        string? peer = FifoWriterPeer.Value;
        Skip.If(peer is null, "no C compiler (cc) on PATH: the atomicity test compiles a tiny FIFO writer with it");
        string path = Fifo.Create(Path.Combine(_folder, "f")).FullName;
        // The open must not wait for the writers, which start after it; the reads must wait for them.
        using PipeEnd reader = Fifo.Open(path, FileAccess.Read, nonBlocking: true)!;
        reader.SetNonBlocking(false);
        const int Writers = 4, Messages = 200, Size = 4096;
        var writers = Enumerable.Range(0, Writers)
            .Select(i => Process.Start(new ProcessStartInfo(peer!, [path, ((char)('a' + i)).ToString(), Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), Size.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!)
            .ToList();
        var counts = new Dictionary<byte, int>();
        for (int m = 0; m < Writers * Messages; m++)
        {
            byte[] message = reader.ReadExactly(Size, Long)!;
            Assert.Equal(Size, message.Length);
            Assert.True(message.All(b => b == message[0]), $"message {m} mixes writers: {Encoding.ASCII.GetString(message.Distinct().ToArray())}");
            counts[message[0]] = counts.GetValueOrDefault(message[0]) + 1;
        }
        writers.ForEach(w => { w.WaitForExit(); w.Dispose(); });
        Assert.All(counts.Values, c => Assert.Equal(Messages, c));
        Assert.Equal(Writers, counts.Count);
    }

    private static readonly Lazy<string?> FifoWriterPeer = new(() => CPeer.Compile("fifowriter", """
        #include <fcntl.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            int fd = open(argv[1], O_WRONLY), count = atoi(argv[3]), size = atoi(argv[4]);
            char *message = malloc(size);
            memset(message, argv[2][0], size);
            for (int i = 0; i < count; i++) if (write(fd, message, size) != size) return 1;
            return 0;
        }
        """));
}
