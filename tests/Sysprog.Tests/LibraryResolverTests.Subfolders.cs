using System.Runtime.InteropServices;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// The subfolders glibc's loader tries in every folder: compared with this machine's own loader, and worked out from
/// glibc's rules for CPUs this machine is not.
/// </summary>
public partial class LibraryResolverTests
{
    /// <summary>
    /// The loader prints, at its first search in an LD_LIBRARY_PATH folder, every subfolder it will try there
    /// (LD_DEBUG=libs, "search path="): the options of this machine list the same ones, in the same order, whatever
    /// the CPU and glibc version.
    /// </summary>
    [SkippableFact]
    public void SearchOptions_ListTheSubfoldersThisMachinesLoaderTries()
    {
        LibrarySearchOptions options = LibrarySearchOptions.ForThisMachine();
        Skip.If(options.GlibcVersion is null, "the C library is not glibc: LD_DEBUG=libs is glibc's");
        string? program = Tools.Find("true");
        Skip.If(program is null, "no 'true' program on PATH to start under LD_DEBUG=libs");
        Skip.If(ElfFile.Open(program).Interpreter is null, $"{program} is statically linked: no loader searches for it");
        string folder = Directory.CreateTempSubdirectory("sysprog-subfolders-").FullName;
        try
        {
            string[] lines = LoaderDebugLines(program, folder);
            string? searchPath = lines.FirstOrDefault(l => l.Contains("search path=", StringComparison.Ordinal) && l.EndsWith("(LD_LIBRARY_PATH)", StringComparison.Ordinal));
            Assert.True(searchPath is not null, $"the loader printed no LD_LIBRARY_PATH search path:\n{string.Join('\n', lines.Take(20))}");
            string[] theirs = searchPath[(searchPath.IndexOf("search path=", StringComparison.Ordinal) + "search path=".Length)..]
                .Split('\t', 2)[0].Split(':');
            string[] ours = [.. options.HwcapsSubfolders.Concat(options.LegacySubfolders).Select(subfolder => $"{folder}/{subfolder}"), folder];
            Assert.Equal(theirs, ours);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private const string X86V1 = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm";
    private const string X86V2 = X86V1 + " pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm";
    private const string X86V3 = X86V2 + " avx avx2 bmi1 bmi2 f16c fma abm movbe xsave";
    private const string X86V4 = X86V3 + " avx512f avx512bw avx512cd avx512dq avx512vl";

    private static LoaderSubfolders SubfoldersOf(Architecture architecture, string? vendor, string features, string platform, string glibc) =>
        LoaderSubfolders.For(new LoaderCpu(architecture, vendor, new HashSet<string>(features.Split(' '), StringComparer.Ordinal), platform), glibc);

    /// <summary>A CPU, its AT_PLATFORM and glibc version, and what glibc's rules make of them.</summary>
    private sealed record OtherMachine(Architecture Architecture, string? Vendor, string Features, string AuxvPlatform, string Glibc,
        string Platform, string[] Hwcaps, string[] Legacy);

    private static string[] GlibcHwcaps(params string[] levels) => [.. levels.Select(level => $"glibc-hwcaps/{level}")];

    // The expectations follow glibc's sources (2.36 unless said):
    // - glibc-hwcaps levels: sysdeps/x86/get-isa-level.h (v2: CMPXCHG16B LAHF64_SAHF64 POPCNT SSE3 SSSE3 SSE4_1 SSE4_2;
    //   v3: AVX AVX2 BMI1 BMI2 F16C FMA LZCNT MOVBE; v4: AVX512F BW CD DQ VL), each level only above the one below,
    //   listed best first by sysdeps/x86_64/dl-hwcaps-subdirs.c; none before glibc 2.33 (elf/dl-hwcaps.c).
    // - Platform and hwcap bits: sysdeps/x86/cpu-features.c sets HWCAP_X86_64 always, HWCAP_X86_AVX512_1 on Intel with
    //   AVX512CD, BW, DQ, VL and no AVX512ER, and on Intel replaces AT_PLATFORM by "xeon_phi" (AVX512CD+ER+PF) or
    //   "haswell" (AVX2 FMA BMI1 BMI2 LZCNT MOVBE POPCNT); other vendors keep AT_PLATFORM.
    // - Legacy subfolders: elf/dl-hwcaps.c _dl_important_hwcaps takes [set HWCAP_IMPORTANT bits lowest first, platform,
    //   "tls"] and lists every combination from all-set down by binary counting, each path from the last component to
    //   the first; equal components are not merged. glibc 2.37 removed them (commit "elf: Remove legacy hwcaps support").
    private static readonly Dictionary<string, OtherMachine> OtherMachines = new()
    {
        ["Intel AVX-512 server (Ice Lake SP), glibc 2.36: the components are x86_64, avx512_1, haswell, tls"] = new(
            Architecture.X64, "GenuineIntel", X86V4 + " avx512ifma avx512vbmi", "x86_64", "2.36",
            "haswell",
            GlibcHwcaps("x86-64-v4", "x86-64-v3", "x86-64-v2"),
            [
                "tls/haswell/avx512_1/x86_64", "tls/haswell/avx512_1", "tls/haswell/x86_64", "tls/haswell",
                "tls/avx512_1/x86_64", "tls/avx512_1", "tls/x86_64", "tls",
                "haswell/avx512_1/x86_64", "haswell/avx512_1", "haswell/x86_64", "haswell",
                "avx512_1/x86_64", "avx512_1", "x86_64",
            ]),
        ["Intel Haswell desktop without AVX-512, glibc 2.36: x86_64, haswell, tls"] = new(
            Architecture.X64, "GenuineIntel", X86V3, "x86_64", "2.36",
            "haswell",
            GlibcHwcaps("x86-64-v3", "x86-64-v2"),
            ["tls/haswell/x86_64", "tls/haswell", "tls/x86_64", "tls", "haswell/x86_64", "haswell", "x86_64"]),
        ["Intel Xeon Phi (Knights Landing), glibc 2.36: AVX512ER keeps avx512_1 unset and names the platform xeon_phi; no AVX512BW, so no x86-64-v4"] = new(
            Architecture.X64, "GenuineIntel", X86V3 + " avx512f avx512cd avx512er avx512pf", "x86_64", "2.36",
            "xeon_phi",
            GlibcHwcaps("x86-64-v3", "x86-64-v2"),
            ["tls/xeon_phi/x86_64", "tls/xeon_phi", "tls/x86_64", "tls", "xeon_phi/x86_64", "xeon_phi", "x86_64"]),
        ["AMD Zen 4 with AVX-512, glibc 2.36: not Intel, so no avx512_1 and AT_PLATFORM x86_64 stays beside the hwcap x86_64"] = new(
            Architecture.X64, "AuthenticAMD", X86V4 + " avx512_bf16 sse4a", "x86_64", "2.36",
            "x86_64",
            GlibcHwcaps("x86-64-v4", "x86-64-v3", "x86-64-v2"),
            ["tls/x86_64/x86_64", "tls/x86_64", "tls/x86_64", "tls", "x86_64/x86_64", "x86_64", "x86_64"]),
        ["AMD Zen 2, glibc 2.36"] = new(
            Architecture.X64, "AuthenticAMD", X86V3 + " sse4a", "x86_64", "2.36",
            "x86_64",
            GlibcHwcaps("x86-64-v3", "x86-64-v2"),
            ["tls/x86_64/x86_64", "tls/x86_64", "tls/x86_64", "tls", "x86_64/x86_64", "x86_64", "x86_64"]),
        ["Intel Core 2 (x86-64 v1: no SSE4.1, SSE4.2, POPCNT), glibc 2.36: no level, and no haswell, so AT_PLATFORM stays"] = new(
            Architecture.X64, "GenuineIntel", X86V1 + " pni ssse3 cx16 lahf_lm", "x86_64", "2.36",
            "x86_64",
            [],
            ["tls/x86_64/x86_64", "tls/x86_64", "tls/x86_64", "tls", "x86_64/x86_64", "x86_64", "x86_64"]),
        ["Intel Haswell desktop, glibc 2.31: legacy subfolders only, glibc-hwcaps came in 2.33"] = new(
            Architecture.X64, "GenuineIntel", X86V3, "x86_64", "2.31",
            "haswell",
            [],
            ["tls/haswell/x86_64", "tls/haswell", "tls/x86_64", "tls", "haswell/x86_64", "haswell", "x86_64"]),
        ["Intel AVX-512 server, glibc 2.38: glibc-hwcaps only; $PLATFORM is still haswell"] = new(
            Architecture.X64, "GenuineIntel", X86V4, "x86_64", "2.38",
            "haswell",
            GlibcHwcaps("x86-64-v4", "x86-64-v3", "x86-64-v2"),
            []),
        ["AMD Zen 2, glibc 2.37"] = new(
            Architecture.X64, "AuthenticAMD", X86V3, "x86_64", "2.37",
            "x86_64",
            GlibcHwcaps("x86-64-v3", "x86-64-v2"),
            []),
        // sysdeps/unix/sysv/linux/aarch64/dl-procinfo.h: HWCAP_IMPORTANT is HWCAP_ATOMICS ("atomics", bit 8); no glibc-hwcaps levels.
        ["aarch64 Neoverse N1, glibc 2.36: atomics, aarch64 (AT_PLATFORM), tls"] = new(
            Architecture.Arm64, null, "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs", "aarch64", "2.36",
            "aarch64",
            [],
            ["tls/aarch64/atomics", "tls/aarch64", "tls/atomics", "tls", "aarch64/atomics", "aarch64", "atomics"]),
        ["aarch64 Cortex-A72 (no LSE atomics), glibc 2.36: aarch64, tls"] = new(
            Architecture.Arm64, null, "fp asimd evtstrm crc32 cpuid", "aarch64", "2.36",
            "aarch64",
            [],
            ["tls/aarch64", "tls", "aarch64"]),
        // sysdeps/powerpc/powerpc64/le/dl-hwcaps-subdirs.c: power9 needs ARCH_3_00 and IEEE128, power10 ARCH_3_1 and MMA;
        // sysdeps/powerpc/dl-procinfo.h: HWCAP_IMPORTANT is DFP (bit 10) and ALTIVEC (bit 28).
        ["POWER9, glibc 2.36: dfp, altivec, power9, tls"] = new(
            Architecture.Ppc64le, null, "dfp altivec arch_3_00 ieee128", "power9", "2.36",
            "power9",
            GlibcHwcaps("power9"),
            [
                "tls/power9/altivec/dfp", "tls/power9/altivec", "tls/power9/dfp", "tls/power9",
                "tls/altivec/dfp", "tls/altivec", "tls/dfp", "tls",
                "power9/altivec/dfp", "power9/altivec", "power9/dfp", "power9",
                "altivec/dfp", "altivec", "dfp",
            ]),
    };

    public static TheoryData<string> OtherMachineNames => [.. OtherMachines.Keys];

    [Theory]
    [MemberData(nameof(OtherMachineNames))]
    public void SearchOptions_FollowGlibcsRules_OnOtherMachines(string machine)
    {
        OtherMachine m = OtherMachines[machine];
        LoaderSubfolders subfolders = SubfoldersOf(m.Architecture, m.Vendor, m.Features, m.AuxvPlatform, m.Glibc);
        Assert.Equal(m.Platform, subfolders.Platform);
        Assert.Equal(m.Hwcaps, subfolders.Hwcaps);
        Assert.Equal(m.Legacy, subfolders.Legacy);
    }

    /// <summary>
    /// s390x z15 (sysdeps/s390/s390-64/dl-hwcaps-subdirs.c: z13 needs VX, z14 VXD VXE GS, z15 VXE2 VXP, z16 VXP2;
    /// sysdeps/s390/dl-procinfo.h: HWCAP_IMPORTANT is zarch ldisp eimm dfp vx vxe vxe2): seven hwcap names, the
    /// platform and tls make 2^9 - 1 legacy subfolders, too many to write out; their ends and count are checked.
    /// </summary>
    [Fact]
    public void SearchOptions_FollowGlibcsRules_OnS390x()
    {
        const string Z15 = "esan3 zarch stfle msa ldisp eimm dfp edat etf3eh highgprs te vx vxd vxe gs vxe2 vxp sort dflt sie";
        LoaderSubfolders subfolders = SubfoldersOf(Architecture.S390x, "IBM/S390", Z15, "z15", "2.36");
        Assert.Equal(GlibcHwcaps("z15", "z14", "z13"), subfolders.Hwcaps);
        Assert.Equal(511, subfolders.Legacy.Count);
        Assert.Equal(["tls/z15/vxe2/vxe/vx/dfp/eimm/ldisp/zarch", "tls/z15/vxe2/vxe/vx/dfp/eimm/ldisp"], subfolders.Legacy.Take(2));
        Assert.Equal(["tls", "z15/vxe2/vxe/vx/dfp/eimm/ldisp/zarch"], subfolders.Legacy.Skip(255).Take(2));
        Assert.Equal(["ldisp", "zarch"], subfolders.Legacy.TakeLast(2));
        Assert.Equal(GlibcHwcaps("z15", "z14", "z13"), SubfoldersOf(Architecture.S390x, "IBM/S390", Z15 + " vxp2", "z16", "2.35").Hwcaps);
        Assert.Equal(GlibcHwcaps("z16", "z15", "z14", "z13"), SubfoldersOf(Architecture.S390x, "IBM/S390", Z15 + " vxp2", "z16", "2.36").Hwcaps);
    }
}
