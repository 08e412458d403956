using System.Globalization;
using System.Text;

namespace Sysprog;

/// <summary>What a region of an address space is, as the whiteboard labels it.</summary>
public enum AddressSpaceRegionKind
{
    /// <summary>The program's own file: its code, read-only data and data.</summary>
    Program,
    Heap,
    /// <summary>A shared library (a file named *.so or *.so.N).</summary>
    Library,
    /// <summary>Any other mapped file.</summary>
    File,
    Anonymous,
    SharedMemory,
    Stack,
    Vdso,
    Vvar,
    Vsyscall,
    Other,
}

/// <summary>One row of the picture: a region (one line of /proc/PID/maps) or the unmapped space between two.</summary>
public abstract class AddressSpaceRow
{
    private protected AddressSpaceRow(ulong start, ulong end)
    {
        Start = start;
        End = end;
    }

    public ulong Start { get; }
    public ulong End { get; }
    public ulong Size => End - Start;
}

/// <summary>A mapping, labelled.</summary>
public sealed class AddressSpaceRegion : AddressSpaceRow
{
    internal AddressSpaceRegion(ProcessMapping mapping, AddressSpaceRegionKind kind) : base(mapping.Start, mapping.End)
    {
        Mapping = mapping;
        Kind = kind;
    }

    public ProcessMapping Mapping { get; }
    public AddressSpaceRegionKind Kind { get; }
    public string Permissions => Mapping.Permissions;

    /// <summary>"library libc.so.6", "heap", "shared memory /dev/shm/x": what the picture writes beside the region (escaped).</summary>
    public string Label
    {
        get
        {
            string file = NameEscaping.Escape(Mapping.Path) + (Mapping.IsDeleted ? " (deleted)" : "");
            return Kind switch
            {
                AddressSpaceRegionKind.Program => $"program {System.IO.Path.GetFileName(file)}",
                AddressSpaceRegionKind.Library => $"library {System.IO.Path.GetFileName(file)}",
                AddressSpaceRegionKind.File => $"file {file}",
                AddressSpaceRegionKind.SharedMemory => file.Length == 0 ? "shared memory" : $"shared memory {file}",
                AddressSpaceRegionKind.Anonymous => file.Length == 0 ? "anonymous" : $"anonymous {file}",
                AddressSpaceRegionKind.Other => $"other {file}",
                _ => KindName(Kind),
            };
        }
    }

