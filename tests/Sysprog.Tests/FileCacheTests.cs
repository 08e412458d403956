using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

/// <summary>File advice and page-cache residency (fincore as the oracle), and the program break (sbrk, /proc/PID/stat, maps).</summary>
public sealed class FileCacheTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly string _folder;

    public FileCacheTests()
    {
        // Next to the test binaries, on a disk: a tmpfs file is its page cache, and dropping it would lose it.
        _folder = Path.Combine(AppContext.BaseDirectory, $"filecache-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A clean file: written, then flushed to the disk, so DONTNEED may drop every page of it.</summary>
    private string CleanFile(int bytes)
    {
        string path = Path.Combine(_folder, $"{Guid.NewGuid():N}.bin");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            byte[] data = new byte[bytes];
            Random.Shared.NextBytes(data);
            stream.Write(data);
            stream.Flush(flushToDisk: true);
        }
        return path;
    }

    private static long FincorePages(string path)
    {
        var info = new ProcessStartInfo(Tools.Find("fincore")!) { RedirectStandardOutput = true };
        foreach (string argument in new[] { "--noheadings", "--raw", "--output", "PAGES", path })
        {
            info.ArgumentList.Add(argument);
        }
        using Process run = Process.Start(info)!;
        string output = run.StandardOutput.ReadToEnd().Trim();
        run.WaitForExit();
        return long.Parse(output, CultureInfo.InvariantCulture);
    }

    [SkippableFact]
    public void DontNeed_LowersAndWillNeed_RaisesTheResidencyOfACleanFile_AsFincoreCountsIt()
    {
        Skip.If(Libc.statfs(_folder, out FileSystemStatus fs) == 0 && fs.Type == Libc.TMPFS_MAGIC, "the test folder is on tmpfs, whose pages cannot be dropped");
        Skip.If(Tools.Find("fincore") is null, "fincore (util-linux) is not installed: the residency would be compared with nothing");
        string path = CleanFile(8 << 20);
        var lines = new List<string>();

        FileCache.Advise(path, FileAdvice.DontNeed, trace: lines.Add);
        FileResidency dropped = FileCache.Residency(path);

        Assert.Contains(lines, l => l.StartsWith("posix_fadvise(", StringComparison.Ordinal) && l.EndsWith(", 0, 0, POSIX_FADV_DONTNEED) = 0", StringComparison.Ordinal));
        Assert.Equal(2048, dropped.Pages);
        Assert.Equal(0, dropped.ResidentPages);
        Assert.Equal(0, FincorePages(path));

        FileCache.Advise(path, FileAdvice.WillNeed);
        // WILLNEED starts the reads and returns: wait for them, on the page cache's own count.
        var clock = Stopwatch.StartNew();
        FileResidency read;
        while ((read = FileCache.Residency(path)).ResidentPages < read.Pages && clock.Elapsed < Soon)
        {
            Thread.Sleep(10);
        }

        Assert.Equal(read.Pages, read.ResidentPages);
        Assert.Equal(100, read.Percent);
        Assert.Equal([new PageRange(0, 2048, true)], read.Ranges);
        Assert.Equal(read.ResidentPages, FincorePages(path));
    }

    [SkippableFact]
    public void ARange_CountsOnlyItsPages_AndRunsAlternate()
    {
        Skip.If(Libc.statfs(_folder, out FileSystemStatus fs) == 0 && fs.Type == Libc.TMPFS_MAGIC, "the test folder is on tmpfs");
        string path = CleanFile(64 * 4096);
        FileCache.Advise(path, FileAdvice.DontNeed);
        using (FileStream stream = File.OpenRead(path))
        {
            stream.Position = 10 * 4096;
            stream.ReadExactly(new byte[4096]);
        }

        FileResidency range = FileCache.Residency(path, 8 * 4096, 5 * 4096);

        Assert.Equal((5L, 5L * 4096), (range.Pages, range.Length));
        Assert.True(range.Ranges.Single(r => r.FirstPage <= 2 && r.FirstPage + r.PageCount > 2).Resident, "page 10 of the file is page 2 of the range");
        Assert.Equal(range.Pages, range.Ranges.Sum(r => r.PageCount));
    }

    [Fact]
    public void AnEmptyFile_HasNoPages()
    {
        string path = Path.Combine(_folder, "empty");
        File.WriteAllBytes(path, []);

        FileResidency empty = FileCache.Residency(path);

        Assert.Equal((0L, 0L, 100.0), (empty.Pages, empty.ResidentPages, empty.Percent));
    }

    [Fact]
    public void AnotherUsersFile_IsRefused_RatherThanReportedAllResident()
    {
        Peer.Result result = Peer.RunUnprivileged([], "residency", "/etc/passwd");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("EPERM", result.Error, StringComparison.Ordinal);
        Assert.Contains("reports every page resident", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("folder", Errno.EINVAL)]
    [InlineData("missing", Errno.ENOENT)]
    public void WhatHasNoPages_IsANamedError(string kind, Errno errno)
    {
        string path = kind == "folder" ? _folder : Path.Combine(_folder, "missing");

        Assert.Equal(errno, Assert.Throws<SysprogException>(() => FileCache.Residency(path)).Errno);
    }

    [Fact]
    public void BadRanges_AreRefused_BeforeAnySystemCall()
    {
        var lines = new List<string>();

        Assert.Throws<ArgumentOutOfRangeException>(() => FileCache.Residency("/etc/passwd", 100, 0, lines.Add));
        Assert.Throws<ArgumentOutOfRangeException>(() => FileCache.Advise("/etc/passwd", FileAdvice.Normal, -1, 0, lines.Add));
        Assert.Throws<ArgumentOutOfRangeException>(() => FileCache.Advise("/etc/passwd", (FileAdvice)9, 0, 0, lines.Add));

        Assert.Empty(lines);
    }

    [Fact]
    public void ThisProcessBreak_IsSbrkZero_AndTheHeapMappingEndsThere()
    {
        ProgramBreak brk = ProgramBreak.Read();

        Assert.True(brk.IsExact);
        Assert.Equal((ulong)Libc.sbrk(0), brk.Break);
        string[] stat = File.ReadAllText("/proc/self/stat") is string text ? text[(text.LastIndexOf(')') + 2)..].Split(' ') : [];
        Assert.Equal(ulong.Parse(stat[47 - 3], CultureInfo.InvariantCulture), brk.HeapStart);
        Assert.Equal(ulong.Parse(stat[46 - 3], CultureInfo.InvariantCulture), brk.EndOfData);
        Assert.NotNull(brk.HeapMapping);
        Assert.Equal(brk.HeapStart, brk.HeapMapping.Start);
        ulong page = (ulong)Environment.SystemPageSize;
        Assert.Equal((brk.Break + page - 1) / page * page, brk.HeapMapping.End);
    }

    [Fact]
    public void AnotherProcessBreak_IsTheEndOfItsHeapMapping()
    {
        using ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo("sleep", ["30"]));
        try
        {
            // posix_spawn returns as the exec begins; the program is loaded once sleep sleeps.
            ThreadWait.UntilBlockedIn(child.ProcessId, child.ProcessId, ["clock_nanosleep", "nanosleep"]);
            ProgramBreak brk = ProgramBreak.Read(child.ProcessId);

            // The kernel's own figures, read here rather than through the code under test: start_brk and end_data
            // from /proc/PID/stat (fields 47 and 46), and the end of the [heap] line of /proc/PID/maps.
            string[] stat = File.ReadAllText($"/proc/{child.ProcessId}/stat").Split(") ")[1].Split(' ');
            ulong startBrk = ulong.Parse(stat[47 - 3], CultureInfo.InvariantCulture);
            string? heapLine = File.ReadLines($"/proc/{child.ProcessId}/maps").FirstOrDefault(l => l.EndsWith(" [heap]", StringComparison.Ordinal));
            ulong? heapEnd = heapLine is null ? null : ulong.Parse(heapLine.Split(' ')[0].Split('-')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

            Assert.False(brk.IsExact);
            Assert.Equal(startBrk, brk.HeapStart);
            Assert.Equal(heapEnd ?? startBrk, brk.Break);
            Assert.True(brk.HeapStart >= brk.EndOfData);
            Assert.NotEqual(0UL, brk.HeapStart);
        }
        finally
        {
            child.Signal(Signals.SIGKILL);
            child.WaitForExit(Soon);
        }
    }

    [Theory]
    [InlineData("64KiB", true)]
    [InlineData("1MiB", false)]
    public void OnTheMainThread_SmallBlocksComeFromTheHeap_AndLargeOnesFromMappingsOfTheirOwn(string size, bool inHeap)
    {
        Peer.Result result = Peer.Run("brk", "self", "--allocate", size, "--json");

        Assert.Equal(0, result.ExitCode);
        using JsonDocument placed = JsonDocument.Parse(result.Output);
        Assert.True(placed.RootElement.GetProperty("onMainThread").GetBoolean());
        Assert.Equal(inHeap, placed.RootElement.GetProperty("inHeap").GetBoolean());
        if (!inHeap)
        {
            Assert.Equal(0, placed.RootElement.GetProperty("breakMoved").GetInt64());
            Assert.DoesNotContain("[heap]", placed.RootElement.GetProperty("mapping").GetString(), StringComparison.Ordinal);
        }
    }
}
