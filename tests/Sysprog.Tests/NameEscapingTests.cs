using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Names any user can create (invalid UTF-8, ESC, newline): every listing shows them escaped, exactly once, and what
/// it shows names the object again. The files are planted with raw bytes through libc here, not through Sysprog.
/// </summary>
public sealed partial class NameEscapingTests : IDisposable
{
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly string _stem = $"{TestNames.Prefix}names-";

    public void Dispose()
    {
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        TestNames.AssertNoneLeft();
    }

    [Theory]
    [InlineData(new byte[] { (byte)'x', 0xff, 0xfe }, @"x\xff\xfe")]
    [InlineData(new byte[] { 0x1b, (byte)'[', (byte)'3', (byte)'1', (byte)'m' }, @"\x1b[31m")]
    [InlineData(new byte[] { (byte)'a', (byte)'\n', (byte)'b', (byte)'\t', (byte)'\r' }, @"a\nb\t\r")]
    [InlineData(new byte[] { (byte)'a', (byte)'\\', (byte)'b' }, @"a\\b")]
    [InlineData(new byte[] { 0x7f, 0xc2, 0x9b, 0xe2, 0x80, 0xa8 }, @"\x7f\xc2\x9b\xe2\x80\xa8")]
    [InlineData(new byte[] { 0xc3, 0xa9, 0xe2, 0x82 }, @"é\xe2\x82")]
    public void Escape_WritesControlsAndInvalidBytesAsEscapes_AndUnescapeGivesTheBytesBack(byte[] raw, string expected)
    {
        Assert.Equal(expected, NameEscaping.Escape(raw));
        Assert.Equal(raw, NameEscaping.Unescape(expected));
    }

    [Fact]
    public void Unescape_ReadsBackEveryByteAndRandomNames()
    {
        var random = new Random(27);
        IEnumerable<byte[]> names = Enumerable.Range(1, 255).Select(b => new byte[] { (byte)b })
            .Concat(Enumerable.Range(0, 2000).Select(_ => { byte[] b = new byte[random.Next(1, 12)]; random.NextBytes(b); return b; }));
        foreach (byte[] raw in names)
        {
            string shown = NameEscaping.Escape(raw);
            Assert.Equal(raw, NameEscaping.Unescape(shown));
            Assert.DoesNotContain(shown, c => char.IsControl(c) || c is '\u2028' or '\u2029');
        }
    }

