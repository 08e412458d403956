namespace Sysprog;

/// <summary>EI_CLASS: 32- or 64-bit objects.</summary>
public enum ElfClass : byte
{
    Elf32 = 1,
    Elf64 = 2,
}

/// <summary>EI_DATA: the byte order of every multi-byte field.</summary>
public enum ElfByteOrder : byte
{
    LittleEndian = 1,
    BigEndian = 2,
}

/// <summary>e_type: what the file is for. A position-independent executable is <see cref="SharedObject"/> with an interpreter.</summary>
public enum ElfFileType : ushort
{
    None = 0,
    Relocatable = 1,
    Executable = 2,
    SharedObject = 3,
    Core = 4,
}

/// <summary>EI_OSABI, the common values; others show as their number.</summary>
public enum ElfOsAbi : byte
{
    SystemV = 0,
    HPUX = 1,
    NetBSD = 2,
    /// <summary>ELFOSABI_GNU (also called ELFOSABI_LINUX): the object uses GNU extensions such as IFUNC or unique symbols.</summary>
    Gnu = 3,
    Solaris = 6,
    Aix = 7,
    Irix = 8,
    FreeBSD = 9,
    OpenBSD = 12,
    ArmAeabi = 64,
    Arm = 97,
    Standalone = 255,
}

/// <summary>e_machine, the architectures Linux runs on; others show as their number.</summary>
public enum ElfMachine : ushort
{
    None = 0,
    Sparc = 2,
    X86 = 3,
    M68k = 4,
    Mips = 8,
    PowerPC = 20,
    PowerPC64 = 21,
    S390 = 22,
    Arm = 40,
    SuperH = 42,
    Sparcv9 = 43,
    IA64 = 50,
    X86_64 = 62,
    AArch64 = 183,
    RiscV = 243,
    Bpf = 247,
    LoongArch = 258,
}

/// <summary>p_type of a program header (segment).</summary>
public enum ElfSegmentType : uint
{
    Null = 0,
    Load = 1,
    Dynamic = 2,
    Interp = 3,
    Note = 4,
    Shlib = 5,
    Phdr = 6,
    Tls = 7,
    GnuEhFrame = 0x6474e550,
    GnuStack = 0x6474e551,
    GnuRelro = 0x6474e552,
    GnuProperty = 0x6474e553,
    GnuSframe = 0x6474e554,
}

/// <summary>p_flags: what a loaded segment may do.</summary>
[Flags]
public enum ElfSegmentFlags : uint
{
    None = 0,
    Execute = 1,
    Write = 2,
    Read = 4,
}

/// <summary>sh_type of a section.</summary>
public enum ElfSectionType : uint
{
    Null = 0,
    ProgBits = 1,
    SymbolTable = 2,
    StringTable = 3,
    Rela = 4,
    Hash = 5,
    Dynamic = 6,
    Note = 7,
    NoBits = 8,
    Rel = 9,
    Shlib = 10,
    DynamicSymbols = 11,
    InitArray = 14,
    FiniArray = 15,
    PreinitArray = 16,
    Group = 17,
    SymbolTableIndexes = 18,
    Relr = 19,
    GnuAttributes = 0x6ffffff5,
    GnuHash = 0x6ffffff6,
    GnuLibList = 0x6ffffff7,
    Checksum = 0x6ffffff8,
    GnuVersionDefinitions = 0x6ffffffd,
    GnuVersionNeeds = 0x6ffffffe,
    GnuVersionSymbols = 0x6fffffff,
    X86_64Unwind = 0x70000001,
}

/// <summary>sh_flags of a section.</summary>
[Flags]
public enum ElfSectionFlags : ulong
{
    None = 0,
    Write = 0x1,
    Alloc = 0x2,
    Execute = 0x4,
    Merge = 0x10,
    Strings = 0x20,
    InfoLink = 0x40,
    LinkOrder = 0x80,
    OsNonconforming = 0x100,
    Group = 0x200,
    Tls = 0x400,
    Compressed = 0x800,
    GnuRetain = 0x200000,
    Exclude = 0x80000000,
}