    /// <summary>The kind as the picture words it ("shared memory", "vdso").</summary>
    public static string KindName(AddressSpaceRegionKind kind) => kind switch
    {
        AddressSpaceRegionKind.SharedMemory => "shared memory",
        _ => kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>Unmapped space between two regions: drawn as one row whatever its size, its size written.</summary>
public sealed class AddressSpaceGap : AddressSpaceRow
{
    internal AddressSpaceGap(ulong start, ulong end) : base(start, end)
    {
    }

    /// <summary>At least 1 GiB: drawn broken (not to scale), as a whiteboard draws the middle of the address space.</summary>
    public bool IsCompressed => Size >= AddressSpacePicture.CompressedGap;
}

/// <summary>
/// A process's address space as the course draws it on the whiteboard: regions in address order (high addresses at
/// the top), labelled by what they are, permissions and private/shared told apart by colour and by mark, sizes on a
/// log scale (each step doubles, so a 4 KiB page and a 1 GiB region are both visible), unmapped gaps as one row each
/// with their size written. One layout, two renderers: terminal text that fits a width, and SVG for slides.
/// </summary>
public sealed class AddressSpacePicture
{
    internal const ulong CompressedGap = 1UL << 30;

    /// <summary>The widths a terminal picture can be fitted to.</summary>
    public const int MinimumWidth = 20, MaximumWidth = 1000;
    private const ulong Page = 4096;

    private AddressSpacePicture(string title, IReadOnlyList<AddressSpaceRow> rows)
    {
        Title = title;
        Rows = rows;
        Regions = rows.OfType<AddressSpaceRegion>().ToList();
    }

    /// <summary>"pid 1234": what the picture is headed with.</summary>
    public string Title { get; }

    /// <summary>Regions and gaps, highest address first.</summary>
    public IReadOnlyList<AddressSpaceRow> Rows { get; }

    public IReadOnlyList<AddressSpaceRegion> Regions { get; }

    /// <summary>
    /// Lays out mappings (of one process, as <see cref="ProcessMaps.Read"/> returns them, in any order). The program is
    /// the file of the lowest file mapping at offset 0 (where the kernel loads an executable, PIE or not, below its
    /// libraries). <paramref name="title"/> defaults to "pid N (program)", named by the program's file (a snapshot may
    /// outlive its process); <see cref="TitleOf"/> names a live process as it names itself.
    /// </summary>
    public static AddressSpacePicture Lay(IEnumerable<ProcessMapping> mappings, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        var sorted = new List<ProcessMapping>();
        foreach (ProcessMapping? mapping in mappings)
        {
            sorted.Add(mapping ?? throw new ArgumentException("A mapping is null.", nameof(mappings)));
        }
        sorted.Sort((a, b) => a.Start.CompareTo(b.Start));
        string? program = sorted.FirstOrDefault(m => m.Kind == ProcessMappingKind.File && m.Offset == 0)?.Path;
        var rows = new List<AddressSpaceRow>();
        for (int i = sorted.Count - 1; i >= 0; i--)
        {
            ProcessMapping mapping = sorted[i];
            if (i < sorted.Count - 1 && sorted[i + 1].Start > mapping.End)
            {
                rows.Add(new AddressSpaceGap(mapping.End, sorted[i + 1].Start));
            }
            rows.Add(new AddressSpaceRegion(mapping, KindOf(mapping, program)));
        }
        // A snapshot may outlive its process, or the process may have exec'd since: name it by what it mapped.
        string heading = title ?? (sorted.Count == 0 ? "no mappings"
            : program is null ? $"pid {sorted[0].ProcessId}" : $"pid {sorted[0].ProcessId} ({NameEscaping.Escape(System.IO.Path.GetFileName(program))})");
        return new AddressSpacePicture(heading, rows);
    }

    /// <summary>"pid 1234 (bash)": a title for a live process's picture; "pid 1234" once it has gone or cannot be read.</summary>
    public static string TitleOf(int processId)
    {
        if (processId <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is positive.");
        }
        return ProcFile.ProcessName(processId) is string name ? $"pid {processId} ({name})" : $"pid {processId}";
    }

    private static AddressSpaceRegionKind KindOf(ProcessMapping mapping, string? program) => mapping.Kind switch
    {
        ProcessMappingKind.File when mapping.Path == program => AddressSpaceRegionKind.Program,
        ProcessMappingKind.File when IsLibrary(mapping.Path) => AddressSpaceRegionKind.Library,
        ProcessMappingKind.File => AddressSpaceRegionKind.File,
        ProcessMappingKind.Anonymous => AddressSpaceRegionKind.Anonymous,
        ProcessMappingKind.Heap => AddressSpaceRegionKind.Heap,
        ProcessMappingKind.Stack => AddressSpaceRegionKind.Stack,
        ProcessMappingKind.Vdso => AddressSpaceRegionKind.Vdso,
        ProcessMappingKind.Vvar => AddressSpaceRegionKind.Vvar,
        ProcessMappingKind.Vsyscall => AddressSpaceRegionKind.Vsyscall,
        ProcessMappingKind.SharedMemory => AddressSpaceRegionKind.SharedMemory,
        _ => AddressSpaceRegionKind.Other,
    };

    private static bool IsLibrary(string path)
    {
        string name = System.IO.Path.GetFileName(path);
        return name.EndsWith(".so", StringComparison.Ordinal) || name.Contains(".so.", StringComparison.Ordinal);
    }

    /// <summary>Log steps of a size: 1 for a page or less, one more for each doubling (1 GiB is 19).</summary>
    internal static int Steps(ulong bytes) => bytes <= Page ? 1 : 1 + (int)Math.Ceiling(Math.Log2(bytes / (double)Page));

    private int MaxSteps => Regions.Count == 0 ? 1 : Regions.Max(r => Steps(r.Size));

    // ---- Terminal ----

    /// <summary>The bar's fill, by permissions: the mark that reads without colour. Shared regions use the second set.</summary>
    internal static char Fill(string permissions)
    {
        bool shared = permissions.Length > 3 && permissions[3] == 's';
        int index = permissions.Length < 3 ? 3 : permissions[2] == 'x' ? 0 : permissions[1] == 'w' ? 1 : permissions[0] == 'r' ? 2 : 3;
        return (shared ? "X%~:" : "#=-.")[index];
    }

    /// <summary>SGR colour by permissions: code red, data green, read-only blue, none grey; shared is bright and underlined.</summary>
    private static string Color(string permissions)
    {
        bool shared = permissions.Length > 3 && permissions[3] == 's';
        int index = permissions.Length < 3 ? 3 : permissions[2] == 'x' ? 0 : permissions[1] == 'w' ? 1 : permissions[0] == 'r' ? 2 : 3;
        int[] hue = [31, 32, 34, 90];
        return shared ? $"{(index == 3 ? 37 : hue[index] + 60)};4" : hue[index].ToString(CultureInfo.InvariantCulture);
    }

    internal const string Legend = "high addresses on top; bar: log2 size | # r-x = rw- - r-- . --- shared: X % ~ :";

    /// <summary>
    /// The picture as terminal lines, none wider than <paramref name="width"/> columns; ANSI colour only with
    /// <paramref name="color"/> (the caller decides: a cmdlet from $PSStyle.OutputRendering and NO_COLOR).
    /// </summary>
    public string ToText(int width = 80, bool color = false)
    {
        PictureText.ValidateWidth(width, nameof(width));
        return Join(TextLines(width, color, MaxSteps));
    }

    /// <summary>Two pictures side by side (two processes, or one before and after), on one scale, in <paramref name="width"/> columns.</summary>
    public static string ToText(AddressSpacePicture left, AddressSpacePicture right, int width = 80, bool color = false)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        PictureText.ValidateWidth(width, nameof(width));
        int column = (width - 3) / 2;
        int steps = Math.Max(left.MaxSteps, right.MaxSteps);
        List<Segments> a = left.TextLines(column, color, steps, legend: false), b = right.TextLines(column, color, steps, legend: false);
        var lines = new List<Segments> { new Segments().Add(PictureText.Fit(Legend, width)) };
        for (int i = 0; i < Math.Max(a.Count, b.Count); i++)
        {
            Segments line = i < a.Count ? a[i] : new Segments();
            line.Pad(column).Add(" | ");
            if (i < b.Count)
            {
                line.Append(b[i]);
            }
            lines.Add(line);
        }
        return Join(lines);
    }

    private static string Join(List<Segments> lines)
    {
        var text = new StringBuilder();
        foreach (Segments line in lines)
        {
            text.Append(line.Render()).Append('\n');
        }
        return text.ToString();
    }

    private List<Segments> TextLines(int width, bool color, int maxSteps, bool legend = true)
    {
        var lines = new List<Segments> { new Segments().Add(PictureText.Fit($"{NameEscaping.Escape(Title)}: {Regions.Count} regions", width)) };
        if (legend)
        {
            lines.Add(new Segments().Add(PictureText.Fit(Legend, width)));
        }
        int addressWidth = Math.Max(12, Regions.Count == 0 ? 0 : Regions.Max(r => r.Start.ToString("x", CultureInfo.InvariantCulture).Length));
        bool withSize = width >= 60;
        int fixedWidth = addressWidth + 1 + 1 + 4 + 1 + (withSize ? 10 : 0);
        int bar = Math.Clamp((width - fixedWidth) / 4, 4, 20);
        foreach (AddressSpaceRow row in Rows)
        {
            var line = new Segments(color);
            if (row is AddressSpaceRegion region)
            {
                int cells = Math.Max(1, (int)Math.Ceiling(Steps(region.Size) * (double)bar / maxSteps));
                string sgr = Color(region.Permissions);
                line.Add(region.Start.ToString("x", CultureInfo.InvariantCulture).PadLeft(addressWidth)).Add(" ")
                    .Add(new string(Fill(region.Permissions), cells), sgr).Add(new string(' ', bar - cells + 1))
                    .Add(region.Permissions, sgr).Add(" ");
                if (withSize)
                {
                    line.Add(PictureText.Size(region.Size).PadLeft(9)).Add(" ");
                }
                line.Add(region.Label);
            }
            else
            {
                var gap = (AddressSpaceGap)row;
                line.Add(new string(' ', addressWidth + 1))
                    .Add(gap.IsCompressed ? Zigzag(bar) : new string(' ', bar), "90")
                    .Add($" {PictureText.Size(gap.Size)} unmapped{(gap.IsCompressed ? ", not to scale" : "")}", "90");
            }
            lines.Add(line.Cut(width));
        }
        return lines;
    }

    /// <summary>The break a whiteboard draws across a stretch not to scale: "/\/\/\".</summary>
    private static string Zigzag(int width) => string.Create(width, 0, (span, _) =>
    {
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = i % 2 == 0 ? '/' : '\\';
        }
    });

