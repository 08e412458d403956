using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>One received signal.</summary>
public sealed class SignalRecord
{
    internal SignalRecord(int signal, int? senderPid, uint? senderUid, int? code, DateTime receivedAt, int? fd = null, long? band = null)
    {
        Signal = signal;
        SenderPid = senderPid;
        SenderUid = senderUid;
        Code = code;
        ReceivedAt = receivedAt;
        Fd = fd;
        Band = band;
    }

    /// <summary>Signal-driven I/O: the descriptor that became ready (its number in the process that set O_ASYNC on it); null for other signals.</summary>
    public int? Fd { get; }

    /// <summary>Signal-driven I/O: what it became ready for (si_band, poll's bits); null for other signals.</summary>
    public long? Band { get; }

    /// <summary><see cref="Band"/> as poll names its bits: POLLIN|POLLRDNORM.</summary>
    public string? BandName => Band is long band ? Interop.Libc.PollEventsText((short)band) : null;

    public int Signal { get; }

    public string Name => Signals.Name(Signal);

    /// <summary>Who sent it; null when the signal came through the runtime's handler, which does not pass it on.</summary>
    public int? SenderPid { get; }

    public uint? SenderUid { get; }

    /// <summary>si_code: 0 SI_USER (kill), -1 SI_QUEUE (sigqueue), -6 SI_TKILL (tgkill), 128 SI_KERNEL; null as for the sender.</summary>
    public int? Code { get; }

    public string? CodeName => Code switch
    {
        null => null,
        0 => "SI_USER",
        -1 => "SI_QUEUE",
        -2 => "SI_TIMER",
        -3 => "SI_MESGQ",
        -4 => "SI_ASYNCIO",
        -6 => "SI_TKILL",
        0x80 => "SI_KERNEL",
        >= 1 and <= 6 when IsIoSignal => PollCodeNames[Code.Value - 1],
        int other => other.ToString(CultureInfo.InvariantCulture),
    };

    public DateTime ReceivedAt { get; }

    private static readonly string[] PollCodeNames = ["POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"];

    // The kernel's POLL_* codes (1 to 6) mean readiness only for SIGIO and the real-time signals F_SETSIG can pick; for
    // SIGCHLD, SIGSEGV and the others the same numbers mean other things.
    private bool IsIoSignal => Signal == Sysprog.Signals.SIGIO || Signal >= Sysprog.Signals.SIGRTMIN;

    internal static SignalRecord FromSigInfo(in Interop.SignalFdSigInfo info)
    {
        int signal = (int)info.Signal;
        bool readiness = info.Code is >= 1 and <= 6 && (signal == Sysprog.Signals.SIGIO || signal >= Sysprog.Signals.SIGRTMIN);
        return new SignalRecord(signal, (int)info.Pid, info.Uid, info.Code, DateTime.Now, readiness ? info.Fd : null, readiness ? info.Band : null);
    }

    public override string ToString() =>
        Fd is int fd ? $"{Name}: fd {fd} {BandName} ({CodeName})" : SenderPid is int pid ? $"{Name} from pid {pid} (uid {SenderUid}, {CodeName})" : Name;
}

/// <summary>
/// Receives chosen signals as records, from a descriptor that poll/epoll can watch.
/// A signalfd(2) only sees a process-directed signal (kill) that every thread of the process blocks; a .NET process
/// has threads Sysprog does not control, so it can block nothing everywhere itself. Two mechanisms follow:
/// when the process was started with the signals already blocked (the mask is inherited by every thread the
/// runtime creates), a real signalfd, with the sender's pid and uid; otherwise the runtime's own signal handling
/// (PosixSignalRegistration), which suppresses the default action while the object lives and delivers the signal
/// number and time, but not the sender. Signals that cannot be caught (SIGKILL, SIGSTOP) or that the runtime
/// relies on (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGPIPE, SIGRTMIN) are refused. Closing releases
/// the registrations, so every signal's disposition is what it was before; nothing is ever blocked by Sysprog.
/// </summary>
public sealed class SignalFd : FileDescriptorObject
{
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly ConcurrentQueue<SignalRecord> _received = new();

    private SignalFd(SafeFdHandle fd, IReadOnlyList<int> signals, bool kernelSignalFd, bool nonBlocking) : base(fd, nonBlocking: nonBlocking)
    {
        Signals = signals;
        HasSenderDetail = kernelSignalFd;
    }

    public IReadOnlyList<int> Signals { get; }

    /// <summary>True for a real signalfd (records carry the sender); false for the runtime's handling.</summary>
    public bool HasSenderDetail { get; }

    public string Mechanism => HasSenderDetail ? "signalfd" : "runtime handler";

    private protected override string Describe() => $"signalfd {Number} ({string.Join(", ", Signals.Select(Sysprog.Signals.Name))})";

