using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/uio.h: cross-memory attach.
internal static partial class Libc
{
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
