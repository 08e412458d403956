using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Terminal sizes by path (TIOCGWINSZ, TIOCSWINSZ), and bytes waiting on a socket (FIONREAD).</summary>
public sealed class TerminalTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public void ATerminalsSize_IsReadAndSet_ByPath_AndItsProgramIsTold()
    {
        using Pty pty = Pty.Start("sh", ["-c", "trap 'stty size' WINCH; echo ready; while :; do sleep 0.02; done"], rows: 30, columns: 100);
        Assert.NotNull(pty.Expect(new Regex("ready"), Soon));
        var lines = new List<string>();

        Assert.Equal(new TerminalSize(30, 100) { Path = pty.SecondaryPath }, Terminal.GetSize(pty.SecondaryPath, lines.Add));
        TerminalSize set = Terminal.SetSize(pty.SecondaryPath, 40, 120, lines.Add);

        Assert.Equal(new TerminalSize(40, 120) { Path = pty.SecondaryPath }, set);
        Assert.Equal("40 120", pty.Expect(new Regex("[0-9]+ [0-9]+"), Soon)?.Value);
        Assert.Equal(new TerminalSize(40, 120), pty.Size);
        Assert.Contains(lines, l => l.EndsWith("TIOCSWINSZ, {ws_row=40, ws_col=120}) = 0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("O_NOCTTY", StringComparison.Ordinal));
    }

    [Fact]
    public void AFileThatIsNoTerminal_IsENOTTY_NamingIt()
    {
        var e = Assert.Throws<SysprogException>(() => Terminal.GetSize("/etc/passwd"));

        Assert.Equal(Errno.ENOTTY, e.Errno);
        Assert.Contains("/etc/passwd is not a terminal", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheControllingTerminal_IsReadOrItsAbsenceExplained()
    {
        TerminalSize size;
        try
        {
            size = Terminal.GetSize();
        }
        catch (SysprogException e) when (e.Errno == Errno.ENXIO)
        {
            Assert.Contains("no controlling terminal", e.Message, StringComparison.Ordinal);
            return;
        }
        Assert.Equal(Terminal.Controlling, size.Path);
        Assert.True(size.Rows > 0 && size.Columns > 0);
    }

    [Fact]
    public void BadSizes_AreRefused_BeforeAnySystemCall()
    {
        var lines = new List<string>();

        Assert.Throws<ArgumentOutOfRangeException>(() => Terminal.SetSize("/dev/tty", 0, 80, lines.Add));
        Assert.Throws<ArgumentOutOfRangeException>(() => Terminal.SetSize("/dev/tty", 24, 70000, lines.Add));

        Assert.Empty(lines);
    }

    [Theory]
    [InlineData(SocketKind.Stream)]
    [InlineData(SocketKind.Datagram)]
    public void BytesWaitingOnASocket_AreFIONREAD(SocketKind kind)
    {
        using SocketPair pair = Socket.CreatePair(kind);
        Assert.Equal(0, pair.Second.BytesAvailable);

        pair.First.Send("hello"u8);

        Assert.Equal(5, pair.Second.BytesAvailable);
    }
}
