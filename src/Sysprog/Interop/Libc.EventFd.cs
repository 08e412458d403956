using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/eventfd.h
internal static partial class Libc
{
    internal const int EFD_SEMAPHORE = 0x1;
    internal const int EFD_NONBLOCK = O_NONBLOCK;
    internal const int EFD_CLOEXEC = O_CLOEXEC;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int eventfd(uint initialValue, int flags);
}
