using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/auxv.h
internal static partial class Libc
{
    /// <summary>AT_PLATFORM: the kernel's name for the CPU ("x86_64", "aarch64"), what $PLATFORM expands to.</summary>
    internal const ulong AT_PLATFORM = 15;

    /// <summary>AT_HWCAP and AT_HWCAP2: the CPU's capability bits, which glibc's loader reads to choose its subfolders.</summary>
    internal const ulong AT_HWCAP = 16;
    internal const ulong AT_HWCAP2 = 26;

    [LibraryImport(LibcName)]
    internal static partial nuint getauxval(ulong type);
}
