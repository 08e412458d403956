using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/statfs.h: statfs(2).
internal static partial class Libc
{
    internal const long TMPFS_MAGIC = 0x01021994;
    internal const long MQUEUE_MAGIC = 0x19800202;

    [LibraryImport(LibcName, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statfs(string path, out FileSystemStatus status);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int fstatfs(int fd, out FileSystemStatus status);
}

/// <summary>struct statfs on 64-bit Linux (glibc and musl alike: fifteen 8-byte words, f_fsid being two ints).</summary>
[StructLayout(LayoutKind.Sequential, Size = 120)]
internal struct FileSystemStatus
{
    public long Type;
    public long BlockSize;
    public ulong Blocks;
    public ulong FreeBlocks;
    public ulong AvailableBlocks;
    public ulong Files;
    public ulong FreeFiles;
}
