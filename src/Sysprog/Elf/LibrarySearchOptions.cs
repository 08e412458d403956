using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// What the dynamic loader of this machine searches and how it expands names: LD_LIBRARY_PATH, /etc/ld.so.cache, the
/// default folders, the glibc-hwcaps and legacy capability subfolders tried inside every folder, and the values of
/// $PLATFORM and $LIB. <see cref="ForThisMachine"/> works them out the way glibc's ld.so does; every one can be
/// replaced to ask "what would the loader do if...".
/// </summary>
public sealed record LibrarySearchOptions
{
    /// <summary>LD_LIBRARY_PATH: folders separated by ':' or ';'; null or empty for none.</summary>
    public string? LibraryPath { get; init; }

    /// <summary>The loader's cache of sonames to paths (built by ldconfig); null to search without it, as LD_LIBRARY_PATH-only setups and musl do.</summary>
    public string? CachePath { get; init; } = "/etc/ld.so.cache";

    /// <summary>The folders searched last, the loader's built-in "system search path" (ld.so --help lists them).</summary>
    public IReadOnlyList<string> DefaultFolders { get; init; } = [];

    /// <summary>"glibc-hwcaps/x86-64-v3" and the like: subfolders tried first in every folder, best first, those this CPU supports.</summary>
    public IReadOnlyList<string> HwcapsSubfolders { get; init; } = [];

    /// <summary>"tls/haswell/avx512_1/x86_64" and the like: the legacy capability subfolders glibc before 2.37 still tries, after the glibc-hwcaps ones, in its order and with its duplicates.</summary>
    public IReadOnlyList<string> LegacySubfolders { get; init; } = [];

    /// <summary>What $PLATFORM expands to (AT_PLATFORM, or glibc's own choice such as "haswell").</summary>
    public string Platform { get; init; } = string.Empty;

    /// <summary>What $LIB expands to: "lib/x86_64-linux-gnu" on Debian, "lib64" on Fedora.</summary>
    public string LibFolder { get; init; } = "lib";

    /// <summary>The glibc version of this process ("2.36"); null under another C library.</summary>
    public string? GlibcVersion { get; init; }

    private static readonly Lazy<LibrarySearchOptions> MachineDefaults = new(Detect);

    /// <summary>This machine's loader, with LD_LIBRARY_PATH taken from this process's environment.</summary>
    public static LibrarySearchOptions ForThisMachine() => MachineDefaults.Value with { LibraryPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") };

    private static LibrarySearchOptions Detect()
    {
        string? glibc = GlibcVersionOfThisProcess();
        string triplet = MultiarchTriplet();
        bool multiarch = triplet.Length > 0 && Directory.Exists($"/usr/lib/{triplet}");
        bool lib64 = !multiarch && Environment.Is64BitProcess && Directory.Exists("/usr/lib64");
        string[] defaults = multiarch ? [$"/lib/{triplet}", $"/usr/lib/{triplet}", "/lib", "/usr/lib"]
            : lib64 ? ["/lib64", "/usr/lib64"]
            : ["/lib", "/usr/lib"];
        LoaderSubfolders subfolders = LoaderSubfolders.For(CpuOfThisMachine(), glibc);
        return new LibrarySearchOptions
        {
            GlibcVersion = glibc,
            DefaultFolders = defaults,
            LibFolder = multiarch ? $"lib/{triplet}" : lib64 ? "lib64" : "lib",
            Platform = subfolders.Platform,
            HwcapsSubfolders = subfolders.Hwcaps,
            LegacySubfolders = subfolders.Legacy,
            CachePath = glibc is null ? null : "/etc/ld.so.cache",
        };
    }

    internal static string MultiarchTriplet() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "x86_64-linux-gnu",
        Architecture.Arm64 => "aarch64-linux-gnu",
        Architecture.Arm => "arm-linux-gnueabihf",
        Architecture.X86 => "i386-linux-gnu",
        Architecture.S390x => "s390x-linux-gnu",
        Architecture.Ppc64le => "powerpc64le-linux-gnu",
        Architecture.LoongArch64 => "loongarch64-linux-gnu",
        _ => string.Empty,
    };

    private static string? GlibcVersionOfThisProcess()
    {
        try
        {
            return Marshal.PtrToStringUTF8(Libc.gnu_get_libc_version());
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// This machine's CPU as the loader sees it: the first CPU's vendor and feature names from /proc/cpuinfo (none
    /// when it cannot be read), or on powerpc, whose /proc/cpuinfo lists no features, the AT_HWCAP and AT_HWCAP2 bits
    /// the loader reads, by glibc's names.
    /// </summary>
    private static LoaderCpu CpuOfThisMachine()
    {
        Architecture architecture = RuntimeInformation.ProcessArchitecture;
        string[] lines;
        try
        {
            lines = ProcFile.ReadAllText("/proc/cpuinfo", null).Split('\n');
        }
        catch (SysprogException)
        {
            lines = [];
        }
        string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l.Split(':', 2)[0].Trim() == name)?.Split(':', 2)[1].Trim();
        IEnumerable<string> features = architecture switch
        {
            Architecture.X64 or Architecture.X86 => Field("flags")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
            Architecture.Arm64 or Architecture.Arm => Field("Features")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
            Architecture.S390x => Field("features")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
            Architecture.Ppc64le => PowerPcFeatures(Libc.getauxval(Libc.AT_HWCAP), Libc.getauxval(Libc.AT_HWCAP2)),
            _ => [],
        };
        string? platform = Marshal.PtrToStringUTF8((nint)Libc.getauxval(Libc.AT_PLATFORM));
        return new LoaderCpu(architecture, Field("vendor_id"), new HashSet<string>(features, StringComparer.Ordinal), platform);
    }

    /// <summary>The powerpc AT_HWCAP and AT_HWCAP2 bits the loader's subfolder choice depends on, by glibc's names (sysdeps/powerpc/bits/hwcap.h).</summary>
    private static IEnumerable<string> PowerPcFeatures(nuint hwcap, nuint hwcap2)
    {
        (nuint Word, int Bit, string Name)[] bits =
        [
            (hwcap, 10, "dfp"), (hwcap, 28, "altivec"),
            (hwcap2, 23, "arch_3_00"), (hwcap2, 22, "ieee128"), (hwcap2, 18, "arch_3_1"), (hwcap2, 17, "mma"),
        ];
        return bits.Where(b => (b.Word & ((nuint)1 << b.Bit)) != 0).Select(b => b.Name);
    }
}
