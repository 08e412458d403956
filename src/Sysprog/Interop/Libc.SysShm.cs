using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/ipc.h and sys/shm.h: System V shared memory segments.
internal static partial class Libc
{
    /// <summary>The ctl command that removes a System V object (sys/ipc.h).</summary>
    internal const int IPC_RMID = 0;

    /// <summary>The mode bit of a segment marked for destruction once its last process detaches (/proc/sysvipc/shm perms).</summary>
    internal const int SHM_DEST = 0x200;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int shmctl(int id, int command, IntPtr buffer);
}
