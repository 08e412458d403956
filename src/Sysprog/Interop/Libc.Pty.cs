using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// stdlib.h (posix_openpt, grantpt, unlockpt) and sys/ioctl.h (the terminal requests): a pseudoterminal pair.
internal static partial class Libc
{
    internal const nuint TIOCGWINSZ = 0x5413;
    internal const nuint TIOCSWINSZ = 0x5414;
    internal const nuint TIOCGPTN = 0x80045430;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int posix_openpt(int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int grantpt(int fd);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int unlockpt(int fd);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int ioctl(int fd, nuint request, void* argument);
}

/// <summary>struct winsize.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WindowSize
{
    public ushort Rows;
    public ushort Columns;
    public ushort PixelWidth;
    public ushort PixelHeight;
}