/// <summary>d_tag of a dynamic section entry, the ones a loader or a reader cares about; others show as their number.</summary>
public enum ElfDynamicTag : long
{
    Null = 0,
    Needed = 1,
    PltRelSize = 2,
    PltGot = 3,
    Hash = 4,
    StringTable = 5,
    SymbolTable = 6,
    Rela = 7,
    RelaSize = 8,
    RelaEntrySize = 9,
    StringTableSize = 10,
    SymbolEntrySize = 11,
    Init = 12,
    Fini = 13,
    SoName = 14,
    RPath = 15,
    Symbolic = 16,
    Rel = 17,
    RelSize = 18,
    RelEntrySize = 19,
    PltRel = 20,
    Debug = 21,
    TextRel = 22,
    JmpRel = 23,
    BindNow = 24,
    InitArray = 25,
    FiniArray = 26,
    InitArraySize = 27,
    FiniArraySize = 28,
    RunPath = 29,
    Flags = 30,
    PreinitArray = 32,
    PreinitArraySize = 33,
    SymbolTableIndex = 34,
    RelrSize = 35,
    Relr = 36,
    RelrEntrySize = 37,
    GnuHash = 0x6ffffef5,
    VersionSymbols = 0x6ffffff0,
    RelaCount = 0x6ffffff9,
    RelCount = 0x6ffffffa,
    Flags1 = 0x6ffffffb,
    VersionDefinitions = 0x6ffffffc,
    VersionDefinitionCount = 0x6ffffffd,
    VersionNeeds = 0x6ffffffe,
    VersionNeedCount = 0x6fffffff,
    Auxiliary = 0x7ffffffd,
    Filter = 0x7fffffff,
}

/// <summary>DT_FLAGS.</summary>
[Flags]
public enum ElfDynamicFlags : ulong
{
    None = 0,
    Origin = 0x1,
    Symbolic = 0x2,
    TextRel = 0x4,
    BindNow = 0x8,
    StaticTls = 0x10,
}

/// <summary>DT_FLAGS_1, the loader-relevant bits.</summary>
[Flags]
public enum ElfDynamicFlags1 : ulong
{
    None = 0,
    Now = 0x1,
    Global = 0x2,
    Group = 0x4,
    NoDelete = 0x8,
    LoadFilter = 0x10,
    InitFirst = 0x20,
    NoOpen = 0x40,
    Origin = 0x80,
    Direct = 0x100,
    Interpose = 0x400,
    /// <summary>The default folders and /etc/ld.so.cache are not searched for this object's dependencies.</summary>
    NoDefaultLibraries = 0x800,
    NoDump = 0x1000,
    ConfigAlternative = 0x2000,
    EndFiltee = 0x4000,
    DispRelocDone = 0x8000,
    DispRelocPending = 0x10000,
    NoDirect = 0x20000,
    IgnoreMultipleDefinitions = 0x40000,
    NoKernelSymbols = 0x80000,
    NoHeader = 0x100000,
    Edited = 0x200000,
    NoReloc = 0x400000,
    SymbolInterposers = 0x800000,
    GlobalAudit = 0x1000000,
    Singleton = 0x2000000,
    Stub = 0x4000000,
    Pie = 0x8000000,
}

/// <summary>The symbol tables of a file: .dynsym (what the loader sees) and .symtab (the linker's full table, absent once stripped).</summary>
[Flags]
public enum ElfSymbolTables
{
    None = 0,
    Dynamic = 1,
    Static = 2,
    All = Dynamic | Static,
}

/// <summary>STT_*: what a symbol names.</summary>
public enum ElfSymbolType : byte
{
    NoType = 0,
    Object = 1,
    Function = 2,
    Section = 3,
    File = 4,
    Common = 5,
    Tls = 6,
    /// <summary>STT_GNU_IFUNC: a function whose address a resolver picks at load time.</summary>
    IndirectFunction = 10,
}

/// <summary>STB_*: who sees a symbol.</summary>
public enum ElfSymbolBinding : byte
{
    Local = 0,
    Global = 1,
    Weak = 2,
    /// <summary>STB_GNU_UNIQUE: one definition per process, even across RTLD_LOCAL scopes.</summary>
    Unique = 10,
}

/// <summary>STV_*: the low bits of st_other.</summary>
public enum ElfSymbolVisibility : byte
{
    Default = 0,
    Internal = 1,
    Hidden = 2,
    Protected = 3,
}

/// <summary>The ELF header: what kind of object a file is.</summary>
public sealed record ElfHeader(
    ElfClass Class,
    ElfByteOrder ByteOrder,
    ElfOsAbi OsAbi,
    byte AbiVersion,
    ElfFileType Type,
    ElfMachine Machine,
    uint Version,
    ulong Entry,
    ulong ProgramHeaderOffset,
    ulong SectionHeaderOffset,
    uint Flags,
    ushort HeaderSize,
    ushort ProgramHeaderEntrySize,
    int ProgramHeaderCount,
    ushort SectionHeaderEntrySize,
    long SectionHeaderCount,
    long SectionNameTableIndex);

