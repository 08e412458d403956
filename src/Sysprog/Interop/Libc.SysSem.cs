using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/sem.h: System V semaphore sets.
internal static partial class Libc
{
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int semctl(int id, int number, int command);
}
