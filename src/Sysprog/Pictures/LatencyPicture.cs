using System.Globalization;
using System.Text;

namespace Sysprog;

/// <summary>
/// Timer latency drawn: the histogram with counts on a log scale (so the rare late wake-ups that decide realtime
/// fitness show beside the thousands on time), and the wake-ups over time on a log latency scale, with min, median,
/// p99, p99.9 and max marked. Terminal text that fits a width, and SVG through the same writer as the address space.
/// </summary>
public static class LatencyPicture
{
    private const int Rows = 8;

    /// <summary>The picture as terminal lines, none wider than <paramref name="width"/>; ANSI colour only with <paramref name="color"/>.</summary>
    public static string ToText(TimerLatencyResult result, int width = 80, bool color = false)
    {
        Validate(result);
        PictureText.ValidateWidth(width, nameof(width));
        var lines = new List<string>
        {
            PictureText.Fit($"{result.Samples} wake-ups every {Units.FormatDuration(result.Interval)} ({result.Timer}, {result.Policy}{(result.MemoryLocked ? ", mlockall" : "")}{(result.Cpu is int c ? $", CPU {c}" : "")})", width),
            PictureText.Fit(string.Join("  ", Marks(result).Select(m => $"{m.Name} {Micro(m.Value)}")) + " us", width),
            "",
            "latency us | count, log scale",
        };
        // Histogram: one line per bucket, the bar's length the log of its count, the statistics that fall in it named.
        string[] labels = result.Histogram.Select(Label).ToArray();
        int labelWidth = labels.Length == 0 ? 10 : Math.Max(10, labels.Max(l => l.Length));
        long most = result.Histogram.Count == 0 ? 1 : Math.Max(1, result.Histogram.Max(b => b.Count));
        int bar = Math.Clamp(width - labelWidth - 3 - 8 - 24, 4, 50);
        for (int i = 0; i < result.Histogram.Count; i++)
        {
            LatencyBucket bucket = result.Histogram[i];
            int cells = bucket.Count == 0 ? 0 : Math.Max(1, (int)Math.Round(Math.Log10(bucket.Count + 1) / Math.Log10(most + 1) * bar));
            string named = string.Join(",", Marks(result).Where(m => In(bucket, m.Value)).Select(m => m.Name));
            string line = $"{labels[i].PadLeft(labelWidth)} | {Ansi.Paint(new string('#', cells), "32", color)}{new string(' ', bar - cells)} {bucket.Count,7}";
            lines.Add(named.Length == 0 ? line : PaintFit(line, $" <- {named}", width, labelWidth + 3 + bar + 8, color));
        }
        lines.Add("");
        lines.AddRange(OverTime(result, width, color));
        return string.Concat(lines.Select(l => l.TrimEnd() + "\n"));
    }

    // The visible line is cut to the width before the escape codes are counted in.
    private static string PaintFit(string line, string note, int width, int visible, bool color) =>
        line + Ansi.Paint(PictureText.Fit(note, width - visible), "33", color);

    private static bool In(LatencyBucket bucket, TimeSpan value)
    {
        double us = value.Ticks / 10.0;
        return us >= bucket.LowerMicroseconds && us < bucket.UpperMicroseconds;
    }

