using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sched.h: scheduling policy, priority and CPU affinity of a process or thread (a thread id works where a pid is asked).
internal static partial class Libc
{
    internal const int SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;

    /// <summary>Or'ed into the policy: children start back at SCHED_OTHER and nice 0 or above.</summary>
    internal const int SCHED_RESET_ON_FORK = 0x40000000;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int sched_getscheduler(int processId);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int sched_setscheduler(int processId, int policy, in SchedParam parameters);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int sched_getparam(int processId, out SchedParam parameters);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int sched_get_priority_min(int policy);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int sched_get_priority_max(int policy);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int sched_rr_get_interval(int processId, out Timespec interval);

    /// <summary>The glibc wrapper returns 0 on success, not the kernel's byte count.</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int sched_getaffinity(int processId, nuint setSize, ulong* mask);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int sched_setaffinity(int processId, nuint setSize, ulong* mask);

    [LibraryImport(LibcName)]
    internal static partial int sched_getcpu();
}

[StructLayout(LayoutKind.Sequential)]
internal struct SchedParam
{
    public int Priority;
}
