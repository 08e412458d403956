using Xunit;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Sysprog.Tests;

/// <summary>
/// What binutils' readelf says of a file (-h -l -S -d --dyn-syms -W), parsed, and compared field by field with
/// <see cref="ElfFile"/>: the oracle of the ELF reader's tests.
/// </summary>
internal static partial class Readelf
{
    public static string? Path { get; } = Tools.Find("readelf");

    public static string Run(params string[] arguments)
    {
        var info = new ProcessStartInfo(Path!) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["LC_ALL"] = "C";
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>Every difference between readelf's view of <paramref name="path"/> and the reader's; empty when they agree.</summary>
    public static List<string> Differences(string path)
    {
        string output = Run("-h", "-l", "-S", "-d", "--dyn-syms", "-W", path);
        ElfFile elf = ElfFile.Open(path, ElfSymbolTables.All);
        var differences = new List<string>();
        void Expect<T>(string what, T readelf, T ours)
        {
            if (!EqualityComparer<T>.Default.Equals(readelf, ours))
            {
                differences.Add($"{path}: {what}: readelf {readelf}, reader {ours}");
            }
        }

        string[] lines = output.Split('\n');
        Expect("class", Field(lines, "Class") == "ELF64" ? ElfClass.Elf64 : ElfClass.Elf32, elf.Class);
        Expect("byte order", Field(lines, "Data")!.Contains("little", StringComparison.Ordinal), elf.Header.ByteOrder == ElfByteOrder.LittleEndian);
        Expect("type", Field(lines, "Type")!.Split(' ')[0], elf.Type switch
        {
            ElfFileType.Relocatable => "REL",
            ElfFileType.Executable => "EXEC",
            ElfFileType.SharedObject => "DYN",
            ElfFileType.Core => "CORE",
            _ => "NONE",
        });
        Expect("entry", Hex(Field(lines, "Entry point address")!), elf.Header.Entry);
        Expect("program header count", (long)CountField(lines, "Number of program headers"), elf.ProgramHeaders.Count);
        Expect("section count", CountField(lines, "Number of section headers"), elf.Sections.Count);

        var segments = lines.Select(l => SegmentLine().Match(l)).Where(m => m.Success).ToList();
        Expect("segments", segments.Count, elf.ProgramHeaders.Count);
        for (int i = 0; i < Math.Min(segments.Count, elf.ProgramHeaders.Count); i++)
        {
            GroupCollection g = segments[i].Groups;
            ElfProgramHeader ours = elf.ProgramHeaders[i];
            Expect($"segment {i} type", SegmentType(g[1].Value), ours.Type);
            Expect($"segment {i} offset", Hex(g[2].Value), ours.Offset);
            Expect($"segment {i} address", Hex(g[3].Value), ours.VirtualAddress);
            Expect($"segment {i} file size", Hex(g[5].Value), ours.FileSize);
            Expect($"segment {i} memory size", Hex(g[6].Value), ours.MemorySize);
            Expect($"segment {i} flags", g[7].Value.Replace('E', 'X').Replace(' ', '-').ToLowerInvariant(), ours.Permissions);
            Expect($"segment {i} alignment", Hex(g[8].Value), ours.Alignment);
        }
        string? interpreter = lines.Select(l => InterpreterLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
        Expect("interpreter", interpreter, elf.Interpreter);

        var sections = lines.Select(l => SectionLine().Match(l)).Where(m => m.Success).ToList();
        Expect("sections", sections.Count, elf.Sections.Count);
        for (int i = 0; i < Math.Min(sections.Count, elf.Sections.Count); i++)
        {
            GroupCollection g = sections[i].Groups;
            ElfSection ours = elf.Sections[i];
            Expect($"section {i} name", g[2].Value.TrimEnd(), ours.Name);
            Expect($"section {i} type", SectionType(g[3].Value), ours.Type);
            Expect($"section {i} address", Hex(g[4].Value), ours.Address);
            Expect($"section {i} offset", Hex(g[5].Value), ours.Offset);
            Expect($"section {i} size", Hex(g[6].Value), ours.Size);
            Expect($"section {i} entry size", Hex(g[7].Value), ours.EntrySize);
            Expect($"section {i} flags", g[8].Value, ours.FlagLetters);
            Expect($"section {i} link", uint.Parse(g[9].Value, CultureInfo.InvariantCulture), ours.Link);
            Expect($"section {i} info", uint.Parse(g[10].Value, CultureInfo.InvariantCulture), ours.Info);
        }

        var dynamic = lines.Select(l => DynamicLine().Match(l)).Where(m => m.Success).ToList();
        // readelf lists the DT_NULL that ends the section; the reader stops at it.
        int dynamicCount = dynamic.FindIndex(m => Hex(m.Groups[1].Value) == 0);
        dynamicCount = dynamicCount < 0 ? dynamic.Count : dynamicCount;
        Expect("dynamic entries", dynamicCount, elf.DynamicEntries.Count);
        for (int i = 0; i < Math.Min(dynamicCount, elf.DynamicEntries.Count); i++)
        {
            ElfDynamicEntry ours = elf.DynamicEntries[i];
            Expect($"dynamic {i} tag", (long)Hex(dynamic[i].Groups[1].Value), (long)ours.Tag);
            if (ours.Text is not null)
            {
                Match text = BracketedText().Match(dynamic[i].Groups[3].Value);
                Expect($"dynamic {i} text", text.Success ? text.Groups[1].Value : dynamic[i].Groups[3].Value, ours.Text);
            }
        }

        // readelf names STB_GNU_UNIQUE only in files of the GNU OS ABI; the reader names it in every file.
        var symbols = lines.Select(l => SymbolLine().Match(l.Replace("<OS specific>: 10", "UNIQUE", StringComparison.Ordinal))).Where(m => m.Success).ToList();
        ElfSymbol[] dynamicSymbols = elf.Symbols.Where(s => s.Table == ElfSymbolTables.Dynamic).ToArray();
        // readelf lists symbol 0, the null symbol; the reader leaves it out.
        Expect("dynamic symbols", Math.Max(symbols.Count - 1, 0), dynamicSymbols.Length);
        for (int i = 1; i < Math.Min(symbols.Count, dynamicSymbols.Length + 1); i++)
        {
            GroupCollection g = symbols[i].Groups;
            ElfSymbol ours = dynamicSymbols[i - 1];
            string where = $"dynamic symbol {i}";
            Expect($"{where} value", Hex(g[2].Value), ours.Value);
            Expect($"{where} size", g[3].Value.StartsWith("0x", StringComparison.Ordinal) ? Hex(g[3].Value[2..]) : ulong.Parse(g[3].Value, CultureInfo.InvariantCulture), ours.Size);
            Expect($"{where} type", g[4].Value, SymbolType(ours.Type));
            Expect($"{where} binding", g[5].Value, ours.Binding == ElfSymbolBinding.Unique ? "UNIQUE" : ours.Binding.ToString().ToUpperInvariant());
            Expect($"{where} visibility", g[6].Value, ours.Visibility.ToString().ToUpperInvariant());
            Expect($"{where} section", g[7].Value, ours.SectionIndex switch
            {
                0 => "UND",
                0xfff1 => "ABS",
                0xfff2 => "COM",
                uint n => n.ToString(CultureInfo.InvariantCulture),
            });
            string name = VersionNeedSuffix().Replace(g[8].Value, string.Empty);
            Expect($"{where} name", name, ours.Type == ElfSymbolType.Section && ours.Name.Length == 0 ? name : ours.VersionedName);
        }

        // .symtab is too long to list for every file; its count shows the reader parsed every entry.
        foreach (ElfSection table in elf.Sections.Where(s => s.Type == ElfSectionType.SymbolTable))
        {
            Expect($"{table.Name} symbols", (int)(table.Size / table.EntrySize) - 1, elf.Symbols.Count(s => s.Table == ElfSymbolTables.Static));
        }
        return differences;
    }

    private static string? Field(string[] lines, string name)
    {
        string prefix = $"  {name}:";
        string? line = lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line?[prefix.Length..].Trim();
    }

    /// <summary>"30", or "0 (70000)" when the count is extended into section 0.</summary>
    private static long CountField(string[] lines, string name)
    {
        string text = Field(lines, name)!;
        int open = text.IndexOf('(', StringComparison.Ordinal);
        return long.Parse(open < 0 ? text : text[(open + 1)..text.IndexOf(')', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
    }

    private static ulong Hex(string text) => ulong.Parse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static ElfSegmentType SegmentType(string name) => name switch
    {
        "NULL" => ElfSegmentType.Null,
        "LOAD" => ElfSegmentType.Load,
        "DYNAMIC" => ElfSegmentType.Dynamic,
        "INTERP" => ElfSegmentType.Interp,
        "NOTE" => ElfSegmentType.Note,
        "SHLIB" => ElfSegmentType.Shlib,
        "PHDR" => ElfSegmentType.Phdr,
        "TLS" => ElfSegmentType.Tls,
        "GNU_EH_FRAME" => ElfSegmentType.GnuEhFrame,
        "GNU_STACK" => ElfSegmentType.GnuStack,
        "GNU_RELRO" => ElfSegmentType.GnuRelro,
        "GNU_PROPERTY" => ElfSegmentType.GnuProperty,
        "GNU_SFRAME" => ElfSegmentType.GnuSframe,
        _ when name.StartsWith("LOOS+0x", StringComparison.Ordinal) => (ElfSegmentType)(0x60000000 + (uint)Hex(name[5..])),
        _ => throw new FormatException($"readelf segment type {name} is not in the test's table"),
    };

    private static ElfSectionType SectionType(string name) => name switch
    {
        "NULL" => ElfSectionType.Null,
        "PROGBITS" => ElfSectionType.ProgBits,
        "SYMTAB" => ElfSectionType.SymbolTable,
        "STRTAB" => ElfSectionType.StringTable,
        "RELA" => ElfSectionType.Rela,
        "HASH" => ElfSectionType.Hash,
        "DYNAMIC" => ElfSectionType.Dynamic,
        "NOTE" => ElfSectionType.Note,
        "NOBITS" => ElfSectionType.NoBits,
        "REL" => ElfSectionType.Rel,
        "DYNSYM" => ElfSectionType.DynamicSymbols,
        "INIT_ARRAY" => ElfSectionType.InitArray,
        "FINI_ARRAY" => ElfSectionType.FiniArray,
        "PREINIT_ARRAY" => ElfSectionType.PreinitArray,
        "GROUP" => ElfSectionType.Group,
        "SYMTAB SECTION INDICES" or "SYMTAB_SHNDX" => ElfSectionType.SymbolTableIndexes,
        "RELR" => ElfSectionType.Relr,
        "GNU_ATTRIBUTES" => ElfSectionType.GnuAttributes,
        "GNU_HASH" => ElfSectionType.GnuHash,
        "GNU_LIBLIST" => ElfSectionType.GnuLibList,
        "CHECKSUM" => ElfSectionType.Checksum,
        "VERDEF" => ElfSectionType.GnuVersionDefinitions,
        "VERNEED" => ElfSectionType.GnuVersionNeeds,
        "VERSYM" => ElfSectionType.GnuVersionSymbols,
        "X86_64_UNWIND" => ElfSectionType.X86_64Unwind,
        _ when name.StartsWith("LOOS+0x", StringComparison.Ordinal) => (ElfSectionType)(0x60000000 + (uint)Hex(name[5..])),
        _ => throw new FormatException($"readelf section type {name} is not in the test's table"),
    };

    private static string SymbolType(ElfSymbolType type) => type switch
    {
        ElfSymbolType.NoType => "NOTYPE",
        ElfSymbolType.Function => "FUNC",
        ElfSymbolType.IndirectFunction => "IFUNC",
        _ => type.ToString().ToUpperInvariant(),
    };

    // "  LOAD  0x000000 0x0000000000000000 0x0000000000000000 0x003468 0x003468 R   0x1000"
    [GeneratedRegex(@"^  (\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) (?:0x)?([0-9a-f]+)$")]
    private static partial Regex SegmentLine();

    [GeneratedRegex(@"^\s+\[Requesting program interpreter: (.*)\]$")]
    private static partial Regex InterpreterLine();

    // "  [ 1] .interp  PROGBITS  0000000000000318 000318 00001c 00   A  0   0  1"
    [GeneratedRegex(@"^  \[\s*(\d+)\] (.*?) ?(\S+(?: SECTION INDICES)?)\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) +([A-Za-z]*) +(\d+) +(\d+) +(\d+)$")]
    private static partial Regex SectionLine();

    // " 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]"
    [GeneratedRegex(@"^ 0x([0-9a-f]+) \((\S+)\)\s+(.*)$")]
    private static partial Regex DynamicLine();

    [GeneratedRegex(@"\[(.*)\]$")]
    private static partial Regex BracketedText();

    // "     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND free@GLIBC_2.2.5 (2)"
    [GeneratedRegex(@"^ +(\d+): ([0-9a-f]+) +(\d+|0x[0-9a-f]+) (\S+) +(\S+) +(\S+) +(\S+) ?(.*)$")]
    private static partial Regex SymbolLine();

    [GeneratedRegex(@" \(\d+\)$")]
    private static partial Regex VersionNeedSuffix();
}

/// <summary>
/// The tests that start a process per system file (readelf, the loader) run alone: a thousand process starts over both
/// CPUs would starve the tests that wait for another thread to block within a time limit.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessPerFileCollection
{
    public const string Name = "one process per system file";
}

/// <summary>Programs the tests use as oracles, found on PATH; null when absent (the test then skips, saying which).</summary>
internal static class Tools
{
    public static string? Find(string name) =>
        Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
