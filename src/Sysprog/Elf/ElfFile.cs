using System.Text;

namespace Sysprog;

/// <summary>
/// An ELF file read by managed code: the header, program headers, sections, interpreter, dynamic section, GNU build
/// id and, when asked, the symbols with their versions. Every structure is bounds-checked against the file; a
/// malformed, truncated or hostile file is an <see cref="ElfFormatException"/> naming what is wrong and where. The
/// object holds no descriptor: everything asked for is read when it is made.
/// </summary>
public sealed class ElfFile
{
    internal const uint SectionUndefined = 0;
    internal const uint SectionAbsolute = 0xfff1;
    internal const uint SectionCommon = 0xfff2;
    private const uint SectionExtendedIndex = 0xffff;
    private const uint SectionReservedLow = 0xff00;
    private const ushort ExtendedProgramHeaderCount = 0xffff;
    private const ushort VersionHidden = 0x8000;
    private const uint NoteGnuBuildId = 3;

    private readonly ElfImage _image;

    private ElfFile(ElfImage image, ElfSymbolTables symbolTables)
    {
        _image = image;
        Path = image.Name;
        Size = image.Length;
        Header = ReadHeader(out ElfSection? firstSection);
        ProgramHeaders = ReadProgramHeaders();
        Sections = ReadSections(firstSection);
        Interpreter = ReadInterpreter();
        DynamicEntries = ReadDynamic();
        BuildId = ReadBuildId();
        SymbolTablesRead = symbolTables;
        Symbols = symbolTables == ElfSymbolTables.None ? [] : ReadSymbols(symbolTables);

        var needed = new List<string>();
        foreach (ElfDynamicEntry entry in DynamicEntries)
        {
            switch (entry.Tag)
            {
                case ElfDynamicTag.Needed:
                    needed.Add(entry.Text!);
                    break;
                case ElfDynamicTag.SoName:
                    SoName ??= entry.Text;
                    break;
                case ElfDynamicTag.RPath:
                    RPath ??= entry.Text;
                    break;
                case ElfDynamicTag.RunPath:
                    RunPath ??= entry.Text;
                    break;
                case ElfDynamicTag.Flags:
                    DynamicFlags |= (ElfDynamicFlags)entry.Value;
                    break;
                case ElfDynamicTag.Flags1:
                    DynamicFlags1 |= (ElfDynamicFlags1)entry.Value;
                    break;
                case ElfDynamicTag.BindNow:
                    DynamicFlags |= ElfDynamicFlags.BindNow;
                    break;
            }
        }
        Needed = needed;
        // The caller disposes the image (its descriptor) once this returns: nothing may read it later.
        _image = null!;
    }

    /// <summary>Reads an ELF file (symbolic links followed); the symbol tables named are read too.</summary>
    public static ElfFile Open(string path, ElfSymbolTables symbols = ElfSymbolTables.None, SyscallTrace? trace = null)
    {
        PathArguments.Validate(path);
        using ElfImage image = ElfImage.OfFile(path, trace);
        return new ElfFile(image, symbols);
    }