    /// <summary>Wake-ups over time: a column per stretch of samples, the row of its worst latency on a log scale.</summary>
    private static IEnumerable<string> OverTime(TimerLatencyResult result, int width, bool color)
    {
        IReadOnlyList<long> samples = result.LatenciesNanoseconds;
        if (samples.Count == 0)
        {
            yield break;
        }
        const int label = 10;
        const int markRoom = 14;
        int columns = Math.Max(1, Math.Min(samples.Count, width - label - 1 - markRoom));
        (double low, double high) = LogRange(result);
        var worst = new double[columns];
        for (int column = 0; column < columns; column++)
        {
            int from = (int)((long)column * samples.Count / columns), to = (int)((long)(column + 1) * samples.Count / columns);
            long max = long.MinValue;
            for (int i = from; i < Math.Max(to, from + 1); i++)
            {
                max = Math.Max(max, samples[i]);
            }
            worst[column] = max / 1000.0;
        }
        yield return PictureText.Fit($"worst wake-up of each {Math.Max(1, samples.Count / columns)} over time, log scale:", width);
        (string Name, TimeSpan Value)[] marks = Marks(result).ToArray();
        for (int row = Rows - 1; row >= 0; row--)
        {
            double top = Math.Exp(low + (high - low) * (row + 1) / Rows), bottom = Math.Exp(low + (high - low) * row / Rows);
            string mark = string.Join(",", marks.Where(m => m.Value.Ticks / 10.0 >= bottom && (m.Value.Ticks / 10.0 < top || row == Rows - 1)
                || row == 0 && m.Value.Ticks / 10.0 < bottom).Select(m => m.Name));
            var line = new StringBuilder();
            line.Append(Micro(TimeSpan.FromTicks((long)(bottom * 10))).PadLeft(label - 3)).Append(" us|");
            foreach (double us in worst)
            {
                bool here = us >= bottom && (us < top || row == Rows - 1) || row == 0 && us < bottom;
                line.Append(here ? Ansi.Paint("*", row >= Rows - 2 ? "31" : "32", color) : " ");
            }
            yield return mark.Length == 0 ? line.ToString() : line + Ansi.Paint(PictureText.Fit($" {mark}", markRoom), "33", color);
        }
    }

    private static (double Low, double High) LogRange(TimerLatencyResult result)
    {
        double low = Math.Log(Math.Max(0.1, result.Minimum.Ticks / 10.0)), high = Math.Log(Math.Max(0.2, result.Maximum.Ticks / 10.0));
        return high - low < 0.1 ? (low - 0.05, low + 0.05) : (low, high + 1e-9);
    }

    private static IEnumerable<(string Name, TimeSpan Value)> Marks(TimerLatencyResult r) =>
        [("min", r.Minimum), ("median", r.Median), ("p99", r.P99), ("p99.9", r.P999), ("max", r.Maximum)];

    private static string Micro(TimeSpan value) => (value.Ticks / 10.0).ToString("0.#", CultureInfo.InvariantCulture);

    private static string Label(LatencyBucket b) => double.IsPositiveInfinity(b.UpperMicroseconds)
        ? $">= {b.LowerMicroseconds.ToString(CultureInfo.InvariantCulture)}"
        : $"{b.LowerMicroseconds.ToString(CultureInfo.InvariantCulture)}-{b.UpperMicroseconds.ToString(CultureInfo.InvariantCulture)}";

