using System.Diagnostics;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>How a process ended: its exit code, or the signal that killed it and whether that dumped core.</summary>
public sealed record ProcessExit(int ProcessId, int? ExitCode, int? Signal, bool CoreDumped)
{
    public string? SignalName => Signal is int signal ? Signals.Name(signal) : null;

    /// <summary>Exit code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    public override string ToString() => ExitCode is int code ? $"exit code {code}" : $"killed by {SignalName}{(CoreDumped ? " (core dumped)" : "")}";
}

/// <summary>
/// A child process started with posix_spawn, held by a pidfd (pidfd_open): this object's descriptor refers to that
/// one process and no other, even once its number is reused, so signals sent and waits made through it can never
/// reach a stranger. The pidfd becomes readable when the child ends, so it waits with every other descriptor in
/// poll and epoll. Waiting reaps it (waitid P_PIDFD). Closing a child that still runs leaves it running; Sysprog
/// reaps it once it ends, at a later start or close, so it does not stay a zombie.
/// </summary>
public sealed class ChildProcess : FileDescriptorObject
{
    private readonly object _reaping = new();
    private ProcessExit? _exit;

    private ChildProcess(SafeFdHandle pidfd, int processId, ChildProcessStartInfo info) : base(pidfd)
    {
        ProcessId = processId;
        Program = info.Program;
        CommandLine = info.CommandLine;
        Descriptors = info.Descriptors.OrderBy(m => m.Key).ToDictionary(m => m.Key, m => m.Value.Description);
        StartTime = DateTime.Now;
    }

    private protected override string Describe() => $"child {ProcessId} ({CommandLine})";

    public int ProcessId { get; }

    public string Program { get; }

    public string CommandLine { get; }

    /// <summary>The descriptors the child was given beyond 0, 1 and 2 of this process: its number → what it was here.</summary>
    public IReadOnlyDictionary<int, string> Descriptors { get; }

    public DateTime StartTime { get; }

    /// <summary>Set once the child has ended and been reaped (WaitForExit, Close).</summary>
    public ProcessExit? Exit => _exit;

    /// <summary>Whether it has ended (its pidfd is readable), reaped or not; asks the kernel without waiting.</summary>
    public bool HasExited => _exit is not null || (!IsClosed && CheckExited(null));

    /// <summary><see cref="HasExited"/>, narrating the poll that asks; a closed child can no longer be asked.</summary>
    public bool CheckExited(SyscallTrace? trace)
    {
        ClosedObject.ThrowIf(IsClosed, Description);
        return _exit is not null || FdWait.WaitReady(Handle, Libc.POLLIN, FdWait.Deadline(TimeSpan.Zero), default, trace, Description);
    }

    /// <summary>Starts a child (posix_spawnp), then takes a pidfd on it.</summary>
    public static ChildProcess Start(ChildProcessStartInfo info, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.Validate();
        ChildReaper.Sweep();
        int processId = ProcessSpawner.Spawn(info, trace);
        SyscallResult opened = Libc.pidfd_open(processId);
        if (opened.Failed)
        {
            // Nothing could wait for it safely: take it back rather than leave a child no one reaps.
            Libc.kill(processId, Signals.SIGKILL);
            Libc.waitpid(processId, out _, 0);
        }
        var pidfd = new SafeFdHandle(Syscall.Check(opened, trace, "pidfd_open", info.CommandLine, $"{processId}, 0",
            opened.Errno == Errno.ENOSYS ? "pidfd_open needs Linux 5.3 or later." : null));
        return new ChildProcess(pidfd, processId, info);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the child to end and reaps it; null on timeout.</summary>
    public ProcessExit? WaitForExit(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        Timeouts.Validate(timeout);
        if (_exit is not null)
        {
            return _exit;
        }
        if (!FdWait.WaitReady(Handle, Libc.POLLIN, FdWait.Deadline(timeout), cancellationToken, trace, Description))
        {
            return null;
        }
        return Reap(wait: true, trace);
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the child (pidfd_send_signal). A child that has ended but is not reaped yet
    /// takes it without effect, as kill(2) does; one that has been reaped is refused.
    /// </summary>
    public void Signal(int signal, SyscallTrace? trace = null)
    {
        if (signal is < 1 or > Signals.SIGRTMAX)
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, $"A signal is 1 to {Signals.SIGRTMAX}.");
        }
        using HandleLease lease = Lease();
        if (_exit is not null)
        {
            throw new InvalidOperationException($"{Description} has ended ({_exit}) and been reaped: there is no process to signal.");
        }
        SyscallResult sent = Libc.pidfd_send_signal(lease.Fd, signal);
        Syscall.Check(sent, trace, "pidfd_send_signal", Description, $"{lease.Fd}, {Signals.Name(signal)}, NULL, 0",
            sent.Errno == Errno.ENOSYS ? "pidfd_send_signal needs Linux 5.1 or later." : null);
    }

