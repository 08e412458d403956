using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// A terminal this process has (its standard input, say) in raw mode while the object lives: keys reach the reader as
/// they are typed, with no echo, line editing or signals from keys, which is what a relay to another terminal needs
/// (sysprog pty, like script(1) or ssh), so that the other terminal's line discipline is the only one at work.
/// Disposing restores the attributes it found.
/// </summary>
public sealed class TerminalRawMode : IDisposable
{
    private readonly SafeHandle _terminal;
    private readonly Termios _saved;
    private readonly SyscallTrace? _trace;
    private bool _restored;

    private TerminalRawMode(SafeHandle terminal, Termios saved, SyscallTrace? trace)
    {
        _terminal = terminal;
        _saved = saved;
        _trace = trace;
    }

    /// <summary>Whether the descriptor is a terminal (isatty).</summary>
    public static bool IsTerminal(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        using HandleLease lease = HandleLease.Take(handle, "terminal");
        return Libc.isatty(lease.Fd) == 1;
    }

    /// <summary>The terminal's size (TIOCGWINSZ), as the window it is shown in has it.</summary>
    public static TerminalSize SizeOf(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return SizeOf(handle, "terminal");
    }

    /// <summary>TIOCGWINSZ on any terminal descriptor, a pty's primary side included; errors name <paramref name="target"/>.</summary>
    internal static unsafe TerminalSize SizeOf(SafeHandle handle, string target, SyscallTrace? trace = null)
    {
        using HandleLease lease = HandleLease.Take(handle, target);
        WindowSize size;
        SyscallResult got = Libc.ioctl(lease.Fd, Libc.TIOCGWINSZ, &size);
        Syscall.Check(got, trace, "ioctl", target, $"{lease.Fd}, TIOCGWINSZ, {{ws_row={size.Rows}, ws_col={size.Columns}}}",
            got.Errno == Errno.ENOTTY ? $"{target} is not a terminal." : null);
        return new TerminalSize(size.Rows, size.Columns);
    }

    /// <summary>Puts the terminal in raw mode (cfmakeraw); ENOTTY when the descriptor is not a terminal.</summary>
    public static TerminalRawMode Enter(SafeHandle handle, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        using HandleLease lease = HandleLease.Take(handle, "terminal");
        string name = $"fd {lease.Fd}";
        Syscall.Check(Libc.tcgetattr(lease.Fd, out Termios saved), trace, "tcgetattr", name, $"{lease.Fd}, ...");
        Termios raw = saved;
        Libc.cfmakeraw(ref raw);
        Syscall.Check(Libc.tcsetattr(lease.Fd, Libc.TCSANOW, in raw), trace, "tcsetattr", name, $"{lease.Fd}, TCSANOW, {{c_lflag=0x{raw.LocalFlags:x}}}");
        return new TerminalRawMode(handle, saved, trace);
    }

    public void Dispose()
    {
        if (_restored || _terminal.IsClosed)
        {
            return;
        }
        _restored = true;
        using HandleLease lease = HandleLease.Take(_terminal, "terminal");
        Syscall.Check(Libc.tcsetattr(lease.Fd, Libc.TCSANOW, in _saved), _trace, "tcsetattr", $"fd {lease.Fd}",
            $"{lease.Fd}, TCSANOW, {{c_lflag=0x{_saved.LocalFlags:x}}}");
    }
}
