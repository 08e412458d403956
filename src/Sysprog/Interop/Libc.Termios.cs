using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// termios.h
internal static partial class Libc
{
    internal const int TCSANOW = 0;

    // c_lflag bits (asm-generic).
    internal const uint ISIG = 0x1;
    internal const uint ICANON = 0x2;
    internal const uint ECHO = 0x8;
    internal const uint IEXTEN = 0x8000;

    // c_iflag and c_oflag bits that raw mode clears, as cfmakeraw(3) does.
    internal const uint IGNBRK = 0x1, BRKINT = 0x2, PARMRK = 0x8, ISTRIP = 0x20, INLCR = 0x40, IGNCR = 0x80, ICRNL = 0x100, IXON = 0x400;
    internal const uint OPOST = 0x1;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int tcgetattr(int fd, out Termios attributes);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int tcsetattr(int fd, int when, in Termios attributes);
}

/// <summary>The C library's struct termios (glibc: 60 bytes; musl's is the same size and layout).</summary>
[StructLayout(LayoutKind.Sequential, Size = 60)]
internal struct Termios
{
    public uint InputFlags;
    public uint OutputFlags;
    public uint ControlFlags;
    public uint LocalFlags;
}
