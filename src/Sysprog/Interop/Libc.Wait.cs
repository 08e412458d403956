using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/wait.h, and kill(2) from signal.h for the children Sysprog starts.
internal static partial class Libc
{
    internal const int WNOHANG = 1;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int waitpid(int processId, out int status, int options);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int kill(int processId, int signal);
}
