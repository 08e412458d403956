using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Sysprog.Tests;

public sealed class AddressSpacePictureTests
{
    // A shell's maps, shortened: the program, heap, a library, anonymous, a POSIX shared memory object, stack, vvar, vdso;
    // 40 TiB between the heap and the libraries.
    private static readonly string[] ShellMaps =
    [
        "5581e3a00000-5581e3a2e000 r--p 00000000 08:01 1048601                    /usr/bin/bash",
        "5581e3a2e000-5581e3b0b000 r-xp 0002e000 08:01 1048601                    /usr/bin/bash",
        "5581e3b0b000-5581e3b45000 r--p 0010b000 08:01 1048601                    /usr/bin/bash",
        "5581e3b46000-5581e3b4a000 r--p 00145000 08:01 1048601                    /usr/bin/bash",
        "5581e3b4a000-5581e3b53000 rw-p 00149000 08:01 1048601                    /usr/bin/bash",
        "5581e4c49000-5581e4dce000 rw-p 00000000 00:00 0                          [heap]",
        "7f3c00000000-7f3c40000000 rw-p 00000000 00:00 0 ",
        "7f3c4a600000-7f3c4a628000 r--p 00000000 08:01 1055381                    /usr/lib/x86_64-linux-gnu/libc.so.6",
        "7f3c4a628000-7f3c4a7bd000 r-xp 00028000 08:01 1055381                    /usr/lib/x86_64-linux-gnu/libc.so.6",
        "7f3c4a900000-7f3c4a901000 rw-s 00000000 00:1a 12                         /dev/shm/sysprog-picture",
        "7ffd5b8f1000-7ffd5b912000 rw-p 00000000 00:00 0                          [stack]",
        "7ffd5b9c4000-7ffd5b9c8000 r--p 00000000 00:00 0                          [vvar]",
        "7ffd5b9c8000-7ffd5b9ca000 r-xp 00000000 00:00 0                          [vdso]",
    ];

    private static IReadOnlyList<ProcessMapping> Shell => ProcessMaps.Parse(4242, ShellMaps);

    [Fact]
    public void Lay_LabelsEveryKindOfRegion_HighestAddressFirst()
    {
        AddressSpacePicture picture = AddressSpacePicture.Lay(Shell);

        Assert.Equal("pid 4242 (bash)", picture.Title);
        Assert.Equal(Shell.Select(m => m.Start).OrderDescending(), picture.Regions.Select(r => r.Start));
        Assert.Equal(
            [AddressSpaceRegionKind.Vdso, AddressSpaceRegionKind.Vvar, AddressSpaceRegionKind.Stack, AddressSpaceRegionKind.SharedMemory,
             AddressSpaceRegionKind.Library, AddressSpaceRegionKind.Library, AddressSpaceRegionKind.Anonymous, AddressSpaceRegionKind.Heap,
             AddressSpaceRegionKind.Program, AddressSpaceRegionKind.Program, AddressSpaceRegionKind.Program, AddressSpaceRegionKind.Program,
             AddressSpaceRegionKind.Program],
            picture.Regions.Select(r => r.Kind));
        Assert.Equal("library libc.so.6", picture.Regions[4].Label);
    }

