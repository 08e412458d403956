using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

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
    internal const int O_CLOEXEC = 0x80000;

    internal const int AT_FDCWD = -100;
    /// <summary>Returns 0 or an error number (not -1 and errno).</summary>
    [LibraryImport(LibcName)]
    internal static partial int posix_fadvise(int fd, long offset, long length, int advice);
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_BASIC_STATS = 0x7ff;

    [LibraryImport(LibcName, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int open(string path, int flags, int mode);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int fchmod(int fd, int mode);

    [LibraryImport(LibcName, EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int openat(int directoryFd, string path, int flags, int mode);

    /// <summary>O_PATH: a descriptor that names a file without opening it (fstat, *at calls, /proc/self/fd/N); never blocks, even on a FIFO.</summary>
    internal const int O_PATH = 0x200000;

    /// <summary>O_DIRECTORY: not asm-generic (x86-64 0x10000 is arm64's O_DIRECT).</summary>
    internal static readonly int O_DIRECTORY = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    // st_mode's permission bits the sticky-folder rules look at.
    internal const int S_ISVTX = 0x200;
    internal const int S_IWOTH = 0x2;

    internal const int O_ACCMODE = 0x3;

    /// <summary>O_DIRECT: on a pipe, packet mode (each write one packet, each read at most one). Not asm-generic.</summary>
    internal static readonly int O_DIRECT = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    /// <summary>O_NOFOLLOW: not asm-generic either (x86-64 0x20000 is arm64's O_LARGEFILE).</summary>
    internal static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>O_LARGEFILE: set by the kernel on every file a 64-bit process opens, so F_GETFL shows it. Not asm-generic.</summary>
    internal static readonly int O_LARGEFILE = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x20000 : 0x8000;

    /// <summary>O_ASYNC (FASYNC): the descriptor's owner gets a signal when it becomes ready (signal-driven I/O). asm-generic.</summary>
    internal const int O_ASYNC = 0x2000;

    // Signal-driven I/O: who gets the signal (F_SETOWN_EX, a struct f_owner_ex), and which signal (F_SETSIG; with one
    // set, the siginfo carries the descriptor and the band).
    internal const int F_SETSIG = 10;
    internal const int F_GETSIG = 11;
    internal const int F_SETOWN_EX = 15;
    internal const int F_GETOWN_EX = 16;
    internal const int F_OWNER_TID = 0;
    internal const int F_OWNER_PID = 1;
    internal const int F_OWNER_PGRP = 2;

    [LibraryImport(LibcName, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int fcntl(int fd, int command, ref FOwnerEx owner);

    // A pipe's capacity in bytes (F_SETPIPE_SZ rounds up to a power-of-two number of pages).
    internal const int F_SETPIPE_SZ = 1031;
    internal const int F_GETPIPE_SZ = 1032;

    // File seals, which only memfd objects made with MFD_ALLOW_SEALING take.
    internal const int F_ADD_SEALS = 1033;
    internal const int F_GET_SEALS = 1034;
    internal const int F_SEAL_SEAL = 0x1;
    internal const int F_SEAL_SHRINK = 0x2;
    internal const int F_SEAL_GROW = 0x4;
    internal const int F_SEAL_WRITE = 0x8;
    internal const int F_SEAL_FUTURE_WRITE = 0x10;

    /// <summary>fallocate: allocate blocks for the range without changing the file's size or contents.</summary>
    internal const int FALLOC_FL_KEEP_SIZE = 0x1;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int statx(int dirfd, string path, int flags, uint mask, out StatX buffer);

    /// <summary>statx of a NUL-terminated name as it stands (a readdir entry's d_name).</summary>
    [LibraryImport(LibcName, EntryPoint = "statx", SetLastError = true)]
    internal static unsafe partial int statx(int dirfd, byte* name, int flags, uint mask, out StatX buffer);

    /// <summary>AT_STATX_DONT_SYNC: what the kernel has cached; a network or FUSE filesystem is not asked.</summary>
    internal const int AT_STATX_DONT_SYNC = 0x4000;
    internal const uint STATX_INO = 0x100;

    /// <summary>statx of a path built from an escaped name (a listing's entry), passed as the bytes it stands for.</summary>
    [LibraryImport(LibcName, EntryPoint = "statx", SetLastError = true)]
    internal static partial int statx_escaped(int dirfd, [MarshalUsing(typeof(EscapedNameMarshaller))] string path, int flags, uint mask, out StatX buffer);

    /// <summary>open of a path built from an escaped name (a listing's entry), passed as the bytes it stands for.</summary>
    [LibraryImport(LibcName, EntryPoint = "open", SetLastError = true)]
    internal static partial int open_escaped([MarshalUsing(typeof(EscapedNameMarshaller))] string path, int flags, int mode);

    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial IntPtr opendir(string path);

    /// <summary>A struct dirent, or NULL at the end or on an error (errno tells which).</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial byte* readdir(IntPtr directory);

    [LibraryImport(LibcName)]
    internal static partial int closedir(IntPtr directory);

    /// <summary>The descriptor a directory stream reads, for openat relative to it.</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int dirfd(IntPtr directory);

    /// <summary>openat of a NUL-terminated name as it stands (a readdir entry's d_name).</summary>
    [LibraryImport(LibcName, EntryPoint = "openat", SetLastError = true)]
    internal static unsafe partial int openat(int directoryFd, byte* name, int flags, int mode);

    /// <summary>offsetof(struct dirent, d_name) on 64-bit glibc and musl (d_ino, d_off, d_reclen, d_type), the only ABIs Sysprog runs on.</summary>
    internal const int DirentNameOffset = 19;

    /// <summary>d_name holds up to NAME_MAX bytes and its NUL.</summary>
    internal const int DirentNameMax = 255;

    // Record locks: F_GETLK/F_SETLK/F_SETLKW belong to the process, the F_OFD_* ones to the open file description.
    internal const int F_GETLK = 5;
    internal const int F_SETLK = 6;
    internal const int F_SETLKW = 7;
    internal const int F_OFD_GETLK = 36;
    internal const int F_OFD_SETLK = 37;
    internal const int F_OFD_SETLKW = 38;
    internal const short F_RDLCK = 0;
    internal const short F_WRLCK = 1;
    internal const short F_UNLCK = 2;
    internal const short SEEK_SET = 0;

    [LibraryImport(LibcName, EntryPoint = "fcntl", SetLastError = true)]
    internal static unsafe partial int fcntl_lock(int fd, int command, RecordLock* record);

    internal static string LockCommandText(int command) => command switch
    {
        F_GETLK => "F_GETLK", F_SETLK => "F_SETLK", F_SETLKW => "F_SETLKW",
        F_OFD_GETLK => "F_OFD_GETLK", F_OFD_SETLK => "F_OFD_SETLK", F_OFD_SETLKW => "F_OFD_SETLKW",
        _ => command.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

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
        (O_PATH, "O_PATH"), (O_DIRECTORY, "O_DIRECTORY"), (O_ASYNC, "O_ASYNC"),
    ];
}

/// <summary>struct f_owner_ex: F_SETOWN_EX's owner of a descriptor's signals (a thread, a process or a process group).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FOwnerEx
{
    public int Type;
    public int Pid;

    public override readonly string ToString() =>
        $"{{type={Type switch { Libc.F_OWNER_TID => "F_OWNER_TID", Libc.F_OWNER_PID => "F_OWNER_PID", Libc.F_OWNER_PGRP => "F_OWNER_PGRP", _ => Type.ToString(System.Globalization.CultureInfo.InvariantCulture) }}, pid={Pid}}}";
}

/// <summary>struct flock (64-bit off_t, as on every 64-bit Linux): a byte range, its lock type and, from F_GETLK, its owner.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RecordLock
{
    public short Type;
    public short Whence;
    public long Start;
    public long Length;
    public int ProcessId;

    public override readonly string ToString() =>
        $"{{l_type={(Type switch { Libc.F_RDLCK => "F_RDLCK", Libc.F_WRLCK => "F_WRLCK", _ => "F_UNLCK" })}, l_whence=SEEK_SET, l_start={Start}, l_len={Length}, l_pid={ProcessId}}}";
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

// sys/stat.h: mkfifoat, and chmod, used only on /proc/self/fd/N of an O_PATH descriptor (which fchmod refuses) so the
// file changed is the one that descriptor was checked to be (see PlantedPath.ChangeModeOfCreated).
internal static partial class Libc
{
    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mkfifoat(int directoryFd, string path, int mode);

    [LibraryImport(LibcName, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int chmod(string path, int mode);
}
