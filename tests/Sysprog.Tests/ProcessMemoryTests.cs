using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Cross-memory attach against a C peer with a known global and a readable page followed by an unreadable one:
/// read, write (the peer prints the new value), a short read reported where it stopped, EFAULT, ESRCH, and EPERM
/// explained for an unprivileged reader.
/// </summary>
public sealed class ProcessMemoryTests : IDisposable
{
    private const string Source = """
        #include <stdint.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        volatile int64_t counter = 42;
        int main(void) {
            /* A page of 'x', then a page nothing may read. */
            char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (page == MAP_FAILED || mprotect(page + 4096, 4096, PROT_NONE) != 0) { perror("mmap"); return 1; }
            memset(page, 'x', 4096);
            printf("%p %p\n", (void *)&counter, (void *)page);
            fflush(stdout);
            char line[64];
            while (fgets(line, sizeof line, stdin)) { printf("%lld\n", (long long)counter); fflush(stdout); }
            return 0;
        }
        """;

    private static readonly Lazy<string?> PeerPath = new(() => CPeer.Compile("vmpeer", Source));
    private readonly Process? _peer;
    private readonly ulong _counter;
    private readonly ulong _page;

    public ProcessMemoryTests()
    {
        if (PeerPath.Value is not string path)
        {
            return;
        }
        _peer = Process.Start(new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        string[] addresses = _peer.StandardOutput.ReadLine()!.Split(' ');
        _counter = ulong.Parse(addresses[0][2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        _page = ulong.Parse(addresses[1][2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        if (_peer is not null)
        {
            _peer.Kill();
            _peer.WaitForExit();
            _peer.Dispose();
        }
    }

    private int PeerId
    {
        get
        {
            Skip.If(_peer is null, "no C compiler (cc) on PATH: these tests compile a tiny peer with a known global variable");
            return _peer!.Id;
        }
    }

    [SkippableFact]
    public void AGlobalIsRead_ThenWritten_AndThePeerSeesTheNewValue()
    {
        int peer = PeerId;
        byte[] value = ProcessMemory.Read(peer, _counter, 8, out ProcessMemoryTransfer read);

        ProcessMemoryTransfer written = ProcessMemory.Write(peer, _counter, BitConverter.GetBytes(4242L));
        _peer!.StandardInput.WriteLine();

        Assert.Equal(42, BitConverter.ToInt64(value));
        Assert.True(read.IsComplete);
        Assert.Equal((8L, 8L, "process_vm_writev"), (written.Requested, written.Transferred, written.Call));
        Assert.Equal("4242", _peer.StandardOutput.ReadLine());
    }

    [SkippableFact]
    public void AGlobalIsFoundByName_FromTheMapsAndTheFilesSymbols()
    {
        int peer = PeerId;

        ProcessSymbol counter = ProcessSymbols.Find(peer, "counter");
        ProcessSymbol main = ProcessSymbols.Find(peer, "main");
        ProcessSymbol printf = ProcessSymbols.Find(peer, "printf");

        Assert.Equal((_counter, 8UL, ElfSymbolType.Object, ElfSymbolBinding.Global), (counter.Address, counter.Size, counter.Type, counter.Binding));
        Assert.Equal(PeerPath.Value, counter.File);
        Assert.Equal(ElfSymbolType.Function, main.Type);
        Assert.Contains("libc.so", printf.File, StringComparison.Ordinal);
        Assert.Equal(42L, BitConverter.ToInt64(ProcessMemory.Read(peer, counter.Address, 8, out _)));
        var missing = Assert.Throws<KeyNotFoundException>(() => ProcessSymbols.Find(peer, "sysprog_no_such_symbol"));
        Assert.Contains($"process {peer}", missing.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void TheCli_PeeksAndPokesAGlobalByName_AndThePeerSeesTheNewValue()
    {
        int peer = PeerId;

        Peer.Result peek = Peer.Run("peek", $"{peer}", "counter", "--as", "int64");
        Peer.Result poke = Peer.Run("poke", $"{peer}", "counter", "--int64", "-7");
        _peer!.StandardInput.WriteLine();

        Assert.Equal((0, "42"), (peek.ExitCode, peek.Output.Trim()));
        Assert.Equal(0, poke.ExitCode);
        Assert.Equal("-7", _peer.StandardOutput.ReadLine());
        Assert.Equal(1, Peer.Run("peek", $"{peer}", "sysprog_no_such_symbol").ExitCode);
    }

    [SkippableFact]
    public void AReadRunningIntoAnUnreadablePage_IsShort_AndSaysWhereAndWhy()
    {
        int peer = PeerId;

        byte[] bytes = ProcessMemory.Read(peer, _page + 4000, 200, out ProcessMemoryTransfer transfer);

        Assert.Equal(96, bytes.Length);
        Assert.All(bytes, b => Assert.Equal((byte)'x', b));
        Assert.Equal((200L, 96L), (transfer.Requested, transfer.Transferred));
        Assert.Equal(_page + 4096, transfer.StoppedAt);
        Assert.Equal(Errno.EFAULT, transfer.StopReason);
        var failed = Assert.Throws<SysprogException>(transfer.ThrowIfIncomplete);
        Assert.Contains("Read 96 of 200 bytes", failed.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void NothingReadable_IsEFAULT_NamingTheAddress()
    {
        int peer = PeerId;

        var failed = Assert.Throws<SysprogException>(() => ProcessMemory.Read(peer, _page + 4096, 8, out _));

        Assert.Equal((Errno.EFAULT, "process_vm_readv"), (failed.Errno, failed.Call));
        Assert.Contains($"0x{_page + 4096:x} (8 bytes) is not mapped in process {peer}, or not readable", failed.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void AnUnprivilegedReader_IsRefusedWithEPERM_AndTheRuleThatApplied()
    {
        int peer = PeerId;
        Skip.If(Environment.UserName != "root", "the peer must belong to another user than the reader: run as root");

        Peer.Result result = Peer.RunUnprivileged([], "peek", $"{peer}", $"0x{_counter:x}", "--count", "8");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("process_vm_readv", result.Error, StringComparison.Ordinal);
        Assert.Contains("EPERM", result.Error, StringComparison.Ordinal);
        Assert.Contains("ptrace access check", result.Error, StringComparison.Ordinal);
        Assert.Contains("uid 0/0/0/0", result.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void TheCli_PeeksAndPokes()
    {
        int peer = PeerId;

        Peer.Result peeked = Peer.Run("peek", $"{peer}", $"0x{_counter:x}", "--count", "1", "--as", "int64");
        Peer.Result poked = Peer.Run("poke", $"{peer}", $"0x{_counter:x}", "--int64", "7");
        _peer!.StandardInput.WriteLine();

        Assert.Equal((0, "42"), (peeked.ExitCode, peeked.Output.Trim()));
        Assert.Equal(0, poked.ExitCode);
        Assert.Equal("7", _peer.StandardOutput.ReadLine());
    }

    [Fact]
    public void AProcessThatIsGone_IsESRCH()
    {
        using Process gone = Process.Start("true")!;
        gone.WaitForExit();

        var failed = Assert.Throws<SysprogException>(() => ProcessMemory.Read(gone.Id, 0x10000, 8, out _));

        Assert.Equal(Errno.ESRCH, failed.Errno);
    }

    [Theory]
    [InlineData(0UL, 8)]
    [InlineData(ulong.MaxValue, 8)]
    [InlineData(0x10000UL, 0)]
    public void BadRanges_AreRefusedBeforeAnyCall(ulong address, int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessMemory.Read(Environment.ProcessId, address, count, out _));
}
