using Sysprog.Interop;

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

    /// <summary>What a terminal path may be opened as: what the ioctl then answers (a terminal, or ENOTTY for the rest).</summary>
    private const AcceptedFileTypes TerminalTypes = AcceptedFileTypes.CharacterDevice | AcceptedFileTypes.Regular | AcceptedFileTypes.Directory;

    /// <summary>
    /// The terminal at <paramref name="path"/>, by the planted-path rule: a link another user planted in a shared
    /// folder is not followed (it could name any terminal, whose size and foreground group this would change). What is
    /// there is looked at first without opening it (O_PATH): a FIFO, socket or block device, whose open does something
    /// (it would wake a FIFO's writer), is refused; then that very file is opened O_NONBLOCK and O_NOCTTY (never
    /// waiting, never made this process's controlling terminal), and a file or folder is ENOTTY.
    /// </summary>
    private static SafeFdHandle Open(string path, SyscallTrace? trace)
    {
        PathArguments.Validate(path);
        using SafeFdHandle node = PlantedPath.Open(path, Libc.O_PATH, 0, TerminalTypes, trace).Fd;
        SafeFdHandle terminal = PlantedPath.Reopen(node, path, Libc.O_RDONLY | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, trace,
            path == Controlling ? "This process has no controlling terminal (it runs in a job, a service, or under a pipe only)." : null);
        node.Close(trace);
        return terminal;
    }
}
