using System.Runtime.InteropServices;

namespace Sysprog;

/// <summary>
/// What glibc's loader reads about the CPU before it chooses its subfolders: the architecture of the process, the
/// CPU's vendor ("GenuineIntel"), its feature names as the kernel and glibc spell them (the "flags" of
/// /proc/cpuinfo on x86, "Features" on arm and aarch64, "features" on s390x, the AT_HWCAP and AT_HWCAP2 bit names
/// on powerpc), and the kernel's AT_PLATFORM string.
/// </summary>
internal sealed record LoaderCpu(Architecture Architecture, string? Vendor, IReadOnlySet<string> Features, string? AuxvPlatform)
{
    public bool Has(params string[] features) => features.All(Features.Contains);
}

/// <summary>
/// The subfolders glibc's ld.so tries inside every search folder, best first, and what $PLATFORM expands to: a pure
/// function of the CPU and the glibc version, so that any machine's answer can be worked out on this one.
/// </summary>
/// <param name="Platform">GLRO(dl_platform): AT_PLATFORM, or glibc's own choice on Intel x86-64 ("haswell", "xeon_phi").</param>
/// <param name="Hwcaps">"glibc-hwcaps/x86-64-v4" and the like (glibc 2.33 and later), best first.</param>
/// <param name="Legacy">
/// The power set of the legacy components in the loader's order, duplicates included (glibc before 2.37); the
/// empty combination, the folder itself, is left out: it is always tried last.
/// </param>
internal sealed record LoaderSubfolders(string Platform, IReadOnlyList<string> Hwcaps, IReadOnlyList<string> Legacy)
{
    public static LoaderSubfolders For(LoaderCpu cpu, string? glibcVersion)
    {
        if (glibcVersion is null || ParseGlibc(glibcVersion) is not int minor)
        {
            // Another C library's loader (musl's) has no capability subfolders.
            return new LoaderSubfolders(cpu.AuxvPlatform ?? string.Empty, [], []);
        }
        string? platform = PlatformOf(cpu);
        string[] hwcaps = minor >= 33 ? [.. HwcapsLevels(cpu, minor).Select(level => $"glibc-hwcaps/{level}")] : [];
        string[] legacy = minor < 37 ? PowerSet([.. ImportantHwcapNames(cpu, minor), .. platform is null ? Array.Empty<string>() : [platform], "tls"]) : [];
        return new LoaderSubfolders(platform ?? string.Empty, hwcaps, legacy);
    }

    /// <summary>The minor version of a glibc 2.x version string ("2.36" is 36); null for anything else.</summary>
    private static int? ParseGlibc(string version)
    {
        string[] parts = version.Split('.');
        return parts.Length >= 2 && parts[0] == "2" && int.TryParse(parts[1], out int minor) ? minor : null;
    }

