using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// stdlib.h (posix_openpt, grantpt, unlockpt): a pseudoterminal pair.
internal static partial class Libc
{
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int posix_openpt(int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int grantpt(int fd);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int unlockpt(int fd);
}
