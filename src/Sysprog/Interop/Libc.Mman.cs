using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Sysprog.Interop;

// sys/mman.h
internal static partial class Libc
{
    internal const int MFD_CLOEXEC = 0x1;
    internal const int MFD_ALLOW_SEALING = 0x2;

    /// <summary>An anonymous file in memory; the name only labels it (memfd:NAME in /proc/PID/fd and maps).</summary>
    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int memfd_create(string name, int flags);


    internal const int PROT_NONE = 0x0;
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int PROT_EXEC = 0x4;

    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_POPULATE = 0x8000;

    internal const int MS_ASYNC = 1;
    internal const int MS_INVALIDATE = 2;
    internal const int MS_SYNC = 4;

    internal const int MCL_CURRENT = 1;
    internal const int MCL_FUTURE = 2;
    internal const int MCL_ONFAULT = 4;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial IntPtr mmap(IntPtr address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int munmap(IntPtr address, nuint length);

    /// <summary>One byte per page of the range, bit 0 set when the page is resident (for a file: in the page cache).</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int mincore(IntPtr address, nuint length, byte* vector);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int mprotect(IntPtr address, nuint length, int protection);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int msync(IntPtr address, nuint length, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int madvise(IntPtr address, nuint length, int advice);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int mlock(IntPtr address, nuint length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int munlock(IntPtr address, nuint length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int mlockall(int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int munlockall();

    // glibc always adds O_CLOEXEC (and O_NOFOLLOW) inside shm_open; Sysprog passes it anyway so musl behaves the same.
    [LibraryImport(LibrtName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int shm_open([MarshalUsing(typeof(EscapedNameMarshaller))] string name, int flags, int mode);

    [LibraryImport(LibrtName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int shm_unlink([MarshalUsing(typeof(EscapedNameMarshaller))] string name);

    internal static string ProtText(int protection) => TraceFormat.Flags(protection, ProtNames, "PROT_NONE");

    internal static string MapFlagsText(int flags) => TraceFormat.Flags(flags, MapFlagNames, "0");

    internal static string MsyncFlagsText(int flags) => TraceFormat.Flags(flags, MsyncNames, "0");

    internal static string MlockallFlagsText(int flags) => TraceFormat.Flags(flags, MlockallNames, "0");

    private static readonly (long, string)[] ProtNames = [(PROT_READ, "PROT_READ"), (PROT_WRITE, "PROT_WRITE"), (PROT_EXEC, "PROT_EXEC")];

    private static readonly (long, string)[] MapFlagNames =
        [(MAP_SHARED, "MAP_SHARED"), (MAP_PRIVATE, "MAP_PRIVATE"), (MAP_ANONYMOUS, "MAP_ANONYMOUS"), (MAP_POPULATE, "MAP_POPULATE")];

    private static readonly (long, string)[] MsyncNames = [(MS_ASYNC, "MS_ASYNC"), (MS_INVALIDATE, "MS_INVALIDATE"), (MS_SYNC, "MS_SYNC")];

    private static readonly (long, string)[] MlockallNames =
        [(MCL_CURRENT, "MCL_CURRENT"), (MCL_FUTURE, "MCL_FUTURE"), (MCL_ONFAULT, "MCL_ONFAULT")];
}
