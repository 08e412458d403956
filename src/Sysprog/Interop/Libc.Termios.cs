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

    // The c_iflag and c_oflag bits that cooked mode needs back after cfmakeraw.
    internal const uint ICRNL = 0x100;
    internal const uint OPOST = 0x1;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int tcgetattr(int fd, out Termios attributes);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int tcsetattr(int fd, int when, in Termios attributes);

    /// <summary>Clears the flags of line editing, echo, signal keys and output processing, and sets VMIN 1, VTIME 0.</summary>
    [LibraryImport(LibcName)]
    internal static partial void cfmakeraw(ref Termios attributes);
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
