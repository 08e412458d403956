using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// pidfd_open(2), pidfd_getfd(2), pidfd_send_signal(2): by syscall number, since glibc before 2.36 has no wrappers. Both were added after
// the syscall tables were unified, so the numbers are the same on every architecture.
internal static partial class Libc
{
    private const long SYS_pidfd_open = 434;
    private const long SYS_pidfd_getfd = 438;
    private const long SYS_pidfd_send_signal = 424;

    [LibraryImport(LibcName, EntryPoint = "syscall", SetLastError = true)]
    private static partial int syscall_pidfd_open(long number, int pid, uint flags);

    [LibraryImport(LibcName, EntryPoint = "syscall", SetLastError = true)]
    private static partial int syscall_pidfd_getfd(long number, int pidfd, int targetFd, uint flags);

    [LibraryImport(LibcName, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial int syscall_pidfd_send_signal(long number, int pidfd, int signal, void* info, uint flags);

    /// <summary>Signals the process the pidfd refers to, and only it: a reaped process's number reused by another is never hit.</summary>
    internal static unsafe int pidfd_send_signal(int pidfd, int signal) => syscall_pidfd_send_signal(SYS_pidfd_send_signal, pidfd, signal, null, 0);

    internal static int pidfd_open(int pid) => syscall_pidfd_open(SYS_pidfd_open, pid, 0);

    internal static int pidfd_getfd(int pidfd, int targetFd) => syscall_pidfd_getfd(SYS_pidfd_getfd, pidfd, targetFd, 0);

    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;
    internal const int F_GETFD = 1;
    internal const int F_SETFD = 2;
    internal const int FD_CLOEXEC = 1;
    internal const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport(LibcName, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);
}
