using System.Text;

namespace Sysprog;

/// <summary>
/// /etc/ld.so.cache as glibc's loader reads it (the "glibc-ld.so.cache1.1" format, after an old-format prefix when
/// there is one): soname to path, for this machine's flags, preferring an entry of the best glibc-hwcaps subfolder
/// the CPU supports. Entries tied to legacy hwcap bits are not used (ldconfig stopped writing them in glibc 2.37).
/// </summary>
internal sealed class LoaderCache
{
    private const string OldMagic = "ld.so-1.7.0";
    private const string NewMagic = "glibc-ld.so.cache1.1";
    private const int NewHeaderSize = 48;
    private const int NewEntrySize = 24;
    private const uint ExtensionMagic = 0xEAA42174;
    private const uint ExtensionTagGlibcHwcaps = 1;
    private const ulong HwcapExtension = 1UL << 62;

    private readonly Dictionary<string, List<(int Flags, ulong Hwcap, string Path)>> _entries;
    private readonly string[] _hwcapsNames;

    private LoaderCache(Dictionary<string, List<(int, ulong, string)>> entries, string[] hwcapsNames)
    {
        _entries = entries;
        _hwcapsNames = hwcapsNames;
    }

    public int Count => _entries.Count;

    /// <summary>The sonames with an entry for objects of <paramref name="machineFlags"/> (see <see cref="FlagsFor"/>), sorted.</summary>
    public IReadOnlyList<string> Names(int machineFlags) =>
        _entries.Where(entry => entry.Value.Exists(candidate => candidate.Flags == machineFlags)).Select(entry => entry.Key).Order(StringComparer.Ordinal).ToList();

    /// <summary>The cache, or null when there is no such file.</summary>
    public static LoaderCache? Read(string path, SyscallTrace? trace)
    {
        ElfImage image;
        try
        {
            image = ElfImage.OfFile(path, trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
            return null;
        }
        using (image)
        {
            return Parse(image, image.Region(0, image.Length, "ld.so.cache"));
        }
    }

    private static LoaderCache Parse(ElfImage image, ReadOnlySpan<byte> all)
    {
        int start = 0;
        if (all.StartsWith(Encoding.ASCII.GetBytes(OldMagic)))
        {
            // The old format's header (magic, count) and 12-byte entries come first; the new one starts 8-aligned after them.
            uint oldCount = image.U32(image.Region(12, 4, "ld.so.cache old header"), 0);
            ulong end = 16 + (ulong)oldCount * 12;
            start = (int)Math.Min((end + 7) & ~7UL, (ulong)all.Length);
        }
        if (!all[start..].StartsWith(Encoding.ASCII.GetBytes(NewMagic)))
        {
            throw image.Fail("ld.so.cache header", (ulong)start, $"no {NewMagic} header: not a cache this loader reads");
        }
        ReadOnlySpan<byte> header = image.Within(all, (ulong)start, NewHeaderSize, "ld.so.cache header", 0);
        uint count = image.U32(header, 20);
        uint extensionOffset = image.U32(header, 32);
        if (count > (uint)((all.Length - start - NewHeaderSize) / NewEntrySize))
        {
            throw image.Fail("ld.so.cache header", (ulong)start + 20, $"{count} entries cannot fit in {all.Length} bytes");
        }
        string[] hwcapsNames = extensionOffset == 0 ? [] : ReadHwcapsNames(image, all, start, extensionOffset);
        var entries = new Dictionary<string, List<(int, ulong, string)>>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = all.Slice(start + NewHeaderSize + i * NewEntrySize, NewEntrySize);
            int flags = (int)image.U32(entry, 0);
            string key = StringAt(image, all, start, image.U32(entry, 4));
            string value = StringAt(image, all, start, image.U32(entry, 8));
            ulong hwcap = image.U64(entry, 16);
            if (!entries.TryGetValue(key, out var list))
            {
                entries[key] = list = [];
            }
            list.Add((flags, hwcap, value));
        }
        return new LoaderCache(entries, hwcapsNames);
    }

    private static string[] ReadHwcapsNames(ElfImage image, ReadOnlySpan<byte> all, int start, uint offset)
    {
        ulong extensions = (ulong)start + offset;
        ReadOnlySpan<byte> header = image.Within(all, extensions, 8, "ld.so.cache extensions", 0);
        if (image.U32(header, 0) != ExtensionMagic)
        {
            return [];
        }
        uint sections = image.U32(header, 4);
        for (uint s = 0; s < sections && s < (uint)all.Length / 16; s++)
        {
            ReadOnlySpan<byte> section = image.Within(all, extensions + 8 + s * 16, 16, "ld.so.cache extension", 0);
            if (image.U32(section, 0) != ExtensionTagGlibcHwcaps)
            {
                continue;
            }
            uint size = image.U32(section, 12);
            ReadOnlySpan<byte> offsets = image.Within(all, (ulong)start + image.U32(section, 8), size, "ld.so.cache glibc-hwcaps", 0);
            var names = new string[size / 4];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = StringAt(image, all, start, image.U32(offsets, i * 4));
            }
            return names;
        }
        return [];
    }

    /// <summary>Strings of the new format are offsets from the start of its header.</summary>
    private static string StringAt(ElfImage image, ReadOnlySpan<byte> all, int start, uint offset) =>
        ElfImage.String(image, all[start..], (ulong)start, offset, "ld.so.cache string");

    /// <summary>
    /// The path the loader takes for <paramref name="soname"/>: among the entries with this machine's flags, the one
    /// in the best supported glibc-hwcaps subfolder, else the first plain one; null when the cache has none.
    /// </summary>
    public string? Lookup(string soname, int machineFlags, IReadOnlyList<string> hwcapsSubfolders)
    {
        if (!_entries.TryGetValue(soname, out var candidates))
        {
            return null;
        }
        string? best = null;
        int bestPriority = int.MaxValue;
        foreach ((int flags, ulong hwcap, string path) in candidates)
        {
            if (flags != machineFlags)
            {
                continue;
            }
            if ((hwcap & HwcapExtension) != 0)
            {
                uint index = (uint)hwcap;
                string subfolder = index < _hwcapsNames.Length ? $"glibc-hwcaps/{_hwcapsNames[index]}" : string.Empty;
                int priority = IndexOf(hwcapsSubfolders, subfolder);
                if (priority >= 0 && priority < bestPriority)
                {
                    (best, bestPriority) = (path, priority);
                }
                continue;
            }
            if (best is not null)
            {
                break;
            }
            if (hwcap == 0)
            {
                return path;
            }
        }
        return best;
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The flags ldconfig records for a library of this class and machine (FLAG_ELF_LIBC6 plus the architecture's word).</summary>
    public static int FlagsFor(ElfClass elfClass, ElfMachine machine) => (elfClass, machine) switch
    {
        (ElfClass.Elf64, ElfMachine.X86_64) => 0x0303,
        (ElfClass.Elf32, ElfMachine.X86_64) => 0x0803,
        (ElfClass.Elf64, ElfMachine.AArch64) => 0x0a03,
        (ElfClass.Elf64, ElfMachine.PowerPC64) => 0x0503,
        (ElfClass.Elf64, ElfMachine.S390) => 0x0403,
        (ElfClass.Elf64, ElfMachine.RiscV) => 0x1003,
        (ElfClass.Elf64, ElfMachine.LoongArch) => 0x1203,
        (ElfClass.Elf32, ElfMachine.Arm) => 0x0903,
        _ => 0x0003,
    };
}
