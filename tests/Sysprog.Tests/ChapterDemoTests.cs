using Xunit;
using Xunit.Abstractions;

namespace Sysprog.Tests;

/// <summary>
/// The chapter demos of the CLI (sysprog demo pipes, sysprog demo sockets) run end to end in another process: every
/// step reached, each outcome the chapter teaches printed, nothing left running or on disk.
/// </summary>
public sealed class ChapterDemoTests(ITestOutputHelper output)
{
    private Peer.Result RunDemo(params string[] arguments)
    {
        Peer.Result result = Peer.Run(arguments);
        output.WriteLine(result.Output);
        output.WriteLine(result.Error);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Empty(result.Error);
        return result;
    }

    private static void AssertStepsInOrder(string output, int steps)
    {
        int at = 0;
        for (int step = 1; step <= steps; step++)
        {
            int found = output.IndexOf($"\n[{step}] ", at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"step {step} is missing or out of order");
            at = found;
        }
        Assert.DoesNotContain($"[{steps + 1}] ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void DemoPipes_ReplaysTheChapter_WithEachOutcome()
    {
        string shell = Sh("ls /usr/bin | sort | wc -l").Trim();

        string text = RunDemo("demo", "pipes").Output;

        AssertStepsInOrder(text, 7);
        Assert.Contains("ls: exit code 0; sort: exit code 0.", text, StringComparison.Ordinal);
        Assert.Matches(@"wc pid \d+ sleeps in read\(0<pipe:\[\d+\]>", text);
        Assert.Contains($"wc printed {shell} and ended with exit code 0.", text, StringComparison.Ordinal);
        Assert.Contains($"sh -c 'ls /usr/bin | sort | wc -l' prints {shell}.", text, StringComparison.Ordinal);
        Assert.Matches(@"head pid \d+ sleeps in write\(1<pipe:", text);
        Assert.Contains("The pipe holds 4096 bytes of its capacity of 4096.", text, StringComparison.Ordinal);
        Assert.Contains("100,000 bytes went through, and head ended with exit code 0.", text, StringComparison.Ordinal);
        Assert.Contains("yes ended, killed by SIGPIPE.", text, StringComparison.Ordinal);
        Assert.Contains("failed: EPIPE (Broken pipe)", text, StringComparison.Ordinal);
        Assert.Matches(@"writer pid \d+ sleeps in openat?\(", text);
        Assert.Matches(@"read ""hello through the FIFO""; writer pid \d+ exited 0\.", text);
        string fifo = System.Text.RegularExpressions.Regex.Match(text, @"mkfifo (\S+/jobs);").Groups[1].Value;
        Assert.NotEmpty(fifo);
        Assert.Contains($"{fifo} exists: False", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(fifo)), "the demo's folder is left behind");
    }

    [Fact]
    public void DemoSockets_ReplaysTheChapter_WithEachOutcome()
    {
        string text = RunDemo("demo", "sockets").Output;

        AssertStepsInOrder(text, 10);
        Assert.Contains("One receive took all 11 bytes: \"onetwothree\".", text, StringComparison.Ordinal);
        Assert.Contains("\"one\" (3 bytes)", text, StringComparison.Ordinal);
        Assert.Contains("\"three\" (5 bytes)", text, StringComparison.Ordinal);
        Assert.Matches(@"pid \d+ sent ""a letter for you"" and, by SCM_RIGHTS, its open file: here it is fd \d+, a regular file, /tmp/sysprog-demo-\w+/letter\.txt\.", text);
        Assert.Contains("The sender exited 0.", text, StringComparison.Ordinal);
        Assert.Matches(@"letter\.txt exists: False", text);
        Assert.Contains("read: \"read me through a descriptor\"", text, StringComparison.Ordinal);
        System.Text.RegularExpressions.Match listening = System.Text.RegularExpressions.Regex.Match(text, @"listening on 127\.0\.0\.1:(\d+)");
        Assert.True(listening.Success, "no listening line");
        string port = listening.Groups[1].Value;
        Assert.Matches(@$"bash pid \d+ connected from port (\d+), sent ""ping"" and sleeps in read\(", text);
        Assert.Matches(@$"sysprog sockets: tcp LISTEN 127\.0\.0\.1:{port} ", text);
        Assert.Matches(@$"sysprog sockets: tcp ESTAB 127\.0\.0\.1:{port} -> 127\.0\.0\.1:\d+ ", text);
        if (File.Exists("/usr/bin/ss") || File.Exists("/bin/ss"))
        {
            Assert.Matches(@$"ss: 0 0 127\.0\.0\.1:{port} 127\.0\.0\.1:\d+", text);
        }
        string hexPort = int.Parse(port, System.Globalization.CultureInfo.InvariantCulture).ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"0100007F:{hexPort} 00000000:0000 0A ", text, StringComparison.Ordinal);
        Assert.Contains("bash printed \"pong\" and ended with exit code 0.", text, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:80 (IPv4)", text, StringComparison.Ordinal);
        string letter = System.Text.RegularExpressions.Regex.Match(text, @"opens (\S+/letter\.txt) and sends it").Groups[1].Value;
        Assert.NotEmpty(letter);
        Assert.False(Directory.Exists(Path.GetDirectoryName(letter)), "the demo's folder is left behind");
    }

    [Fact]
    public void DemoPipes_WithTrace_ShowsTheSpawnsAndPipesInline()
    {
        string text = RunDemo("demo", "pipes", "--trace").Output;

        Assert.Contains("    | pipe2([", text, StringComparison.Ordinal);
        Assert.Matches(@"    \| posix_spawnp\(\[\d+\], ""wc"", \[[^\]]*dup2\(\d+, 0\)", text);
        Assert.Matches(@"    \| mkfifoat\(", text);
    }

    /// <summary>What sh prints for a command: the answer the demo's hand-made pipeline is held to.</summary>
    private static string Sh(string command)
    {
        using var sh = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true })!;
        string printed = sh.StandardOutput.ReadToEnd();
        sh.WaitForExit();
        Assert.Equal(0, sh.ExitCode);
        return printed;
    }
}
