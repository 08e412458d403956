using Xunit;

namespace Sysprog.Tests;

public class ProcessMapsTests
{
    private static readonly string[] SampleMaps =
    [
        "55d4c2a00000-55d4c2a21000 rw-p 00000000 00:00 0                          [heap]",
        "7f2c8c000000-7f2c8c021000 r-xp 00002000 fd:01 1835030                    /usr/lib/x86_64-linux-gnu/libc.so.6",
        "7f2c8d000000-7f2c8d001000 rw-s 00000000 00:1b 17                         /dev/shm/my demo (deleted)",
        "7f2c8e000000-7f2c8e004000 rw-p 00000000 00:00 0 ",
        "7ffd1a5e0000-7ffd1a601000 rw-p 00000000 00:00 0                          [stack]",
        "7ffd1a7f0000-7ffd1a7f2000 r-xp 00000000 00:00 0                          [vdso]",
        "7ffd1a7ec000-7ffd1a7f0000 r--p 00000000 00:00 0                          [vvar]",
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
        "7f2c8f000000-7f2c8f001000 rw-s 00000000 00:01 2048                       /SYSV00000000 (deleted)",
    ];

    [Fact]
    public void Parse_ReadsEveryField_AndClassifiesTheKind()
    {
        IReadOnlyList<ProcessMapping> maps = ProcessMaps.Parse(42, SampleMaps);
        Assert.Equal(9, maps.Count);
        ProcessMapping libc = maps[1];
        Assert.Equal(42, libc.ProcessId);
        Assert.Equal(0x7f2c8c000000UL, libc.Start);
        Assert.Equal(0x21000UL, libc.Size);
        Assert.Equal("r-xp", libc.Permissions);
        Assert.True(libc.IsReadable && libc.IsExecutable && !libc.IsWritable && !libc.IsShared);
        Assert.Equal(0x2000UL, libc.Offset);
        Assert.Equal("fd:01", libc.Device);
        Assert.Equal(1835030UL, libc.Inode);
        Assert.Equal(ProcessMappingKind.File, libc.Kind);
        Assert.Equal(
            [ProcessMappingKind.Heap, ProcessMappingKind.File, ProcessMappingKind.SharedMemory, ProcessMappingKind.Anonymous, ProcessMappingKind.Stack,
             ProcessMappingKind.Vdso, ProcessMappingKind.Vvar, ProcessMappingKind.Vsyscall, ProcessMappingKind.SharedMemory],
            maps.Select(m => m.Kind));
        Assert.Equal(0xffffffffff601000UL, maps[7].End);
    }

    [Fact]
    public void Parse_KeepsSpacesInPaths_AndSplitsOffDeleted()
    {
        ProcessMapping shm = ProcessMaps.Parse(1, SampleMaps)[2];
        Assert.Equal("/dev/shm/my demo", shm.Path);
        Assert.True(shm.IsDeleted);
        Assert.True(shm.IsShared);
        Assert.Equal("", ProcessMaps.Parse(1, SampleMaps)[3].Path);
    }

    [Fact]
    public void Parse_DecodesTheKernelsNewlineEscape_AndClassesSharedAnonymousMemory()
    {
        IReadOnlyList<ProcessMapping> maps = ProcessMaps.Parse(1,
        [
            "7f2c90000000-7f2c90001000 r--s 00000000 fd:01 77                         /tmp/line\\012break",
            "7f2c91000000-7f2c91001000 rw-s 00000000 00:01 5                          /dev/zero (deleted)",
        ]);
        Assert.Equal("/tmp/line\nbreak", maps[0].Path);
        Assert.Equal(ProcessMappingKind.SharedMemory, maps[1].Kind);
        Assert.Equal("/dev/zero", maps[1].Path);
    }

