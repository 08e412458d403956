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

    /// <summary>"tls/x86_64" and the like: the legacy capability subfolders glibc before 2.37 still tries, after the glibc-hwcaps ones.</summary>
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
        var cpu = CpuInfo.Read();
        string platform = PlatformOfThisProcess(cpu);
        return new LibrarySearchOptions
        {
            GlibcVersion = glibc,
            DefaultFolders = defaults,
            LibFolder = multiarch ? $"lib/{triplet}" : lib64 ? "lib64" : "lib",
            Platform = platform,
            HwcapsSubfolders = glibc is null ? [] : HwcapsSupported(cpu.Flags).Select(level => $"glibc-hwcaps/{level}").ToArray(),
            LegacySubfolders = glibc is not null && IsBefore(glibc, 2, 37) ? LegacyCapabilitySubfolders(platform) : [],
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

    private static bool IsBefore(string version, int major, int minor)
    {
        string[] parts = version.Split('.');
        return parts.Length >= 2 && int.TryParse(parts[0], out int a) && int.TryParse(parts[1], out int b) && (a < major || (a == major && b < minor));
    }

    /// <summary>
    /// AT_PLATFORM, except where glibc (x86-64, before 2.37, Intel CPUs only) replaces it by "haswell" or "xeon_phi"
    /// from the CPU's features.
    /// </summary>
    private static string PlatformOfThisProcess(CpuInfo cpu)
    {
        string platform = Marshal.PtrToStringUTF8((nint)Libc.getauxval(Libc.AT_PLATFORM)) ?? string.Empty;
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || cpu.Vendor != "GenuineIntel")
        {
            return platform;
        }
        HashSet<string> flags = cpu.Flags;
        if (flags.Contains("avx512cd") && flags.Contains("avx512er") && flags.Contains("avx512pf"))
        {
            return "xeon_phi";
        }
        return new[] { "avx2", "bmi1", "bmi2", "abm", "movbe", "popcnt", "fma" }.All(flags.Contains) ? "haswell" : platform;
    }

    /// <summary>The x86-64 micro-architecture levels this CPU supports, best first (glibc-hwcaps has no other architecture's levels before 2.37 on this platform set).</summary>
    private static IEnumerable<string> HwcapsSupported(HashSet<string> flags)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            yield break;
        }
        bool v2 = new[] { "cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3" }.All(flags.Contains);
        bool v3 = v2 && new[] { "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave" }.All(flags.Contains);
        bool v4 = v3 && new[] { "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl" }.All(flags.Contains);
        if (v4)
        {
            yield return "x86-64-v4";
        }
        if (v3)
        {
            yield return "x86-64-v3";
        }
        if (v2)
        {
            yield return "x86-64-v2";
        }
    }

    /// <summary>
    /// Every combination of the legacy components (tls, the important hwcap names, the platform), longest first, as
    /// glibc 2.36 and older list them: "tls/x86_64/x86_64", "tls/x86_64", ..., "x86_64". The empty one (the folder
    /// itself) is left out; it is always tried last.
    /// </summary>
    private static string[] LegacyCapabilitySubfolders(string platform)
    {
        var components = new List<string> { "tls" };
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            components.Add("x86_64");
        }
        if (platform.Length > 0)
        {
            components.Add(platform);
        }
        var result = new List<string>();
        int count = components.Count;
        for (int mask = (1 << count) - 1; mask > 0; mask--)
        {
            result.Add(string.Join('/', Enumerable.Range(0, count).Where(i => (mask & (1 << (count - 1 - i))) != 0).Select(i => components[i])));
        }
        return [.. result];
    }

    /// <summary>The first CPU's vendor and feature flags from /proc/cpuinfo, read once; empty when it cannot be read.</summary>
    private sealed record CpuInfo(string? Vendor, HashSet<string> Flags)
    {
        public static CpuInfo Read()
        {
            string[] lines;
            try
            {
                lines = ProcFile.ReadAllText("/proc/cpuinfo", null).Split('\n');
            }
            catch (SysprogException)
            {
                lines = [];
            }
            string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
            return new CpuInfo(Field("vendor_id"), new HashSet<string>(Field("flags")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [], StringComparer.Ordinal));
        }
    }
}
