using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// unistd.h
internal static partial class Libc
{
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int ftruncate(int fd, long length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint write(int fd, byte* buffer, nuint count);

    /// <summary>Both ends of a new pipe: fds[0] reads, fds[1] writes. Flags: O_CLOEXEC, O_NONBLOCK, O_DIRECT (packet mode).</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int pipe2(int* fds, int flags);

    /// <summary>Bytes a write of at most this many to a pipe or FIFO is atomic for (PIPE_BUF, limits.h).</summary>
    internal const int PIPE_BUF = 4096;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int unlink(string path);

    [LibraryImport(LibcName)]
    internal static partial int getpid();

    [LibraryImport(LibcName)]
    internal static partial int gettid();

    [LibraryImport(LibcName)]
    internal static partial uint geteuid();

    /// <summary>The real user id: the one RLIMIT_NPROC counts tasks of.</summary>
    [LibraryImport(LibcName)]
    internal static partial uint getuid();

    /// <summary>faccessat: check with the effective ids, as open would, not the real ones.</summary>
    internal const int AT_EACCESS = 0x200;

    internal const int W_OK = 2;

    [LibraryImport(LibcName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int faccessat(int directoryFd, string path, int mode, int flags);

    /// <summary>The program break: sbrk(0) reads it without moving it.</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial IntPtr sbrk(nint increment);

    /// <summary>lseek whences that find where a sparse file's data and holes begin.</summary>
    internal const int SEEK_DATA = 3;
    internal const int SEEK_HOLE = 4;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial long lseek(int fd, long offset, int whence);

    [LibraryImport(LibcName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint readlink(string path, byte* buffer, nuint size);

    /// <summary>With an empty path, reads the link an O_PATH|O_NOFOLLOW descriptor names: the very link that was checked.</summary>
    [LibraryImport(LibcName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint readlinkat(int directoryFd, string path, byte* buffer, nuint size);

    [LibraryImport(LibcName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int unlinkat(int directoryFd, string path, int flags);

    /// <summary>1 for a terminal; 0 with errno ENOTTY (or EBADF) otherwise.</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int isatty(int fd);
}