    [Fact]
    public void Read_Self_TellsALiveFileNamedDeletedFromADeletedFile_AndKeepsANewline()
    {
        string folder = Directory.CreateTempSubdirectory("sysprog-maps-").FullName;
        try
        {
            string live = Path.Combine(folder, "fake (deleted)");
            string gone = Path.Combine(folder, "gone");
            string newline = Path.Combine(folder, "line\nbreak");
            foreach (string file in new[] { live, gone, newline })
            {
                File.WriteAllBytes(file, new byte[Environment.SystemPageSize]);
            }
            using MemoryMapping liveView = MemoryMapping.MapFile(live);
            using MemoryMapping goneView = MemoryMapping.MapFile(gone);
            using MemoryMapping newlineView = MemoryMapping.MapFile(newline);
            File.Delete(gone);
            IReadOnlyList<ProcessMapping> maps = ProcessMaps.Read(Environment.ProcessId);
            ProcessMapping Find(MemoryMapping view) => maps.Single(m => m.Start == (ulong)view.Address);

            Assert.Equal((live, false, ProcessMappingKind.File), (Find(liveView).Path, Find(liveView).IsDeleted, Find(liveView).Kind));
            Assert.Equal((gone, true), (Find(goneView).Path, Find(goneView).IsDeleted));
            Assert.Equal((newline, false), (Find(newlineView).Path, Find(newlineView).IsDeleted));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Read_Self_ClassesSharedAnonymousMemoryAsSharedMemory()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(Environment.SystemPageSize, visibility: MappingVisibility.Shared);
        ProcessMapping entry = ProcessMaps.Read(Environment.ProcessId).Single(m => m.Start == (ulong)view.Address);
        Assert.Equal(ProcessMappingKind.SharedMemory, entry.Kind);
        Assert.Equal("rw-s", entry.Permissions);
    }

    [Fact]
    public void Parse_Smaps_AttachesTheDetailInBytes()
    {
        string[] smaps =
        [
            SampleMaps[0],
            "Size:                132 kB",
            "Rss:                  64 kB",
            "Pss:                  32 kB",
            "Shared_Clean:          0 kB",
            "Private_Dirty:        64 kB",
            "Swap:                  8 kB",
            "Locked:                4 kB",
            "VmFlags: rd wr mr mw me ac",
            SampleMaps[1],
            "Rss:                   4 kB",
        ];
        IReadOnlyList<ProcessMapping> maps = ProcessMaps.Parse(1, smaps);
        Assert.Equal(2, maps.Count);
        Assert.Equal(64 * 1024, maps[0].Rss);
        Assert.Equal(32 * 1024, maps[0].Pss);
        Assert.Equal(8 * 1024, maps[0].Swap);
        Assert.Equal(4 * 1024, maps[0].Locked);
        Assert.Equal(64 * 1024, maps[0].PrivateDirty);
        Assert.Equal(4 * 1024, maps[1].Rss);
        Assert.Null(maps[1].Swap);
        Assert.Null(ProcessMaps.Parse(1, SampleMaps)[0].Rss);
    }

    [Fact]
    public void Parse_RefusesTextThatIsNotMaps() =>
        Assert.Throws<FormatException>(() => ProcessMaps.Parse(1, ["hello world"]));

    [Fact]
    public void Read_Self_ShowsASharedMemoryMappingJustMade()
    {
        string name = TestNames.New();
        try
        {
            using SharedMemory shm = SharedMemory.Create(name, 8192);
            using MemoryMapping view = shm.Map();
            ProcessMapping entry = ProcessMaps.Read(Environment.ProcessId).Single(m => m.Start == (ulong)view.Address);
            Assert.Equal(shm.Path, entry.Path);
            Assert.Equal(ProcessMappingKind.SharedMemory, entry.Kind);
            Assert.Equal("rw-s", entry.Permissions);
            Assert.Equal(8192UL, entry.Size);
        }
        finally
        {
            TestNames.UnlinkIfPresent(name);
        }
    }

    [Fact]
    public void Read_WithDetail_HasRssForTouchedPages()
    {
        using MemoryMapping view = MemoryMapping.MapAnonymous(16 * Environment.SystemPageSize);
        view.AsSpan().Fill(1);
        ProcessMapping entry = ProcessMaps.Read(Environment.ProcessId, detail: true).Single(m => m.Contains((ulong)view.Address));
        Assert.True(entry.Rss >= 16 * Environment.SystemPageSize, $"Rss {entry.Rss}");
    }

    [Fact]
    public void Read_AProcessThatDoesNotExist_FailsWithENOENT()
    {
        var e = Assert.Throws<SysprogException>(() => ProcessMaps.Read(int.MaxValue));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Equal($"open(\"/proc/{int.MaxValue}/maps\") failed: ENOENT (No such file or directory). No process {int.MaxValue}.", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessMaps.Read(0));
    }

    [Fact]
    public void Read_AnotherUsersProcess_FailsWithEACCES_ForThatProcessOnly()
    {
        // Unprivileged, /proc/1/maps (init, owned by root) is not ours to read; our own maps are.
        Peer.Result result = Peer.RunUnprivileged([], "maps", "1", "self", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("open(\"/proc/1/maps\") failed: EACCES (Permission denied)", result.Error, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"heap\"", result.Output, StringComparison.Ordinal);
    }
}
