using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// An open POSIX message queue (mq_open). Messages carry a priority (0 to 32767); receive returns the highest
/// priority first and FIFO within a priority. Blocking sends and receives wait with poll(2) on the queue's fd, on
/// the monotonic clock, and stop at once when their CancellationToken fires. The byte-span send and receive
/// allocate nothing. Disposing closes this descriptor; <see cref="Unlink"/> removes the name.
/// </summary>
public sealed class MessageQueue : IPollable, IDisposable
{
    /// <summary>Where the mqueue filesystem is conventionally mounted; listing needs it, the queues themselves do not.</summary>
    public const string Directory = "/dev/mqueue";

    public const int MaxPriority = Libc.MqPriorityMax - 1;


    private readonly SafeFdHandle _fd;
    private readonly object _watchGate = new();
    private Thread? _watcher;

    // O_NONBLOCK as this object last set it: only it changes the flag, so waits need not ask the kernel each time.
    private bool _nonBlocking;
    private CancellationTokenSource? _stopWatching;

    private MessageQueue(SafeFdHandle fd, string name, long maxMessages, long maxMessageSize, bool canSend, bool canReceive, bool nonBlocking = false)
    {
        _fd = fd;
        _nonBlocking = nonBlocking;
        Name = name;
        MaxMessages = maxMessages;
        MaxMessageSize = maxMessageSize;
        CanSend = canSend;
        CanReceive = canReceive;
    }

    public string Name { get; }

    /// <summary>mq_maxmsg: how many messages the queue holds before senders wait.</summary>
    public long MaxMessages { get; }

    /// <summary>mq_msgsize: the largest message, in bytes.</summary>
    public long MaxMessageSize { get; }

    public bool CanSend { get; }

    public bool CanReceive { get; }

    public bool IsClosed => _fd.IsClosed;

    public int Fd => _fd.IsClosed ? -1 : _fd.Fd;

    public string Description => Name;

    SafeFdHandle IDescriptorObject.DescriptorHandle => _fd;

    /// <summary>Messages in the queue now (mq_getattr).</summary>
    public long CurrentMessages => GetAttributes().CurrentMessages;

    /// <summary>Whether this descriptor is O_NONBLOCK (mq_getattr): sends to a full queue and receives from an empty one then return at once ("would block") instead of waiting.</summary>
    public bool IsNonBlocking => (GetAttributes().Flags & Libc.O_NONBLOCK) != 0;

