using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// gnu/libc-version.h (glibc only: musl has no such call, and the lookup then fails with EntryPointNotFoundException)
internal static partial class Libc
{
    [LibraryImport(LibcName)]
    internal static partial nint gnu_get_libc_version();
}
