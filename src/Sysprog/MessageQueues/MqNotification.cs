using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>How the kernel tells of an arrival: a signal, or a thread the C library starts and calls.</summary>
public enum MqNotifyMethod
{
    Thread,
    Signal,
}

/// <summary>One notification: a message arrived on the empty queue.</summary>
public sealed class MqNotifiedEventArgs : EventArgs
{
    internal MqNotifiedEventArgs(string queueName, MqNotifyMethod method, int sequence, SignalRecord? signal)
    {
        QueueName = queueName;
        Method = method;
        Sequence = sequence;
        Signal = signal;
    }

    public string QueueName { get; }
    public MqNotifyMethod Method { get; }

    /// <summary>1 for the first notification of this registration object, 2 for the next, ...</summary>
    public int Sequence { get; }

    /// <summary>The signal, for Method Signal: with a signalfd it carries the sending process (si_pid) and SI_MESGQ.</summary>
    public SignalRecord? Signal { get; }

    public DateTime ReceivedAt { get; } = DateTime.Now;
}

/// <summary>
/// This process's mq_notify registration on a queue: the kernel tells once, when a message arrives on the queue while
/// it is empty and no process is blocked receiving (a blocked receiver takes the message instead, and the registration
/// stays). Telling ends the registration: <see cref="Arm"/> registers again, explicitly, so a script sees the one-shot
/// rule rather than missing arrivals between a notification and an automatic re-arm. Only one process may be
/// registered per queue; another's registration is EBUSY, naming it. <see cref="Notified"/> is raised on a thread the
/// C library starts (<see cref="MqNotifyMethod.Thread"/>, SIGEV_THREAD) or on a reader of the signal
/// (<see cref="MqNotifyMethod.Signal"/>, SIGEV_SIGNAL into a <see cref="SignalFd"/>); from PowerShell, subscribe with
/// Register-ObjectEvent or wait with Wait-Event. The polling watcher (<see cref="MessageQueue.StartWatching"/>) is the
/// alternative that sees every message and needs no registration.
/// </summary>
public sealed class MqNotification : IDisposable
{
    // The thread callback finds its object by this number, not a GCHandle: a notification that fires while the object
    // is being disposed then finds nothing, instead of a freed handle.
    private static readonly ConcurrentDictionary<long, MqNotification> Live = new();
    private static long _lastId;

    private readonly long _id = Interlocked.Increment(ref _lastId);
    private readonly object _gate = new();
    private readonly SignalFd? _signals;
    private readonly CancellationTokenSource? _stopReading;
    private readonly Thread? _reader;
    private int _count;
    private bool _armed;
    private bool _closed;

    private MqNotification(MessageQueue queue, MqNotifyMethod method, SignalFd? signals)
    {
        Queue = queue;
        Method = method;
        _signals = signals;
        if (signals is not null)
        {
            _stopReading = new CancellationTokenSource();
            CancellationToken stop = _stopReading.Token;
            var reader = new Thread(() => ReadSignals(stop)) { IsBackground = true, Name = $"mq_notify signal {queue.Name}" };
            try
            {
                ResourceShortage.StartThread(reader, $"signal reader of {queue.Name}");
            }
            catch
            {
                _stopReading.Dispose();
                throw;
            }
            _reader = reader;
        }
        // Listed once whole: a notification that failed to start is nowhere to be found.
        Live[_id] = this;
    }

    /// <summary>Registers for a notification on a thread the C library starts (SIGEV_THREAD).</summary>
    public static MqNotification ByThread(MessageQueue queue, SyscallTrace? trace = null) => Register(queue, MqNotifyMethod.Thread, null, trace);

    /// <summary>
    /// Registers for a notification by <paramref name="signal"/> (SIGEV_SIGNAL), read through a <see cref="SignalFd"/>
    /// of this object's, so the signal's default action (ending the process, for SIGUSR1) is held off while it lives.
    /// </summary>
    public static MqNotification BySignal(MessageQueue queue, int signal, SyscallTrace? trace = null) =>
        Register(queue, MqNotifyMethod.Signal, signal, trace);

