using System.Reflection;
using System.Runtime.InteropServices;

namespace Sysprog.Interop;

internal static partial class Libc
{
    // Logical names: glibc before 2.34 keeps shm_* and mq_* in librt, sem_* in libpthread and dl* in libdl; glibc 2.34+
    // still ships those sonames as stubs whose dependency is libc.so.6, so dlsym through them finds the
    // moved symbols; musl has no such libraries and everything lives in its libc.
    internal const string LibcName = "libc";
    internal const string LibrtName = "librt";
    internal const string LibpthreadName = "libpthread";
    internal const string LibdlName = "libdl";

    static Libc() => NativeLibrary.SetDllImportResolver(typeof(Libc).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        foreach (string candidate in Candidates(name))
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                return handle;
            }
        }
        return IntPtr.Zero;
    }

    internal static IEnumerable<string> Candidates(string logicalName)
    {
        switch (logicalName)
        {
            case LibrtName:
                yield return "librt.so.1";
                break;
            case LibpthreadName:
                yield return "libpthread.so.0";
                break;
            case LibdlName:
                yield return "libdl.so.2";
                break;
            case LibcName:
                break;
            default:
                yield break;
        }
        yield return "libc.so.6";
        yield return $"libc.musl-{MuslArch()}.so.1";
        yield return "libc.so";
    }

    private static string MuslArch() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        Architecture.Arm => "armhf",
        Architecture.X86 => "x86",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.LoongArch64 => "loongarch64",
        _ => "unknown",
    };

    /// <summary>Loads a logical library the way the P/Invoke resolver does; for diagnostics and tests.</summary>
    internal static IntPtr Load(string logicalName)
    {
        IntPtr handle = Resolve(logicalName, typeof(Libc).Assembly, null);
        return handle != IntPtr.Zero ? handle : throw new DllNotFoundException($"none of {string.Join(", ", Candidates(logicalName))} could be loaded");
    }
}
