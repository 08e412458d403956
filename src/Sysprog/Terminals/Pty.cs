using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>A terminal's size in character cells; Path names the terminal when it was asked for by path.</summary>
public readonly record struct TerminalSize(int Rows, int Columns)
{
    public string? Path { get; init; }

    public override string ToString() => $"{Rows}x{Columns}";
}

/// <summary>Output that matched an expected pattern: the text before it, and the match.</summary>
public sealed record PtyMatch(string Before, string Value, IReadOnlyList<string> Groups);

/// <summary>
/// A program running on a pseudoterminal: the primary side is this object's descriptor (read what the program
/// writes, write what it reads), the secondary side (/dev/pts/N) is the program's controlling terminal and its
/// stdin, stdout and stderr. The program is started with posix_spawn in a session of its own (POSIX_SPAWN_SETSID)
/// and opens the secondary side itself, which is what makes it its controlling terminal: line editing, echo,
/// Ctrl+C as SIGINT and SIGWINCH on a resize all work as in a terminal window. Closing hangs the terminal up (the
/// program gets SIGHUP), then reaps the program, killing it if it is still there after <see cref="HangUpGrace"/>.
/// </summary>
public sealed class Pty : FileDescriptorObject
{
    /// <summary>A pty's primary side signals its readiness (the tty layer has an fasync operation).</summary>
    private protected override bool CanSignalReadiness => true;

    /// <summary>How long Close lets a hung-up program end on its own before SIGKILL.</summary>
    public static readonly TimeSpan HangUpGrace = TimeSpan.FromSeconds(2);

    private const int ChunkSize = 4096;

    private readonly byte[] _chunk = new byte[ChunkSize];
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _unread = new();
    private readonly object _gate = new();

    private Pty(SafeFdHandle primary, ChildProcess process, string secondaryPath, bool nonBlocking) : base(primary, nonBlocking: nonBlocking)
    {
        Process = process;
        SecondaryPath = secondaryPath;
    }

    private protected override string Describe() => $"pty {SecondaryPath} ({CommandLine}, pid {ProcessId})";

    /// <summary>The program's terminal: /dev/pts/N.</summary>
    public string SecondaryPath { get; }

    /// <summary>The program, as a child process held by its pidfd.</summary>
    public ChildProcess Process { get; }

    public int ProcessId => Process.ProcessId;

    public string CommandLine => Process.CommandLine;

    /// <summary>Set once the program has ended and been reaped (WaitForExit, Close).</summary>
    public ProcessExit? Exit => Process.Exit;

    /// <summary>True once the terminal has no more output: every descriptor of its secondary side is closed (read gave EIO).</summary>
    public bool IsEnded { get; private set; }

