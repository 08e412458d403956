using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>
/// Wakes a thread blocked in a system call that no descriptor can wake (the lock waits: flock(2), F_SETLKW,
/// F_OFD_SETLKW), when a CancellationToken fires or a handle it waits on is closed on another thread
/// (<see cref="HandleWaiters"/>). Polling with LOCK_NB instead would lose the kernel's queueing and its
/// deadlock detection (EDEADLK), so the call blocks for real and is interrupted the way C programs do it: the thread
/// is sent a real-time signal whose handler does nothing and is installed without SA_RESTART, so the call fails with
/// EINTR and the caller looks at its token and its handle. The runtime's own handlers all use SA_RESTART, under which
/// lock waits resume, so Sysprog takes a signal of its own: the highest real-time signal that nobody handles and not
/// every thread blocks, chosen once per process.
/// <para>
/// A real-time signal sent with tgkill needs an entry in its user's signal queue: when RLIMIT_SIGPENDING is reached
/// (ulimit -i, or any process of the same user holding queued signals) tgkill fails with EAGAIN. A standard signal is
/// never refused that way (the kernel sets it pending without an entry), so the interrupt then falls back to one,
/// chosen and installed with the same handler the first time it is needed: SIGURG, which the runtime leaves alone and
/// whose default action is to ignore it, or another that nobody handles.
/// </para>
/// <para>
/// A signal sent just before the thread enters the call would be lost (the handler runs, the call then blocks), so
/// the canceller sends it again every millisecond until the thread says it has left the call. Nothing spins while
/// the wait lasts; the repeats happen only after cancellation, usually once.
/// </para>
/// </summary>
internal sealed class ThreadInterrupt : IDisposable, IHandleWaiter
{
    private static readonly object InstallGate = new();
    private static int _signal;
    private static int _fallbackSignal;

    // Standard signals the fallback may take, in order: SIGURG's default action is to ignore it, the others' to end
    // the process, which a handler that does nothing turns into ignoring them too.
    private static readonly int[] FallbackCandidates = [Signals.SIGURG, Signals.SIGSTKFLT, Signals.SIGPWR];

    // One per thread, reused by every wait on it, so a cancellable wait allocates nothing.
    [ThreadStatic]
    private static ThreadInterrupt? _ofThisThread;

    private readonly int _threadId = Libc.gettid();
    private readonly int _managedThreadId = Environment.CurrentManagedThreadId;
    private CancellationTokenRegistration _registration;
    private int _inCall;
    private int _sent;
    private SafeHandle? _waited;

    /// <summary>The signal in use; 0 until the first interruptible wait chose one.</summary>
    public static int Signal => Volatile.Read(ref _signal);

    /// <summary>The standard signal sent when <see cref="Signal"/> could not be queued: 0 until that first happened, -1 when no standard signal was free.</summary>
    public static int FallbackSignal => Volatile.Read(ref _fallbackSignal);

    /// <summary>Whether Sysprog interrupts waits with <paramref name="signal"/> in this process.</summary>
    public static bool IsInUse(int signal) => signal != 0 && (signal == Signal || signal == FallbackSignal);

    /// <summary>
    /// Arms interruption of the calling thread for as long as the result is not disposed: by <paramref name="token"/>,
    /// and by a Close of <paramref name="waited"/> (when given) on another thread.
    /// </summary>
    public static ThreadInterrupt Arm(CancellationToken token, SafeHandle? waited, SyscallTrace? trace, string target) =>
        TryArm(token, waited, trace, target) ?? throw new InvalidOperationException(
            "Every real-time signal above SIGRTMIN, and SIGURG, SIGSTKFLT and SIGPWR, is handled here or blocked by every thread, so this wait could not be interrupted; wait with a timeout of 0 (try once) instead.");

    /// <summary>
    /// As <see cref="Arm"/>; the caller checks <see cref="HandleWaiters.ThrowIfClosed"/> before every call. Null when
    /// this process leaves no signal to interrupt with: the caller then waits in slices and checks both between them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ThreadInterrupt? TryArm(CancellationToken token, SafeHandle? waited, SyscallTrace? trace, string target)
    {
        if (Signal == 0 && !EnsureHandler(trace, target))
        {
            return null;
        }
        ThreadInterrupt interrupt = _ofThisThread ??= new ThreadInterrupt();
        if (interrupt._inCall != 0)
        {
            // Armed already on this thread (a wait inside a wait): this one gets an interrupt of its own.
            interrupt = new ThreadInterrupt();
        }
        interrupt._inCall = 1;
        interrupt._sent = 0;
        if (waited is not null)
        {
            interrupt._waited = waited;
            HandleWaiters.Add(waited, interrupt);
        }
        interrupt._registration = token.UnsafeRegister(static state => ((ThreadInterrupt)state!).Interrupt(), interrupt);
        return interrupt;
    }

