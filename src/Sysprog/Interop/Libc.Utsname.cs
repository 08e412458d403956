using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/utsname.h: the kernel's name, release and machine (what uname -m prints picks the system call table).
internal static partial class Libc
{
    internal const int UtsFieldLength = 65;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int uname(UtsName* name);
}

/// <summary>struct utsname: six NUL-terminated fields of 65 bytes (glibc and musl on Linux).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct UtsName
{
    public fixed byte SystemName[Libc.UtsFieldLength];
    public fixed byte NodeName[Libc.UtsFieldLength];
    public fixed byte Release[Libc.UtsFieldLength];
    public fixed byte Version[Libc.UtsFieldLength];
    public fixed byte Machine[Libc.UtsFieldLength];
    public fixed byte DomainName[Libc.UtsFieldLength];
}