    /// <summary>Reads an ELF image already in memory; <paramref name="name"/> stands for the file in errors.</summary>
    public static ElfFile Parse(ReadOnlyMemory<byte> image, string name, ElfSymbolTables symbols = ElfSymbolTables.None)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using ElfImage elf = ElfImage.OfMemory(image, name);
        return new ElfFile(elf, symbols);
    }

    /// <summary>Whether the file starts with the ELF magic (\x7fELF); reads four bytes.</summary>
    public static bool IsElf(ReadOnlySpan<byte> start) => start.Length >= 4 && start[0] == 0x7f && start[1] == (byte)'E' && start[2] == (byte)'L' && start[3] == (byte)'F';

    /// <summary>The path it was read from, or the name given to an in-memory image.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes.</summary>
    public ulong Size { get; }

    public ElfHeader Header { get; }

    public ElfClass Class => Header.Class;

    public ElfFileType Type => Header.Type;

    public ElfMachine Machine => Header.Machine;

    public IReadOnlyList<ElfProgramHeader> ProgramHeaders { get; }

    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>PT_INTERP: the dynamic loader the kernel starts for this program; null for libraries and static programs.</summary>
    public string? Interpreter { get; }

    /// <summary>The dynamic section up to its DT_NULL; empty for static programs and object files.</summary>
    public IReadOnlyList<ElfDynamicEntry> DynamicEntries { get; }

    /// <summary>DT_NEEDED, in order: the libraries the loader maps for this object.</summary>
    public IReadOnlyList<string> Needed { get; }

    public string? SoName { get; }

    /// <summary>DT_RPATH: searched before LD_LIBRARY_PATH, and only when there is no DT_RUNPATH.</summary>
    public string? RPath { get; }

    /// <summary>DT_RUNPATH: searched after LD_LIBRARY_PATH, for this object's own dependencies only.</summary>
    public string? RunPath { get; }

    public ElfDynamicFlags DynamicFlags { get; }

    public ElfDynamicFlags1 DynamicFlags1 { get; }

    /// <summary>Every symbol is bound when the object loads (DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW), not at its first call.</summary>
    public bool BindNow => (DynamicFlags & ElfDynamicFlags.BindNow) != 0 || (DynamicFlags1 & ElfDynamicFlags1.Now) != 0;

    /// <summary>The GNU build id (NT_GNU_BUILD_ID) in hex, as debuggers and debuginfod look files up; null when absent.</summary>
    public string? BuildId { get; }

    /// <summary>Whether the file has no .symtab (only the dynamic symbols are left).</summary>
    public bool IsStripped => !Sections.Any(static s => s.Type == ElfSectionType.SymbolTable);

    /// <summary>
    /// A position-independent executable: an ET_DYN file with DF_1_PIE, as file(1) decides; or, from a toolchain older
    /// than DF_1_PIE, one with an interpreter and no SONAME. An interpreter alone does not make a program: libc.so.6 and
    /// libcap.so.2 have one (they can be run) and a SONAME, and are shared objects.
    /// </summary>
    public bool IsPositionIndependentExecutable =>
        Header.Type == ElfFileType.SharedObject &&
        ((DynamicFlags1 & ElfDynamicFlags1.Pie) != 0 || Interpreter is not null && SoName is null);

    /// <summary>Which symbol tables <see cref="Symbols"/> holds.</summary>
    public ElfSymbolTables SymbolTablesRead { get; }

    /// <summary>The symbols of the tables asked for, .dynsym first; index 0 (the null symbol) left out.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    /// <summary>"ELF64 little-endian PIE executable, X86_64": what the file is, in the words of file(1).</summary>
    public string Kind
    {
        get
        {
            string what = Header.Type switch
            {
                ElfFileType.SharedObject when IsPositionIndependentExecutable => "PIE executable",
                ElfFileType.SharedObject => "shared object",
                ElfFileType.Executable => "executable",
                ElfFileType.Relocatable => "relocatable object",
                ElfFileType.Core => "core dump",
                _ => $"type {(ushort)Header.Type}",
            };
            string order = Header.ByteOrder == ElfByteOrder.LittleEndian ? "little-endian" : "big-endian";
            return $"{Header.Class.ToString().ToUpperInvariant()} {order} {what}, {Header.Machine}";
        }
    }

    /// <summary>The file offset holding a virtual address of a loaded segment's file image; null when no segment maps it from the file.</summary>
    public ulong? FileOffsetOf(ulong address)
    {
        foreach (ElfProgramHeader segment in ProgramHeaders)
        {
            if (segment.Type == ElfSegmentType.Load && address >= segment.VirtualAddress && address - segment.VirtualAddress < segment.FileSize)
            {
                return segment.Offset + (address - segment.VirtualAddress);
            }
        }
        return null;
    }

    /// <summary>The first section with this name, or null.</summary>
    public ElfSection? Section(string name) => Sections.FirstOrDefault(s => s.Name == name);

    public override string ToString() => Path;

    private ElfHeader ReadHeader(out ElfSection? firstSection)
    {
        const string part = "ELF header";
        if (!IsElf(_image.Region(0, Math.Min(4, _image.Length), part)))
        {
            throw _image.Fail(part, 0, "not an ELF file: it does not start with \\x7fELF");
        }
        ReadOnlySpan<byte> ident = _image.Region(0, 16, "ELF identification");
        var elfClass = (ElfClass)ident[4];
        var byteOrder = (ElfByteOrder)ident[5];
        if (elfClass is not (ElfClass.Elf32 or ElfClass.Elf64))
        {
            throw _image.Fail("ELF identification", 4, $"EI_CLASS is {ident[4]}: neither 1 (32-bit) nor 2 (64-bit)");
        }
        if (byteOrder is not (ElfByteOrder.LittleEndian or ElfByteOrder.BigEndian))
        {
            throw _image.Fail("ELF identification", 5, $"EI_DATA is {ident[5]}: neither 1 (little-endian) nor 2 (big-endian)");
        }
        _image.Is64 = elfClass == ElfClass.Elf64;
        _image.BigEndian = byteOrder == ElfByteOrder.BigEndian;
        bool is64 = _image.Is64;
        ReadOnlySpan<byte> h = _image.Region(0, is64 ? 64u : 52u, part);
        int w = is64 ? 8 : 4;
        ulong entry = _image.Word(h, 24);
        ulong phoff = _image.Word(h, 24 + w);
        ulong shoff = _image.Word(h, 24 + 2 * w);
        int rest = 24 + 3 * w;
        uint flags = _image.U32(h, rest);
        ushort ehsize = _image.U16(h, rest + 4);
        ushort phentsize = _image.U16(h, rest + 6);
        ushort phnum = _image.U16(h, rest + 8);
        ushort shentsize = _image.U16(h, rest + 10);
        ushort shnum = _image.U16(h, rest + 12);
        ushort shstrndx = _image.U16(h, rest + 14);

        // Extended numbering: counts that do not fit 16 bits live in section 0.
        long sectionCount = shnum;
        long nameTableIndex = shstrndx;
        int programHeaderCount = phnum;
        firstSection = null;
        if (shoff != 0)
        {
            CheckEntrySize(shentsize, is64 ? 64 : 40, "section header table", shoff);
            firstSection = ReadSectionHeader(_image.Region(shoff, shentsize, "section header 0"), 0, string.Empty);
            if (shnum == 0)
            {
                sectionCount = (long)Math.Min(firstSection.Size, long.MaxValue);
            }
            if (shstrndx == SectionExtendedIndex)
            {
                nameTableIndex = firstSection.Link;
            }
            if (phnum == ExtendedProgramHeaderCount)
            {
                programHeaderCount = (int)Math.Min(firstSection.Info, int.MaxValue);
            }
        }
        else
        {
            sectionCount = 0;
        }
        return new ElfHeader(elfClass, byteOrder, (ElfOsAbi)ident[7], ident[8], (ElfFileType)_image.U16(h, 16), (ElfMachine)_image.U16(h, 18),
            _image.U32(h, 20), entry, phoff, shoff, flags, ehsize, phentsize, programHeaderCount, shentsize, sectionCount, nameTableIndex);
    }

    private void CheckEntrySize(ushort entrySize, int needed, string table, ulong offset)
    {
        if (entrySize < needed)
        {
            throw _image.Fail(table, offset, $"entries are {entrySize} bytes, fewer than the {needed} one entry takes");
        }
    }

    /// <summary>A table of <paramref name="count"/> entries, checked to lie inside the file before anything is sized by the count.</summary>
    private ReadOnlySpan<byte> Table(ulong offset, long count, ushort entrySize, string part)
    {
        if (count < 0 || (ulong)count > _image.Length / Math.Max(entrySize, (ushort)1))
        {
            throw _image.Fail(part, offset, $"{count} entries of {entrySize} bytes cannot fit in a file of {_image.Length} bytes");
        }
        return _image.Region(offset, (ulong)count * entrySize, part);
    }

    private List<ElfProgramHeader> ReadProgramHeaders()
    {
        const string part = "program header table";
        int count = Header.ProgramHeaderCount;
        if (count == 0 || Header.ProgramHeaderOffset == 0)
        {
            return [];
        }
        bool is64 = _image.Is64;
        CheckEntrySize(Header.ProgramHeaderEntrySize, is64 ? 56 : 32, part, Header.ProgramHeaderOffset);
        ReadOnlySpan<byte> table = Table(Header.ProgramHeaderOffset, count, Header.ProgramHeaderEntrySize, part);
        var headers = new List<ElfProgramHeader>(count);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> p = table.Slice(i * Header.ProgramHeaderEntrySize, Header.ProgramHeaderEntrySize);
            headers.Add(is64
                ? new ElfProgramHeader(i, (ElfSegmentType)_image.U32(p, 0), (ElfSegmentFlags)_image.U32(p, 4), _image.U64(p, 8), _image.U64(p, 16),
                    _image.U64(p, 24), _image.U64(p, 32), _image.U64(p, 40), _image.U64(p, 48))
                : new ElfProgramHeader(i, (ElfSegmentType)_image.U32(p, 0), (ElfSegmentFlags)_image.U32(p, 24), _image.U32(p, 4), _image.U32(p, 8),
                    _image.U32(p, 12), _image.U32(p, 16), _image.U32(p, 20), _image.U32(p, 28)));
        }
        return headers;
    }

    private ElfSection ReadSectionHeader(ReadOnlySpan<byte> s, int index, string name) => _image.Is64
        ? new ElfSection(index, name, (ElfSectionType)_image.U32(s, 4), (ElfSectionFlags)_image.U64(s, 8), _image.U64(s, 16), _image.U64(s, 24),
            _image.U64(s, 32), _image.U32(s, 40), _image.U32(s, 44), _image.U64(s, 48), _image.U64(s, 56))
        : new ElfSection(index, name, (ElfSectionType)_image.U32(s, 4), (ElfSectionFlags)_image.U32(s, 8), _image.U32(s, 12), _image.U32(s, 16),
            _image.U32(s, 20), _image.U32(s, 24), _image.U32(s, 28), _image.U32(s, 32), _image.U32(s, 36));

    private List<ElfSection> ReadSections(ElfSection? firstSection)
    {
        const string part = "section header table";
        long count = Header.SectionHeaderCount;
        if (firstSection is null || count == 0)
        {
            return [];
        }
        ushort entrySize = Header.SectionHeaderEntrySize;
        ReadOnlySpan<byte> table = Table(Header.SectionHeaderOffset, count, entrySize, part);
        var unnamed = new ElfSection[count];
        for (int i = 0; i < count; i++)
        {
            unnamed[i] = ReadSectionHeader(table.Slice(i * entrySize, entrySize), i, string.Empty);
        }
        for (int i = 0; i < count; i++)
        {
            unnamed[i] = unnamed[i] with { FlagLetters = SectionFlagLetters(unnamed[i].Flags) };
        }
        long nameIndex = Header.SectionNameTableIndex;
        if (nameIndex == 0)
        {
            return [.. unnamed];
        }
        if (nameIndex >= count)
        {
            throw _image.Fail("ELF header", Header.SectionHeaderOffset, $"the section name table is section {nameIndex}, but there are only {count} sections");
        }
        ElfSection nameSection = unnamed[nameIndex];
        ReadOnlySpan<byte> names = SectionData(nameSection, "section name table");
        var sections = new List<ElfSection>((int)count);
        foreach (ElfSection section in unnamed)
        {
            string name = ElfImage.String(_image, names, nameSection.Offset, ReadSectionNameIndex(table, section.Index, entrySize), $"name of section {section.Index}");
            sections.Add(section with { Name = name });
        }
        return sections;
    }

    private uint ReadSectionNameIndex(ReadOnlySpan<byte> table, int index, ushort entrySize) => _image.U32(table.Slice(index * entrySize, entrySize), 0);

    /// <summary>The bytes a section holds in the file; NOBITS sections hold none.</summary>
    private ReadOnlySpan<byte> SectionData(ElfSection section, string part) =>
        section.HasFileData ? _image.Region(section.Offset, section.Size, $"{part} (section {section.Index}{NameSuffix(section)})") : [];

    private static string NameSuffix(ElfSection section) => section.Name.Length == 0 ? string.Empty : $" {section.Name}";

    private ReadOnlySpan<byte> SegmentData(ElfProgramHeader segment, string part) =>
        _image.Region(segment.Offset, segment.FileSize, $"{part} (program header {segment.Index})");

    private string? ReadInterpreter()
    {
        ElfProgramHeader? segment = ProgramHeaders.FirstOrDefault(static p => p.Type == ElfSegmentType.Interp);
        if (segment is null)
        {
            return null;
        }
        ReadOnlySpan<byte> data = SegmentData(segment, "interpreter");
        int end = data.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? data : data[..end]);
    }

    private List<ElfDynamicEntry> ReadDynamic()
    {
        ulong offset;
        ulong size;
        ElfSection? dynamicSection = Sections.FirstOrDefault(static s => s.Type == ElfSectionType.Dynamic);
        ElfProgramHeader? segment = ProgramHeaders.FirstOrDefault(static p => p.Type == ElfSegmentType.Dynamic);
        if (segment is not null)
        {
            (offset, size) = (segment.Offset, segment.FileSize);
        }
        else if (dynamicSection is not null && dynamicSection.HasFileData)
        {
            (offset, size) = (dynamicSection.Offset, dynamicSection.Size);
        }
        else
        {
            return [];
        }
        const string part = "dynamic section";
        ReadOnlySpan<byte> data = _image.Region(offset, size, part);
        int entrySize = _image.Is64 ? 16 : 8;
        var raw = new List<(ElfDynamicTag Tag, ulong Value)>();
        ulong stringTableAddress = 0;
        ulong stringTableSize = 0;
        bool hasStringTable = false;
        for (int at = 0; at + entrySize <= data.Length; at += entrySize)
        {
            long tag = _image.Is64 ? (long)_image.U64(data, at) : (int)_image.U32(data, at);
            ulong value = _image.Word(data, at + entrySize / 2);
            if (tag == (long)ElfDynamicTag.Null)
            {
                break;
            }
            raw.Add(((ElfDynamicTag)tag, value));
            if (tag == (long)ElfDynamicTag.StringTable)
            {
                (stringTableAddress, hasStringTable) = (value, true);
            }
            else if (tag == (long)ElfDynamicTag.StringTableSize)
            {
                stringTableSize = value;
            }
        }

        ReadOnlySpan<byte> strings = [];
        ulong stringsOffset = 0;
        if (raw.Exists(static e => HoldsString(e.Tag)))
        {
            ulong? mapped = hasStringTable ? FileOffsetOf(stringTableAddress) : null;
            if (mapped is ulong found)
            {
                stringsOffset = found;
                ulong available = _image.Length - found;
                strings = _image.Region(found, stringTableSize == 0 ? available : Math.Min(stringTableSize, available), "dynamic string table");
            }
            else if (dynamicSection is not null && dynamicSection.Link < Sections.Count)
            {
                ElfSection linked = Sections[(int)dynamicSection.Link];
                stringsOffset = linked.Offset;
                strings = SectionData(linked, "dynamic string table");
            }
            else
            {
                throw _image.Fail(part, offset, $"DT_STRTAB (0x{stringTableAddress:x}) lies in no loaded segment and no section links a string table");
            }
        }
        var entries = new List<ElfDynamicEntry>(raw.Count);
        for (int i = 0; i < raw.Count; i++)
        {
            (ElfDynamicTag tag, ulong value) = raw[i];
            string? text = HoldsString(tag)
                ? ElfImage.String(_image, strings, stringsOffset, (uint)Math.Min(value, uint.MaxValue), $"{tag} entry {i} of the dynamic section")
                : null;
            entries.Add(new ElfDynamicEntry(tag, value, text));
        }
        return entries;
    }

    private static bool HoldsString(ElfDynamicTag tag) =>
        tag is ElfDynamicTag.Needed or ElfDynamicTag.SoName or ElfDynamicTag.RPath or ElfDynamicTag.RunPath or ElfDynamicTag.Auxiliary or ElfDynamicTag.Filter;

    private string? ReadBuildId()
    {
        foreach (ElfSection section in Sections)
        {
            if (section.Type == ElfSectionType.Note && section.HasFileData)
            {
                string? id = FindBuildId(SectionData(section, "note"), section.Offset, section.Alignment);
                if (id is not null)
                {
                    return id;
                }
            }
        }
        if (Sections.Count > 0)
        {
            return null;
        }
        foreach (ElfProgramHeader segment in ProgramHeaders)
        {
            if (segment.Type == ElfSegmentType.Note)
            {
                string? id = FindBuildId(SegmentData(segment, "note"), segment.Offset, segment.Alignment);
                if (id is not null)
                {
                    return id;
                }
            }
        }
        return null;
    }

    private string? FindBuildId(ReadOnlySpan<byte> notes, ulong offset, ulong alignment)
    {
        // Notes are 4-aligned, or 8-aligned in an 8-aligned note section or segment (GNU property notes).
        int align = alignment == 8 ? 8 : 4;
        int at = 0;
        while (notes.Length - at >= 12)
        {
            uint nameSize = _image.U32(notes, at);
            uint descSize = _image.U32(notes, at + 4);
            uint type = _image.U32(notes, at + 8);
            ulong nameStart = (ulong)at + 12;
            ulong descStart = AlignUp(nameStart + nameSize, align);
            ulong next = AlignUp(descStart + descSize, align);
            if (descStart + descSize > (ulong)notes.Length)
            {
                throw _image.Fail("note", offset + (ulong)at, $"a note of {nameSize}+{descSize} bytes runs past the end of its note section");
            }
            if (type == NoteGnuBuildId && nameSize == 4 && notes.Slice((int)nameStart, 4).SequenceEqual("GNU\0"u8))
            {
                return Convert.ToHexString(notes.Slice((int)descStart, (int)descSize)).ToLowerInvariant();
            }
            if (next >= (ulong)notes.Length)
            {
                break;
            }
            at = (int)next;
        }
        return null;
    }

    private static ulong AlignUp(ulong value, int align) => (value + (ulong)align - 1) & ~((ulong)align - 1);

    private List<ElfSymbol> ReadSymbols(ElfSymbolTables tables)
    {
        var symbols = new List<ElfSymbol>();
        if ((tables & ElfSymbolTables.Dynamic) != 0)
        {
            foreach (ElfSection section in Sections)
            {
                if (section.Type == ElfSectionType.DynamicSymbols)
                {
                    ReadSymbolTable(section, ElfSymbolTables.Dynamic, symbols);
                }
            }
        }
        if ((tables & ElfSymbolTables.Static) != 0)
        {
            foreach (ElfSection section in Sections)
            {
                if (section.Type == ElfSectionType.SymbolTable)
                {
                    ReadSymbolTable(section, ElfSymbolTables.Static, symbols);
                }
            }
        }
        return symbols;
    }

    private void ReadSymbolTable(ElfSection table, ElfSymbolTables kind, List<ElfSymbol> symbols)
    {
        string part = $"symbol table {table.Name}";
        int entrySize = _image.Is64 ? 24 : 16;
        if (table.EntrySize < (ulong)entrySize)
        {
            throw _image.Fail(part, table.Offset, $"entries are {table.EntrySize} bytes, fewer than the {entrySize} one symbol takes");
        }
        if (table.Link >= Sections.Count)
        {
            throw _image.Fail(part, table.Offset, $"its string table is section {table.Link}, but there are only {Sections.Count} sections");
        }
        ReadOnlySpan<byte> data = SectionData(table, "symbol table");
        ElfSection stringSection = Sections[(int)table.Link];
        ReadOnlySpan<byte> strings = SectionData(stringSection, $"string table of {table.Name}");
        long count = (long)(table.Size / table.EntrySize);
        int stride = (int)table.EntrySize;

        ReadOnlySpan<byte> extendedIndexes = [];
        ReadOnlySpan<byte> versionIndexes = [];
        Dictionary<int, (string Name, uint NameIndex, bool Defined)>? versions = null;
        foreach (ElfSection other in Sections)
        {
            if (other.Link != table.Index)
            {
                continue;
            }
            if (other.Type == ElfSectionType.SymbolTableIndexes)
            {
                extendedIndexes = SectionData(other, "extended section indexes");
            }
            else if (other.Type == ElfSectionType.GnuVersionSymbols && kind == ElfSymbolTables.Dynamic)
            {
                versionIndexes = SectionData(other, "symbol versions");
                if ((ulong)versionIndexes.Length < (ulong)count * 2)
                {
                    throw _image.Fail("symbol versions", other.Offset, $"{versionIndexes.Length / 2} version entries for {count} symbols of {table.Name}");
                }
                versions = ReadVersionNames();
            }
        }

        symbols.Capacity = Math.Max(symbols.Capacity, symbols.Count + (int)count);
        for (int i = 1; i < count; i++)
        {
            ReadOnlySpan<byte> s = data.Slice(i * stride, entrySize);
            uint nameIndex = _image.U32(s, 0);
            ulong value;
            ulong size;
            byte info;
            byte other;
            uint sectionIndex;
            if (_image.Is64)
            {
                (info, other, sectionIndex, value, size) = (s[4], s[5], _image.U16(s, 6), _image.U64(s, 8), _image.U64(s, 16));
            }
            else
            {
                (value, size, info, other, sectionIndex) = (_image.U32(s, 4), _image.U32(s, 8), s[12], s[13], _image.U16(s, 14));
            }
            string where = $"symbol {i} of {table.Name}";
            if (sectionIndex == SectionExtendedIndex)
            {
                if (extendedIndexes.Length < (i + 1) * 4)
                {
                    throw _image.Fail(where, table.Offset + (ulong)(i * stride), "SHN_XINDEX with no SHT_SYMTAB_SHNDX entry for it");
                }
                sectionIndex = _image.U32(extendedIndexes, i * 4);
            }
            string name = ElfImage.String(_image, strings, stringSection.Offset, nameIndex, where);
            string? version = null;
            bool isDefault = false;
            if (versions is not null)
            {
                ushort raw = _image.U16(versionIndexes, i * 2);
                int index = raw & ~VersionHidden;
                if (index > 1 && versions.TryGetValue(index, out var found))
                {
                    bool defined = sectionIndex != SectionUndefined;
                    // A version definition's own symbol (the one named like the version) carries no version, as readelf shows it.
                    if (!(found.Defined && found.NameIndex == nameIndex) && (found.Defined == defined || !found.Defined))
                    {
                        version = found.Name;
                        isDefault = found.Defined && (raw & VersionHidden) == 0;
                    }
                }
            }
            symbols.Add(new ElfSymbol(kind, i, name, value, size, (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4),
                (ElfSymbolVisibility)(other & 0x3), sectionIndex, SectionNameOf(sectionIndex), version, isDefault) { File = Path });
        }
    }

    private string? SectionNameOf(uint index) => index switch
    {
        SectionUndefined => "*UND*",
        SectionAbsolute => "*ABS*",
        SectionCommon => "*COM*",
        _ when index < Sections.Count && index < SectionReservedLow => Sections[(int)index].Name,
        _ => null,
    };

    /// <summary>Version index to name, from .gnu.version_d (definitions) and .gnu.version_r (requirements).</summary>
    private Dictionary<int, (string Name, uint NameIndex, bool Defined)> ReadVersionNames()
    {
        var names = new Dictionary<int, (string, uint, bool)>();
        foreach (ElfSection section in Sections)
        {
            if (section.Type is not (ElfSectionType.GnuVersionDefinitions or ElfSectionType.GnuVersionNeeds))
            {
                continue;
            }
            bool definitions = section.Type == ElfSectionType.GnuVersionDefinitions;
            string part = definitions ? "version definitions" : "version requirements";
            if (section.Link >= Sections.Count)
            {
                throw _image.Fail(part, section.Offset, $"its string table is section {section.Link}, but there are only {Sections.Count} sections");
            }
            ElfSection stringSection = Sections[(int)section.Link];
            ReadOnlySpan<byte> strings = SectionData(stringSection, $"string table of {section.Name}");
            ReadOnlySpan<byte> data = SectionData(section, part);
            // Each entry takes at least 16 bytes, so a chain cannot be longer than the section allows, whatever sh_info says.
            long entries = Math.Min(section.Info, data.Length / 16);
            ulong at = 0;
            for (long e = 0; e < entries; e++)
            {
                ReadOnlySpan<byte> entry = _image.Within(data, at, definitions ? 20u : 16u, part, section.Offset);
                if (definitions)
                {
                    int index = _image.U16(entry, 4);
                    ushort auxCount = _image.U16(entry, 6);
                    uint aux = _image.U32(entry, 12);
                    if (auxCount > 0)
                    {
                        uint nameIndex = _image.U32(_image.Within(data, at + aux, 8, part, section.Offset), 0);
                        names[index] = (ElfImage.String(_image, strings, stringSection.Offset, nameIndex, part), nameIndex, true);
                    }
                }
                else
                {
                    ushort auxCount = _image.U16(entry, 2);
                    ulong auxAt = at + _image.U32(entry, 8);
                    for (int a = 0; a < auxCount && a < data.Length / 16; a++)
                    {
                        ReadOnlySpan<byte> vernaux = _image.Within(data, auxAt, 16, part, section.Offset);
                        int index = _image.U16(vernaux, 6);
                        uint nameIndex = _image.U32(vernaux, 8);
                        names.TryAdd(index, (ElfImage.String(_image, strings, stringSection.Offset, nameIndex, part), nameIndex, false));
                        uint nextAux = _image.U32(vernaux, 12);
                        if (nextAux == 0)
                        {
                            break;
                        }
                        auxAt += nextAux;
                    }
                }
                uint next = _image.U32(entry, definitions ? 16 : 12);
                if (next == 0)
                {
                    break;
                }
                at += next;
            }
        }
        return names;
    }

    private string SectionFlagLetters(ElfSectionFlags flags)
    {
        bool retainIsKnown = Header.OsAbi is ElfOsAbi.Gnu or ElfOsAbi.FreeBSD;
        bool largeIsKnown = Header.Machine == ElfMachine.X86_64;
        var letters = new StringBuilder();
        ulong rest = (ulong)flags;
        while (rest != 0)
        {
            ulong bit = rest & (~rest + 1);
            rest &= ~bit;
            letters.Append(bit switch
            {
                0x1 => 'W',
                0x2 => 'A',
                0x4 => 'X',
                0x10 => 'M',
                0x20 => 'S',
                0x40 => 'I',
                0x80 => 'L',
                0x100 => 'O',
                0x200 => 'G',
                0x400 => 'T',
                0x800 => 'C',
                0x200000 when retainIsKnown => 'R',
                0x10000000 when largeIsKnown => 'l',
                0x80000000 => 'E',
                _ when (bit & 0x0ff00000) != 0 => 'o',
                _ when (bit & 0xf0000000) != 0 => 'p',
                _ => 'x',
            });
        }
        return letters.ToString();
    }
}