    void IHandleWaiter.HandleClosed(SafeHandle handle) => Interrupt();

    private void Interrupt()
    {
        if (Environment.CurrentManagedThreadId == _managedThreadId)
        {
            // Cancelled while arming, on the waiting thread itself: it checks its token before every call.
            return;
        }
        int processId = Environment.ProcessId;
        while (Volatile.Read(ref _inCall) == 1)
        {
            Volatile.Write(ref _sent, 1);
            if (!Send(processId, _threadId))
            {
                return;
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>Sends the signal, or the fallback when the signal queue has no room for it; false when the thread is gone.</summary>
    private static bool Send(int processId, int threadId)
    {
        SyscallResult sent = Libc.tgkill(processId, threadId, _signal);
        if (!sent.Failed || _signal < Signals.SIGRTMIN)
        {
            return !sent.Failed;
        }
        if (sent.Errno != Errno.EAGAIN)
        {
            return false;
        }
        int fallback = FallbackSignal;
        if (fallback == 0)
        {
            lock (InstallGate)
            {
                fallback = _fallbackSignal != 0 ? _fallbackSignal : InstallFree(FallbackCandidates, null, "interrupt");
                Volatile.Write(ref _fallbackSignal, fallback);
            }
        }
        return fallback > 0 && !((SyscallResult)Libc.tgkill(processId, threadId, fallback)).Failed;
    }

    /// <summary>
    /// Says the thread has left the call, then waits until a canceller running now has stopped sending. A signal it
    /// sent last may still be pending: one system call takes it now, so it cannot cut short the thread's next call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Dispose()
    {
        Volatile.Write(ref _inCall, 0);
        if (_waited is SafeHandle waited)
        {
            _waited = null;
            HandleWaiters.Remove(waited, this);
        }
        _registration.Dispose();
        _registration = default;
        if (Volatile.Read(ref _sent) != 0)
        {
            Libc.getpid();
        }
    }

    /// <summary>
    /// Installs the handler on a signal chosen once per process: the highest free real-time one, or where none is
    /// free the fallback's standard one; false when no signal is free.
    /// </summary>
    private static bool EnsureHandler(SyscallTrace? trace, string target)
    {
        lock (InstallGate)
        {
            if (Signal != 0)
            {
                return true;
            }
            int[] realtime = Enumerable.Range(Signals.SIGRTMIN + 1, Signals.SIGRTMAX - Signals.SIGRTMIN).Reverse().ToArray();
            int signal = InstallFree(realtime, trace, target);
            if (signal < 0)
            {
                signal = InstallFree(FallbackCandidates, trace, target);
                Volatile.Write(ref _fallbackSignal, signal);
            }
            if (signal < 0)
            {
                return false;
            }
            Volatile.Write(ref _signal, signal);
            return true;
        }
    }

    /// <summary>Installs the handler on the first of <paramref name="candidates"/> that is free; -1 when none is.</summary>
    private static unsafe int InstallFree(int[] candidates, SyscallTrace? trace, string target)
    {
        // A signal that every thread blocks is someone's to take with sigwait or a signalfd. One that only some
        // threads block is not: the C library's helper threads (mq_notify and timer_create with SIGEV_THREAD)
        // block every signal, and the interrupt goes to the waiting thread alone (tgkill).
        ulong blockedEverywhere = Signals.BlockedByEachThread(trace).Aggregate(ulong.MaxValue, (all, mask) => all & mask);
        foreach (int signal in candidates)
        {
            SigAction current;
            if (Libc.sigaction(signal, null, &current) != 0 || current.Handler != Libc.SIG_DFL || (blockedEverywhere & (1UL << (signal - 1))) != 0)
            {
                continue;
            }
            // Any async-signal-safe function that ignores its argument serves: the only effect wanted is the EINTR.
            var action = new SigAction { Handler = NativeLibrary.GetExport(Libc.Load(Libc.LibcName), "getpid"), Flags = 0 };
            Syscall.Check(Libc.sigaction(signal, &action, null), trace, "sigaction", target,
                $"{Signals.Name(signal)}, {{sa_handler=getpid, sa_flags=0}}, NULL");
            return signal;
        }
        return -1;
    }
}