    /// <summary>A line as pieces of text each with its colour, so it is cut to a width before escapes are added.</summary>
    private sealed class Segments(bool color = false)
    {
        private readonly List<(string Text, string? Sgr)> _parts = [];
        private bool _color = color;

        public int Length => _parts.Sum(p => p.Text.Length);

        public Segments Add(string text, string? sgr = null)
        {
            _parts.Add((text, sgr));
            return this;
        }

        public Segments Append(Segments other)
        {
            _parts.AddRange(other._parts);
            _color |= other._color;
            return this;
        }

        public Segments Pad(int width) => Length < width ? Add(new string(' ', width - Length)) : this;

        public Segments Cut(int width)
        {
            int left = width;
            for (int i = 0; i < _parts.Count; i++)
            {
                if (_parts[i].Text.Length > left)
                {
                    _parts[i] = (PictureText.Fit(_parts[i].Text, left), _parts[i].Sgr);
                    _parts.RemoveRange(i + 1, _parts.Count - i - 1);
                    break;
                }
                left -= _parts[i].Text.Length;
            }
            return this;
        }

        public string Render() => string.Concat(_parts.Select(p => Ansi.Paint(p.Text, p.Sgr, _color))).TrimEnd(' ');
    }

    // ---- SVG ----

    private const double BoxWidth = 140, ColumnWidth = 520, Top = 58, StepHeight = 5, MinimumHeight = 14, GapHeight = 8, BrokenGapHeight = 34;