    [Theory]
    [InlineData(@"a\q")]
    [InlineData(@"a\")]
    [InlineData(@"a\x4")]
    [InlineData(@"a\xzz")]
    public void Unescape_RefusesABackslashThatStartsNoEscape(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => NameEscaping.Unescape(name));
        Assert.Contains("not an escape", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => IpcName.Normalize(name));
    }

    [Fact]
    public void EscapeOfText_GivesPlainTextBackUncopied_AndQuoteEscapesTheQuoteAndCutsAtTheLimit()
    {
        string plain = "/tmp/plain name é";
        Assert.Same(plain, NameEscaping.Escape(plain));
        Assert.Equal(@"a\nb\x1b[31m\\", NameEscaping.Escape("a\nb\u001b[31m\\"));
        Assert.Equal(@"""a\x22b\n""", NameEscaping.Quote("a\"b\n"));
        Assert.Equal(@"""ab""...", NameEscaping.Quote("abc", limit: 2));
        Assert.Equal(@"""\xff\x1b""...", NameEscaping.Quote([0xff, 0x1b, 0x41], limit: 2));
    }

    [Fact]
    public void TraceLinesAndErrors_ShowAPathWithControlsEscaped_ThroughTheOneRule()
    {
        string folder = Directory.CreateTempSubdirectory("sysprog-names-").FullName;
        string path = Path.Combine(folder, "a\nb\u001b[31m\"c");
        var lines = new List<string>();
        try
        {
            Fifo.Create(path, trace: lines.Add);
            var taken = Assert.Throws<SysprogException>(() => Fifo.Create(path, trace: lines.Add));
            Assert.Equal(Errno.EEXIST, taken.Errno);
            Assert.Equal($"{folder}/a\\nb\\x1b[31m\"c", taken.Target);
            // mkfifoat in the folder the planted-path rule reached: the name is the last component, escaped.
            Assert.Contains(lines, line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^mkfifoat\(\d+, ""a\\nb\\x1b\[31m\\x22c"", 0600\) = -1 EEXIST"));
            Assert.All(lines.Append(taken.Message), line => Assert.DoesNotContain(line, char.IsControl));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Normalize_GivesTheEscapedForm_WhetherAControlIsTypedRawOrEscaped()
    {
        Assert.Equal(@"/a\x1b[31m\n", IpcName.Normalize("a\u001b[31m\n"));
        Assert.Equal(@"/a\x1b[31m\n", IpcName.Normalize(@"/a\x1b[31m\n"));
        Assert.Throws<ArgumentException>(() => IpcName.Normalize(@"a\x2fb"));
        Assert.Throws<ArgumentException>(() => IpcName.Normalize(@"a\x00"));
    }

    [Fact]
    public void SharedMemoryListings_ShowPlantedNamesEscapedOnce_AndUnlinkingTheShownNameRemovesThatObjectOnly()
    {
        byte[][] planted = [Raw("x", 0xff, 0xfe), Raw("esc", 0x1b, '[', '3', '1', 'm'), Raw("nl", '\n', 'f', 'a', 'k', 'e')];
        string[] shown = [$"/{_stem}x\\xff\\xfe", $"/{_stem}esc\\x1b[31m", $"/{_stem}nl\\nfake"];
        try
        {
            foreach (byte[] name in planted)
            {
                Plant("/dev/shm/", name, 0);
            }
            string pattern = $"/{_stem}*";
            IReadOnlyList<SharedMemoryInfo> listed = SharedMemory.List(pattern);
            Assert.Equal(shown.Order(StringComparer.Ordinal), listed.Select(i => i.Name));
            IpcObject[] inventory = IpcInventory.Take().Objects.Where(o => o.Name.StartsWith("/" + _stem, StringComparison.Ordinal)).ToArray();
            Assert.Equal(shown.Order(StringComparer.Ordinal), inventory.Select(o => o.Name).Order(StringComparer.Ordinal));

            Peer.Result cli = Peer.Run("shm", "list", pattern);
            Assert.Equal(0, cli.ExitCode);
            Assert.DoesNotContain('\u001b', cli.Output);
            foreach (string name in shown)
            {
                Assert.Single(cli.Output.Split('\n'), line => line.EndsWith(" " + name, StringComparison.Ordinal));
            }
            Assert.DoesNotContain(cli.Output.Split('\n'), line => line.StartsWith("fake", StringComparison.Ordinal));

            for (int i = 0; i < planted.Length; i++)
            {
                SharedMemory.Unlink(listed.Single(l => l.Name == shown[i]).Name);
                Assert.False(Exists("/dev/shm/", planted[i]), $"{shown[i]} must be gone");
                Assert.All(planted[(i + 1)..], later => Assert.True(Exists("/dev/shm/", later), "only the shown object is removed"));
            }
        }
        finally
        {
            foreach (byte[] name in planted)
            {
                RemovePlanted("/dev/shm/", name);
            }
        }
    }

    [Fact]
    public void SemaphoreListing_ShowsAPlantedInvalidName_AndSemUnlinkOfTheShownNameRemovesIt()
    {
        byte[] name = [.. "sem."u8, .. Raw("", 0x1b, 'x', 0xff)];
        string shown = $"/{_stem}\\x1bx\\xff";
        try
        {
            Plant("/dev/shm/", name, 32);
            SemaphoreInfo listed = Assert.Single(PosixSemaphore.List($"/{_stem}*"));
            Assert.Equal(shown, listed.Name);
            Assert.Null(listed.Problem);
            Assert.Equal(0, listed.Value);
            PosixSemaphore.Unlink(listed.Name);
            Assert.False(Exists("/dev/shm/", name));
        }
        finally
        {
            RemovePlanted("/dev/shm/", name);
        }
    }

    [SkippableFact]
    public void QueueListing_ShowsAnInvalidName_AndUnlinkingTheShownNameRemovesIt()
    {
        MqueueFilesystem.SkipUnlessMounted();
        string shown = $"/{_stem}q\\xff\\n";
        byte[] raw = Raw("q", 0xff, '\n');
        try
        {
            MessageQueue.Create(shown).Dispose();
            Assert.True(Exists(MessageQueue.Directory + "/", raw), "the queue is made with the bytes the escapes stand for");
            MessageQueueInfo listed = Assert.Single(MessageQueue.List($"/{_stem}*"));
            Assert.Equal(shown, listed.Name);
            Assert.Null(listed.Problem);
            MessageQueue.Unlink(listed.Name);
            Assert.False(Exists(MessageQueue.Directory + "/", raw));
        }
        finally
        {
            RemovePlanted(MessageQueue.Directory + "/", raw);
        }
    }

    [Fact]
    public void SocketListings_EscapeANewlineInAUnixSocketPath()
    {
        string folder = Directory.CreateTempSubdirectory("sysprog-names-").FullName;
        string path = Path.Combine(folder, "a\nfake\u001b[31m");
        try
        {
            using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen();
            string shown = $"{folder}/a\\nfake\\x1b[31m";
            SocketInfo listed = Assert.Single(SocketTable.List(new SocketQuery { Path = folder + "/*" }));
            Assert.Equal(shown, listed.LocalAddress);

            Peer.Result cli = Peer.Run("sockets", "--path", folder + "/*");
            Assert.Equal(0, cli.ExitCode);
            Assert.DoesNotContain('\u001b', cli.Output);
            Assert.Single(cli.Output.Split('\n'), line => line.Contains(shown, StringComparison.Ordinal));
            Assert.DoesNotContain(cli.Output.Split('\n'), line => line.StartsWith("fake", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ProcNetUnix_ANewlineInAPathContinuesItsRow_AndForgesNoRow()
    {
        byte[] table = [.. "Num       RefCount Protocol Flags    Type St Inode Path\n"u8,
            .. "000000004579eae5: 00000002 00000000 00010000 0001 01 255744 /tmp/a\n0: 0 0 00010000 1 01 999999 /forged\n"u8,
            .. "00000000d8ffd6ba: 00000003 00000000 00000000 0002 03   1234 /tmp/b"u8, 0xff, .. "\n\n"u8,
            .. "0000000011bd1519: 00000003 00000000 00000000 0001 03 261828\n"u8];
        List<SocketInfo> rows = SocketTable.ParseUnix(table);
        Assert.Equal([(255744UL, "LISTEN", @"/tmp/a\n0: 0 0 00010000 1 01 999999 /forged"), (1234UL, "ESTAB", @"/tmp/b\xff\n"), (261828UL, "ESTAB", "")],
            rows.Select(r => (r.Inode, r.State, r.LocalAddress)));
    }

    [Fact]
    public void ProcNetUnixFallback_ReadsASocketPathWithAForgedRowInIt_AsOneSocket()
    {
        string folder = Directory.CreateTempSubdirectory("sysprog-names-").FullName;
        string path = Path.Combine(folder, "a\n0: 0 0 00010000 1 01 999999 forged");
        try
        {
            using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen();
            List<SocketInfo> rows = SocketTable.ParseUnix(ProcFile.ReadAllBytes("/proc/net/unix", null).Span);
            SocketInfo listed = Assert.Single(rows, r => r.LocalAddress.StartsWith(folder, StringComparison.Ordinal));
            Assert.Equal($"{folder}/a\\n0: 0 0 00010000 1 01 999999 forged", listed.LocalAddress);
            Assert.DoesNotContain(rows, r => r.LocalAddress == "forged" || r.Inode == 999999);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void LeakCheck_SeesALeftoverWhoseNameIsNotUtf8_AndRemovesIt()
    {
        byte[] name = Raw("left", 0xff, 0x1b);
        Plant("/dev/shm/", name, 0);
        try
        {
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(TestNames.AssertNoneLeft);
            Assert.False(Exists("/dev/shm/", name), "the leak check removes what it found, by the name it listed");
        }
        finally
        {
            RemovePlanted("/dev/shm/", name);
        }
    }

    [Fact]
    public void ProcessName_EscapesTheNameAProcessGaveItself()
    {
        // bash writes its own comm with a builtin, so no exec resets it, then waits on its stdin until disposed. No
        // newline in it: each write to comm replaces it, and bash may write a newline apart.
        var info = new System.Diagnostics.ProcessStartInfo("bash", ["-c", "printf 'a\\033[31m\\tb' > /proc/$$/comm && echo ready && read -r _"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using System.Diagnostics.Process child = System.Diagnostics.Process.Start(info)!;
        try
        {
            Assert.Equal("ready", child.StandardOutput.ReadLine());
            Assert.Equal(@"a\x1b[31m\tb", ProcFile.ProcessName(child.Id));
        }
        finally
        {
            child.StandardInput.Close();
            child.WaitForExit();
        }
    }

    /// <summary>This test's name stem, then <paramref name="text"/>, then raw bytes (given as chars or numbers).</summary>
    private byte[] Raw(string text, params object[] bytes) =>
        [.. Encoding.UTF8.GetBytes(_stem + text), .. bytes.Select(b => b is char c ? (byte)c : Convert.ToByte(b, System.Globalization.CultureInfo.InvariantCulture))];

    private static byte[] PathBytes(string folder, byte[] name) => [.. Encoding.UTF8.GetBytes(folder), .. name, 0];

    /// <summary>Creates a file of <paramref name="size"/> zero bytes under a raw name, the way any user can.</summary>
    private static void Plant(string folder, byte[] name, int size)
    {
        const int O_WRONLY = 1, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000;
        int fd = open(PathBytes(folder, name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0x180);
        Assert.True(fd >= 0, $"open of a planted name failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            Assert.Equal(0, ftruncate(fd, size));
        }
        finally
        {
            close(fd);
        }
    }

    private static bool Exists(string folder, byte[] name) => access(PathBytes(folder, name), 0) == 0;

    private static void RemovePlanted(string folder, byte[] name) => unlink(PathBytes(folder, name));

    [LibraryImport("libc", SetLastError = true)]
    private static partial int open(byte[] path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int access(byte[] path, int mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlink(byte[] path);
}