/// <summary>One program header: a segment the loader maps (LOAD) or reads (INTERP, DYNAMIC, NOTE...).</summary>
public sealed record ElfProgramHeader(
    int Index,
    ElfSegmentType Type,
    ElfSegmentFlags Flags,
    ulong Offset,
    ulong VirtualAddress,
    ulong PhysicalAddress,
    ulong FileSize,
    ulong MemorySize,
    ulong Alignment)
{
    /// <summary>"r-x": read, write, execute, as /proc/PID/maps writes them.</summary>
    public string Permissions => string.Create(3, Flags, static (text, flags) =>
    {
        text[0] = (flags & ElfSegmentFlags.Read) != 0 ? 'r' : '-';
        text[1] = (flags & ElfSegmentFlags.Write) != 0 ? 'w' : '-';
        text[2] = (flags & ElfSegmentFlags.Execute) != 0 ? 'x' : '-';
    });

    /// <summary>Whether the virtual address lies inside the segment's memory image.</summary>
    public bool Contains(ulong address) => address >= VirtualAddress && address - VirtualAddress < MemorySize;
}

/// <summary>One section header, with its name from the section name table.</summary>
public sealed record ElfSection(
    int Index,
    string Name,
    ElfSectionType Type,
    ElfSectionFlags Flags,
    ulong Address,
    ulong Offset,
    ulong Size,
    uint Link,
    uint Info,
    ulong Alignment,
    ulong EntrySize)
{
    /// <summary>
    /// sh_flags as readelf's key letters: W write, A alloc, X execute, M merge, S strings, I info, L link order,
    /// O extra OS processing, G group, T TLS, C compressed, E exclude; R retain (GNU and FreeBSD ABIs), l large
    /// (x86-64), and o, p, x for other OS-specific, processor-specific and unknown bits.
    /// </summary>
    public string FlagLetters { get; init; } = string.Empty;

    /// <summary>Whether the section occupies bytes of the file (every type but NOBITS and NULL).</summary>
    public bool HasFileData => Type is not (ElfSectionType.NoBits or ElfSectionType.Null);
}

/// <summary>One entry of the dynamic section; <see cref="Text"/> is the string a NEEDED, SONAME, RPATH or RUNPATH entry names.</summary>
public sealed record ElfDynamicEntry(ElfDynamicTag Tag, ulong Value, string? Text)
{
    public override string ToString() => Text is null ? $"{Tag} 0x{Value:x}" : $"{Tag} {Text}";
}

/// <summary>One symbol of .dynsym or .symtab, with its version from .gnu.version when the file has one.</summary>
public sealed record ElfSymbol(
    ElfSymbolTables Table,
    int Index,
    string Name,
    ulong Value,
    ulong Size,
    ElfSymbolType Type,
    ElfSymbolBinding Binding,
    ElfSymbolVisibility Visibility,
    uint SectionIndex,
    string? SectionName,
    string? Version,
    bool IsDefaultVersion)
{
    /// <summary>The file the symbol was read from.</summary>
    public string File { get; init; } = string.Empty;

    /// <summary>SHN_UNDEF: the symbol is a reference another object must define.</summary>
    public bool IsDefined => SectionIndex != ElfFile.SectionUndefined;

    /// <summary>The name with its version as the loader and readelf write it: <c>malloc@@GLIBC_2.2.5</c> (the version a new link binds to), <c>memcpy@GLIBC_2.2.5</c> (an older, hidden definition, or a version this file requires).</summary>
    public string VersionedName => Version is null ? Name : $"{Name}{(IsDefaultVersion ? "@@" : "@")}{Version}";

    public override string ToString() => VersionedName;
}

/// <summary>A file that is not ELF, or whose ELF structures are cut short, out of bounds or inconsistent.</summary>
public sealed class ElfFormatException : IOException
{
    public ElfFormatException(string file, string part, ulong offset, string problem)
        : base($"{file}: {part} at file offset 0x{offset:x}: {problem}")
    {
        File = file;
        Part = part;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>The file, or the name given to an in-memory image.</summary>
    public string File { get; }

    /// <summary>What was being read: "ELF header", "program header 3", "section name table", "symbol 12 of .dynsym".</summary>
    public string Part { get; }

    /// <summary>Where in the file the bad structure is.</summary>
    public ulong Offset { get; }

    public string Problem { get; }
}
