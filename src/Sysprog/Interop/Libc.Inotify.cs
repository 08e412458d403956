using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/inotify.h
internal static partial class Libc
{
    internal const int IN_NONBLOCK = O_NONBLOCK;
    internal const int IN_CLOEXEC = O_CLOEXEC;

    /// <summary>sizeof(struct inotify_event) before its name: wd, mask, cookie, len.</summary>
    internal const int InotifyEventHeaderSize = 16;

    /// <summary>NAME_MAX: the longest name an event carries (plus its NUL and padding, len says how long).</summary>
    internal const int NameMax = 255;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int inotify_init1(int flags);

    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int inotify_add_watch(int fd, string path, uint mask);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int inotify_rm_watch(int fd, int watchDescriptor);
}
