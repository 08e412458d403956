using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/resource.h: resource limits (prlimit works on any process; getrlimit is this one's) and nice values.
internal static partial class Libc
{
    // The RLIMIT_* resource numbers are the values of Sysprog.ProcessResource.
    internal const ulong RLIM_INFINITY = ulong.MaxValue;

    /// <summary>getpriority/setpriority "which": a process, or on Linux one thread when given a thread id.</summary>
    internal const int PRIO_PROCESS = 0;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int prlimit(int processId, int resource, RLimit* newLimit, RLimit* oldLimit);

    /// <summary>Returns the nice value, which can be -1: success is told by errno, which the marshaller clears first.</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int getpriority(int which, int who);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int setpriority(int which, int who, int nice);
}

/// <summary>struct rlimit.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RLimit
{
    public ulong Current;
    public ulong Maximum;

    public override readonly string ToString() => $"{{rlim_cur={Show(Current)}, rlim_max={Show(Maximum)}}}";

    private static string Show(ulong value) => value == Libc.RLIM_INFINITY ? "RLIM_INFINITY" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