    /// <summary>
    /// GLRO(dl_platform). It starts as AT_PLATFORM; an empty one is dropped (dl_platform_init). On x86-64 Intel CPUs
    /// (sysdeps/x86/cpu-features.c, update_active since glibc 2.26) it becomes "xeon_phi" when AVX512CD, AVX512ER and
    /// AVX512PF are usable, otherwise "haswell" when AVX2, FMA, BMI1, BMI2, LZCNT, MOVBE and POPCNT are.
    /// </summary>
    private static string? PlatformOf(LoaderCpu cpu)
    {
        string? platform = string.IsNullOrEmpty(cpu.AuxvPlatform) ? null : cpu.AuxvPlatform;
        if (cpu.Architecture != Architecture.X64 || cpu.Vendor != "GenuineIntel")
        {
            return platform;
        }
        if (cpu.Has("avx512cd", "avx512er", "avx512pf"))
        {
            return "xeon_phi";
        }
        // "abm" is the kernel's name for LZCNT.
        return cpu.Has("avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "popcnt") ? "haswell" : platform;
    }

    /// <summary>
    /// The set bits of GLRO(dl_hwcap) masked by HWCAP_IMPORTANT (the default of LD_HWCAP_MASK), lowest bit first, by
    /// their _dl_hwcap_string names: the order in which _dl_important_hwcaps (elf/dl-hwcaps.c) lists them.
    /// </summary>
    private static IEnumerable<string> ImportantHwcapNames(LoaderCpu cpu, int glibcMinor)
    {
        switch (cpu.Architecture)
        {
            case Architecture.X64:
                // sysdeps/x86/dl-hwcap.h: HWCAP_IMPORTANT is HWCAP_X86_64 (bit 1, always set on x86-64) and
                // HWCAP_X86_AVX512_1 (bit 2), which cpu-features.c sets on Intel only, when AVX512CD is usable
                // without AVX512ER and with AVX512BW, AVX512DQ and AVX512VL.
                yield return "x86_64";
                if (cpu.Vendor == "GenuineIntel" && cpu.Has("avx512cd", "avx512bw", "avx512dq", "avx512vl") && !cpu.Has("avx512er"))
                {
                    yield return "avx512_1";
                }
                break;
            case Architecture.Arm64:
                // sysdeps/unix/sysv/linux/aarch64/dl-procinfo.h: HWCAP_ATOMICS (bit 8) since glibc 2.28, HWCAP_CPUID (bit 11) before.
                string aarch64Important = glibcMinor >= 28 ? "atomics" : "cpuid";
                if (cpu.Has(aarch64Important))
                {
                    yield return aarch64Important;
                }
                break;
            case Architecture.Arm:
                // sysdeps/unix/sysv/linux/arm/dl-procinfo.h: HWCAP_ARM_VFP (bit 6) and HWCAP_ARM_NEON (bit 12).
                foreach (string name in new[] { "vfp", "neon" }.Where(cpu.Features.Contains))
                {
                    yield return name;
                }
                break;
            case Architecture.S390x:
                // sysdeps/s390/dl-procinfo.h: ZARCH (bit 1), LDISP (4), EIMM (5), DFP (6); VX (11), VXE (13) and
                // VXRS_EXT2 (15, "vxe2") joined them in glibc 2.30.
                string[] s390Important = glibcMinor >= 30 ? ["zarch", "ldisp", "eimm", "dfp", "vx", "vxe", "vxe2"] : ["zarch", "ldisp", "eimm", "dfp"];
                foreach (string name in s390Important.Where(cpu.Features.Contains))
                {
                    yield return name;
                }
                break;
            case Architecture.Ppc64le:
                // sysdeps/powerpc/dl-procinfo.h: PPC_FEATURE_HAS_DFP (bit 10) and PPC_FEATURE_HAS_ALTIVEC (bit 28).
                foreach (string name in new[] { "dfp", "altivec" }.Where(cpu.Features.Contains))
                {
                    yield return name;
                }
                break;
            default:
                // sysdeps/generic/dl-procinfo.h: HWCAP_IMPORTANT is 0.
                break;
        }
    }

    /// <summary>
    /// The glibc-hwcaps levels the CPU supports, best first (_dl_hwcaps_subdirs and _dl_hwcaps_subdirs_active of
    /// sysdeps/x86_64, sysdeps/powerpc/powerpc64/le and sysdeps/s390/s390-64); a level counts only when every
    /// lower one does. No other architecture has any.
    /// </summary>
    private static IEnumerable<string> HwcapsLevels(LoaderCpu cpu, int glibcMinor)
    {
        var levels = new List<string>();
        switch (cpu.Architecture)
        {
            case Architecture.X64:
                // sysdeps/x86/get-isa-level.h. BMI1 and BMI2 joined x86-64-v3 in glibc 2.37 and in the 2.33 to
                // 2.36 release branches the distributions build from, so every version here asks for them.
                if (cpu.Has("cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2")
                    && cpu.Has("cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2"))
                {
                    levels.Add("x86-64-v2");
                    if (cpu.Has("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"))
                    {
                        levels.Add("x86-64-v3");
                        if (cpu.Has("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"))
                        {
                            levels.Add("x86-64-v4");
                        }
                    }
                }
                break;
            case Architecture.Ppc64le:
                // POWER9: ISA 3.0 with IEEE128; POWER10: ISA 3.1 with MMA (AT_HWCAP2 bits).
                if (cpu.Has("arch_3_00", "ieee128"))
                {
                    levels.Add("power9");
                    if (cpu.Has("arch_3_1", "mma"))
                    {
                        levels.Add("power10");
                    }
                }
                break;
            case Architecture.S390x:
                // z13: VX; z14: VXD, VXE, GS; z15: VXRS_EXT2, VXRS_PDE; z16 (glibc 2.36 on): VXRS_PDE2.
                if (cpu.Has("vx"))
                {
                    levels.Add("z13");
                    if (cpu.Has("vxd", "vxe", "gs"))
                    {
                        levels.Add("z14");
                        if (cpu.Has("vxe2", "vxp"))
                        {
                            levels.Add("z15");
                            if (glibcMinor >= 36 && cpu.Has("vxp2"))
                            {
                                levels.Add("z16");
                            }
                        }
                    }
                }
                break;
        }
        levels.Reverse();
        return levels;
    }

    /// <summary>
    /// Every non-empty combination of the components, as _dl_important_hwcaps builds them: component i is in entry
    /// k when bit i of (2^n - 1 - k) is set, so the longest comes first and the last component ("tls") leads the
    /// first half; within an entry the components go from the last to the first ("tls/haswell/avx512_1/x86_64").
    /// Equal components (x86_64 as hwcap and as AT_PLATFORM on AMD) are not merged: the loader tries both.
    /// </summary>
    private static string[] PowerSet(IReadOnlyList<string> components)
    {
        int count = components.Count;
        var result = new string[(1 << count) - 1];
        for (int mask = (1 << count) - 1; mask > 0; mask--)
        {
            result[(1 << count) - 1 - mask] = string.Join('/', Enumerable.Range(0, count).Reverse().Where(i => (mask & (1 << i)) != 0).Select(i => components[i]));
        }
        return result;
    }
}
