using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Sysprog.Tests;

public sealed class LatencyPictureTests
{
    // 10,000 wake-ups: most 20-30 us, one in a hundred near 100 us, five near 1 ms, one 5 ms: the tail decides.
    private static readonly TimerLatencyResult Result = TimerLatency.Summarize(Latencies(), TimeSpan.FromMilliseconds(1));

    private static long[] Latencies()
    {
        var random = new Random(7);
        long[] samples = new long[10_000];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = i % 100 == 50 ? 100_000 + random.Next(10_000) : 20_000 + random.Next(10_000);
        }
        foreach (int i in new[] { 1000, 3000, 5000, 7000, 9000 })
        {
            samples[i] = 1_000_000;
        }
        samples[6000] = 5_000_000;
        return samples;
    }

    [Theory]
    [InlineData(40)]
    [InlineData(80)]
    [InlineData(200)]
    public void ToText_FitsTheWidthAndMarksEveryStatistic(int width)
    {
        string[] lines = LatencyPicture.ToText(Result, width).TrimEnd('\n').Split('\n');

        Assert.All(lines, l => Assert.True(l.Length <= width, $"{l.Length} columns: {l}"));
        Assert.DoesNotContain(lines, l => l.Contains('\e'));
        if (width >= 80)
        {
            Assert.Equal($"min {Us(Result.Minimum)}  median {Us(Result.Median)}  p99 {Us(Result.P99)}  p99.9 {Us(Result.P999)}  max {Us(Result.Maximum)} us", lines[1]);
            // The histogram names the bucket of each statistic, and the over-time chart the row.
            string histogram = string.Join('\n', lines.Where(l => l.Contains(" | ", StringComparison.Ordinal)));
            string overTime = string.Join('\n', lines.Where(l => l.Contains(" us|", StringComparison.Ordinal)));
            foreach (string mark in new[] { "min", "median", "p99", "p99.9", "max" })
            {
                Assert.Matches(new Regex($@"(<- |,){Regex.Escape(mark)}(,|$)", RegexOptions.Multiline), histogram);
                Assert.Matches(new Regex($@"( |,){Regex.Escape(mark)}(,|$)", RegexOptions.Multiline), overTime);
            }
        }
    }

    [Fact]
    public void ToText_CountsOnALogScale_KeepTheSingleWorstWakeUpVisible()
    {
        string[] lines = LatencyPicture.ToText(Result, 80).Split('\n');

        string top = lines.Single(l => l.StartsWith("   20-", StringComparison.Ordinal) || Regex.IsMatch(l, @"^\s*\d+-\d+ \| #+\s+\d{4,}"));
        string worst = lines.Single(l => l.Contains(">= ", StringComparison.Ordinal));
        int Bar(string line) => Regex.Match(line, @"\| (#*)").Groups[1].Length;
        Assert.True(Bar(worst) > 0, worst);
        Assert.True(Bar(top) > 2 * Bar(worst), $"{top} / {worst}");
        Assert.EndsWith("max", worst, StringComparison.Ordinal);
    }

    [Fact]
    public void ToSvg_IsXmlWithABarPerBucketAndEveryStatisticMarked()
    {
        XDocument svg = XDocument.Parse(LatencyPicture.ToSvg(Result));
        XNamespace ns = "http://www.w3.org/2000/svg";

        var buckets = svg.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "bucket").ToList();
        Assert.Equal(Result.Histogram.Select(b => b.Count), buckets.Select(g => long.Parse((string)g.Attribute("data-count")!, CultureInfo.InvariantCulture)));
        var marks = svg.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "mark")
            .Select(g => ((string)g.Attribute("data-name")!, (string)g.Attribute("data-us")!)).ToList();
        var expected = new[] { ("min", Us(Result.Minimum)), ("median", Us(Result.Median)), ("p99", Us(Result.P99)), ("p99.9", Us(Result.P999)), ("max", Us(Result.Maximum)) };
        Assert.Equal(expected.Concat(expected), marks);
        Assert.Equal("10000", (string?)svg.Descendants(ns + "g").Single(g => (string?)g.Attribute("class") == "wakeups").Attribute("data-count"));
    }

    [Fact]
    public void ToText_WithColor_StillFitsOnceTheEscapesAreRemoved()
    {
        string text = LatencyPicture.ToText(Result, 80, color: true);

        Assert.Contains("\e[", text, StringComparison.Ordinal);
        Assert.All(text.TrimEnd('\n').Split('\n'), l => Assert.True(Regex.Replace(l, @"\e\[[0-9;]*m", "").Length <= 80, l));
    }

    [Fact]
    public void TheCli_DrawsTheRunAndWritesItsSvg()
    {
        string svg = Path.Combine(Path.GetTempPath(), $"sysprog-latency-{Environment.ProcessId}.svg");
        try
        {
            Peer.Result text = Peer.Run("latency", "--count", "50", "--interval", "500us", "--picture", "--width", "80");
            Peer.Result file = Peer.Run("latency", "--count", "50", "--interval", "500us", "--svg", svg);

            Assert.Equal(0, text.ExitCode);
            string[] lines = text.Output.TrimEnd('\n').Split('\n');
            Assert.StartsWith("50 wake-ups every 0.5ms", lines[0], StringComparison.Ordinal);
            Assert.All(lines, l => Assert.True(l.Length <= 80, l));
            Assert.Contains(lines, l => l.Contains("<- ", StringComparison.Ordinal) && l.Contains("max", StringComparison.Ordinal));
            Assert.Equal(0, file.ExitCode);
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Equal("50", (string?)XDocument.Load(svg).Descendants(ns + "g").Single(g => (string?)g.Attribute("class") == "wakeups").Attribute("data-count"));
        }
        finally
        {
            File.Delete(svg);
        }
    }

    private static string Us(TimeSpan value) => (value.Ticks / 10.0).ToString("0.#", CultureInfo.InvariantCulture);
}