    private static void Validate(TimerLatencyResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Histogram is null || result.LatenciesNanoseconds is null || result.Histogram.Any(b => b is null))
        {
            throw new ArgumentException("The result has no histogram or no latencies: give one from TimerLatency.Measure or Summarize.", nameof(result));
        }
    }

    // ---- SVG ----

    private const double Width = 720, PanelHeight = 220, Left = 70, Right = 20;

    /// <summary>
    /// The picture as SVG: the histogram (one &lt;rect class="bucket"&gt; per bar, data-lower/data-upper in us and
    /// data-count), the wake-ups over time (one path), and a &lt;g class="mark"&gt; per statistic with data-name and data-us.
    /// </summary>
    public static string ToSvg(TimerLatencyResult result)
    {
        Validate(result);
        var canvas = new SvgCanvas(Width, 2 * PanelHeight + 110, $"timer latency, {result.Samples} wake-ups");
        canvas.Text(8, 18, $"{result.Samples} wake-ups every {Units.FormatDuration(result.Interval)} ({result.Timer}, {result.Policy}{(result.MemoryLocked ? ", mlockall" : "")})", 13);
        canvas.Text(8, 36, string.Join("   ", Marks(result).Select(m => $"{m.Name} {Micro(m.Value)} us")), 11);
        DrawHistogram(canvas, result, 60);
        DrawOverTime(canvas, result, 60 + PanelHeight + 40);
        return canvas.Finish();
    }

    private static void DrawHistogram(SvgCanvas canvas, TimerLatencyResult result, double top)
    {
        double plotWidth = Width - Left - Right, bottom = top + PanelHeight - 30;
        canvas.Text(8, top + 4, "count (log)", 10, fill: "#555555");
        canvas.Line(Left, bottom, Width - Right, bottom, "#333333");
        int n = Math.Max(1, result.Histogram.Count);
        long most = result.Histogram.Count == 0 ? 1 : Math.Max(1, result.Histogram.Max(b => b.Count));
        double slot = plotWidth / n;
        for (int i = 0; i < result.Histogram.Count; i++)
        {
            LatencyBucket bucket = result.Histogram[i];
            double h = bucket.Count == 0 ? 0 : Math.Max(2, Math.Log10(bucket.Count + 1) / Math.Log10(most + 1) * (PanelHeight - 50));
            canvas.BeginGroup("bucket", ("data-lower", Micro(TimeSpan.FromTicks((long)(bucket.LowerMicroseconds * 10)))),
                ("data-upper", double.IsPositiveInfinity(bucket.UpperMicroseconds) ? "inf" : bucket.UpperMicroseconds.ToString(CultureInfo.InvariantCulture)),
                ("data-count", bucket.Count.ToString(CultureInfo.InvariantCulture)));
            canvas.Tooltip($"{Label(bucket)} us: {bucket.Count}");
            canvas.Rect(Left + i * slot + 1, bottom - h, Math.Max(1, slot - 2), h, "#6fbf73", "#2e7d32");
            if (i % Math.Max(1, n / 10) == 0)
            {
                canvas.Text(Left + i * slot, bottom + 14, bucket.LowerMicroseconds.ToString(CultureInfo.InvariantCulture), 9, fill: "#555555");
            }
            canvas.EndGroup();
        }
        canvas.Text(Width - Right, bottom + 26, "latency (us)", 10, anchor: "end", fill: "#555555");
        int row = 0;
        foreach ((string name, TimeSpan value) in Marks(result))
        {
            int index = Enumerable.Range(0, result.Histogram.Count).FirstOrDefault(i => In(result.Histogram[i], value), result.Histogram.Count - 1);
            double x = Left + (index + 0.5) * slot;
            canvas.BeginGroup("mark", ("data-name", name), ("data-us", Micro(value)));
            canvas.Line(x, top + 8, x, bottom, "#c62828", dashed: true);
            canvas.Text(x + 3, top + 16 + 12 * row++, $"{name} {Micro(value)}", 10, fill: "#c62828");
            canvas.EndGroup();
        }
    }

    private static void DrawOverTime(SvgCanvas canvas, TimerLatencyResult result, double top)
    {
        IReadOnlyList<long> samples = result.LatenciesNanoseconds;
        double plotWidth = Width - Left - Right, bottom = top + PanelHeight - 30, plotHeight = PanelHeight - 50;
        (double low, double high) = LogRange(result);
        double Y(double us) => bottom - (Math.Log(Math.Max(us, 0.1)) - low) / (high - low) * plotHeight;
        canvas.Text(8, top + 4, "latency over time (log)", 10, fill: "#555555");
        canvas.Line(Left, bottom, Width - Right, bottom, "#333333");
        canvas.Text(Width - Right, bottom + 16, $"wake-up 1 to {samples.Count}", 10, anchor: "end", fill: "#555555");
        foreach ((string name, TimeSpan value) in Marks(result))
        {
            double y = Y(value.Ticks / 10.0);
            canvas.BeginGroup("mark", ("data-name", name), ("data-us", Micro(value)));
            canvas.Line(Left, y, Width - Right, y, "#c62828", dashed: true);
            canvas.Text(Left - 4, y + 3, $"{name} {Micro(value)}", 9, anchor: "end", fill: "#c62828");
            canvas.EndGroup();
        }
        if (samples.Count == 0)
        {
            return;
        }
        var path = new StringBuilder();
        for (int i = 0; i < samples.Count; i++)
        {
            double x = Left + (samples.Count == 1 ? 0 : i * plotWidth / (samples.Count - 1));
            path.Append(i == 0 ? "M" : " L").Append(SvgCanvas.Number(x)).Append(' ').Append(SvgCanvas.Number(Y(samples[i] / 1000.0)));
        }
        canvas.BeginGroup("wakeups", ("data-count", samples.Count.ToString(CultureInfo.InvariantCulture)));
        canvas.Path(path.ToString(), "#1565c0");
        canvas.EndGroup();
    }
}
