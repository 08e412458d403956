using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// A library loaded with dlopen and the reference it holds: its path and load address (dlinfo), its symbols (dlsym,
/// dlvsym), and dlclose, which says whether the object is still loaded after it. Lookups that name no library
/// (RTLD_DEFAULT, RTLD_NEXT), address lookups (dladdr) and the list of every loaded object (dl_iterate_phdr) are
/// static. Every failure carries dlerror's text.
/// </summary>
public sealed class SharedLibrary : IDisposable
{
    private const int SymbolInfoOffset64 = 4;
    private const int SymbolSizeOffset64 = 16;
    private const int SymbolInfoOffset32 = 12;
    private const int SymbolSizeOffset32 = 8;

    // dlerror's text is per thread and each call overwrites it: loader calls that read it run one at a time.
    private static readonly object LoaderErrorLock = new();

    // The runtime binds a P/Invoke on its first call, with dlsym, and dlsym clears the thread's loader error: bound
    // after a failed dlopen, dlerror would find nothing, and the first failure of a session would lose its text.
    static SharedLibrary() => Libc.dlerror();
    private static readonly ConcurrentDictionary<string, ElfFile> DynamicSymbolsOfFile = new(StringComparer.Ordinal);

    private readonly SafeLibraryHandle _handle;

    private SharedLibrary(SafeLibraryHandle handle, string name, SharedLibraryOpenFlags flags, string path, ulong baseAddress, ulong tlsModuleId)
    {
        _handle = handle;
        Name = name;
        Flags = flags;
        Path = path;
        BaseAddress = baseAddress;
        TlsModuleId = tlsModuleId;
    }

    /// <summary>The name it was opened by: a soname searched like a dependency, or a path.</summary>
    public string Name { get; }

    public SharedLibraryOpenFlags Flags { get; }

    /// <summary>The object's path (link_map's l_name); the program's own path for <see cref="OpenProgram"/>.</summary>
    public string Path { get; }

    /// <summary>The load bias (l_addr): an address in the file plus this is the address in memory.</summary>
    public ulong BaseAddress { get; }

    /// <summary>The object's TLS module id (RTLD_DI_TLS_MODID), 0 when it has no thread-local storage.</summary>
    public ulong TlsModuleId { get; }

    public bool IsClosed => _handle.IsClosed;

    /// <summary>After <see cref="Close"/>: whether the object was still loaded (by other references, dependents or RTLD_NODELETE); null before.</summary>
    public bool? IsStillLoaded { get; private set; }

