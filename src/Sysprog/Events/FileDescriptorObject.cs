using System.Runtime.CompilerServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// What every descriptor object shares: one descriptor, close-on-exec unless made inheritable, and waits that
/// Sysprog does itself with poll(2), so that every wait can time out and be cancelled. Most descriptors are O_NONBLOCK
/// in the kernel for that. Pipe ends and sockets are kept blocking instead (<see cref="KeptBlocking"/>): a child that
/// inherits one expects the ordinary blocking descriptor, and O_NONBLOCK belongs to the open file description both
/// share. Calls on them that must not wait ask per call (preadv2/pwritev2 with RWF_NOWAIT), and a wait with no
/// timeout and no token blocks in the kernel in one call, as C does.
/// <para>
/// <see cref="IsNonBlocking"/> is the script's choice that reads and writes never wait: what would wait returns
/// "would block" (null, false, or fewer bytes) after one attempt that gets EAGAIN, as C's calls on an O_NONBLOCK
/// descriptor do. On a kept-blocking descriptor it is O_NONBLOCK itself, set and cleared with fcntl(F_SETFL), so every
/// process that shares the open file description sees it; on the others the kernel flag stays set and only whether
/// Sysprog waits changes. Waits for readiness (poll, epoll) are never affected.
/// </para>
/// </summary>
public abstract class FileDescriptorObject : IPollable, IDisposable
{
    private bool _keptBlocking;
    private volatile bool _nonBlocking;

    private protected FileDescriptorObject(SafeFdHandle fd, bool keptBlocking = false, bool nonBlocking = false)
    {
        Handle = fd;
        Number = fd.Fd;
        _keptBlocking = keptBlocking;
        _nonBlocking = nonBlocking;
    }

    /// <summary>
    /// Sysprog leaves O_NONBLOCK to the script (pipes, sockets): the descriptor is blocking in the kernel unless the
    /// script made it non-blocking, and calls that must not wait on a blocking one pass RWF_NOWAIT.
    /// </summary>
    private protected bool KeptBlocking => _keptBlocking;

    /// <summary>The descriptor is blocking in the kernel now: kept blocking, and not made non-blocking by the script.</summary>
    private bool BlocksInKernel => _keptBlocking && !_nonBlocking;

    /// <summary>
    /// Reads and writes on this object never wait: where they would, they return at once with "would block" (EAGAIN),
    /// not an error. Set at creation (-NonBlocking) or with <see cref="SetNonBlocking"/>.
    /// </summary>
    public bool IsNonBlocking => _nonBlocking;

