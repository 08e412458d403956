using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>How the loader found (or failed to find) a library named by DT_NEEDED.</summary>
public enum LibrarySearchRule
{
    /// <summary>PT_INTERP: the dynamic loader itself, mapped by the kernel before anything else.</summary>
    Interpreter,

    /// <summary>The kernel's virtual shared object, in every process, from no file.</summary>
    Vdso,

    /// <summary>An object already loaded has this name or SONAME: no search, the same object is used.</summary>
    AlreadyLoaded,

    /// <summary>The name has a '/': it is opened as written, after $ORIGIN, $LIB and $PLATFORM are expanded.</summary>
    DirectPath,

    /// <summary>DT_RPATH of the object that needs it, then of the object that loaded that one, up to the program (only when the needing object has no DT_RUNPATH).</summary>
    RPath,

    /// <summary>LD_LIBRARY_PATH.</summary>
    LibraryPath,

    /// <summary>DT_RUNPATH of the object that needs it (and of no other).</summary>
    RunPath,

    /// <summary>/etc/ld.so.cache, built by ldconfig from /etc/ld.so.conf.</summary>
    Cache,

    /// <summary>The loader's built-in default folders (unless the needing object has DF_1_NODEFLIB).</summary>
    DefaultFolder,

    /// <summary>No rule found it: the program would not start.</summary>
    NotFound,
}

/// <summary>One DT_NEEDED reference, resolved as the dynamic loader would resolve it, with where it looked.</summary>
public sealed class ElfDependency
{
    internal ElfDependency(string name, string? path, LibrarySearchRule rule, string requiredBy, int depth, bool isNewObject,
        IReadOnlyList<string> searched, IReadOnlyList<string> refused)
    {
        Name = name;
        Path = path;
        Rule = rule;
        RequiredBy = requiredBy;
        Depth = depth;
        IsNewObject = isNewObject;
        Searched = searched;
        Refused = refused;
    }

    /// <summary>The name as DT_NEEDED writes it (or the interpreter's path).</summary>
    public string Name { get; }

    /// <summary>The file the loader maps; null when it is not found (and for the vDSO, which is no file).</summary>
    public string? Path { get; }

    public LibrarySearchRule Rule { get; }

    /// <summary>The object whose DT_NEEDED names it.</summary>
    public string RequiredBy { get; }

    /// <summary>1 for the program's own dependencies, 2 for theirs...; 0 for the interpreter and the vDSO.</summary>
    public int Depth { get; }

    /// <summary>Whether this reference mapped a new object; false when the name or the file was loaded already, as ldd lists each object once.</summary>
    public bool IsNewObject { get; }

    public bool IsFound => Rule != LibrarySearchRule.NotFound;

    /// <summary>Every file tried, in order, up to the one taken: for a missing library, everywhere the loader looked.</summary>
    public IReadOnlyList<string> Searched { get; }

    /// <summary>Files that exist but could not be used, with why ("wrong ELF class: ELFCLASS32").</summary>
    public IReadOnlyList<string> Refused { get; }

    public override string ToString() => Rule switch
    {
        LibrarySearchRule.Vdso => $"{Name} (the kernel's vDSO)",
        LibrarySearchRule.NotFound => $"{Name} => not found",
        _ => $"{Name} => {Path} ({Rule})",
    };
}

/// <summary>
/// Resolves a program's or library's dependency tree the way glibc's ld.so does, without running it (ldd runs the
/// program's loader on it, which is unsafe for an untrusted file): breadth first over DT_NEEDED, reusing any loaded
/// object whose name, SONAME or file matches, and otherwise DT_RPATH up the loader chain (without DT_RUNPATH),
/// LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.cache and the default folders, each folder with its glibc-hwcaps and
/// legacy subfolders first, and $ORIGIN, $LIB and $PLATFORM expanded. Files of the wrong class or machine are passed
/// over as the loader passes them. One resolver remembers the files and the cache it has read, so resolving many
/// programs reads each library once. LD_PRELOAD and LD_AUDIT are not modelled.
/// </summary>
public sealed class LibraryResolver
{
    private readonly SyscallTrace? _trace;
    private readonly Dictionary<(ulong Device, ulong Inode), ElfFile> _files = [];
    private readonly Lazy<LoaderCache?> _cache;
    private readonly string[] _subfolders;
    private readonly List<string> _defaultFolders;

    public LibraryResolver(LibrarySearchOptions? options = null, SyscallTrace? trace = null)
    {
        Options = options ?? LibrarySearchOptions.ForThisMachine();
        _trace = trace;
        _subfolders = [.. Options.HwcapsSubfolders, .. Options.LegacySubfolders];
        _defaultFolders = Options.DefaultFolders.Select(WithSlash).ToList();
        _cache = new Lazy<LoaderCache?>(() => Options.CachePath is null ? null : LoaderCache.Read(Options.CachePath, _trace));
    }