    /// <summary>
    /// The picture as SVG: one &lt;g class="region"&gt; per mapping, carrying data-start, data-end (hex), data-permissions
    /// and data-kind, and one &lt;g class="gap"&gt; per unmapped stretch.
    /// </summary>
    public string ToSvg() => Svg([this]);

    /// <summary>Two pictures side by side in one SVG, on one scale.</summary>
    public static string ToSvg(AddressSpacePicture left, AddressSpacePicture right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return Svg([left, right]);
    }

    private static string Svg(AddressSpacePicture[] pictures)
    {
        double height = pictures.Max(p => Top + p.Rows.Sum(RowHeight)) + 16;
        var canvas = new SvgCanvas(ColumnWidth * pictures.Length, height, string.Join(" | ", pictures.Select(p => p.Title)));
        canvas.Text(8, 16, Legend.Replace("bar:", "height:", StringComparison.Ordinal), 10, fill: "#555555");
        for (int i = 0; i < pictures.Length; i++)
        {
            pictures[i].Draw(canvas, i * ColumnWidth);
        }
        return canvas.Finish();
    }

    private static double RowHeight(AddressSpaceRow row) => row switch
    {
        AddressSpaceRegion r => MinimumHeight + StepHeight * (Steps(r.Size) - 1),
        AddressSpaceGap { IsCompressed: true } => BrokenGapHeight,
        _ => GapHeight,
    };