    /// <summary>
    /// Makes reads and writes stop waiting (or wait again). On a kept-blocking descriptor (pipe ends, sockets) this is
    /// fcntl(F_SETFL) of O_NONBLOCK, which every holder of the open file description sees (a child that inherited it
    /// too); on the others (eventfds, timerfds, signalfds, inotify, FIFO ends, listening sockets, ptys) the descriptor
    /// stays O_NONBLOCK, as Sysprog's own waits need, and only whether Sysprog waits changes.
    /// </summary>
    public void SetNonBlocking(bool nonBlocking, SyscallTrace? trace = null)
    {
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        if (!_keptBlocking)
        {
            int current = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), trace, "fcntl", Description, $"{fd}, F_GETFL");
            trace?.Invoke($"# {Description} stays {((current & Libc.O_NONBLOCK) != 0 ? "O_NONBLOCK" : "as it is")} in the kernel (Sysprog waits on it with poll); " +
                $"its reads and writes {(nonBlocking ? "no longer wait" : "wait again")}");
            _nonBlocking = nonBlocking;
            return;
        }
        // Ordered so that no call on another thread meanwhile makes a blocking call on a descriptor it takes for non-blocking.
        if (!nonBlocking)
        {
            _nonBlocking = false;
        }
        int flags = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), trace, "fcntl", Description, $"{fd}, F_GETFL");
        int wanted = nonBlocking ? flags | Libc.O_NONBLOCK : flags & ~Libc.O_NONBLOCK;
        Syscall.Check(Libc.fcntl(fd, Libc.F_SETFL, wanted), trace, "fcntl", Description, $"{fd}, F_SETFL, {Libc.OpenFlagsText(wanted)}");
        _nonBlocking = nonBlocking;
    }

    /// <summary>
    /// The signal this descriptor's owner gets when it becomes ready (signal-driven I/O: O_ASYNC), or null when it
    /// sends none (as this object set it; another holder of the open file description may change it).
    /// </summary>
    public int? IoSignal { get; private set; }

    /// <summary>
    /// Whether the kernel can signal readiness of this kind (its file has an fasync operation): pipes and FIFOs,
    /// sockets, ptys and inotify can; eventfds, timerfds, signalfds and pidfds cannot, and O_ASYNC on them would be
    /// accepted and never signal.
    /// </summary>
    private protected virtual bool CanSignalReadiness => false;

    /// <summary>
    /// Signal-driven I/O: with <paramref name="enabled"/>, makes the kernel send <paramref name="signal"/> (SIGIO by
    /// default; a real-time one queues one signal per event) to process <paramref name="ownerProcessId"/> (this one
    /// by default) whenever the descriptor becomes readable or writable: fcntl F_SETOWN_EX, F_SETSIG, and O_ASYNC with
    /// F_SETFL. A signalfd of that signal (New-SignalFd, in a process that blocks it) gets records that name the
    /// descriptor and the band (POLLIN, POLLOUT...). Without <paramref name="enabled"/> it clears O_ASYNC.
    /// </summary>
    /// <exception cref="ArgumentException">The kind cannot signal readiness, or the signal cannot be received.</exception>
    public void SetSignalDriven(bool enabled, int signal = Sysprog.Signals.SIGIO, int? ownerProcessId = null, SyscallTrace? trace = null)
    {
        if (!CanSignalReadiness)
        {
            throw new ArgumentException($"{Description} cannot signal its readiness: the kernel has no signal-driven I/O for it (only pipes, FIFOs, sockets, ptys and inotify), so O_ASYNC would never send a signal.", nameof(enabled));
        }
        SignalFd.Validate(signal, nameof(signal));
        if (ownerProcessId is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ownerProcessId), ownerProcessId, "A process id is 1 or more.");
        }
        if (enabled && (ownerProcessId ?? Environment.ProcessId) == Environment.ProcessId)
        {
            ThrowUnlessReceivedHere(signal, Description, trace);
        }
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        if (enabled)
        {
            var owner = new FOwnerEx { Type = Libc.F_OWNER_PID, Pid = ownerProcessId ?? Environment.ProcessId };
            // With F_OWNER_PID and a descriptor held, ESRCH (no such process) is the one way it fails: the error names
            // the pid, which the descriptor's description alone does not.
            Syscall.Check(Libc.fcntl(fd, Libc.F_SETOWN_EX, ref owner), trace, "fcntl", Description, $"{fd}, F_SETOWN_EX, {owner}",
                $"No process {owner.Pid} to send the signals to.");
            Syscall.Check(Libc.fcntl(fd, Libc.F_SETSIG, signal), trace, "fcntl", Description, $"{fd}, F_SETSIG, {Sysprog.Signals.Name(signal)}");
        }
        int flags = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), trace, "fcntl", Description, $"{fd}, F_GETFL");
        int wanted = enabled ? flags | Libc.O_ASYNC : flags & ~Libc.O_ASYNC;
        Syscall.Check(Libc.fcntl(fd, Libc.F_SETFL, wanted), trace, "fcntl", Description, $"{fd}, F_SETFL, {Libc.OpenFlagsText(wanted & ~Libc.O_LARGEFILE)}");
        IoSignal = enabled ? signal : null;
    }

    /// <summary>
    /// Refuses to have readiness signalled to this process with a signal nothing here takes: SIGIO's default action,
    /// and a real-time signal's, ends the process at the first event. A handler (a SignalFd of it, or anyone's) or a
    /// block in every thread (a real signalfd) must be there first.
    /// </summary>
    private static unsafe void ThrowUnlessReceivedHere(int signal, string target, SyscallTrace? trace)
    {
        SigAction current;
        Syscall.Check(Libc.sigaction(signal, null, &current), trace, "sigaction", target, $"{Sysprog.Signals.Name(signal)}, NULL, {{sa_handler={(current.Handler == Libc.SIG_DFL ? "SIG_DFL" : $"0x{current.Handler:x}")}}}");
        bool handled = current.Handler != Libc.SIG_DFL;
        if (!handled && (SignalFd.BlockedInEveryThread(trace) & (1UL << (signal - 1))) == 0)
        {
            throw new InvalidOperationException(
                $"Nothing in this process receives {Sysprog.Signals.Name(signal)}, and its default action would end it at the first event: open a SignalFd of it first (New-SignalFd -Signal {Sysprog.Signals.Name(signal)[3..]}), or give another process as the owner.");
        }
    }

    /// <summary>Sysprog's own waits need O_NONBLOCK from now on (a socket that listens): the descriptor is no longer kept blocking.</summary>
    private protected void ForceNonBlockingInKernel(SyscallTrace? trace)
    {
        MakeNonBlocking(Handle, Description, trace);
        _keptBlocking = false;
    }

    /// <summary>The descriptor number it was made with, for its description, which may first be asked for once it is closed.</summary>
    private protected int Number { get; }

    private protected SafeFdHandle Handle { get; }

    public int Fd => Handle.IsClosed ? -1 : Handle.Fd;

    public bool IsClosed => Handle.IsClosed;

    private string? _description;

    /// <summary>How messages name it ("eventfd 7"); made once, since failure paths and traces name it on every call.</summary>
    public string Description => _description ??= Describe();

    private protected abstract string Describe();

    /// <summary>A description that takes system calls to make (a socket's addresses) narrates them to <paramref name="trace"/>.</summary>
    private protected virtual string Describe(SyscallTrace? trace) => Describe();

    /// <summary>Makes the description now, narrating its calls to the trace of the operation that made the object.</summary>
    private protected void DescribeNow(SyscallTrace? trace) => _description ??= Describe(trace);

    /// <summary>Makes the description again at next use: what it names changed (a socket bound or connected).</summary>
    private protected void Redescribe() => _description = null;

    SafeFdHandle IDescriptorObject.DescriptorHandle => Handle;

    /// <summary>Whether a child process started from here inherits the descriptor (FD_CLOEXEC clear).</summary>
    public bool IsInheritable => Handle.IsInheritable(Description);

    /// <summary>Clears (or sets again) FD_CLOEXEC, so children started afterwards inherit the descriptor under the same number.</summary>
    public void SetInheritable(bool inheritable, SyscallTrace? trace = null) => Handle.SetInheritable(inheritable, trace, Description);

    public void Close(SyscallTrace? trace = null)
    {
        OnClosing(trace);
        Handle.Close(trace);
        OnClosed(trace);
    }

    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => IsClosed ? $"{Description} (closed)" : Description;

    private protected virtual void OnClosing(SyscallTrace? trace)
    {
    }

    /// <summary>What has to follow the close of the descriptor (a child process to reap once its terminal hung up).</summary>
    private protected virtual void OnClosed(SyscallTrace? trace)
    {
    }

    /// <summary>A reference on the descriptor for one call or wait, so a Close on another thread cannot free the number under it.</summary>
    private protected HandleLease Lease() => Handle.Lease(Description);

    /// <summary>Reads one 8-byte counter (eventfd, timerfd), waiting with poll until the deadline; null on timeout or when it would block.</summary>
    private protected ulong? ReadCounter(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace) =>
        ReadRecord(out ulong value, timeout, cancellationToken, trace) ? value : null;

    /// <summary>
    /// Reads one fixed-size record (a counter, a signalfd_siginfo) from the O_NONBLOCK descriptor, waiting with poll
    /// until the deadline unless <see cref="IsNonBlocking"/>; false on timeout or when it would block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected unsafe bool ReadRecord<T>(out T record, TimeSpan timeout, CancellationToken cancellationToken,
        SyscallTrace? trace) where T : unmanaged
    {
        using HandleLease lease = Lease();
        T value;
        long count = ReadWaiting(lease.Fd, (byte*)&value, sizeof(T), !_nonBlocking, timeout, cancellationToken, trace, out _);
        if (count < 0)
        {
            record = default;
            return false;
        }
        Syscall.CheckCount(count, trace, "read", Description, $"{lease.Fd}, [{value}], {sizeof(T)}");
        record = value;
        return true;
    }

    /// <summary>
    /// Reads into <paramref name="buffer"/> from <paramref name="fd"/> (this object's descriptor, under a lease the
    /// caller holds), waiting with poll until the deadline: the byte count, or -1 on timeout. Unless
    /// <paramref name="waitAllowed"/> (a non-blocking object's reads pass false) it is one attempt, -1 when that would
    /// block. The caller traces the success as <paramref name="call"/> (read, or preadv2 for a kept-blocking
    /// descriptor's attempt that must not wait), since only it knows how to show what was read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected unsafe long ReadWaiting(int fd, byte* buffer, int length, bool waitAllowed, TimeSpan timeout, CancellationToken cancellationToken,
        SyscallTrace? trace, out string call)
    {
        Timeouts.Validate(timeout);
        var retry = new FdRetry(Handle, Libc.POLLIN, waitAllowed ? timeout : TimeSpan.Zero, cancellationToken, Description);
        bool blockInKernel = retry.IsUnbounded;
        if (blockInKernel && !KeptBlocking)
        {
            // A caller ready to wait forever usually has to: poll first, so that it costs two system calls, not three.
            retry.WaitUntilReady(trace);
        }
        bool noWait = BlocksInKernel && !blockInKernel;
        call = noWait ? "preadv2" : "read";
        using ThreadInterrupt? closable = retry.ArmForClose(blockInKernel && KeptBlocking, trace);
        while (true)
        {
            SyscallResult result = noWait ? ReadNoWait(fd, buffer, length) : Libc.read(fd, buffer, (nuint)length);
            if (!result.Failed)
            {
                return result.Value;
            }
            if (!retry.AfterFailure(result, trace, call, $"{fd}, ..., {length}"))
            {
                return -1;
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/> to this object's descriptor, waiting with poll while it takes no more,
    /// until the deadline: the bytes written, fewer than asked only on timeout, or at once where it would block on a
    /// non-blocking object. EPIPE (no reader left) is an error that says so; SIGPIPE cannot end the process, since the
    /// .NET runtime ignores it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected unsafe int WriteWaiting(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        Timeouts.Validate(timeout);
        var retry = new FdRetry(Handle, Libc.POLLOUT, _nonBlocking ? TimeSpan.Zero : timeout, cancellationToken, Description);
        bool noWait = BlocksInKernel && !retry.IsUnbounded;
        string call = noWait ? "pwritev2" : "write";
        using HandleLease lease = Lease();
        using ThreadInterrupt? closable = retry.ArmForClose(KeptBlocking && retry.IsUnbounded, trace);
        int written = 0;
        while (written < data.Length)
        {
            ReadOnlySpan<byte> rest = data[written..];
            SyscallResult result;
            fixed (byte* start = rest)
            {
                result = noWait ? WriteNoWait(lease.Fd, start, rest.Length) : Libc.write(lease.Fd, start, (nuint)rest.Length);
            }
            if (!result.Failed)
            {
                Syscall.CheckCount(result, trace, call, Description, $"{lease.Fd}, {TraceFormat.Data(rest)}, {rest.Length}");
                written += (int)result.Value;
                continue;
            }
            if (result.Errno == Errno.EPIPE)
            {
                Syscall.CheckCount(result, trace, call, Description, $"{lease.Fd}, ..., {rest.Length}",
                    $"{NoReaderLeft} ({written} of {data.Length} bytes were written before).");
            }
            if (!retry.AfterFailure(result, trace, call, $"{lease.Fd}, ..., {rest.Length}"))
            {
                break;
            }
        }
        return written;
    }

    /// <summary>Why a write failed with EPIPE, in this kind of object's terms.</summary>
    private protected virtual string NoReaderLeft => "Nothing can read it any more: every read end is closed.";

    private static unsafe SyscallResult ReadNoWait(int fd, byte* buffer, int length)
    {
        var vector = new IoVec { Base = (nint)buffer, Length = (nuint)length };
        return Libc.preadv2(fd, &vector, 1, -1, Libc.RWF_NOWAIT);
    }

    private static unsafe SyscallResult WriteNoWait(int fd, byte* buffer, int length)
    {
        var vector = new IoVec { Base = (nint)buffer, Length = (nuint)length };
        return Libc.pwritev2(fd, &vector, 1, -1, Libc.RWF_NOWAIT);
    }

    /// <summary>Adopts a descriptor: checks what it is and makes it O_NONBLOCK, as Sysprog's own are.</summary>
    private protected static SafeFdHandle Adopt(int fd, string expectedLink, string what, SyscallTrace? trace)
    {
        if (fd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fd), fd, "A file descriptor is 0 or more.");
        }
        string link;
        try
        {
            link = ProcFile.ReadLink($"/proc/self/fd/{fd}", trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
            throw new SysprogException(Errno.EBADF, "readlink", $"/proc/self/fd/{fd}", $"This process has no file descriptor {fd}.");
        }
        if (link != expectedLink)
        {
            throw new ArgumentException($"File descriptor {fd} is {link}, not {what}.", nameof(fd));
        }
        var handle = new SafeFdHandle(fd);
        MakeNonBlocking(handle, what, trace);
        return handle;
    }

    /// <summary>
    /// Sets O_NONBLOCK, which the waits of eventfds, timerfds and listening sockets rely on. It belongs to the open
    /// file description, so a descriptor passed or inherited from elsewhere becomes non-blocking for its other holders too.
    /// </summary>
    internal static void MakeNonBlocking(SafeFdHandle handle, string what, SyscallTrace? trace)
    {
        using HandleLease lease = handle.Lease(what);
        int fd = lease.Fd;
        int flags = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), trace, "fcntl", what, $"{fd}, F_GETFL");
        if ((flags & Libc.O_NONBLOCK) == 0)
        {
            Syscall.Check(Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK), trace, "fcntl", what, $"{fd}, F_SETFL, O_NONBLOCK");
        }
    }

    /// <summary>Copies descriptor <paramref name="fd"/> of process <paramref name="processId"/> into this one (pidfd_getfd).</summary>
    private protected static int TakeFromProcess(int processId, int fd, SyscallTrace? trace)
    {
        string target = $"fd {fd} of process {processId}";
        SyscallResult pidfdResult = Libc.pidfd_open(processId);
        string? openDetail = pidfdResult.Errno == Errno.ENOSYS ? "pidfd_open needs Linux 5.3 or later." : null;
        using var pidfd = new SafeFdHandle(Syscall.Check(pidfdResult, trace, "pidfd_open", target, $"{processId}, 0", openDetail));
        SyscallResult result = Libc.pidfd_getfd(pidfd.Fd, fd);
        string? detail = result.Errno switch
        {
            Errno.EPERM => PtraceAccess.Explain(processId, "pidfd_getfd") + " Passing the descriptor at start-up (an inheritable one) needs no such permission.",
            Errno.EBADF => $"Process {processId} has no file descriptor {fd}.",
            Errno.ENOSYS => "pidfd_getfd needs Linux 5.6 or later.",
            _ => null,
        };
        int copied = Syscall.Check(result, trace, "pidfd_getfd", target, $"{pidfd.Fd}, {fd}, 0", detail);
        pidfd.Close(trace);
        return copied;
    }
}
