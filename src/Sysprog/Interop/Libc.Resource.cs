using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/resource.h
internal static partial class Libc
{
    internal const int RLIMIT_NOFILE = 7;
    internal const int RLIMIT_MEMLOCK = 8;
    internal const int RLIMIT_MSGQUEUE = 12;
    internal const int RLIMIT_RTPRIO = 14;
    internal const ulong RLIM_INFINITY = ulong.MaxValue;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int getrlimit(int resource, out ResourceLimit limit);
}

[StructLayout(LayoutKind.Sequential)]
internal struct ResourceLimit
{
    public ulong Current;
    public ulong Maximum;
}
