using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/uio.h: cross-memory attach, and reads and writes that ask per call not to wait.
internal static partial class Libc
{
    /// <summary>preadv2/pwritev2: fail with EAGAIN instead of waiting, whatever the descriptor's O_NONBLOCK.</summary>
    internal const int RWF_NOWAIT = 0x8;

    /// <summary>Offset -1: the file position, as read(2) and write(2) use (a pipe has none).</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint preadv2(int fd, IoVec* vectors, int count, long offset, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint pwritev2(int fd, IoVec* vectors, int count, long offset, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint process_vm_readv(int processId, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint process_vm_writev(int processId, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);
}

/// <summary>struct iovec: one buffer of a scatter/gather transfer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoVec
{
    public nint Base;
    public nuint Length;
}
