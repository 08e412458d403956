using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/ioctl.h: the requests Sysprog makes, no free-form ones (asm-generic numbers: x86-64 and arm64 alike).
internal static partial class Libc
{
    internal const nuint TIOCGWINSZ = 0x5413;
    internal const nuint TIOCSWINSZ = 0x5414;
    internal const nuint TIOCGPTN = 0x80045430;

    /// <summary>Bytes waiting to be read (an int), on pipes, FIFOs, sockets and terminals.</summary>
    internal const nuint FIONREAD = 0x541B;

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