    /// <summary>
    /// mq_open(O_CREAT|O_EXCL) with the given capacity and the exact <paramref name="mode"/>, and O_NONBLOCK with
    /// <paramref name="nonBlocking"/>. A capacity beyond fs.mqueue.msg_max or msgsize_max, the queues_max count or
    /// RLIMIT_MSGQUEUE is an error naming that limit.
    /// </summary>
    public static MessageQueue Create(string name, long maxMessages = 10, long maxMessageSize = 8192, UnixFileMode mode = FileModes.OwnerReadWrite,
        SyscallTrace? trace = null, bool nonBlocking = false)
    {
        string canonical = IpcName.Normalize(name);
        if (maxMessages < 1 || maxMessages > Libc.HardMessageCountMax)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessages), maxMessages, $"A queue holds 1 to {Libc.HardMessageCountMax} messages (HARD_MSGMAX).");
        }
        if (maxMessageSize < 1 || maxMessageSize > Libc.HardMessageSizeMax)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessageSize), maxMessageSize, $"A message is 1 to {Libc.HardMessageSizeMax} bytes (HARD_MSGSIZEMAX).");
        }
        FileModes.Validate(mode, nameof(mode));
        var attributes = new MqAttributes { MaxMessages = maxMessages, MessageSize = maxMessageSize };
        int flags = Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC | (nonBlocking ? Libc.O_NONBLOCK : 0);
        SyscallResult result = Libc.mq_open(canonical, flags, (int)mode, in attributes);
        string? detail = result.Failed ? MessageQueueLimits.Explain(result.Errno, maxMessages, maxMessageSize) : null;
        var fd = new SafeFdHandle(Syscall.Check(result, trace, "mq_open", canonical,
            $"{QuoteName(canonical)}, {Libc.OpenFlagsText(flags)}, {Octal((int)mode)}, {{mq_maxmsg={maxMessages}, mq_msgsize={maxMessageSize}}}", detail));
        ExclusiveCreation.CompleteOrUndo(() => ExclusiveCreation.ChangeMode(fd, canonical, mode, trace), () => fd.Close(trace), () => Unlink(canonical, trace));
        return new MessageQueue(fd, canonical, maxMessages, maxMessageSize, canSend: true, canReceive: true, nonBlocking);
    }

    /// <summary>mq_open of an existing queue, for sending and receiving unless told otherwise.</summary>
    public static MessageQueue Open(string name, FileAccess access = FileAccess.ReadWrite, bool nonBlocking = false, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name);
        int flags = access switch
        {
            FileAccess.Read => Libc.O_RDONLY,
            FileAccess.Write => Libc.O_WRONLY,
            FileAccess.ReadWrite => Libc.O_RDWR,
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, "Read, Write or ReadWrite."),
        } | Libc.O_CLOEXEC | (nonBlocking ? Libc.O_NONBLOCK : 0);
        SyscallResult result = Libc.mq_open_existing(canonical, flags);
        string? hint = result.Errno == Errno.ENOENT ? "No message queue has that name; create it first (New-MessageQueue, sysprog mq create)." : null;
        var fd = new SafeFdHandle(Syscall.Check(result, trace, "mq_open", canonical, $"{QuoteName(canonical)}, {Libc.OpenFlagsText(flags)}", hint));
        MqAttributes attributes;
        using (HandleLease lease = fd.Lease(canonical))
        {
            Syscall.Check(Libc.mq_getattr(lease.Fd, out attributes), null, "mq_getattr", canonical, $"");
        }
        return new MessageQueue(fd, canonical, attributes.MaxMessages, attributes.MessageSize,
            canSend: access != FileAccess.Read, canReceive: access != FileAccess.Write, nonBlocking);
    }

    /// <summary>Takes over a queue descriptor passed to this process (over a socket); <paramref name="name"/> is its name in the mqueue filesystem.</summary>
    internal static MessageQueue Adopt(SafeFdHandle fd, string name)
    {
        MqAttributes attributes;
        int access;
        using (HandleLease lease = fd.Lease(name))
        {
            Syscall.Check(Libc.mq_getattr(lease.Fd, out attributes), null, "mq_getattr", name, $"");
            access = Syscall.Check(Libc.fcntl(lease.Fd, Libc.F_GETFL, 0), null, "fcntl", name, $"") & Libc.O_ACCMODE;
        }
        return new MessageQueue(fd, name, attributes.MaxMessages, attributes.MessageSize, canSend: access != Libc.O_RDONLY,
            canReceive: access != Libc.O_WRONLY, nonBlocking: (attributes.Flags & Libc.O_NONBLOCK) != 0);
    }

    public static void Unlink(string name, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name);
        Syscall.Check(Libc.mq_unlink(canonical), trace, "mq_unlink", canonical, $"{QuoteName(canonical)}");
    }

    /// <summary>The queues in /dev/mqueue; an error says so when the mqueue filesystem is not mounted there.</summary>
    public static IReadOnlyList<MessageQueueInfo> List(string? pattern = null, SyscallTrace? trace = null)
    {
        NamePattern wanted = IpcName.Pattern(pattern);
        if (!IsMqueueFsMounted())
        {
            throw new SysprogException(Errno.ENOENT, "opendir", Directory,
                "The mqueue filesystem is not mounted there, so queues cannot be listed (they still work). As root: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue.");
        }
        var found = new List<MessageQueueInfo>();
        foreach (string fileName in DirectoryEntries.Read(Directory, trace))
        {
            string name = "/" + fileName;
            string path = Directory + "/" + fileName;
            // The mqueue filesystem holds only queues, but its root may hold a directory made there by root.
            if (!wanted.Matches(name) || FileStatus.OfEscapedPath(path, trace) is not StatX status
                || (status.Mode & FileStatus.TypeMask) == FileStatus.Directory)
            {
                continue;
            }
            if (MqNotification.ArmedHere(name) is MqNotification registered)
            {
                // Opening the queue or its file here would end this process's registration when closed: the
                // registered object's own descriptor gives the attributes instead, and QSIZE stays unknown.
                found.Add(new MessageQueueInfo(name, status, null, Environment.ProcessId, registered.Queue.GetAttributes(), null));
                continue;
            }
            MqAttributes? attributes = ReadAttributes(name, trace, out Errno openErrno);
            string? problem = attributes is null ? (openErrno == Errno.EACCES ? "not readable by this user" : $"mq_open failed: {openErrno.Symbol()}") : null;
            (long? queueBytes, int? notifyProcessId) = ReadQueueStatus(path);
            found.Add(new MessageQueueInfo(name, status, queueBytes, notifyProcessId, attributes, problem));
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return found;

        static MqAttributes? ReadAttributes(string name, SyscallTrace? trace, out Errno errno)
        {
            const int flags = Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NONBLOCK;
            SyscallResult opened = Libc.mq_open_existing(name, flags);
            errno = opened.Errno;
            trace?.Invoke(opened.Failed
                ? $"mq_open({QuoteName(name)}, {Libc.OpenFlagsText(flags)}) = -1 {errno.Symbol()} ({errno.Description()})"
                : $"mq_open({QuoteName(name)}, {Libc.OpenFlagsText(flags)}) = {opened.Value}");
            if (opened.Failed)
            {
                return null;
            }
            using var handle = new SafeFdHandle((int)opened.Value);
            SyscallResult got = Libc.mq_getattr(handle.Fd, out MqAttributes attributes);
            errno = got.Errno;
            trace?.Invoke(got.Failed
                ? $"mq_getattr({handle.Fd}, ...) = -1 {errno.Symbol()} ({errno.Description()})"
                : $"mq_getattr({handle.Fd}, {{mq_flags={attributes.Flags}, mq_maxmsg={attributes.MaxMessages}, mq_msgsize={attributes.MessageSize}, mq_curmsgs={attributes.CurrentMessages}}}) = 0");
            handle.Close(trace);
            return got.Failed ? null : attributes;
        }
    }

    /// <summary>QSIZE and NOTIFY_PID from a queue's file in the mqueue filesystem; nulls when it cannot be read. Reading it
    /// opens and closes the queue, which ends this process's own mq_notify registration on it.</summary>
    internal static (long? QueueBytes, int? NotifyProcessId) ReadQueueStatus(string path)
    {
        try
        {
            // "QSIZE:129 NOTIFY:0 SIGNO:0 NOTIFY_PID:0"
            Dictionary<string, string> fields = ProcFile.ReadAllText(path, null, escapedPath: true).Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(f => f.Split(':', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1].Trim(), StringComparer.Ordinal);
            long? size = fields.TryGetValue("QSIZE", out string? q) && long.TryParse(q, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) ? bytes : null;
            int? notify = fields.TryGetValue("NOTIFY_PID", out string? n) && int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid != 0 ? pid : null;
            return (size, notify);
        }
        catch (SysprogException)
        {
            return (null, null);
        }
    }

    public static bool IsMqueueFsMounted() =>
        File.Exists("/proc/self/mounts") && File.ReadLines("/proc/self/mounts").Any(l => l.Split(' ') is [_, Directory, "mqueue", ..]);

    /// <summary>mq_setattr: sets or clears O_NONBLOCK on this descriptor.</summary>
    public void SetNonBlocking(bool nonBlocking, SyscallTrace? trace = null)
    {
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        var attributes = new MqAttributes { Flags = nonBlocking ? Libc.O_NONBLOCK : 0 };
        Syscall.Check(Libc.mq_setattr(fd, in attributes, out _), trace, "mq_setattr", Name, $"{fd}, {{mq_flags={(nonBlocking ? "O_NONBLOCK" : "0")}}}");
        _nonBlocking = nonBlocking;
    }

    // ---- Sending ----

    /// <summary>Sends without waiting; false when the queue is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TrySend(ReadOnlySpan<byte> body, int priority = 0, SyscallTrace? trace = null) =>
        Send(body, priority, TimeSpan.Zero, default, trace);

    /// <summary>
    /// Sends, waiting up to <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: no limit) while the
    /// queue is full. False on timeout, and at once when the queue is full and this descriptor is O_NONBLOCK.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [OverloadResolutionPriority(1)]
    public unsafe bool Send(ReadOnlySpan<byte> body, int priority, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        if (!CanSend)
        {
            ThrowWrongAccess("send to", "read-only");
        }
        if (body.Length > MaxMessageSize)
        {
            ThrowTooLarge(body.Length, nameof(body));
        }
        ValidatePriority(priority);
        Timeouts.Validate(timeout);
        var retry = new FdRetry(_fd, Libc.POLLOUT, _nonBlocking ? TimeSpan.Zero : timeout, cancellationToken, Name);
        // No deadline and nothing to cancel: one blocking call, as C would make. Otherwise a call that cannot block
        // (its absolute deadline, the epoch, has passed), then poll(2) on the monotonic clock with cancellation.
        bool blockInKernel = retry.IsUnbounded;
        Timespec alreadyExpired = default;
        Timespec* deadlineArgument = blockInKernel ? null : &alreadyExpired;
        using ThreadInterrupt? closable = retry.ArmForClose(blockInKernel, trace);
        fixed (byte* start = body)
        {
            while (true)
            {
                SyscallResult result = Libc.mq_timedsend(fd, start, (nuint)body.Length, (uint)priority, deadlineArgument);
                if (!result.Failed)
                {
                    Syscall.Check(result, trace, "mq_timedsend", Name, $"{fd}, {Data(body)}, {body.Length}, {priority}, {(blockInKernel ? "NULL" : "{0, 0}")}");
                    return true;
                }
                if (!retry.AfterFailure(result, trace, "mq_timedsend", $"{fd}, {Data(body)}, {body.Length}, {priority}, {(blockInKernel ? "NULL" : "{0, 0}")}"))
                {
                    return false;
                }
            }
        }
    }

    /// <summary>Sends raw bytes whole, as one message (the overload PowerShell picks for a byte[]).</summary>
    public bool Send(byte[] body, int priority = 0, TimeSpan? timeout = null, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Send((ReadOnlySpan<byte>)body, priority, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken, trace);
    }

    /// <summary>Sends text, UTF-8 unless told otherwise.</summary>
    public bool Send(string text, int priority = 0, TimeSpan? timeout = null, Encoding? encoding = null, CancellationToken cancellationToken = default,
        SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] body = (encoding ?? Encoding.UTF8).GetBytes(text);
        if (body.Length > MaxMessageSize)
        {
            ThrowTooLarge(body.Length, nameof(text));
        }
        return Send((ReadOnlySpan<byte>)body, priority, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken, trace);
    }

    // ---- Receiving ----

    /// <summary>Receives without waiting; false when the queue is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReceive(Span<byte> buffer, out int length, out int priority, SyscallTrace? trace = null) =>
        Receive(buffer, out length, out priority, TimeSpan.Zero, default, trace);

    /// <summary>
    /// Receives the oldest message of the highest priority into <paramref name="buffer"/> (at least
    /// <see cref="MaxMessageSize"/> bytes), waiting up to <paramref name="timeout"/> while the queue is empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe bool Receive(Span<byte> buffer, out int length, out int priority, TimeSpan timeout, CancellationToken cancellationToken = default,
        SyscallTrace? trace = null)
    {
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        if (!CanReceive)
        {
            ThrowWrongAccess("receive from", "write-only");
        }
        if (buffer.Length < MaxMessageSize)
        {
            ThrowBufferTooSmall(buffer.Length);
        }
        Timeouts.Validate(timeout);
        var retry = new FdRetry(_fd, Libc.POLLIN, _nonBlocking ? TimeSpan.Zero : timeout, cancellationToken, Name);
        bool blockInKernel = retry.IsUnbounded;
        Timespec alreadyExpired = default;
        Timespec* deadlineArgument = blockInKernel ? null : &alreadyExpired;
        using ThreadInterrupt? closable = retry.ArmForClose(blockInKernel, trace);
        fixed (byte* start = buffer)
        {
            while (true)
            {
                SyscallResult result = Libc.mq_timedreceive(fd, start, (nuint)buffer.Length, out uint received, deadlineArgument);
                if (!result.Failed)
                {
                    length = (int)result.Value;
                    priority = (int)received;
                    Syscall.CheckCount(result, trace, "mq_timedreceive", Name,
                        $"{fd}, {Data(buffer[..length])}, {buffer.Length}, [{received}], {(blockInKernel ? "NULL" : "{0, 0}")}");
                    return true;
                }
                if (!retry.AfterFailure(result, trace, "mq_timedreceive", $"{fd}, ..., {buffer.Length}, ..., {(blockInKernel ? "NULL" : "{0, 0}")}"))
                {
                    length = 0;
                    priority = 0;
                    return false;
                }
            }
        }
    }

    /// <summary>
    /// Receives one message as an object whose Text decodes with <paramref name="textEncoding"/> (UTF-8 by default).
    /// Allocates the message and its bytes only (the mq_msgsize buffer is pooled); the span overload allocates
    /// nothing. Null on timeout.
    /// </summary>
    public MqMessage? Receive(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null, Encoding? textEncoding = null)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)MaxMessageSize);
        try
        {
            return Receive(buffer, out int length, out int priority, timeout, cancellationToken, trace)
                ? new MqMessage(Name, priority, buffer.AsSpan(0, length).ToArray(), DateTime.Now, textEncoding)
                : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ---- Notification ----

    /// <summary>
    /// Raised on a background thread for each message received by <see cref="StartWatching"/>. From PowerShell,
    /// subscribe with Register-ObjectEvent (a script block added directly would run on a thread with no runspace).
    /// A handler that throws stops the watcher: see <see cref="WatchError"/>. Built on polling the
    /// queue's fd rather than mq_notify: mq_notify allows one registration per queue across all processes, fires once
    /// and must be re-armed (racing with arrivals), and delivers by signal or by a thread the C library creates.
    /// </summary>
    public event EventHandler<MqMessageEventArgs>? MessageReceived;

    /// <summary>Receives every message that arrives, on a background thread, raising <see cref="MessageReceived"/>.</summary>
    public void StartWatching()
    {
        ClosedObject.ThrowIf(IsClosed, Name);
        if (!CanReceive)
        {
            ThrowWrongAccess("watch", "write-only");
        }
        lock (_watchGate)
        {
            if (_watcher is not null)
            {
                throw new InvalidOperationException($"{Name} is already being watched by this object.");
            }
            var stop = new CancellationTokenSource();
            _stopWatching?.Dispose();
            _stopWatching = stop;
            WatchError = null;
            var watcher = new Thread(() => Watch(stop.Token)) { IsBackground = true, Name = $"mq watcher {Name}" };
            try
            {
                ResourceShortage.StartThread(watcher, $"watcher of {Name}");
            }
            catch
            {
                // Not watching, as before: IsWatching false, and nothing for StopWatching or Dispose to stop.
                _stopWatching = null;
                stop.Dispose();
                throw;
            }
            _watcher = watcher;
        }
    }

    public void StopWatching()
    {
        Thread? watcher;
        lock (_watchGate)
        {
            watcher = _watcher;
            _stopWatching?.Cancel();
            _watcher = null;
        }
        if (watcher is not null && watcher != Thread.CurrentThread)
        {
            watcher.Join();
        }
        lock (_watchGate)
        {
            _stopWatching?.Dispose();
            _stopWatching = null;
        }
    }

    /// <summary>
    /// Why the watcher stopped on its own: a handler's exception, or a failed receive. Null while it runs and after a
    /// <see cref="StopWatching"/>. A failure on the watcher's thread never escapes it, since that would end the process.
    /// </summary>
    public Exception? WatchError { get; private set; }

    /// <summary>Raised once, on the watcher's thread, when the watcher stops because of <see cref="WatchError"/>.</summary>
    public event EventHandler<ErrorEventArgs>? WatchFailed;

    public bool IsWatching
    {
        get
        {
            lock (_watchGate)
            {
                return _watcher is not null;
            }
        }
    }

    private void Watch(CancellationToken stop)
    {
        try
        {
            while (Receive(Timeout.InfiniteTimeSpan, stop) is MqMessage message)
            {
                MessageReceived?.Invoke(this, new MqMessageEventArgs(message));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (IsClosed)
        {
        }
        catch (Exception e)
        {
            lock (_watchGate)
            {
                WatchError = e;
                _watcher = null;
            }
            try
            {
                WatchFailed?.Invoke(this, new ErrorEventArgs(e));
            }
            catch (Exception)
            {
                // Already reported through WatchError; a second failure here has nowhere safer to go.
            }
        }
    }

    // ---- Lifetime ----

    public void Close(SyscallTrace? trace = null)
    {
        StopWatching();
        _fd.Close(trace);
    }

    public void Dispose() => Close();

    public override string ToString() => IsClosed ? $"{Name} (closed)" : $"{Name} ({CurrentMessages}/{MaxMessages} messages of up to {MaxMessageSize} bytes)";

    internal MqAttributes GetAttributes()
    {
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        Syscall.Check(Libc.mq_getattr(fd, out MqAttributes attributes), null, "mq_getattr", Name, $"");
        return attributes;
    }

    /// <summary>A reference on the descriptor for one call or wait, so a Close on another thread cannot free the number under it.</summary>
    internal HandleLease Lease() => _fd.Lease(Name);



    private static void ValidatePriority(int priority)
    {
        if ((uint)priority > MaxPriority)
        {
            ThrowBadPriority(priority);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadPriority(int priority) =>
        throw new ArgumentOutOfRangeException(nameof(priority), priority, $"A priority is 0 to {MaxPriority}.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTooLarge(int length, string paramName) =>
        throw new ArgumentException($"The message is {length} bytes; {Name} takes messages of at most {MaxMessageSize} bytes (mq_msgsize).", paramName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBufferTooSmall(int length) =>
        throw new ArgumentException($"The buffer is {length} bytes; receiving from {Name} needs at least its mq_msgsize, {MaxMessageSize} bytes.", "buffer");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongAccess(string action, string opened) =>
        throw new UnauthorizedAccessException($"Cannot {action} {Name}: this descriptor was opened {opened}.");
}