    private static MqNotification Register(MessageQueue queue, MqNotifyMethod method, int? signal, SyscallTrace? trace)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ClosedObject.ThrowIf(queue.IsClosed, queue.Name);
        SignalFd? signals = signal is int number ? SignalFor(number, trace) : null;
        MqNotification notification;
        try
        {
            notification = new MqNotification(queue, method, signals);
        }
        catch
        {
            signals?.Dispose();
            throw;
        }
        try
        {
            notification.Arm(trace);
            return notification;
        }
        catch
        {
            notification.Dispose();
            throw;
        }
    }

    /// <summary>The signal's reader; a signal it refuses (SIGKILL, one the runtime relies on) is refused as this call's argument.</summary>
    private static SignalFd SignalFor(int signal, SyscallTrace? trace)
    {
        try
        {
            return SignalFd.Create([signal], trace);
        }
        catch (ArgumentException e) when (e.ParamName == "signals")
        {
            throw new ArgumentException(e.Message[..e.Message.LastIndexOf(" (Parameter", StringComparison.Ordinal)], nameof(signal), e);
        }
    }

    public MessageQueue Queue { get; }
    public MqNotifyMethod Method { get; }

    /// <summary>The signal, for Method Signal.</summary>
    public int? Signal => _signals?.Signals[0];

    public string? SignalName => Signal is int signal ? Signals.Name(signal) : null;

    /// <summary>
    /// Armed by this object and not yet told, as far as it knows. The kernel also ends the registration, without a
    /// word, when this process closes any descriptor of the queue (another MessageQueue of the same name, say);
    /// Sysprog's own listings leave an armed queue unopened for that reason.
    /// </summary>
    public bool IsArmed
    {
        get
        {
            lock (_gate)
            {
                return _armed;
            }
        }
    }

    /// <summary>Notifications so far.</summary>
    public int NotificationCount => Volatile.Read(ref _count);

    /// <summary>The last exception a <see cref="Notified"/> handler threw; it never escapes the notifying thread, which would end the process.</summary>
    public Exception? HandlerError { get; private set; }

    public event EventHandler<MqNotifiedEventArgs>? Notified;

    public bool IsClosed => _closed;

    /// <summary>Registers again (mq_notify): after a notification, or for the first time. EBUSY while any process, this one included, is registered.</summary>
    public unsafe void Arm(SyscallTrace? trace = null)
    {
        ClosedObject.ThrowIf(_closed, $"the notification of {Queue.Name}");
        using HandleLease lease = Queue.Lease();
        var how = new SigEvent { Value = (IntPtr)_id };
        if (_signals is not null)
        {
            how.Notify = Libc.SIGEV_SIGNAL;
            how.Signal = _signals.Signals[0];
        }
        else
        {
            how.Notify = Libc.SIGEV_THREAD;
            how.Function = (IntPtr)(delegate* unmanaged<IntPtr, void>)&OnThreadNotification;
        }
        lock (_gate)
        {
            SyscallResult result = Libc.mq_notify(lease.Fd, &how);
            Syscall.Check(result, trace, "mq_notify", Queue.Name,
                $"{lease.Fd}, {{sigev_notify={(_signals is null ? "SIGEV_THREAD" : $"SIGEV_SIGNAL, sigev_signo={Signals.Name(how.Signal)}")}, sigev_value={_id}}}",
                result.Errno == Errno.EBUSY ? BusyDetail() : null);
            _armed = true;
        }
    }

    /// <summary>
    /// The armed registration of this process on the queue <paramref name="name"/>, if any. The kernel ends a
    /// registration when the registered process closes any descriptor of the queue (mqueue_flush_file), even one
    /// opened only to read the queue's file or attributes, so listings use this to leave such a queue unopened.
    /// </summary>
    internal static MqNotification? ArmedHere(string name) => Live.Values.FirstOrDefault(n => n.Queue.Name == name && n.IsArmed && !n.Queue.IsClosed);

    /// <summary>Who holds the registration, from NOTIFY_PID in the mqueue filesystem.</summary>
    private string BusyDetail()
    {
        // Our own armed registration is known without reading the queue's file, which would end it.
        string path = MessageQueue.Directory + Queue.Name;
        int? registered = ArmedHere(Queue.Name) is not null ? Environment.ProcessId : MessageQueue.ReadQueueStatus(path).NotifyProcessId;
        return registered switch
        {
            null => "Another process is registered; a queue takes one registration at a time (mount the mqueue filesystem on /dev/mqueue to see which: NOTIFY_PID).",
            int pid when pid == Environment.ProcessId =>
                "This process is registered already: a registration lasts until it is told, so arm again only after a notification, or close the other registration.",
            int pid => $"Process {pid} ({ProcFile.ProcessName(pid) ?? "gone"}) is registered (NOTIFY_PID in {path}); a queue takes one registration at a time. Use the polling watcher (StartWatching) to follow it as well.",
        };
    }

    /// <summary>Ends the registration if it is still this process's (mq_notify with NULL).</summary>
    public unsafe void Disarm(SyscallTrace? trace = null)
    {
        lock (_gate)
        {
            if (!_armed || Queue.IsClosed)
            {
                _armed = false;
                return;
            }
            using HandleLease lease = Queue.Lease();
            Syscall.Check(Libc.mq_notify(lease.Fd, null), trace, "mq_notify", Queue.Name, $"{lease.Fd}, NULL");
            _armed = false;
        }
    }

    [UnmanagedCallersOnly]
    private static void OnThreadNotification(IntPtr value)
    {
        if (Live.TryGetValue((long)value, out MqNotification? notification))
        {
            notification.Raise(null);
        }
    }

    private void ReadSignals(CancellationToken stop)
    {
        try
        {
            while (_signals!.Read(Timeout.InfiniteTimeSpan, stop) is SignalRecord record)
            {
                Raise(record);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // Closed: nothing more to read.
        }
        catch (Exception e)
        {
            HandlerError = e;
        }
    }

    private void Raise(SignalRecord? signal)
    {
        lock (_gate)
        {
            _armed = false;
        }
        int sequence = Interlocked.Increment(ref _count);
        try
        {
            Notified?.Invoke(this, new MqNotifiedEventArgs(Queue.Name, Method, sequence, signal));
        }
        catch (Exception e)
        {
            HandlerError = e;
        }
    }

    /// <summary>Ends the registration and stops listening; the queue stays open.</summary>
    public void Close(SyscallTrace? trace = null)
    {
        if (_closed)
        {
            return;
        }
        try
        {
            Disarm(trace);
        }
        finally
        {
            _closed = true;
            Live.TryRemove(_id, out _);
            _stopReading?.Cancel();
            if (_reader is not null && _reader != Thread.CurrentThread)
            {
                _reader.Join();
            }
            _signals?.Close(trace);
            _stopReading?.Dispose();
        }
    }

    public void Dispose() => Close();

    public override string ToString() => $"mq_notify on {Queue.Name} by {(Signal is int s ? Signals.Name(s) : "thread")}{(IsArmed ? ", armed" : "")}";
}
