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

    public static unsafe TerminalSize GetSize(string path = Controlling, SyscallTrace? trace = null)
    {
        using SafeFdHandle fd = Open(path, trace);
        WindowSize size;
        SyscallResult got = Libc.ioctl(fd.Fd, Libc.TIOCGWINSZ, &size);
        Syscall.Check(got, trace, "ioctl", path, $"{fd.Fd}, TIOCGWINSZ, {{ws_row={size.Rows}, ws_col={size.Columns}}}", NotATerminal(got, path));
        fd.Close(trace);
        return new TerminalSize(size.Rows, size.Columns) { Path = path };
    }

    /// <summary>Sets the size; the terminal's foreground process group gets SIGWINCH and redraws for it.</summary>
    public static unsafe TerminalSize SetSize(string path, int rows, int columns, SyscallTrace? trace = null)
    {
        if (rows is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A terminal has 1 to {ushort.MaxValue} rows.");
        }
        if (columns is < 1 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, $"A terminal has 1 to {ushort.MaxValue} columns.");
        }
        using SafeFdHandle fd = Open(path, trace);
        WindowSize size;
        SyscallResult got = Libc.ioctl(fd.Fd, Libc.TIOCGWINSZ, &size);
        Syscall.Check(got, trace, "ioctl", path, $"{fd.Fd}, TIOCGWINSZ, ...", NotATerminal(got, path));
        size.Rows = (ushort)rows;
        size.Columns = (ushort)columns;
        Syscall.Check(Libc.ioctl(fd.Fd, Libc.TIOCSWINSZ, &size), trace, "ioctl", path, $"{fd.Fd}, TIOCSWINSZ, {{ws_row={rows}, ws_col={columns}}}");
        fd.Close(trace);
        return new TerminalSize(rows, columns) { Path = path };
    }

    private static SafeFdHandle Open(string path, SyscallTrace? trace)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A path cannot contain NUL.", nameof(path));
        }
        const int flags = Libc.O_RDONLY | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC;
        SyscallResult opened = Libc.open(path, flags, 0);
        return new SafeFdHandle(Syscall.Check(opened, trace, "open", path, $"{Quote(path)}, {Libc.OpenFlagsText(flags)}",
            opened.Errno == Errno.ENXIO && path == Controlling ? "This process has no controlling terminal (it runs in a job, a service, or under a pipe only)." : null));
    }

    private static string? NotATerminal(SyscallResult result, string path) => result.Errno == Errno.ENOTTY ? $"{path} is not a terminal." : null;
}
