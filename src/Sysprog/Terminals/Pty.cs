using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>How a program under a pseudoterminal ended.</summary>
public sealed record PtyExit(int? ExitCode, int? Signal, bool CoreDumped)
{
    public string? SignalName => Signal is int signal ? Signals.Name(signal) : null;

    public override string ToString() => ExitCode is int code ? $"exit code {code}" : $"killed by {SignalName}{(CoreDumped ? " (core dumped)" : "")}";
}

/// <summary>A terminal's size in character cells.</summary>
public readonly record struct TerminalSize(int Rows, int Columns)
{
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
    /// <summary>How long Close lets a hung-up program end on its own before SIGKILL.</summary>
    public static readonly TimeSpan HangUpGrace = TimeSpan.FromSeconds(2);

    private const int ChunkSize = 4096;

    private readonly SafeFdHandle _pidfd;
    private readonly byte[] _chunk = new byte[ChunkSize];
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _unread = new();
    private readonly object _gate = new();
    private PtyExit? _exit;

    private Pty(SafeFdHandle primary, SafeFdHandle pidfd, string secondaryPath, int processId, string commandLine) : base(primary)
    {
        _pidfd = pidfd;
        SecondaryPath = secondaryPath;
        ProcessId = processId;
        CommandLine = commandLine;
    }

    private protected override string Describe() => $"pty {SecondaryPath} ({CommandLine}, pid {ProcessId})";

    /// <summary>The program's terminal: /dev/pts/N.</summary>
    public string SecondaryPath { get; }

    public int ProcessId { get; }

    public string CommandLine { get; }

    /// <summary>Set once the program has ended and been reaped (WaitForExit, Close).</summary>
    public PtyExit? Exit => _exit;

    /// <summary>True once the terminal has no more output: every descriptor of its secondary side is closed (read gave EIO).</summary>
    public bool IsEnded { get; private set; }

    /// <summary>
    /// Starts <paramref name="program"/> (looked up in PATH) on a new pseudoterminal of
    /// <paramref name="rows"/> x <paramref name="columns"/>. The environment is this process's with
    /// <paramref name="environment"/> laid over it (a null value removes a variable), and TERM=dumb when it has no TERM.
    /// </summary>
    public static unsafe Pty Start(string program, IReadOnlyList<string>? arguments = null, int rows = 24, int columns = 80,
        string? workingDirectory = null, IDictionary<string, string?>? environment = null, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        arguments ??= [];
        ValidateSize(rows, columns);
        string[] argv = [program, .. arguments];
        foreach (string text in argv.Concat(environment?.Keys ?? []).Concat(environment?.Values.OfType<string>() ?? []).Append(workingDirectory ?? ""))
        {
            if (text is null || text.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException("Program, arguments, environment and working directory cannot be null or contain NUL.", nameof(arguments));
            }
        }
        if (environment?.Keys.Any(k => k.Length == 0 || k.Contains('=', StringComparison.Ordinal)) == true)
        {
            throw new ArgumentException("An environment variable's name is not empty and has no '='.", nameof(environment));
        }
        string commandLine = string.Join(' ', argv.Select(a => a.Any(char.IsWhiteSpace) || a.Length == 0 ? Quote(a) : a));
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
            int processId = Spawn(program, argv, secondaryPath, workingDirectory, MergeEnvironment(environment), trace, commandLine);
            SyscallResult pidfdResult = Libc.pidfd_open(processId);
            var pidfd = new SafeFdHandle(Syscall.Check(pidfdResult, trace, "pidfd_open", commandLine, $"{processId}, 0",
                pidfdResult.Errno == Errno.ENOSYS ? "pidfd_open needs Linux 5.3 or later." : null));
            return new Pty(primary, pidfd, secondaryPath, processId, commandLine);
        }
        catch
        {
            primary.Dispose();
            throw;
        }
    }

    private static unsafe int Spawn(string program, string[] argv, string secondaryPath, string? workingDirectory, List<string> environment,
        SyscallTrace? trace, string commandLine)
    {
        void* actions = NativeMemory.AllocZeroed(Libc.SpawnObjectSize);
        void* attributes = NativeMemory.AllocZeroed(Libc.SpawnObjectSize);
        byte** argvPointers = ToCStrings(argv);
        byte** envPointers = ToCStrings(environment);
        try
        {
            Check(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Check(Libc.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            try
            {
                // The child opens the secondary side itself, after setsid: a session leader without a controlling
                // terminal that opens a terminal without O_NOCTTY acquires it. Descriptors passed in would not.
                Check(Libc.posix_spawn_file_actions_addopen(actions, 0, secondaryPath, Libc.O_RDWR, 0), "posix_spawn_file_actions_addopen");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 0, 1), "posix_spawn_file_actions_adddup2");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 0, 2), "posix_spawn_file_actions_adddup2");
                if (workingDirectory is not null)
                {
                    Check(Libc.posix_spawn_file_actions_addchdir_np(actions, workingDirectory), "posix_spawn_file_actions_addchdir_np");
                }
                // The runtime ignores SIGPIPE, and an ignored signal stays ignored across exec; the calling thread may
                // block signals too. The program starts with every disposition at its default and nothing blocked.
                Check(Libc.posix_spawnattr_setsigdefault(attributes, new SigSet { Signals = EverySignalButKillAndStop }), "posix_spawnattr_setsigdefault");
                Check(Libc.posix_spawnattr_setsigmask(attributes, default), "posix_spawnattr_setsigmask");
                Check(Libc.posix_spawnattr_setflags(attributes, Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK),
                    "posix_spawnattr_setflags");
                SyscallResult spawned = SyscallResult.FromErrorNumber(Libc.posix_spawnp(out int processId, program, actions, attributes, argvPointers, envPointers));
                Syscall.Check(spawned, trace, "posix_spawnp", program,
                    $"[{processId}], {Quote(program)}, [open(0, {Quote(secondaryPath)}, O_RDWR), dup2(0, 1), dup2(0, 2){(workingDirectory is null ? "" : $", chdir({Quote(workingDirectory)})")}], [POSIX_SPAWN_SETSID|POSIX_SPAWN_SETSIGDEF|POSIX_SPAWN_SETSIGMASK], [{commandLine}], [{environment.Count} variables]",
                    spawned.Errno == Errno.ENOENT ? $"No program '{program}' in PATH, or the working directory '{workingDirectory}' does not exist." : null);
                return processId;
            }
            finally
            {
                Libc.posix_spawn_file_actions_destroy(actions);
                Libc.posix_spawnattr_destroy(attributes);
            }
        }
        finally
        {
            FreeCStrings(argvPointers);
            FreeCStrings(envPointers);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
        }

        void Check(int result, string call) => Syscall.Check(SyscallResult.FromErrorNumber(result), null, call, commandLine, $"");
    }

    private const ulong EverySignalButKillAndStop = ~((1UL << (Signals.SIGKILL - 1)) | (1UL << (Signals.SIGSTOP - 1)));

    private static List<string> MergeEnvironment(IDictionary<string, string?>? overrides)
    {
        var merged = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            merged[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        merged.TryAdd("TERM", "dumb");
        foreach ((string name, string? value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                merged.Remove(name);
            }
            else
            {
                merged[name] = value;
            }
        }
        return merged.Select(e => $"{e.Key}={e.Value}").ToList();
    }

    private static unsafe byte** ToCStrings(IReadOnlyList<string> strings)
    {
        var pointers = (byte**)NativeMemory.AllocZeroed((nuint)(strings.Count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < strings.Count; i++)
        {
            pointers[i] = (byte*)Marshal.StringToCoTaskMemUTF8(strings[i]);
        }
        return pointers;
    }

    private static unsafe void FreeCStrings(byte** pointers)
    {
        for (byte** p = pointers; *p != null; p++)
        {
            Marshal.FreeCoTaskMem((IntPtr)(*p));
        }
        NativeMemory.Free(pointers);
    }

    private static void ValidateSize(int rows, int columns)
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

    /// <summary>
    /// What the program has written and nothing has taken yet, waiting up to <paramref name="timeout"/> for some;
    /// null on timeout, and an empty string once the output has ended (<see cref="IsEnded"/>).
    /// </summary>
    public string? Read(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        Timeouts.Validate(timeout);
        lock (_gate)
        {
            if (_unread.Length == 0 && !IsEnded && !ReadMore(timeout, cancellationToken, trace))
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
                if (!ReadMore(FdWait.Remaining(deadline), cancellationToken, trace))
                {
                    return null;
                }
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
    private unsafe bool ReadMore(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        using HandleLease lease = Lease();
        long count;
        try
        {
            fixed (byte* buffer = _chunk)
            {
                count = ReadWaiting(lease.Fd, buffer, ChunkSize, true, timeout, cancellationToken, trace, out _);
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

    /// <summary>Writes <paramref name="text"/> as the program's terminal input (a typed Enter is "\r").</summary>
    public void Write(string text, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(Encoding.UTF8.GetBytes(text), timeout, cancellationToken, trace);
    }

    /// <summary>Writes <paramref name="input"/> as the program's terminal input, waiting up to <paramref name="timeout"/> while the terminal takes no more.</summary>
    public void Write(ReadOnlySpan<byte> input, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        int written = WriteWaiting(input, timeout, cancellationToken, trace);
        if (written < input.Length)
        {
            throw new TimeoutException($"{Description} took {written} of {input.Length} bytes of input within {Units.FormatDuration(timeout)}: the program is not reading.");
        }
    }

    /// <summary>The terminal's size (TIOCGWINSZ).</summary>
    public TerminalSize Size => TerminalRawMode.SizeOf(Handle, Description);

    /// <summary>Sets the terminal's size (TIOCSWINSZ); the kernel sends SIGWINCH to the program's foreground process group.</summary>
    public unsafe void Resize(int rows, int columns, SyscallTrace? trace = null)
    {
        ValidateSize(rows, columns);
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

    /// <summary>Sends <paramref name="signal"/> to the program (kill).</summary>
    public void Signal(int signal, SyscallTrace? trace = null)
    {
        if (signal is < 1 or > Signals.SIGRTMAX)
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, $"A signal is 1 to {Signals.SIGRTMAX}.");
        }
        using HandleLease lease = _pidfd.Lease(Description);
        if (_exit is not null)
        {
            throw new InvalidOperationException($"{Description} has ended ({_exit}) and been reaped: its pid may belong to another process now.");
        }
        Syscall.Check(Libc.kill(ProcessId, signal), trace, "kill", Description, $"{ProcessId}, {Signals.Name(signal)}");
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the program to end and reaps it; null on timeout.</summary>
    public PtyExit? WaitForExit(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        Timeouts.Validate(timeout);
        if (_exit is not null)
        {
            return _exit;
        }
        if (!FdWait.WaitReady(_pidfd, Libc.POLLIN, FdWait.Deadline(timeout), cancellationToken, trace, Description))
        {
            return null;
        }
        return Reap(trace);
    }

    private PtyExit Reap(SyscallTrace? trace)
    {
        lock (_pidfd)
        {
            if (_exit is not null)
            {
                return _exit;
            }
            SyscallResult result;
            int status;
            do
            {
                result = Libc.waitpid(ProcessId, out status, 0);
            }
            while (result.Errno == Errno.EINTR);
            Syscall.Check(result, trace, "waitpid", Description, $"{ProcessId}, [0x{status:x}], 0",
                result.Errno == Errno.ECHILD ? "Something else in this process reaped it first (the .NET runtime does when it runs as pid 1, or when SIGCHLD was ignored at start-up), so its exit status is lost." : null);
            _exit = (status & 0x7f) == 0 ? new PtyExit((status >> 8) & 0xff, null, false) : new PtyExit(null, status & 0x7f, (status & 0x80) != 0);
            return _exit;
        }
    }

    private protected override void OnClosed(SyscallTrace? trace)
    {
        // The primary side is closed: the kernel hangs up the terminal and sends the program SIGHUP.
        try
        {
            if (_exit is null && !_pidfd.IsClosed && WaitForExit(HangUpGrace, default, trace) is null)
            {
                // Its process group: what it started in the foreground ignored the hang-up with it (an ignored
                // SIGHUP is inherited). The unreaped leader keeps the group's id from being reused.
                Libc.kill(-ProcessId, Signals.SIGKILL);
                trace?.Invoke($"kill(-{ProcessId}, SIGKILL) after {Units.FormatDuration(HangUpGrace)}: it outlived the hang-up");
                WaitForExit(Timeout.InfiniteTimeSpan, default, trace);
            }
        }
        catch (SysprogException e) when (e.Errno == Errno.ECHILD)
        {
            // Reaped by someone else; nothing is left to wait for.
        }
        finally
        {
            _pidfd.Close(trace);
        }
    }
}
