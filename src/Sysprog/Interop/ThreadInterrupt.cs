using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>
/// Wakes a thread blocked in a system call that no descriptor can wake (the lock waits: flock(2), F_SETLKW,
/// F_OFD_SETLKW), when a CancellationToken fires. Polling with LOCK_NB instead would lose the kernel's queueing and its
/// deadlock detection (EDEADLK), so the call blocks for real and is interrupted the way C programs do it: the thread
/// is sent a real-time signal whose handler does nothing and is installed without SA_RESTART, so the call fails with
/// EINTR and the caller looks at its token. The runtime's own handlers all use SA_RESTART, under which lock waits
/// resume, so Sysprog takes a signal of its own: the highest real-time signal that nobody handles and not every
/// thread blocks, chosen once per process.
/// <para>
/// A signal sent just before the thread enters the call would be lost (the handler runs, the call then blocks), so
/// the canceller sends it again every millisecond until the thread says it has left the call. Nothing spins while
/// the wait lasts; the repeats happen only after cancellation, usually once.
/// </para>
/// </summary>
internal sealed class ThreadInterrupt : IDisposable
{
    private static readonly object InstallGate = new();
    private static int _signal;

    // One per thread, reused by every wait on it, so a cancellable wait allocates nothing.
    [ThreadStatic]
    private static ThreadInterrupt? _ofThisThread;

    private readonly int _threadId = Libc.gettid();
    private readonly int _managedThreadId = Environment.CurrentManagedThreadId;
    private CancellationTokenRegistration _registration;
    private int _inCall;
    private int _sent;

    /// <summary>The signal in use; 0 until the first interruptible wait chose one.</summary>
    public static int Signal => Volatile.Read(ref _signal);

    /// <summary>Arms interruption of the calling thread for as long as the result is not disposed.</summary>
    public static ThreadInterrupt Arm(CancellationToken token, SyscallTrace? trace, string target) =>
        TryArm(token, trace, target) ?? throw new InvalidOperationException(
            "Every real-time signal above SIGRTMIN is handled here or blocked by every thread, so a lock wait could not be interrupted; wait with a timeout of 0 (try once) instead.");

    /// <summary>As <see cref="Arm"/>, or null when this process leaves no real-time signal to interrupt with.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ThreadInterrupt? TryArm(CancellationToken token, SyscallTrace? trace, string target)
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
        interrupt._registration = token.UnsafeRegister(static state => ((ThreadInterrupt)state!).Interrupt(), interrupt);
        return interrupt;
    }

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
            if (Libc.tgkill(processId, _threadId, _signal) != 0)
            {
                return;
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// Says the thread has left the call, then waits until a canceller running now has stopped sending. A signal it
    /// sent last may still be pending: one system call takes it now, so it cannot cut short the thread's next call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Dispose()
    {
        Volatile.Write(ref _inCall, 0);
        _registration.Dispose();
        _registration = default;
        if (Volatile.Read(ref _sent) != 0)
        {
            Libc.getpid();
        }
    }

    /// <summary>Installs the handler on a signal chosen once per process; false when no signal is free.</summary>
    private static unsafe bool EnsureHandler(SyscallTrace? trace, string target)
    {
        lock (InstallGate)
        {
            if (Signal != 0)
            {
                return true;
            }
            // A signal that every thread blocks is someone's to take with sigwait or a signalfd. One that only some
            // threads block is not: the C library's helper threads (mq_notify and timer_create with SIGEV_THREAD)
            // block every signal, and the interrupt goes to the waiting thread alone (tgkill).
            ulong blockedEverywhere = Signals.BlockedByEachThread().Aggregate(ulong.MaxValue, (all, mask) => all & mask);
            for (int signal = Signals.SIGRTMAX; signal > Signals.SIGRTMIN; signal--)
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
                Volatile.Write(ref _signal, signal);
                return true;
            }
            return false;
        }
    }
}
