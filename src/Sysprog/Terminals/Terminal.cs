using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// The size of any terminal by path (TIOCGWINSZ, TIOCSWINSZ): /dev/tty (this process's controlling terminal),
/// /dev/pts/N, a console. The terminal is opened with O_NOCTTY, so asking never makes it this process's own.
/// </summary>
public static class Terminal
{
    /// <summary>The controlling terminal of the calling process, whatever its real name.</summary>
    public const string Controlling = "/dev/tty";

    public static TerminalSize GetSize(string path = Controlling, SyscallTrace? trace = null)
    {
        using SafeFdHandle fd = Open(path, trace);
        TerminalSize size = TerminalRawMode.SizeOf(fd, path, trace);
        fd.Close(trace);
        return size with { Path = path };
    }

    /// <summary>Sets the size; the terminal's foreground process group gets SIGWINCH and redraws for it.</summary>
    public static unsafe TerminalSize SetSize(string path, int rows, int columns, SyscallTrace? trace = null)
    {
        ValidateSize(rows, columns);
        using SafeFdHandle fd = Open(path, trace);
        // The pixel sizes stay as they are: read them first.
        WindowSize size;
        SyscallResult got = Libc.ioctl(fd.Fd, Libc.TIOCGWINSZ, &size);
        Syscall.Check(got, trace, "ioctl", path, $"{fd.Fd}, TIOCGWINSZ, ...", got.Errno == Errno.ENOTTY ? $"{path} is not a terminal." : null);
        size.Rows = (ushort)rows;
        size.Columns = (ushort)columns;
        Syscall.Check(Libc.ioctl(fd.Fd, Libc.TIOCSWINSZ, &size), trace, "ioctl", path, $"{fd.Fd}, TIOCSWINSZ, {{ws_row={rows}, ws_col={columns}}}");
        fd.Close(trace);
        return new TerminalSize(rows, columns) { Path = path };
    }

    /// <summary>What struct winsize holds: 1 to 65535 rows and columns (a pty's and any terminal's).</summary>
    internal static void ValidateSize(int rows, int columns)
    {
        if (rows is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A terminal has 1 to {ushort.MaxValue} rows.");
        }
        if (columns is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, $"A terminal has 1 to {ushort.MaxValue} columns.");
        }
    }

    private static SafeFdHandle Open(string path, SyscallTrace? trace)
    {
        PathArguments.Validate(path);
        const int flags = Libc.O_RDONLY | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC;
        SyscallResult opened = Libc.open(path, flags, 0);
        return new SafeFdHandle(Syscall.Check(opened, trace, "open", path, $"{Quote(path)}, {Libc.OpenFlagsText(flags)}",
            opened.Errno == Errno.ENXIO && path == Controlling ? "This process has no controlling terminal (it runs in a job, a service, or under a pipe only)." : null));
    }
}