    /// <summary>Reaps the child: blocking (its pidfd said it ended) or only if it has ended; null if it has not.</summary>
    private unsafe ProcessExit? Reap(bool wait, SyscallTrace? trace)
    {
        lock (_reaping)
        {
            if (_exit is not null)
            {
                return _exit;
            }
            using HandleLease lease = Lease();
            int options = Libc.WEXITED | (wait ? 0 : Libc.WNOHANG);
            ChildSignalInfo info;
            SyscallResult result;
            do
            {
                info = default;
                result = Libc.waitid(Libc.P_PIDFD, lease.Fd, &info, options);
            }
            while (result.Errno == Errno.EINTR);
            Syscall.Check(result, trace, "waitid", Description, $"P_PIDFD, {lease.Fd}, {{si_code={CodeName(info.Code)}, si_status={info.Status}}}, WEXITED{(wait ? "" : "|WNOHANG")}",
                result.Errno == Errno.ECHILD ? "Something else in this process reaped it first (the .NET runtime does when it runs as pid 1, or when SIGCHLD was ignored at start-up), so its exit status is lost." : null);
            if (info.ProcessId == 0)
            {
                return null;
            }
            _exit = FromSignalInfo(ProcessId, info);
            return _exit;
        }
    }

    internal static ProcessExit FromSignalInfo(int processId, ChildSignalInfo info) => info.Code == Libc.CLD_EXITED
        ? new ProcessExit(processId, info.Status, null, false)
        : new ProcessExit(processId, null, info.Status, info.Code == Libc.CLD_DUMPED);

    private static string CodeName(int code) => code switch
    {
        0 => "0",
        Libc.CLD_EXITED => "CLD_EXITED",
        Libc.CLD_KILLED => "CLD_KILLED",
        Libc.CLD_DUMPED => "CLD_DUMPED",
        _ => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private protected override void OnClosing(SyscallTrace? trace)
    {
        ChildReaper.Sweep();
        if (IsClosed)
        {
            return;
        }
        try
        {
            if (_exit is null && Reap(wait: false, trace) is null)
            {
                ChildReaper.Adopt(Handle, Description);
            }
        }
        catch (SysprogException e) when (e.Errno == Errno.ECHILD)
        {
            // Reaped by someone else; nothing is left to wait for.
        }
        catch (ObjectDisposedException)
        {
            // Closed on another thread meanwhile: that close took care of it.
        }
    }
}

/// <summary>
/// The children whose objects were closed while they ran: each kept by a duplicate of its pidfd, reaped (waitid
/// P_PIDFD, WNOHANG) at the next start or close once it has ended, so none stays a zombie and no pid is ever waited
/// for after the kernel could have reused it.
/// </summary>
internal static class ChildReaper
{
    private static readonly List<SafeFdHandle> Running = [];

    public static void Adopt(SafeFdHandle pidfd, string description)
    {
        using HandleLease lease = pidfd.Lease(description);
        SyscallResult copy = Libc.fcntl(lease.Fd, Libc.F_DUPFD_CLOEXEC, 3);
        if (copy.Failed)
        {
            Debug.WriteLine($"{description}: no descriptor left to keep it by ({copy.Errno.Symbol()}); it stays a zombie once it ends");
            return;
        }
        lock (Running)
        {
            Running.Add(new SafeFdHandle((int)copy.Value));
        }
    }

    /// <summary>Reaps every adopted child that has ended; the others stay.</summary>
    public static unsafe void Sweep()
    {
        lock (Running)
        {
            Running.RemoveAll(pidfd =>
            {
                ChildSignalInfo info = default;
                SyscallResult result = Libc.waitid(Libc.P_PIDFD, pidfd.Fd, &info, Libc.WEXITED | Libc.WNOHANG);
                if (!result.Failed && info.ProcessId == 0)
                {
                    return false;
                }
                pidfd.Dispose();
                return true;
            });
        }
    }

    /// <summary>How many closed children are still running, for tests.</summary>
    internal static int Count
    {
        get
        {
            lock (Running)
            {
                return Running.Count;
            }
        }
    }
}
