using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/file.h: flock(2).
internal static partial class Libc
{
    internal const int LOCK_SH = 1;
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;
    internal const int LOCK_UN = 8;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int flock(int fd, int operation);

    internal static string FlockOperationText(int operation) =>
        (operation & ~LOCK_NB) switch { LOCK_SH => "LOCK_SH", LOCK_EX => "LOCK_EX", _ => "LOCK_UN" } + ((operation & LOCK_NB) != 0 ? "|LOCK_NB" : "");
}