    /// <summary>
    /// Receives <paramref name="signals"/> from now on; with <paramref name="nonBlocking"/> a read with no signal
    /// pending returns null at once ("would block") instead of waiting.
    /// </summary>
    public static SignalFd Create(IEnumerable<int> signals, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        ArgumentNullException.ThrowIfNull(signals);
        int[] chosen = signals.Distinct().Order().ToArray();
        if (chosen.Length == 0)
        {
            throw new ArgumentException("Name at least one signal.", nameof(signals));
        }
        foreach (int signal in chosen)
        {
            Validate(signal);
        }
        ulong mask = chosen.Aggregate(0UL, (m, s) => m | (1UL << (s - 1)));
        ulong blockedEverywhere;
        try
        {
            blockedEverywhere = BlockedInEveryThread(trace);
        }
        catch (Exception e) when (e is IOException && ResourceShortage.NoDescriptorFree())
        {
            throw new SysprogException(Errno.EMFILE, "opendir", "signalfd",
                "Which signals every thread blocks is read from /proc/self/task, which takes a descriptor. " + ResourceShortage.DescriptorDetail(), e);
        }
        if ((blockedEverywhere & mask) == mask)
        {
            var set = new SigSet { Signals = mask };
            int flags = Libc.SFD_NONBLOCK | Libc.SFD_CLOEXEC;
            SyscallResult made = Libc.signalfd(-1, in set, flags);
            var fd = new SafeFdHandle(Syscall.Check(made, trace, "signalfd", "signalfd",
                $"-1, [{string.Join(' ', chosen.Select(Sysprog.Signals.Name))}], SFD_NONBLOCK|SFD_CLOEXEC", made.Errno == Errno.EMFILE ? ResourceShortage.DescriptorDetail() : null));
            return new SignalFd(fd, chosen, kernelSignalFd: true, nonBlocking);
        }
        if ((blockedEverywhere & mask) != 0)
        {
            throw new ArgumentException(
                $"Of {string.Join(", ", chosen.Select(Sysprog.Signals.Name))}, some are blocked in every thread (a signalfd can take those) and some are not " +
                "(those need the runtime's handler): make one object for each group.", nameof(signals));
        }
        SyscallResult counter = Libc.eventfd(0, Libc.EFD_SEMAPHORE | Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        var eventFd = new SafeFdHandle(Syscall.Check(counter, trace, "eventfd", "signalfd", $"0, EFD_SEMAPHORE|EFD_NONBLOCK|EFD_CLOEXEC",
            counter.Errno == Errno.EMFILE ? ResourceShortage.DescriptorDetail() : null));
        var created = new SignalFd(eventFd, chosen, kernelSignalFd: false, nonBlocking);
        // The runtime keeps each handler for as long as its registration lives, and the registrations live as long
        // as this object: a handler holding the object would keep a dropped one from ever being finalized (its
        // descriptor open, the signal caught until the module unloads). The handler reaches it weakly instead.
        var receiver = new WeakReference<SignalFd>(created);
        try
        {
            foreach (int signal in chosen)
            {
                created._registrations.Add(PosixSignalRegistration.Create((PosixSignal)signal, context => OnSignal(receiver, context)));
                trace?.Invoke($"PosixSignalRegistration({Sysprog.Signals.Name(signal)}): the runtime's handler now reports it here");
            }
        }
        catch
        {
            created.Dispose();
            throw;
        }
        return created;
    }

    /// <summary>The next signal, waiting up to <paramref name="timeout"/>; null on timeout, and at once when none is pending and the object is non-blocking.</summary>
    public SignalRecord? Read(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        if (!HasSenderDetail)
        {
            return ReadCounter(timeout, cancellationToken, trace) is null ? null
                : _received.TryDequeue(out SignalRecord? record) ? record
                : throw new InvalidOperationException("The signal count and the received signals disagree.");
        }
        return ReadRecord(out SignalFdSigInfo info, timeout, cancellationToken, trace)
            ? SignalRecord.FromSigInfo(info)
            : null;
    }

    private protected override void OnClosing(SyscallTrace? trace)
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }
        _registrations.Clear();
    }

    private static void OnSignal(WeakReference<SignalFd> receiver, PosixSignalContext context)
    {
        // Dropped and not yet finalized: nobody listens, so the default action happens, as it will once it is.
        if (!receiver.TryGetTarget(out SignalFd? signalFd) || signalFd.IsClosed)
        {
            return;
        }
        // Keep the default action (termination, for most) from happening while someone is listening.
        context.Cancel = true;
        signalFd._received.Enqueue(new SignalRecord((int)context.Signal, null, null, null, DateTime.Now));
        signalFd.Handle.SignalEventFd();
    }

    internal static void Validate(int signal, string parameterName = "signals")
    {
        string? why = signal switch
        {
            < 1 or > Sysprog.Signals.SIGRTMAX => $"there is no signal {signal} (1 to {Sysprog.Signals.SIGRTMAX})",
            Sysprog.Signals.SIGKILL or Sysprog.Signals.SIGSTOP => "it cannot be caught, blocked or ignored by any process",
            Sysprog.Signals.SIGSEGV or Sysprog.Signals.SIGBUS or Sysprog.Signals.SIGFPE or Sysprog.Signals.SIGILL or Sysprog.Signals.SIGTRAP =>
                "the .NET runtime turns it into exceptions (null references, divide by zero) or uses it for debugging; taking it over would break the process",
            Sysprog.Signals.SIGABRT => "the .NET runtime uses it to report fatal errors and dump",
            Sysprog.Signals.SIGPIPE => "the .NET runtime ignores it so that writes to closed pipes fail with EPIPE instead of killing the process",
            Sysprog.Signals.SIGRTMIN => "the .NET runtime uses it to interrupt threads for garbage collection",
            32 or 33 => "the C library keeps signals 32 and 33 for its threads",
            _ when ThreadInterrupt.IsInUse(signal) => "Sysprog interrupts waits with it in this process",
            _ => null,
        };
        if (why is not null)
        {
            throw new ArgumentException($"{Sysprog.Signals.Name(signal)} cannot be received here: {why}.", parameterName);
        }
    }

    /// <summary>The signals every thread of this process blocks.</summary>
    internal static ulong BlockedInEveryThread(SyscallTrace? trace) => Sysprog.Signals.BlockedByEachThread(trace).Aggregate(ulong.MaxValue, (common, mask) => common & mask);
}