    /// <summary>
    /// dlopen: loads the object (and what it needs) or takes one more reference on it. Immediate binding
    /// (<see cref="SharedLibraryOpenFlags.Now"/>) is the default: with lazy binding a function whose symbols cannot be
    /// bound ends the process at its first call, where binding now fails this open instead.
    /// </summary>
    public static SharedLibrary Open(string name, SharedLibraryOpenFlags flags = SharedLibraryOpenFlags.Now, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A library name cannot contain a NUL character.", nameof(name));
        }
        return OpenCore(name, flags, trace) ?? throw new SharedLibraryException("dlopen", Quote(name), $"{name} is not loaded (RTLD_NOLOAD)");
    }

    /// <summary>
    /// The sonames /etc/ld.so.cache lists for objects like this process (what dlopen finds by name alone), sorted;
    /// none where the C library keeps no such cache (musl) or the file is missing.
    /// </summary>
    public static IReadOnlyList<string> CachedNames(SyscallTrace? trace = null)
    {
        if (LibrarySearchOptions.ForThisMachine().CachePath is not string path || LoaderCache.Read(path, trace) is not LoaderCache cache)
        {
            return [];
        }
        ElfFile self = ElfFile.Open("/proc/self/exe", ElfSymbolTables.None, trace);
        return cache.Names(LoaderCache.FlagsFor(self.Class, self.Machine));
    }

    /// <summary>dlopen with RTLD_NOLOAD: a new reference to the object if it is loaded already, null if it is not (it is never loaded by this).</summary>
    public static SharedLibrary? OpenIfLoaded(string name, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return OpenCore(name, SharedLibraryOpenFlags.NoLoad | SharedLibraryOpenFlags.Lazy, trace);
    }

    /// <summary>dlopen(NULL): the program itself, whose lookups search the global scope.</summary>
    public static SharedLibrary OpenProgram(SyscallTrace? trace = null) => OpenCore(null, SharedLibraryOpenFlags.Lazy, trace)!;

    private static SharedLibrary? OpenCore(string? name, SharedLibraryOpenFlags flags, SyscallTrace? trace)
    {
        if ((flags & (SharedLibraryOpenFlags.Lazy | SharedLibraryOpenFlags.Now)) == 0)
        {
            flags |= SharedLibraryOpenFlags.Now;
        }
        if ((flags & SharedLibraryOpenFlags.Lazy) != 0 && (flags & SharedLibraryOpenFlags.Now) != 0)
        {
            throw new ArgumentException("Lazy and Now are each other's opposite: choose one.", nameof(flags));
        }
        string target = name is null ? "NULL" : Quote(name);
        OpenedPath? checkedFile = name is not null && name.Contains('/', StringComparison.Ordinal) ? CheckFile(name, trace) : null;
        try
        {
            nint raw;
            string? error;
            lock (LoaderErrorLock)
            {
                raw = Libc.dlopen(name, (int)flags);
                error = raw == 0 ? Marshal.PtrToStringUTF8(Libc.dlerror()) : null;
            }
            trace?.Invoke($"dlopen({target}, {FlagsText(flags)}) = {Pointer(raw)}{(error is null ? string.Empty : $" ({error})")}");
            if (raw == 0)
            {
                return (flags & SharedLibraryOpenFlags.NoLoad) != 0 ? null : throw new SharedLibraryException("dlopen", target, error);
            }
            var handle = new SafeLibraryHandle(raw);
            try
            {
                (string path, ulong baseAddress, nint dynamic) = LinkMapOf(handle, target, trace);
                if (checkedFile is OpenedPath file)
                {
                    EnsureLoadedIsChecked(dynamic, file.Status, name!, path, trace);
                }
                ulong tls = TlsModuleOf(handle, target);
                return new SharedLibrary(handle, name ?? string.Empty, flags, path.Length == 0 ? ProgramPath() : path, baseAddress, tls);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        finally
        {
            checkedFile?.Fd.Dispose();
        }
    }

    /// <summary>
    /// dlopen of a path opens it blocking and follows any link: a FIFO there would hang it for good, and a link
    /// another user planted in /tmp would load their code. So the file is checked first as every user-given path is
    /// (a regular file, reached by the planted-path rule; see <see cref="PlantedPath"/>), and, since dlopen then
    /// opens the name again, another user's file in a shared folder is refused too (they could swap it meanwhile).
    /// The descriptor is held across dlopen, so the file checked keeps its identity for
    /// <see cref="EnsureLoadedIsChecked"/>. A missing file is left for dlopen to report (null).
    /// </summary>
    /// <remarks>
    /// dlopen("/proc/self/fd/N") of the checked descriptor would load exactly what was checked, but the loader keeps
    /// that name: link_map's l_name, dladdr's dli_fname and this object's Path would say /proc/self/fd/N (meaningless
    /// once N is closed), $ORIGIN would be /proc/self/fd (dependencies found through RUNPATH $ORIGIN are not), and the
    /// loader matches later dlopen calls by name, so another library opened later through the same descriptor number
    /// would be handed the first one. So the name is given to dlopen as it was, and what it loaded is checked after.
    /// </remarks>
    private static OpenedPath? CheckFile(string path, SyscallTrace? trace)
    {
        try
        {
            return PlantedPath.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK, 0, AcceptedFileTypes.Regular, trace, foreignRefused: true);
        }
        catch (SysprogException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR && e.Call == "open")
        {
            return null;
        }
    }

    /// <summary>
    /// The object dlopen gave is the file that was checked: the one mapped where its dynamic section (l_ld) is has the
    /// checked file's device and inode. If not (the name was replaced between the check and the loader's own open,
    /// or the loader handed back an object it loaded earlier under the same name, from a file since replaced), the
    /// object is closed again and the open fails, saying that a newly loaded object's initializers have run.
    /// </summary>
    private static void EnsureLoadedIsChecked(nint dynamic, in StatX checkedStatus, string name, string loadedPath, SyscallTrace? trace)
    {
        ProcessMapping? holding = null;
        foreach (ProcessMapping mapping in ProcessMaps.Read(Environment.ProcessId, trace: trace))
        {
            if (mapping.Contains((ulong)dynamic))
            {
                holding = mapping;
                break;
            }
        }
        if (holding is null || !holding.MapsFile(checkedStatus))
        {
            string loaded = holding is null ? $"{loadedPath} (no file mapping holds its dynamic section)" : $"{holding.Path} (device {holding.Device}, inode {holding.Inode})";
            throw new SharedLibraryException("dlopen", Quote(name),
                $"the loader gave {loaded}, not the file checked at {name} (device {checkedStatus.DevMajor:x2}:{checkedStatus.DevMinor:x2}, inode {checkedStatus.Inode}): " +
                "the name was replaced between the check and the loader's open, or the loader reused an object it had loaded under that name from a file since replaced. " +
                "It is closed again; if it was newly loaded, its initializers have run.");
        }
    }

    private static unsafe (string Path, ulong Base, nint Dynamic) LinkMapOf(SafeLibraryHandle handle, string target, SyscallTrace? trace)
    {
        using HandleLease lease = handle.Lease(target);
        LinkMap* map = null;
        int rc;
        string? error;
        lock (LoaderErrorLock)
        {
            rc = Libc.dlinfo(lease.Value, Libc.RTLD_DI_LINKMAP, &map);
            error = rc != 0 ? Marshal.PtrToStringUTF8(Libc.dlerror()) : null;
        }
        trace?.Invoke($"dlinfo({Pointer(lease.Value)}, RTLD_DI_LINKMAP) = {rc}");
        if (rc != 0 || map == null)
        {
            throw new SharedLibraryException("dlinfo", target, error);
        }
        return (Marshal.PtrToStringUTF8(map->Name) ?? string.Empty, map->Address, map->Dynamic);
    }

    private static unsafe ulong TlsModuleOf(SafeLibraryHandle handle, string target)
    {
        using HandleLease lease = handle.Lease(target);
        nuint module = 0;
        lock (LoaderErrorLock)
        {
            if (Libc.dlinfo(lease.Value, Libc.RTLD_DI_TLS_MODID, &module) != 0)
            {
                Libc.dlerror();
                return 0;
            }
        }
        return module;
    }

    private static string ProgramPath() => ProcFile.ReadLink("/proc/self/exe", null) ?? string.Empty;

    /// <summary>dlsym (or dlvsym with a version): the symbol's address as this library's lookup scope resolves it.</summary>
    public SharedLibrarySymbol GetSymbol(string name, string? version = null, SyscallTrace? trace = null)
    {
        using HandleLease lease = _handle.Lease(ToString());
        return Lookup(lease.Value, Quote(Path), name, version, this, trace);
    }

    /// <summary>dlsym through a pseudo-handle: the global scope (RTLD_DEFAULT) or the objects after the caller (RTLD_NEXT).</summary>
    public static SharedLibrarySymbol GetSymbol(SymbolScope scope, string name, string? version = null, SyscallTrace? trace = null) =>
        Lookup(scope == SymbolScope.Next ? Libc.RTLD_NEXT : Libc.RTLD_DEFAULT, scope == SymbolScope.Next ? "RTLD_NEXT" : "RTLD_DEFAULT", name, version, null, trace);

    private static SharedLibrarySymbol Lookup(nint handle, string handleText, string name, string? version, SharedLibrary? library, SyscallTrace? trace)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A symbol name cannot contain a NUL character.", nameof(name));
        }
        if (version is not null && (version.Length == 0 || version.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ArgumentException("A symbol version (GLIBC_2.2.5) cannot be empty or contain a NUL character; null asks for the default version.", nameof(version));
        }
        string call = version is null ? "dlsym" : "dlvsym";
        string arguments = version is null ? $"{handleText}, {Quote(name)}" : $"{handleText}, {Quote(name)}, {Quote(version)}";
        nint address;
        string? error;
        lock (LoaderErrorLock)
        {
            // A symbol may be at address 0 (an undefined weak one): only dlerror tells a failure from it.
            Libc.dlerror();
            address = version is null ? Libc.dlsym(handle, name) : Libc.dlvsym(handle, name, version);
            error = Marshal.PtrToStringUTF8(Libc.dlerror());
        }
        trace?.Invoke($"{call}({arguments}) = {Pointer(address)}{(error is null ? string.Empty : $" ({error})")}");
        if (error is not null)
        {
            throw new SharedLibraryException(call, arguments, error);
        }
        DescribeInto(address, out string? file, out ulong fileBase, out string? nearest, out ulong nearestAddress, out _, out _);
        (ElfSymbolType? type, ulong? size) = file is null ? (null, null) : DynamicSymbolTypeOf(file, name, version);
        return new SharedLibrarySymbol(name, version, (ulong)address, file, fileBase, nearest, nearestAddress, type, size, library);
    }

    /// <summary>dladdr1: which loaded object an address lies in, and the nearest exported symbol at or below it; null when no object holds it.</summary>
    public static SharedLibrarySymbol? DescribeAddress(ulong address, SyscallTrace? trace = null)
    {
        bool found = DescribeInto((nint)address, out string? file, out ulong fileBase, out string? nearest, out ulong nearestAddress, out ElfSymbolType? type, out ulong? size);
        trace?.Invoke($"dladdr1(0x{address:x}, ..., RTLD_DL_SYMENT) = {(found ? 1 : 0)}");
        return found ? new SharedLibrarySymbol(nearest ?? string.Empty, null, address, file, fileBase, nearest, nearestAddress, type, size, null) : null;
    }

    private static unsafe bool DescribeInto(nint address, out string? file, out ulong fileBase, out string? nearest, out ulong nearestAddress,
        out ElfSymbolType? type, out ulong? size)
    {
        DlInfo info;
        nint symbol = 0;
        int found = Libc.dladdr1(address, &info, &symbol, Libc.RTLD_DL_SYMENT);
        if (found == 0)
        {
            (file, fileBase, nearest, nearestAddress, type, size) = (null, 0, null, 0, null, null);
            return false;
        }
        file = Marshal.PtrToStringUTF8(info.FileName);
        if (string.IsNullOrEmpty(file))
        {
            file = ProgramPath();
        }
        fileBase = (ulong)info.FileBase;
        nearest = Marshal.PtrToStringUTF8(info.SymbolName);
        nearestAddress = (ulong)info.SymbolAddress;
        if (symbol != 0 && nearest is not null)
        {
            // The loader's own ElfW(Sym) of the nearest symbol: st_info's low nibble is the type.
            bool is64 = Environment.Is64BitProcess;
            type = (ElfSymbolType)(*(byte*)(symbol + (is64 ? SymbolInfoOffset64 : SymbolInfoOffset32)) & 0xf);
            size = is64 ? *(ulong*)(symbol + SymbolSizeOffset64) : *(uint*)(symbol + SymbolSizeOffset32);
        }
        else
        {
            (type, size) = (null, null);
        }
        return true;
    }

    /// <summary>The type and size of a defined symbol of that name (and version, or the default one) in the file's .dynsym, read once per file.</summary>
    private static (ElfSymbolType?, ulong?) DynamicSymbolTypeOf(string file, string name, string? version)
    {
        ElfFile elf;
        try
        {
            elf = DynamicSymbolsOfFile.GetOrAdd(file, static path => ElfFile.Open(path, ElfSymbolTables.Dynamic));
        }
        catch (Exception e) when (e is ElfFormatException or SysprogException)
        {
            return (null, null);
        }
        ElfSymbol? best = null;
        foreach (ElfSymbol symbol in elf.Symbols)
        {
            if (symbol.Name != name || !symbol.IsDefined)
            {
                continue;
            }
            if (version is not null ? symbol.Version == version : symbol.IsDefaultVersion || symbol.Version is null)
            {
                best = symbol;
                break;
            }
            best ??= symbol;
        }
        return best is null ? (null, null) : (best.Type, best.Size);
    }

    /// <summary>Every object loaded in this process, in load order (dl_iterate_phdr): the program, the vDSO, every library.</summary>
    public static unsafe IReadOnlyList<LoadedLibrary> Loaded(SyscallTrace? trace = null)
    {
        var libraries = new List<LoadedLibrary>();
        GCHandle list = GCHandle.Alloc(libraries);
        try
        {
            int rc = Libc.dl_iterate_phdr(&CollectLoaded, (void*)GCHandle.ToIntPtr(list));
            trace?.Invoke($"dl_iterate_phdr(...) = {rc}");
        }
        finally
        {
            list.Free();
        }
        return libraries;
    }

    [UnmanagedCallersOnly]
    private static unsafe int CollectLoaded(DlPhdrInfo* info, nuint size, void* data)
    {
        // No exception may cross back into the loader: a failure stops the walk instead.
        try
        {
            var libraries = (List<LoadedLibrary>)GCHandle.FromIntPtr((nint)data).Target!;
            bool is64 = Environment.Is64BitProcess;
            int entrySize = is64 ? 56 : 32;
            var segments = new ElfProgramHeader[info->ProgramHeaderCount];
            for (int i = 0; i < segments.Length; i++)
            {
                byte* p = (byte*)info->ProgramHeaders + (i * entrySize);
                segments[i] = is64
                    ? new ElfProgramHeader(i, (ElfSegmentType)(*(uint*)p), (ElfSegmentFlags)(*(uint*)(p + 4)), *(ulong*)(p + 8), *(ulong*)(p + 16),
                        *(ulong*)(p + 24), *(ulong*)(p + 32), *(ulong*)(p + 40), *(ulong*)(p + 48))
                    : new ElfProgramHeader(i, (ElfSegmentType)(*(uint*)p), (ElfSegmentFlags)(*(uint*)(p + 24)), *(uint*)(p + 4), *(uint*)(p + 8),
                        *(uint*)(p + 12), *(uint*)(p + 16), *(uint*)(p + 20), *(uint*)(p + 28));
            }
            bool hasCounts = size >= (nuint)sizeof(DlPhdrInfo) - (nuint)(2 * sizeof(nuint));
            bool hasTls = size >= (nuint)sizeof(DlPhdrInfo);
            libraries.Add(new LoadedLibrary(Marshal.PtrToStringUTF8(info->Name) ?? string.Empty, info->Address, segments,
                hasTls ? info->TlsModuleId : 0, hasCounts ? info->Adds : 0, hasCounts ? info->Subs : 0));
            return 0;
        }
        catch (Exception)
        {
            return 1;
        }
    }

    /// <summary>
    /// dlclose: drops this reference. Returns whether the object is still loaded afterwards (another reference, a
    /// dependent, RTLD_NODELETE, or a unique symbol keep it), checked with dlopen(RTLD_NOLOAD).
    /// </summary>
    public bool Close(SyscallTrace? trace = null)
    {
        if (!_handle.IsClosed)
        {
            nint raw = _handle.DangerousGetHandle();
            lock (LoaderErrorLock)
            {
                _handle.Dispose();
            }
            trace?.Invoke($"dlclose({Pointer(raw)}) = {(_handle.CloseError is null ? "0" : $"-1 ({_handle.CloseError})")}");
            if (_handle.CloseError is not null)
            {
                throw new SharedLibraryException("dlclose", Quote(Path), _handle.CloseError);
            }
        }
        if (Name.Length == 0)
        {
            // The program itself is never unloaded.
            IsStillLoaded = true;
            return true;
        }
        using SharedLibrary? probe = OpenIfLoaded(Path, trace);
        IsStillLoaded = probe is not null;
        return probe is not null;
    }

    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            lock (LoaderErrorLock)
            {
                _handle.Dispose();
            }
        }
    }

    /// <summary>A lease on the dlopen reference for the length of a call into the library, so a Close on another thread cannot unload it mid-call.</summary>
    internal HandleLease Lease() => _handle.Lease(ToString());

    public override string ToString() => Name.Length == 0 ? Path : $"{Name} ({Path})";

    private static string FlagsText(SharedLibraryOpenFlags flags) => TraceFormat.Flags((long)flags,
    [
        (Libc.RTLD_LAZY, "RTLD_LAZY"), (Libc.RTLD_NOW, "RTLD_NOW"), (Libc.RTLD_NOLOAD, "RTLD_NOLOAD"), (Libc.RTLD_DEEPBIND, "RTLD_DEEPBIND"),
        (Libc.RTLD_GLOBAL, "RTLD_GLOBAL"), (Libc.RTLD_NODELETE, "RTLD_NODELETE"),
    ], "RTLD_LOCAL");
}