    public LibrarySearchOptions Options { get; }

    /// <summary>
    /// Every DT_NEEDED reference of the file and of what it pulls in, in the loader's order, preceded by the
    /// interpreter and the vDSO for a dynamically linked program; empty for a static one.
    /// </summary>
    public IReadOnlyList<ElfDependency> Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        StatX status = FileStatus.OfPath(path, _trace, followLinks: true)
            ?? throw new SysprogException(Errno.ENOENT, "statx", path);
        ElfFile mainFile = Read(path, status);
        if (mainFile.Type is not (ElfFileType.Executable or ElfFileType.SharedObject))
        {
            throw new ElfFormatException(path, "ELF header", 0, $"a {mainFile.Kind} has no dependencies to resolve: only executables and shared objects are loaded");
        }
        string realPath = RealPath(path);
        var main = new LoadedObject(path, mainFile, IdOf(status), System.IO.Path.GetDirectoryName(realPath) ?? "/", loader: null, depth: 0);
        var loaded = new List<LoadedObject> { main };
        var result = new List<ElfDependency>();
        if (mainFile.Interpreter is string interpreter)
        {
            StatX? interpreterStatus = FileStatus.OfPath(interpreter, _trace, followLinks: true);
            if (interpreterStatus is StatX found)
            {
                ElfFile loader = Read(interpreter, found);
                var interpreterObject = new LoadedObject(interpreter, loader, IdOf(found), DirectoryOf(interpreter), main, 0);
                interpreterObject.Names.Add(interpreter);
                loaded.Add(interpreterObject);
                result.Add(new ElfDependency(interpreter, interpreter, LibrarySearchRule.Interpreter, path, 0, true, [interpreter], []));
            }
            else
            {
                result.Add(new ElfDependency(interpreter, null, LibrarySearchRule.NotFound, path, 0, false, [interpreter], []));
            }
            result.Add(new ElfDependency(VdsoName(mainFile), null, LibrarySearchRule.Vdso, path, 0, true, [], []));
        }

