using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Programs on a pseudoterminal: they see a terminal of the given size, resizes, cooked and raw input, Ctrl+C; exits; no leaks.</summary>
public sealed class PtyTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly List<Pty> _ptys = [];

    public void Dispose()
    {
        _ptys.ForEach(p => p.Dispose());
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        Assert.All(_ptys, p => Assert.False(Directory.Exists($"/proc/{p.ProcessId}"), $"{p.Description} was not reaped"));
    }

    private Pty Start(string script, int rows = 24, int columns = 80)
    {
        Pty pty = Pty.Start("sh", ["-c", script], rows, columns);
        _ptys.Add(pty);
        return pty;
    }

    private static string Expect(Pty pty, string pattern) =>
        pty.Expect(new Regex(pattern), Soon)?.Value ?? throw new TimeoutException($"no /{pattern}/ from {pty.Description}");

    [Fact]
    public void TheProgram_SeesATerminal_AsItsControllingTerminal_OfTheGivenSize()
    {
        // /dev/tty opens only for a process with a controlling terminal (ENXIO otherwise).
        Pty pty = Start("test -t 0 && test -t 1 && test -t 2 && echo terminal; tty; stty size; : >/dev/tty && echo controlling", rows: 30, columns: 100);

        Expect(pty, "terminal");
        Assert.Equal(pty.SecondaryPath, Expect(pty, "/dev/pts/[0-9]+"));
        Assert.Equal("30 100", Expect(pty, "[0-9]+ [0-9]+"));
        Expect(pty, "controlling");
        Assert.Equal(new ProcessExit(pty.ProcessId, 0, null, false), pty.WaitForExit(Soon));
        Assert.Equal(new TerminalSize(30, 100), pty.Size);
    }

    [Fact]
    public void AResize_SendsSIGWINCH_AndTheProgramSeesTheNewSize()
    {
        Pty pty = Start("trap 'stty size' WINCH; echo ready; while :; do sleep 0.02; done");
        Expect(pty, "ready");

        pty.Resize(40, 120);

        Assert.Equal("40 120", Expect(pty, "40 120"));
        Assert.Equal(new TerminalSize(40, 120), pty.Size);
    }

    [Fact]
    public void CookedInput_IsEditedAndGivenALineAtATime_RawInputAtOnce()
    {
        Pty cooked = Start("read line; echo \"[$line]\"");
        Assert.True(cooked.Canonical);
        Assert.True(cooked.Echo);
        cooked.Write("abc\u007fd\r", Soon);
        Assert.Equal("[abd]", Expect(cooked, @"\[.*\]"));

        Pty raw = Start("echo ready; head -c 3 | od -An -c");
        raw.SetRaw(true);
        Assert.False(raw.Canonical);
        Assert.False(raw.Echo);
        Expect(raw, "ready");
        raw.Write("a\u007fb", Soon);
        Assert.Matches(@"a\s+177\s+b", Expect(raw, @"a\s+177\s+b"));
    }

    [Fact]
    public void WithoutANewline_CookedInputWaits()
    {
        Pty pty = Start("echo ready; head -c 1 | od -An -c");
        Expect(pty, "ready");

        pty.Write("x", Soon);

        // The terminal echoes the x at once; od prints it (indented) only once Enter ends the line.
        Assert.Null(pty.Expect(new Regex(" {3}x"), TimeSpan.FromMilliseconds(300)));
        pty.Write("\r", Soon);
        Expect(pty, " {3}x");
    }

    [Fact]
    public void EchoCanBeTurnedOff()
    {
        Pty pty = Start("echo ready; read secret; echo \"got $secret\"");
        Expect(pty, "ready");

        pty.SetEcho(false);
        pty.Write("hunter2\r", Soon);

        PtyMatch got = pty.Expect(new Regex("got hunter2"), Soon)!;
        Assert.DoesNotContain("hunter2", got.Before, StringComparison.Ordinal);
    }

    [Fact]
    public void CtrlC_IsSIGINT_ToTheForegroundProgram()
    {
        Pty pty = Start("echo ready; exec sleep 30");
        Expect(pty, "ready");

        pty.Write("\u0003", Soon);

        ProcessExit? exit = pty.WaitForExit(Soon);
        Assert.Equal(Signals.SIGINT, exit?.Signal);
        Assert.Equal("SIGINT", exit?.SignalName);
    }

    [Fact]
    public void ExitCodesAndSignals_AreReported()
    {
        Assert.Equal(7, Start("exit 7").WaitForExit(Soon)?.ExitCode);

        Pty killed = Start("echo ready; exec sleep 30");
        Expect(killed, "ready");
        killed.Signal(Signals.SIGTERM);
        Assert.Equal(new ProcessExit(killed.ProcessId, null, Signals.SIGTERM, false), killed.WaitForExit(Soon));
        Assert.Throws<InvalidOperationException>(() => killed.Signal(Signals.SIGTERM));
    }

    [Fact]
    public void TheOutputEnding_EndsAnExpect_WithWhatWasLeft()
    {
        Pty pty = Start("echo last words");

        var ended = Assert.Throws<EndOfStreamException>(() => pty.Expect(new Regex("never"), Soon));

        Assert.Contains("last words", ended.Message, StringComparison.Ordinal);
        Assert.True(pty.IsEnded);
        Assert.Equal("last words\r\n", pty.Read(Soon));
        Assert.Equal("", pty.Read(Soon));
    }

    [Fact]
    public void AnExpectThatTimesOut_TakesNothing()
    {
        Pty pty = Start("echo one two; exec sleep 30");
        Expect(pty, "one");

        Assert.Null(pty.Expect(new Regex("three"), TimeSpan.FromMilliseconds(100)));

        PtyMatch two = pty.Expect(new Regex("t(w)o"), Soon)!;
        Assert.Equal(" ", two.Before);
        Assert.Equal(["w"], two.Groups);
    }

    [Fact]
    public void Closing_HangsUp_AndKillsAProgramThatIgnoresIt()
    {
        Pty polite = Start("echo ready; exec sleep 30");
        Expect(polite, "ready");
        polite.Close();
        Assert.Equal(Signals.SIGHUP, polite.Exit?.Signal);

        Pty stubborn = Start("trap '' HUP; echo ready; exec sleep 30");
        Expect(stubborn, "ready");
        var clock = Stopwatch.StartNew();
        stubborn.Close();
        Assert.Equal(Signals.SIGKILL, stubborn.Exit?.Signal);
        Assert.InRange(clock.Elapsed, Pty.HangUpGrace, Pty.HangUpGrace + TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void TheEnvironment_IsInheritedWithChanges_AndTheWorkingDirectoryIsSet()
    {
        Pty pty = Pty.Start("sh", ["-c", "echo \"[$SYSPROG_PTY_TEST] [${HOME-unset}] [$TERM]\"; pwd"], workingDirectory: "/tmp",
            environment: new Dictionary<string, string?> { ["SYSPROG_PTY_TEST"] = "yes", ["HOME"] = null, ["TERM"] = "vt100" });
        _ptys.Add(pty);

        Assert.Equal("[yes] [unset] [vt100]", Expect(pty, @"\[.*\]"));
        Assert.Equal("/tmp", Expect(pty, "/tmp"));
    }

    [Fact]
    public void AMissingProgram_IsENOENT_Explained()
    {
        var failed = Assert.Throws<SysprogException>(() => Pty.Start("sysprog-no-such-program"));

        Assert.Equal(Errno.ENOENT, failed.Errno);
        Assert.Equal("posix_spawnp", failed.Call);
        Assert.Contains("PATH", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheProgram_StartsWithDefaultSignalsAndNothingBlocked()
    {
        // The runtime ignores SIGPIPE; a program started from it must not inherit that. exec: a shell that forked
        // grep instead would be read while it waits for it, with every signal blocked (dash's waitproc does that).
        Pty pty = Start("exec grep -E '^Sig(Blk|Ign)' /proc/self/status");

        Assert.Equal("SigBlk:\t0000000000000000", Expect(pty, @"SigBlk:\s+[0-9a-f]+"));
        Assert.Equal("SigIgn:\t0000000000000000", Expect(pty, @"SigIgn:\s+[0-9a-f]+"));
    }

    [Fact]
    public void TheCli_RunsACommandOnATerminal_AndExitsWithItsStatus()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { Peer.CliPath, "pty", "--rows", "33", "--columns", "77", "--", "sh", "-c", "read answer; test -t 0 && stty size && echo \"got $answer\"; exit 5" })
        {
            info.ArgumentList.Add(argument);
        }
        Process cli = Process.Start(info)!;
        cli.StandardInput.Write("42\n");
        cli.StandardInput.Close();

        Peer.Result result = Peer.Finish(cli);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("33 77", result.Output, StringComparison.Ordinal);
        Assert.Contains("got 42", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCli_RunFromATerminal_PassesKeysThroughRaw_FollowsItsSize_AndRestoresIt()
    {
        // The CLI on a terminal of this test's, as when a person runs it: its stdin and stdout are that terminal.
        Pty outer = Pty.Start("dotnet", [Peer.CliPath, "pty", "--", "sh"], rows: 30, columns: 90,
            environment: new Dictionary<string, string?> { ["PS1"] = "inner> ", ["DOTNET_NOLOGO"] = "1" });
        _ptys.Add(outer);
        Expect(outer, "inner> ");
        Assert.True(SpinWait.SpinUntil(() => !outer.Canonical, Soon), "the CLI puts its terminal in raw mode");

        outer.Write("echo $((6 * 7))\r", Soon);
        PtyMatch answer = outer.Expect(new Regex(@"42\r\n"), Soon)!;
        // Only the command's terminal echoes: a cooked outer terminal would echo the line a second time.
        Assert.Single(Regex.Matches(answer.Before, Regex.Escape("echo $((6 * 7))")));
        Assert.Equal(new TerminalSize(30, 90), TerminalSizeSeenBy(outer, "30 90"));

        outer.Resize(40, 100);
        Assert.Equal(new TerminalSize(40, 100), TerminalSizeSeenBy(outer, "40 100"));

        outer.Write("sleep 30; echo slept\r", Soon);
        int shell = ChildProcesses(outer.ProcessId, "sh").Single();
        Assert.True(SpinWait.SpinUntil(() => ChildProcesses(shell, "sleep").Any(), Soon), "sleep runs before Ctrl+C is typed");
        outer.Write("\u0003", Soon);
        PtyMatch interrupted = outer.Expect(new Regex("inner> "), Soon)!;
        Assert.DoesNotContain("\nslept", interrupted.Before, StringComparison.Ordinal);

        outer.Write("exit 7\r", Soon);
        Assert.Equal(7, outer.WaitForExit(Soon)?.ExitCode);
        Assert.True(outer.Canonical && outer.Echo, "the CLI restores its terminal's modes");
    }

    /// <summary>Asks the shell for its terminal's size until it says <paramref name="expected"/> (a resize reaches it through a signal) or time runs out.</summary>
    private static TerminalSize TerminalSizeSeenBy(Pty pty, string expected)
    {
        var clock = Stopwatch.StartNew();
        string said;
        do
        {
            pty.Write("stty size\r", Soon);
            said = pty.Expect(new Regex(@"(\d+ \d+)\r\n"), Soon)!.Groups[0];
        }
        while (said != expected && clock.Elapsed < Soon);
        string[] parts = said.Split(' ');
        return new TerminalSize(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>The children of <paramref name="parent"/> named <paramref name="command"/>, from /proc.</summary>
    private static IEnumerable<int> ChildProcesses(int parent, string command) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture))
            .Where(pid =>
            {
                try
                {
                    string stat = File.ReadAllText($"/proc/{pid}/stat");
                    string[] after = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    return int.Parse(after[1], CultureInfo.InvariantCulture) == parent && File.ReadAllText($"/proc/{pid}/comm").Trim() == command;
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .ToList();

    [Fact]
    public async Task Expect_UnderAFloodThatNeverMatches_EndsByItsDeadline()
    {
        // yes writes without pause: output is always ready, so no read waits and only the deadline can end the wait.
        Pty pty = Pty.Start("yes", ["flood"], 24, 80);
        _ptys.Add(pty);
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        Task<PtyMatch?> expect = Task.Run(() => pty.Expect(new Regex("never printed"), TimeSpan.FromSeconds(1), stop.Token));
        bool ended = await Task.WhenAny(expect, Task.Delay(TimeSpan.FromSeconds(20))) == expect;
        stop.Cancel();
        Assert.True(ended, "Expect went on past its deadline under the flood");
        Assert.Null(await expect);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Expect ended after {clock.Elapsed}");
    }
}
