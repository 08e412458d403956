using Sysprog.Interop;

namespace Sysprog;

/// <summary>dlopen's mode: when symbols are bound, which scope the object's symbols join, and the GNU extras.</summary>
[Flags]
public enum SharedLibraryOpenFlags
{
    /// <summary>RTLD_LOCAL (the default): the object's symbols serve only itself and what it pulled in, never later lookups through the global scope.</summary>
    Local = 0,

    /// <summary>RTLD_LAZY: functions are bound at their first call; one that cannot be bound then ends the process ("symbol lookup error").</summary>
    Lazy = Libc.RTLD_LAZY,

    /// <summary>RTLD_NOW: every symbol is bound before dlopen returns, so a missing one fails the open, not a later call.</summary>
    Now = Libc.RTLD_NOW,

    /// <summary>RTLD_NOLOAD: only return a handle if the object is loaded already (it is never loaded by this).</summary>
    NoLoad = Libc.RTLD_NOLOAD,

    /// <summary>RTLD_DEEPBIND: the object looks up its own symbols (and its dependencies') before the global scope.</summary>
    DeepBind = Libc.RTLD_DEEPBIND,

    /// <summary>RTLD_GLOBAL: the object's symbols join the global scope, for RTLD_DEFAULT lookups and objects loaded later.</summary>
    Global = Libc.RTLD_GLOBAL,

    /// <summary>RTLD_NODELETE: the object stays loaded after its last dlclose.</summary>
    NoDelete = Libc.RTLD_NODELETE,
}

/// <summary>The pseudo-handles of dlsym: where a lookup that names no library searches.</summary>
public enum SymbolScope
{
    /// <summary>RTLD_DEFAULT: the global scope in load order (the program, its dependencies, RTLD_GLOBAL objects).</summary>
    Default,

    /// <summary>
    /// RTLD_NEXT: the next definition after the calling object's. From managed code the caller is no loaded object,
    /// so the loader takes the program itself (pwsh, dotnet) as the caller.
    /// </summary>
    Next,
}

/// <summary>dlopen, dlsym, dlclose and their kin failed; the message carries dlerror's own text.</summary>
public sealed class SharedLibraryException : IOException
{
    public SharedLibraryException(string call, string target, string? loaderMessage)
        : base($"{call}({target}) failed: {loaderMessage ?? "no reason given by dlerror"}")
    {
        Call = call;
        Target = target;
        LoaderMessage = loaderMessage;
    }

    public string Call { get; }

    public string Target { get; }

    /// <summary>dlerror's text, e.g. "libnope.so: cannot open shared object file: No such file or directory".</summary>
    public string? LoaderMessage { get; }

    /// <summary>Whether the loader said the file or the symbol does not exist (as opposed to being unusable).</summary>
    public bool IsNotFound => LoaderMessage is not null
        && (LoaderMessage.Contains("No such file", StringComparison.Ordinal) || LoaderMessage.Contains("undefined symbol", StringComparison.Ordinal));
}

/// <summary>A symbol's address in this process (dlsym, dlvsym), or what an address lies in (dladdr).</summary>
public sealed class SharedLibrarySymbol
{
    internal SharedLibrarySymbol(string name, string? version, ulong address, string? libraryPath, ulong libraryBase, string? nearestSymbol,
        ulong nearestAddress, ElfSymbolType? type, ulong? size, SharedLibrary? library)
    {
        Name = name;
        Version = version;
        Address = address;
        LibraryPath = libraryPath;
        LibraryBase = libraryBase;
        NearestSymbol = nearestSymbol;
        NearestAddress = nearestAddress;
        Type = type;
        Size = size;
        Library = library;
    }

    /// <summary>The name looked up, or for an address lookup the nearest symbol's name (empty when there is none).</summary>
    public string Name { get; }

    /// <summary>The version asked of dlvsym; null for dlsym and dladdr.</summary>
    public string? Version { get; }

    public ulong Address { get; }

    /// <summary>The object the address lies in (dladdr's dli_fname); the program's own path for its symbols.</summary>
    public string? LibraryPath { get; }

    /// <summary>Where that object is loaded (dli_fbase).</summary>
    public ulong LibraryBase { get; }

    /// <summary>The nearest exported symbol at or below the address (dli_sname): the implementation an IFUNC picked can show here.</summary>
    public string? NearestSymbol { get; }

    public ulong NearestAddress { get; }

    /// <summary>How far past <see cref="NearestSymbol"/> the address is.</summary>
    public ulong Offset => NearestSymbol is null ? 0 : Address - NearestAddress;

    /// <summary>The symbol's type from the object's .dynsym; null when it cannot be told.</summary>
    public ElfSymbolType? Type { get; }

    public ulong? Size { get; }

    /// <summary>Whether this is code that can be called (STT_FUNC or STT_GNU_IFUNC).</summary>
    public bool IsFunction => Type is ElfSymbolType.Function or ElfSymbolType.IndirectFunction;

    /// <summary>The library the lookup went through, kept open while the symbol is used; null for scope and address lookups.</summary>
    public SharedLibrary? Library { get; }

    public override string ToString() => NearestSymbol is null || Offset == 0
        ? $"{Name} 0x{Address:x} ({LibraryPath})"
        : $"{NearestSymbol}+0x{Offset:x} 0x{Address:x} ({LibraryPath})";
}

/// <summary>One object loaded in this process, as dl_iterate_phdr reports it: where it is and what it maps.</summary>
public sealed class LoadedLibrary
{
    internal LoadedLibrary(string name, ulong baseAddress, IReadOnlyList<ElfProgramHeader> segments, ulong tlsModuleId, ulong adds, ulong subs)
    {
        Name = name;
        BaseAddress = baseAddress;
        Segments = segments;
        TlsModuleId = tlsModuleId;
        LoadCount = adds;
        UnloadCount = subs;
        ElfProgramHeader[] loads = segments.Where(static s => s.Type == ElfSegmentType.Load).ToArray();
        Start = loads.Length == 0 ? baseAddress : baseAddress + loads.Min(static s => s.VirtualAddress);
        End = loads.Length == 0 ? baseAddress : baseAddress + loads.Max(static s => s.VirtualAddress + s.MemorySize);
        TlsSize = segments.FirstOrDefault(static s => s.Type == ElfSegmentType.Tls)?.MemorySize ?? 0;
    }

    /// <summary>The object's path; empty for the program itself, "linux-vdso.so.1" for the vDSO.</summary>
    public string Name { get; }

    /// <summary>The load bias (dlpi_addr): add it to an address of the file to get the address in memory.</summary>
    public ulong BaseAddress { get; }

    /// <summary>The program headers, with addresses as the file gives them (add <see cref="BaseAddress"/>).</summary>
    public IReadOnlyList<ElfProgramHeader> Segments { get; }

    /// <summary>The lowest and highest address of the loaded segments, to join with Get-ProcessMapping.</summary>
    public ulong Start { get; }

    public ulong End { get; }

    /// <summary>The object's thread-local storage module (0: it has no TLS) and the size of its TLS block.</summary>
    public ulong TlsModuleId { get; }

    public ulong TlsSize { get; }

    /// <summary>dlpi_adds and dlpi_subs: how many objects were loaded and unloaded in the process so far (the same for every row).</summary>
    public ulong LoadCount { get; }

    public ulong UnloadCount { get; }

    public bool Contains(ulong address) => address >= Start && address < End;

    public override string ToString() => $"0x{Start:x}-0x{End:x} {Name}";
}