        var queue = new Queue<LoadedObject>();
        queue.Enqueue(main);
        while (queue.TryDequeue(out LoadedObject? requester))
        {
            foreach (string name in requester.File.Needed)
            {
                int depth = requester.Depth + 1;
                LoadedObject? byName = loaded.Find(l => l.Names.Contains(name) || l.File.SoName == name);
                if (byName is not null)
                {
                    result.Add(new ElfDependency(name, byName.Path, LibrarySearchRule.AlreadyLoaded, requester.Path, depth, false, [], []));
                    continue;
                }
                var searched = new List<string>();
                var refused = new List<string>();
                (LoadedObject? found, LibrarySearchRule rule) = Search(name, requester, main, depth, searched, refused);
                if (found is null)
                {
                    result.Add(new ElfDependency(name, null, LibrarySearchRule.NotFound, requester.Path, depth, false, searched, refused));
                    continue;
                }
                LoadedObject? sameFile = loaded.Find(l => l.Id == found.Id);
                if (sameFile is not null)
                {
                    sameFile.Names.Add(name);
                    result.Add(new ElfDependency(name, sameFile.Path, rule, requester.Path, depth, false, searched, refused));
                    continue;
                }
                found.Names.Add(name);
                loaded.Add(found);
                queue.Enqueue(found);
                result.Add(new ElfDependency(name, found.Path, rule, requester.Path, depth, true, searched, refused));
            }
        }
        return result;
    }

    private (LoadedObject? Found, LibrarySearchRule Rule) Search(string name, LoadedObject requester, LoadedObject main, int depth,
        List<string> searched, List<string> refused)
    {
        if (name.Contains('/'))
        {
            string? expanded = ExpandTokens(name, requester);
            LoadedObject? direct = expanded is null ? null : TryFile(expanded, requester, main, depth, searched, refused);
            return (direct, direct is null ? LibrarySearchRule.NotFound : LibrarySearchRule.DirectPath);
        }
        if (requester.File.RunPath is null)
        {
            bool searchedMain = false;
            for (LoadedObject? holder = requester; holder is not null; holder = holder.Loader)
            {
                if (holder.File.RPath is string rpath)
                {
                    LoadedObject? viaRPath = TryFolders(Folders(rpath, holder), name, requester, main, depth, searched, refused);
                    if (viaRPath is not null)
                    {
                        return (viaRPath, LibrarySearchRule.RPath);
                    }
                    searchedMain |= holder == main;
                }
            }
            if (!searchedMain && main.File.RPath is string mainRPath)
            {
                LoadedObject? viaMain = TryFolders(Folders(mainRPath, main), name, requester, main, depth, searched, refused);
                if (viaMain is not null)
                {
                    return (viaMain, LibrarySearchRule.RPath);
                }
            }
        }
        if (!string.IsNullOrEmpty(Options.LibraryPath))
        {
            LoadedObject? viaEnvironment = TryFolders(Folders(Options.LibraryPath, main, ":;"), name, requester, main, depth, searched, refused);
            if (viaEnvironment is not null)
            {
                return (viaEnvironment, LibrarySearchRule.LibraryPath);
            }
        }
        if (requester.File.RunPath is string runpath)
        {
            LoadedObject? viaRunPath = TryFolders(Folders(runpath, requester), name, requester, main, depth, searched, refused);
            if (viaRunPath is not null)
            {
                return (viaRunPath, LibrarySearchRule.RunPath);
            }
        }
        bool noDefaults = (requester.File.DynamicFlags1 & ElfDynamicFlags1.NoDefaultLibraries) != 0;
        if (_cache.Value is LoaderCache cache
            && cache.Lookup(name, LoaderCache.FlagsFor(main.File.Class, main.File.Machine), Options.HwcapsSubfolders) is string cached
            && !(noDefaults && IsInDefaultFolder(cached)))
        {
            LoadedObject? viaCache = TryFile(cached, requester, main, depth, searched, refused);
            if (viaCache is not null)
            {
                return (viaCache, LibrarySearchRule.Cache);
            }
        }
        if (!noDefaults)
        {
            LoadedObject? viaDefaults = TryFolders(_defaultFolders, name, requester, main, depth, searched, refused);
            if (viaDefaults is not null)
            {
                return (viaDefaults, LibrarySearchRule.DefaultFolder);
            }
        }
        return (null, LibrarySearchRule.NotFound);
    }

    private bool IsInDefaultFolder(string path)
    {
        return _defaultFolders.Contains(WithSlash(DirectoryOf(path)));
    }

    /// <summary>
    /// A search path's folders, in order, each once, with tokens expanded and a trailing '/': an empty element is
    /// the current folder, and an element whose tokens cannot be expanded is dropped, as the loader drops it.
    /// </summary>
    private List<string> Folders(string searchPath, LoadedObject holder, string separators = ":")
    {
        var folders = new List<string>();
        foreach (string element in searchPath.Split(separators.ToCharArray()))
        {
            string folder;
            if (element.Length == 0)
            {
                folder = string.Empty;
            }
            else
            {
                string? expanded = ExpandTokens(element, holder);
                if (string.IsNullOrEmpty(expanded))
                {
                    continue;
                }
                folder = WithSlash(expanded);
            }
            if (!folders.Contains(folder))
            {
                folders.Add(folder);
            }
        }
        return folders;
    }

    private static string WithSlash(string folder)
    {
        string trimmed = folder.Length > 1 ? folder.TrimEnd('/') : folder;
        return trimmed.EndsWith('/') ? trimmed : trimmed + "/";
    }

    private LoadedObject? TryFolders(List<string> folders, string name, LoadedObject requester, LoadedObject main, int depth,
        List<string> searched, List<string> refused)
    {
        foreach (string folder in folders)
        {
            foreach (string subfolder in _subfolders)
            {
                LoadedObject? inSubfolder = TryFile($"{folder}{subfolder}/{name}", requester, main, depth, searched, refused);
                if (inSubfolder is not null)
                {
                    return inSubfolder;
                }
            }
            LoadedObject? inFolder = TryFile(folder + name, requester, main, depth, searched, refused);
            if (inFolder is not null)
            {
                return inFolder;
            }
        }
        return null;
    }

    /// <summary>The candidate as a loaded object when it exists and is a library this program can load; otherwise why not, in <paramref name="refused"/>.</summary>
    private LoadedObject? TryFile(string candidate, LoadedObject requester, LoadedObject main, int depth, List<string> searched, List<string> refused)
    {
        searched.Add(candidate);
        StatX status;
        try
        {
            StatX? found = FileStatus.OfPath(candidate, _trace, followLinks: true);
            if (found is null)
            {
                return null;
            }
            status = found.Value;
        }
        catch (SysprogException e) when (e.Errno is Errno.ENOTDIR or Errno.ELOOP or Errno.ENAMETOOLONG)
        {
            return null;
        }
        catch (SysprogException e)
        {
            refused.Add($"{candidate}: {e.Errno.Symbol()} ({e.Errno.Description()})");
            return null;
        }
        if ((status.Mode & FileStatus.TypeMask) != FileStatus.Regular)
        {
            refused.Add($"{candidate}: not a regular file");
            return null;
        }
        ElfFile file;
        try
        {
            file = Read(candidate, status);
        }
        catch (ElfFormatException e)
        {
            refused.Add($"{candidate}: {e.Problem}");
            return null;
        }
        catch (SysprogException e)
        {
            refused.Add($"{candidate}: {e.Errno.Symbol()} ({e.Errno.Description()})");
            return null;
        }
        string? mismatch = Mismatch(file, main.File);
        if (mismatch is not null)
        {
            refused.Add($"{candidate}: {mismatch}");
            return null;
        }
        return new LoadedObject(candidate, file, IdOf(status), DirectoryOf(candidate), requester, depth);
    }

    /// <summary>Why the loader of <paramref name="program"/> would pass over <paramref name="library"/>; null when it can load it.</summary>
    private static string? Mismatch(ElfFile library, ElfFile program)
    {
        if (library.Class != program.Class)
        {
            return $"wrong ELF class: ELFCLASS{(library.Class == ElfClass.Elf64 ? 64 : 32)}";
        }
        if (library.Header.ByteOrder != program.Header.ByteOrder || library.Machine != program.Machine)
        {
            return $"ELF file for {library.Machine} {library.Header.ByteOrder}, not {program.Machine} {program.Header.ByteOrder}";
        }
        if (library.Header.OsAbi is not (ElfOsAbi.SystemV or ElfOsAbi.Gnu))
        {
            return $"ELF file OS ABI {library.Header.OsAbi} invalid";
        }
        if (library.Type != ElfFileType.SharedObject)
        {
            return library.Type == ElfFileType.Executable ? "cannot dynamically load executable" : "only ET_DYN and ET_EXEC can be loaded";
        }
        return (library.DynamicFlags1 & ElfDynamicFlags1.Pie) != 0 ? "cannot dynamically load position-independent executable" : null;
    }

    private ElfFile Read(string path, StatX status)
    {
        (ulong, ulong) id = IdOf(status);
        if (!_files.TryGetValue(id, out ElfFile? file))
        {
            file = ElfFile.Open(path, ElfSymbolTables.None, _trace);
            _files[id] = file;
        }
        return file;
    }

    private static (ulong Device, ulong Inode) IdOf(StatX status) => (((ulong)status.DevMajor << 32) | status.DevMinor, status.Inode);

    /// <summary>$ORIGIN (the folder of the object), $LIB and $PLATFORM, bare or in braces; a bare token must end the text or be followed by '/'.</summary>
    private string? ExpandTokens(string text, LoadedObject holder)
    {
        if (!text.Contains('$'))
        {
            return text;
        }
        var expanded = new StringBuilder();
        int at = 0;
        while (at < text.Length)
        {
            int dollar = text.IndexOf('$', at);
            if (dollar < 0)
            {
                expanded.Append(text, at, text.Length - at);
                break;
            }
            expanded.Append(text, at, dollar - at);
            (string? value, int length) = Token(text, dollar, holder);
            if (value is null)
            {
                expanded.Append('$');
                at = dollar + 1;
                continue;
            }
            expanded.Append(value);
            at = dollar + length;
        }
        return expanded.ToString();
    }

    private (string? Value, int Length) Token(string text, int dollar, LoadedObject holder)
    {
        foreach ((string name, string value) in new[] { ("ORIGIN", holder.Origin), ("LIB", Options.LibFolder), ("PLATFORM", Options.Platform) })
        {
            string braced = "${" + name + "}";
            if (string.CompareOrdinal(text, dollar, braced, 0, braced.Length) == 0)
            {
                return (value, braced.Length);
            }
            int end = dollar + 1 + name.Length;
            if (string.CompareOrdinal(text, dollar + 1, name, 0, name.Length) == 0 && (end == text.Length || text[end] == '/'))
            {
                return (value, name.Length + 1);
            }
        }
        return (null, 0);
    }

    private static string DirectoryOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash switch
        {
            < 0 => ".",
            0 => "/",
            _ => path[..slash],
        };
    }

    /// <summary>The program's path with every link resolved, as the kernel reports it in /proc/self/exe: its folder is the program's $ORIGIN.</summary>
    private string RealPath(string path)
    {
        nint resolved = Syscall.CheckPointer(SyscallResult.NullOnFailure(Libc.realpath(path, 0)), _trace, "realpath", path, $"{TraceFormat.Quote(path)}, NULL");
        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            Libc.free(resolved);
        }
    }

    private static string VdsoName(ElfFile program) => program.Machine switch
    {
        ElfMachine.X86 => "linux-gate.so.1",
        ElfMachine.PowerPC64 or ElfMachine.S390 => "linux-vdso64.so.1",
        _ => "linux-vdso.so.1",
    };

    private sealed class LoadedObject(string path, ElfFile file, (ulong, ulong) id, string origin, LoadedObject? loader, int depth)
    {
        public string Path { get; } = path;
        public ElfFile File { get; } = file;
        public (ulong Device, ulong Inode) Id { get; } = id;
        public string Origin { get; } = origin;
        public LoadedObject? Loader { get; } = loader;
        public int Depth { get; } = depth;
        public List<string> Names { get; } = [];
    }
}