    /// <summary>
    /// Starts <paramref name="program"/> (looked up in PATH) on a new pseudoterminal of
    /// <paramref name="rows"/> x <paramref name="columns"/>. The environment is this process's with
    /// <paramref name="environment"/> laid over it (a null value removes a variable), and TERM=dumb when it has no TERM.
    /// With <paramref name="nonBlocking"/>, reads and writes never wait (<see cref="FileDescriptorObject.IsNonBlocking"/>).
    /// </summary>
    public static unsafe Pty Start(string program, IReadOnlyList<string>? arguments = null, int rows = 24, int columns = 80,
        string? workingDirectory = null, IDictionary<string, string?>? environment = null, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        Terminal.ValidateSize(rows, columns);
        const int openFlags = Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC;
        var primary = new SafeFdHandle(Syscall.Check(Libc.posix_openpt(openFlags), trace, "posix_openpt", "pty", $"{Libc.OpenFlagsText(openFlags)}"));
        try
        {
            int fd = primary.Fd;
            Syscall.Check(Libc.grantpt(fd), trace, "grantpt", "pty", $"{fd}");
            Syscall.Check(Libc.unlockpt(fd), trace, "unlockpt", "pty", $"{fd}");
            uint number;
            Syscall.Check(Libc.ioctl(fd, Libc.TIOCGPTN, &number), trace, "ioctl", "pty", $"{fd}, TIOCGPTN, [{number}]");
            string secondaryPath = $"/dev/pts/{number}";
            var size = new WindowSize { Rows = (ushort)rows, Columns = (ushort)columns };
            Syscall.Check(Libc.ioctl(fd, Libc.TIOCSWINSZ, &size), trace, "ioctl", secondaryPath, $"{fd}, TIOCSWINSZ, {{ws_row={rows}, ws_col={columns}}}");
            var info = new ChildProcessStartInfo(program, arguments)
            {
                WorkingDirectory = workingDirectory,
                Environment = environment?.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal),
                TerminalPath = secondaryPath,
                EnvironmentDefaults = new Dictionary<string, string> { ["TERM"] = "dumb" },
            };
            return new Pty(primary, ChildProcess.Start(info, trace), secondaryPath, nonBlocking);
        }
        catch
        {
            primary.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What the program has written and nothing has taken yet, waiting up to <paramref name="timeout"/> for some;
    /// null on timeout (at once, when nothing is there, on a non-blocking pty), and an empty string once the output has
    /// ended (<see cref="IsEnded"/>).
    /// </summary>
    public string? Read(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        Timeouts.Validate(timeout);
        lock (_gate)
        {
            if (_unread.Length == 0 && !IsEnded && !ReadMore(!IsNonBlocking, timeout, cancellationToken, trace))
            {
                return null;
            }
            string text = _unread.ToString();
            _unread.Clear();
            return text;
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the output to match <paramref name="pattern"/>, then takes the
    /// output up to the end of the match; null on timeout (nothing is taken). Throws EndOfStreamException when the
    /// output ends without a match.
    /// </summary>
    public PtyMatch? Expect(Regex pattern, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Timeouts.Validate(timeout);
        long deadline = FdWait.Deadline(timeout);
        lock (_gate)
        {
            bool readOnce = false;
            while (true)
            {
                string text = _unread.ToString();
                Match match = pattern.Match(text);
                if (match.Success)
                {
                    _unread.Remove(0, match.Index + match.Length);
                    return new PtyMatch(text[..match.Index], match.Value, match.Groups.Values.Skip(1).Select(g => g.Value).ToList());
                }
                if (IsEnded)
                {
                    throw new EndOfStreamException($"{Description}: the output ended without matching /{pattern}/; what was left: {Tail(text)}.");
                }
                // The timeout is a deadline for the whole wait, checked here and not only in the wait for output: a
                // program that writes without pause always has output ready, so a read never waits and never times
                // out, and the wait went on for as long as the flood did.
                if (readOnce && FdWait.Expired(deadline))
                {
                    return null;
                }
                // A wait for a pattern waits, whatever IsNonBlocking says of reads.
                if (!ReadMore(true, FdWait.Remaining(deadline), cancellationToken, trace))
                {
                    return null;
                }
                readOnce = true;
            }
        }
    }

    /// <summary>Output read from the terminal that no Read or Expect has taken yet (what an Expect that timed out saw last).</summary>
    public string PendingOutput
    {
        get
        {
            lock (_gate)
            {
                return _unread.ToString();
            }
        }
    }

    /// <summary>Why an <see cref="Expect"/> gave null: the pattern, the time it had, and the end of the output it saw.</summary>
    public string DescribeUnmatched(Regex pattern, TimeSpan timeout) =>
        $"No output of {Description} matched /{pattern}/ within {Units.FormatDuration(timeout)}; the output not yet taken: {Tail(PendingOutput)}.";

    /// <summary>
    /// The last 200 characters of <paramref name="text"/>, quoted, with control characters escaped (\r, \n, \e):
    /// enough of the output to show where a script's expectations went wrong.
    /// </summary>
    private static string Tail(string text) => text.Length <= 200 ? Data(text, 200) : "..." + Data(text.AsSpan()[^200..], 200);

    /// <summary>One read(2) of the primary side into the unread text; false on timeout. EIO means every secondary descriptor closed.</summary>
    private unsafe bool ReadMore(bool waitAllowed, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        using HandleLease lease = Lease();
        long count;
        try
        {
            fixed (byte* buffer = _chunk)
            {
                count = ReadWaiting(lease.Fd, buffer, ChunkSize, waitAllowed, timeout, cancellationToken, trace, out _);
            }
        }
        catch (SysprogException e) when (e.Errno == Errno.EIO)
        {
            count = 0;
        }
        if (count < 0)
        {
            return false;
        }
        if (count == 0)
        {
            IsEnded = true;
            return true;
        }
        Syscall.CheckCount(count, trace, "read", Description, $"{lease.Fd}, {Data(_chunk.AsSpan(0, (int)count))}, {ChunkSize}");
        // A sequence split across reads waits in the decoder, so a chunk never decodes to more chars than bytes plus that.
        Span<char> chars = stackalloc char[ChunkSize + 4];
        _unread.Append(chars[.._decoder.GetChars(_chunk.AsSpan(0, (int)count), chars, flush: false)]);
        return true;
    }

    /// <summary>Writes <paramref name="text"/> as the program's terminal input (a typed Enter is "\r"); the bytes written.</summary>
    public int Write(string text, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Write(Encoding.UTF8.GetBytes(text), timeout, cancellationToken, trace);
    }

    /// <summary>
    /// Writes <paramref name="input"/> as the program's terminal input, waiting up to <paramref name="timeout"/> while
    /// the terminal takes no more: the bytes written, fewer only where it would block (a non-blocking pty, a zero
    /// timeout). A timeout that passes is a <see cref="TimeoutException"/>.
    /// </summary>
    public int Write(ReadOnlySpan<byte> input, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        int written = WriteWaiting(input, timeout, cancellationToken, trace);
        if (written < input.Length && timeout != TimeSpan.Zero && !IsNonBlocking)
        {
            throw new TimeoutException($"{Description} took {written} of {input.Length} bytes of input within {Units.FormatDuration(timeout)}: the program is not reading.");
        }
        return written;
    }

    /// <summary>The terminal's size (TIOCGWINSZ).</summary>
    public TerminalSize Size => TerminalRawMode.SizeOf(Handle, Description);

    /// <summary>Sets the terminal's size (TIOCSWINSZ); the kernel sends SIGWINCH to the program's foreground process group.</summary>
    public unsafe void Resize(int rows, int columns, SyscallTrace? trace = null)
    {
        Terminal.ValidateSize(rows, columns);
        using HandleLease lease = Lease();
        var size = new WindowSize { Rows = (ushort)rows, Columns = (ushort)columns };
        Syscall.Check(Libc.ioctl(lease.Fd, Libc.TIOCSWINSZ, &size), trace, "ioctl", Description, $"{lease.Fd}, TIOCSWINSZ, {{ws_row={rows}, ws_col={columns}}}");
    }

    /// <summary>ECHO: the terminal echoes what is typed.</summary>
    public bool Echo => (Attributes(null).LocalFlags & Libc.ECHO) != 0;

    /// <summary>ICANON: input is given to the program a line at a time, with line editing; off in raw mode.</summary>
    public bool Canonical => (Attributes(null).LocalFlags & Libc.ICANON) != 0;

    /// <summary>Turns echo on or off (tcsetattr on the terminal's line discipline, which the program sees too).</summary>
    public void SetEcho(bool echo, SyscallTrace? trace = null) => ChangeAttributes(trace, (ref Termios t) =>
        t.LocalFlags = echo ? t.LocalFlags | Libc.ECHO : t.LocalFlags & ~Libc.ECHO);

    /// <summary>
    /// Raw mode as cfmakeraw(3) sets it (no line editing, echo, signals from keys, or output processing), or back to
    /// cooked (ICANON, ISIG, IEXTEN, ECHO, ICRNL and OPOST on).
    /// </summary>
    public void SetRaw(bool raw, SyscallTrace? trace = null) => ChangeAttributes(trace, (ref Termios t) =>
    {
        if (raw)
        {
            Libc.cfmakeraw(ref t);
        }
        else
        {
            t.InputFlags |= Libc.ICRNL;
            t.OutputFlags |= Libc.OPOST;
            t.LocalFlags |= Libc.ECHO | Libc.ICANON | Libc.ISIG | Libc.IEXTEN;
        }
    });

    private delegate void TermiosChange(ref Termios attributes);

    private Termios Attributes(SyscallTrace? trace)
    {
        using HandleLease lease = Lease();
        Syscall.Check(Libc.tcgetattr(lease.Fd, out Termios attributes), trace, "tcgetattr", Description, $"{lease.Fd}, ...");
        return attributes;
    }

    private void ChangeAttributes(SyscallTrace? trace, TermiosChange change)
    {
        Termios attributes = Attributes(trace);
        change(ref attributes);
        using HandleLease lease = Lease();
        Syscall.Check(Libc.tcsetattr(lease.Fd, Libc.TCSANOW, in attributes), trace, "tcsetattr", Description,
            $"{lease.Fd}, TCSANOW, {{c_lflag=0x{attributes.LocalFlags:x}}}");
    }

    /// <summary>Sends <paramref name="signal"/> to the program (pidfd_send_signal).</summary>
    public void Signal(int signal, SyscallTrace? trace = null) => Process.Signal(signal, trace);

    /// <summary>Waits up to <paramref name="timeout"/> for the program to end and reaps it; null on timeout.</summary>
    public ProcessExit? WaitForExit(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ClosedObject.ThrowIf(IsClosed, Description);
        return Process.WaitForExit(timeout, cancellationToken, trace);
    }

    private protected override void OnClosed(SyscallTrace? trace)
    {
        // The primary side is closed: the kernel hangs up the terminal and sends the program SIGHUP.
        try
        {
            if (Process.Exit is null && !Process.IsClosed && Process.WaitForExit(HangUpGrace, default, trace) is null)
            {
                // Its process group: what it started in the foreground ignored the hang-up with it (an ignored
                // SIGHUP is inherited). The unreaped leader keeps the group's id from being reused.
                Libc.kill(-ProcessId, Signals.SIGKILL);
                trace?.Invoke($"kill(-{ProcessId}, SIGKILL) after {Units.FormatDuration(HangUpGrace)}: it outlived the hang-up");
                Process.WaitForExit(Timeout.InfiniteTimeSpan, default, trace);
            }
        }
        catch (SysprogException e) when (e.Errno == Errno.ECHILD)
        {
            // Reaped by someone else; nothing is left to wait for.
        }
        catch (ObjectDisposedException)
        {
            // The program's own object was closed already: it took care of reaping.
        }
        finally
        {
            Process.Close(trace);
        }
    }
}
