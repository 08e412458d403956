using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// fcntl.h, sys/stat.h (the calls Sysprog needs from them).
internal static partial class Libc
{
    // Linux asm-generic values (x86-64, arm64).
    internal const int O_RDONLY = 0x0;
    internal const int O_WRONLY = 0x1;
    internal const int O_RDWR = 0x2;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal const int O_NOCTTY = 0x100;
    internal const int O_TRUNC = 0x200;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_NOFOLLOW = 0x20000;
    internal const int O_CLOEXEC = 0x80000;

    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_BASIC_STATS = 0x7ff;

    [LibraryImport(LibcName, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int open(string path, int flags, int mode);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int fchmod(int fd, int mode);

    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int statx(int dirfd, string path, int flags, uint mask, out StatX buffer);

    internal static string OpenFlagsText(int flags)
    {
        string access = (flags & 0x3) switch { O_WRONLY => "O_WRONLY", O_RDWR => "O_RDWR", _ => "O_RDONLY" };
        string rest = TraceFormat.Flags(flags & ~0x3, OpenFlagNames, "");
        return rest.Length == 0 ? access : $"{access}|{rest}";
    }

    private static readonly (long, string)[] OpenFlagNames =
    [
        (O_CREAT, "O_CREAT"), (O_EXCL, "O_EXCL"), (O_NOCTTY, "O_NOCTTY"), (O_TRUNC, "O_TRUNC"),
        (O_NONBLOCK, "O_NONBLOCK"), (O_NOFOLLOW, "O_NOFOLLOW"), (O_CLOEXEC, "O_CLOEXEC"),
    ];
}

/// <summary>struct statx: one layout on every Linux architecture, unlike struct stat.</summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
internal struct StatX
{
    public uint Mask;
    public uint BlockSize;
    public ulong Attributes;
    public uint LinkCount;
    public uint Uid;
    public uint Gid;
    public ushort Mode;
    private ushort _spare0;
    public ulong Inode;
    public ulong Size;
    public ulong Blocks;
    public ulong AttributesMask;
    public StatXTimestamp AccessTime;
    public StatXTimestamp BirthTime;
    public StatXTimestamp ChangeTime;
    public StatXTimestamp ModifyTime;
    public uint RdevMajor;
    public uint RdevMinor;
    public uint DevMajor;
    public uint DevMinor;
}

[StructLayout(LayoutKind.Sequential)]
internal struct StatXTimestamp
{
    public long Seconds;
    public uint Nanoseconds;
    private int _reserved;

    public readonly DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.FromUnixTimeSeconds(Seconds).AddTicks(Nanoseconds / 100);
}

// sys/stat.h: chmod, for objects that have no fd to fchmod (named semaphores).
internal static partial class Libc
{
    [LibraryImport(LibcName, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int chmod(string path, int mode);
}
