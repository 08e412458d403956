using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/msg.h: System V message queues.
internal static partial class Libc
{
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int msgctl(int id, int command, IntPtr buffer);
}