    private static (string Fill, string Stroke) SvgColor(string permissions)
    {
        int index = permissions.Length < 3 ? 3 : permissions[2] == 'x' ? 0 : permissions[1] == 'w' ? 1 : permissions[0] == 'r' ? 2 : 3;
        bool shared = permissions.Length > 3 && permissions[3] == 's';
        string[] fills = shared ? ["#f4a3c0", "#c9a3f4", "#a3e4f4", "#dddddd"] : ["#f4b6a3", "#b6f4a3", "#a3b6f4", "#eeeeee"];
        return (fills[index], shared ? "#8a2be2" : "#333333");
    }

    private void Draw(SvgCanvas canvas, double x)
    {
        double boxX = x + 118, labelX = boxX + BoxWidth + 8, y = Top;
        canvas.Text(x + 8, 38, $"{Title}: {Regions.Count} regions", 13);
        foreach (AddressSpaceRow row in Rows)
        {
            double h = RowHeight(row);
            if (row is AddressSpaceRegion region)
            {
                (string fill, string stroke) = SvgColor(region.Permissions);
                canvas.BeginGroup("region",
                    ("data-start", $"0x{region.Start:x}"), ("data-end", $"0x{region.End:x}"),
                    ("data-permissions", region.Permissions), ("data-kind", AddressSpaceRegion.KindName(region.Kind)),
                    ("data-path", NameEscaping.Escape(region.Mapping.Path)));
                canvas.Tooltip($"{region.Start:x}-{region.End:x} {region.Permissions} {PictureText.Size(region.Size)} {region.Label}");
                canvas.Rect(boxX, y, BoxWidth, h, fill, stroke, dashed: region.Mapping.IsShared);
                canvas.Text(boxX + 4, y + Math.Min(h, MinimumHeight) - 3.5, $"{Fill(region.Permissions)} {region.Permissions}", 9);
                canvas.Text(x + 112, y + Math.Min(h, MinimumHeight) - 3.5, $"{region.Start:x}", 9, anchor: "end", fill: "#555555");
                canvas.Text(labelX, y + Math.Min(h, MinimumHeight) - 3.5,
                    PictureText.Fit($"{region.Label} {PictureText.Size(region.Size)}{(region.Mapping.IsShared ? " shared" : "")}", 52), 9);
                canvas.EndGroup();
            }
            else
            {
                var gap = (AddressSpaceGap)row;
                canvas.BeginGroup("gap", ("data-start", $"0x{gap.Start:x}"), ("data-end", $"0x{gap.End:x}"), ("data-compressed", gap.IsCompressed ? "true" : "false"));
                if (gap.IsCompressed)
                {
                    double mid = y + h / 2;
                    var zigzag = new StringBuilder();
                    for (int step = 0; step <= 14; step++)
                    {
                        zigzag.Append(step == 0 ? 'M' : 'L').Append(SvgCanvas.Number(boxX + step * BoxWidth / 14)).Append(' ')
                            .Append(SvgCanvas.Number(mid + (step % 2 == 0 ? -4 : 4))).Append(' ');
                    }
                    canvas.Path(zigzag.ToString().TrimEnd(), "#888888");
                    canvas.Text(labelX, mid + 3.5, $"{PictureText.Size(gap.Size)} unmapped, not to scale", 9, fill: "#555555");
                }
                canvas.EndGroup();
            }
            y += h;
        }
    }
}