    [Fact]
    public void ToText_At80Columns_NamesEveryKindPresentAndNoLineIsWider()
    {
        string text = AddressSpacePicture.Lay(Shell).ToText(80);

        string[] lines = text.TrimEnd('\n').Split('\n');
        Assert.All(lines, line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        foreach (string kind in new[] { "program bash", "heap", "library libc.so.6", "anonymous", "shared memory /dev/shm/sysprog-picture", "stack", "vdso", "vvar" })
        {
            Assert.Contains(lines, l => l.EndsWith(kind, StringComparison.Ordinal));
        }
        // The marks read without colour: code '#', data '=', read-only '-', and shared data '%'.
        Assert.Matches(@"^\s*7f3c4a628000 #+\s+r-xp\s+1\.6 MiB library libc\.so\.6$", lines.Single(l => l.Contains("7f3c4a628000", StringComparison.Ordinal)));
        Assert.Matches(@"^\s*7f3c4a900000 %\s+rw-s\s+4 KiB shared memory", lines.Single(l => l.Contains("7f3c4a900000", StringComparison.Ordinal)));
        Assert.DoesNotContain('\e', text);
    }

    [Fact]
    public void ToText_LogScale_KeepsAPageAndAGibibyteBothVisible()
    {
        string[] lines = AddressSpacePicture.Lay(Shell).ToText(80).Split('\n');

        int Cells(string address) => Regex.Match(lines.Single(l => l.Contains(address, StringComparison.Ordinal)), @" ([#=\-.X%~:]+) ").Groups[1].Length;
        Assert.Equal(1, Cells("7f3c4a900000"));                 // 4 KiB
        Assert.True(Cells("7f3c00000000") > Cells("7f3c4a628000")); // 1 GiB over 1.6 MiB
        Assert.True(Cells("7f3c4a628000") > Cells("7f3c4a900000"));
    }

    [Fact]
    public void ToText_HugeGap_IsCompressedWithItsSizeWritten()
    {
        AddressSpacePicture picture = AddressSpacePicture.Lay(Shell);

        AddressSpaceGap gap = picture.Rows.OfType<AddressSpaceGap>().Single(g => g.Start == 0x5581e4dce000);
        Assert.True(gap.IsCompressed);
        const string expected = "41.7 TiB unmapped, not to scale"; // 0x7f3c00000000 - 0x5581e4dce000
        Assert.Contains(picture.ToText(80).Split('\n'), l => l.Contains(expected, StringComparison.Ordinal) && l.Contains("/\\/\\", StringComparison.Ordinal));
        // Small gaps are written too, but not as broken.
        Assert.Contains(picture.ToText(80).Split('\n'), l => l.TrimEnd().EndsWith("4 KiB unmapped", StringComparison.Ordinal));
    }

    [Fact]
    public void ToText_WithColor_PaintsMarksAndStillFits()
    {
        string text = AddressSpacePicture.Lay(Shell).ToText(80, color: true);

        Assert.Contains("\e[31m", text, StringComparison.Ordinal);   // code
        Assert.Contains("\e[92;4m", text, StringComparison.Ordinal); // shared data
        Assert.All(text.TrimEnd('\n').Split('\n'), l => Assert.True(Regex.Replace(l, @"\e\[[0-9;]*m", "").Length <= 80));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(80)]
    [InlineData(132)]
    public void ToText_SideBySide_FitsTheWidthAndShowsBoth(int width)
    {
        AddressSpacePicture before = AddressSpacePicture.Lay(Shell, "before exec");
        AddressSpacePicture after = AddressSpacePicture.Lay(Shell.Where(m => m.Kind != ProcessMappingKind.Heap), "after exec");

        string[] lines = AddressSpacePicture.ToText(before, after, width).TrimEnd('\n').Split('\n');

        Assert.All(lines, l => Assert.True(l.Length <= width, $"{l.Length} columns: {l}"));
        if (width >= 80)
        {
            Assert.StartsWith("before exec: 13 regions", lines[1], StringComparison.Ordinal);
            Assert.Contains(" | after exec: 12 regions", lines[1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ToSvg_IsXmlWithOneRegionElementPerMappingRow()
    {
        IReadOnlyList<ProcessMapping> mappings = Shell;
        XDocument svg = XDocument.Parse(AddressSpacePicture.Lay(mappings).ToSvg());

        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Root!.Name);
        var regions = svg.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "region")
            .Select(g => (Start: Hex(g, "data-start"), End: Hex(g, "data-end"), Permissions: (string)g.Attribute("data-permissions")!))
            .OrderBy(r => r.Start).ToList();
        Assert.Equal(mappings.Select(m => (m.Start, m.End, m.Permissions)), regions);
        XElement gap = svg.Descendants(ns + "g").Single(g => (string?)g.Attribute("class") == "gap" && Hex(g, "data-start") == 0x5581e4dce000);
        Assert.Equal("true", (string?)gap.Attribute("data-compressed"));
        Assert.Contains("TiB unmapped, not to scale", gap.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void ToSvg_OfThisProcess_MatchesItsMapsAndEscapesNames()
    {
        using MemoryMapping shared = MemoryMapping.MapAnonymous(8192, MemoryProtection.ReadWrite, MappingVisibility.Shared);
        IReadOnlyList<ProcessMapping> mappings = ProcessMaps.Read(Environment.ProcessId);
        AddressSpacePicture picture = AddressSpacePicture.Lay(mappings);

        XDocument svg = XDocument.Parse(AddressSpacePicture.ToSvg(picture, picture));
        Assert.Equal(2 * mappings.Count, svg.Descendants().Count(e => (string?)e.Attribute("class") == "region"));
        Assert.Contains(picture.Regions, r => r.Kind == AddressSpaceRegionKind.SharedMemory && r.Start == (ulong)shared.Address);
        Assert.Contains(picture.Regions, r => r.Kind == AddressSpaceRegionKind.Program);
        Assert.All(picture.ToText(80).TrimEnd('\n').Split('\n'), l => Assert.True(l.Length <= 80, l));
    }

    [Fact]
    public void ToText_RefusesAWidthOutsideItsRange()
    {
        AddressSpacePicture picture = AddressSpacePicture.Lay(Shell);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => picture.ToText(19)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => picture.ToText(int.MaxValue)).ParamName);
    }

    [Fact]
    public void TheCli_DrawsPlainTextWhenRedirected_AndTwoPidsSideBySide_AndSvgToAFile()
    {
        string svg = Path.Combine(Path.GetTempPath(), $"sysprog-picture-{Environment.ProcessId}.svg");
        try
        {
            Peer.Result one = Peer.Run("maps", "self", "--picture", "--width", "80");
            Peer.Result two = Peer.Run("maps", "self", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--picture", "--width", "100");
            Peer.Result file = Peer.Run("maps", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--svg", svg);

            Assert.Equal(0, one.ExitCode);
            string[] lines = one.Output.TrimEnd('\n').Split('\n');
            Assert.Matches(@"^pid \d+ \(\S+\): \d+ regions$", lines[0]);
            Assert.All(lines, l => Assert.True(l.Length <= 80, l));
            Assert.DoesNotContain('\e', one.Output); // redirected: no colour
            Assert.Equal(0, two.ExitCode);
            Assert.Matches($@"^pid \d+ \(\S+\): \d+ regions +\| pid {Environment.ProcessId} \(\S+\): \d+ regions$", two.Output.Split('\n')[1]);
            Assert.Equal(0, file.ExitCode);
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Contains(XDocument.Load(svg).Descendants(ns + "g"), g => (string?)g.Attribute("class") == "region" && (string?)g.Attribute("data-kind") == "stack");
        }
        finally
        {
            File.Delete(svg);
        }
    }

    private static ulong Hex(XElement element, string attribute) =>
        ulong.Parse(((string)element.Attribute(attribute)!)[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
