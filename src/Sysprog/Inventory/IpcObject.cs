namespace Sysprog;

/// <summary>The kinds of IPC object the inventory lists.</summary>
public enum IpcObjectKind
{
    SharedMemory,
    Semaphore,
    MessageQueue,
    SysVSharedMemory,
    SysVSemaphoreSet,
    SysVMessageQueue,
}

/// <summary>How a process holds an object.</summary>
[Flags]
public enum IpcHold
{
    None = 0,

    /// <summary>An open file descriptor (/proc/PID/fd).</summary>
    Descriptor = 1,

    /// <summary>A mapping (/proc/PID/maps): a mapped shared memory object, a named semaphore, an attached System V segment.</summary>
    Mapping = 2,

    /// <summary>Registered with mq_notify for the queue's next message (NOTIFY_PID).</summary>
    Notification = 4,
}

/// <summary>A process that holds an object, and how.</summary>
public sealed record IpcHolder(int ProcessId, string? ProcessName, IpcHold How)
{
    public override string ToString() => $"{ProcessName ?? "?"}[{ProcessId}] ({How})";
}

/// <summary>
/// One IPC object on the machine, POSIX or System V, with the processes that hold it. An object nobody holds is an
/// orphan: it keeps its memory (and its name) until someone removes it.
/// </summary>
public sealed class IpcObject
{
    internal IpcObject(IpcObjectKind kind, string name, int? id, long? size, long? count, UnixFileMode mode, uint ownerId, DateTime? changeTime,
        string? path, string? problem)
    {
        Kind = kind;
        Name = name;
        Id = id;
        Size = size;
        Count = count;
        UnixFileMode = mode;
        OwnerId = ownerId;
        ChangeTime = changeTime;
        Path = path;
        Problem = problem;
    }

    public IpcObjectKind Kind { get; }

    /// <summary>The POSIX name ("/jobs"), or a System V key in hex ("0x0000162e"; IPC_PRIVATE for key 0).</summary>
    public string Name { get; }

    /// <summary>The System V identifier (shmid, semid, msqid); null for POSIX objects.</summary>
    public int? Id { get; }

    /// <summary>Bytes: a shared memory object's or segment's size, a queue's message bytes (QSIZE or cbytes); null where unknown.</summary>
    public long? Size { get; }

    /// <summary>A semaphore's value, a queue's messages, a semaphore set's semaphores; null where it does not apply or is unknown.</summary>
    public long? Count { get; }

    /// <summary>The permission bits as octal text, "0600": what -Mode takes and JSON shows (Sysprog's one form of a mode).</summary>
    public string Mode => FileModes.ToOctal(UnixFileMode);

    /// <summary>The permission bits as .NET's UnixFileMode, for bit tests (-band); Mode is the same as octal text.</summary>
    public UnixFileMode UnixFileMode { get; }
    public uint OwnerId { get; }
    public string Owner => Accounts.UserName(OwnerId);
    public DateTime? ChangeTime { get; }

    /// <summary>The file that stands for a POSIX object; null for System V ones.</summary>
    public string? Path { get; }

    /// <summary>Why the entry is not a usable object (a planted file, one this user may not read), or null.</summary>
    public string? Problem { get; }

    /// <summary>The processes that have it open or mapped (or, for a queue, registered for notification).</summary>
    public IReadOnlyList<IpcHolder> Holders => _holders;

    /// <summary>System V segments: processes attached (nattch), counted by the kernel for every process, inspectable or not.</summary>
    public long? Attachments { get; internal init; }

    /// <summary>A POSIX object whose name is gone (unlinked) but which processes still hold: its memory is freed with the last holder.</summary>
    public bool IsUnlinked { get; internal init; }

    /// <summary>A System V segment removed (IPC_RMID) while attached: it goes when the last process detaches.</summary>
    public bool IsMarkedForDestruction { get; internal init; }

    /// <summary>
    /// Nobody holds it: no descriptor, mapping or attachment in any process. Null for System V semaphore sets and
    /// message queues, which processes use by id without holding anything the kernel shows.
    /// </summary>
    public bool? IsOrphaned => Kind is IpcObjectKind.SysVSemaphoreSet or IpcObjectKind.SysVMessageQueue
        ? null
        : _holders.Count == 0 && Attachments is null or 0;

    /// <summary>"shared memory /jobs", "System V segment 0x0000162e (shmid 3)": how errors and prompts name it.</summary>
    public string Description => Kind switch
    {
        IpcObjectKind.SharedMemory => $"shared memory {Name}",
        IpcObjectKind.Semaphore => $"semaphore {Name}",
        IpcObjectKind.MessageQueue => $"message queue {Name}",
        IpcObjectKind.SysVSharedMemory => $"System V segment {Name} (shmid {Id})",
        IpcObjectKind.SysVSemaphoreSet => $"System V semaphore set {Name} (semid {Id})",
        _ => $"System V message queue {Name} (msqid {Id})",
    };

    private readonly List<IpcHolder> _holders = [];

    internal void AddHolder(int processId, string? processName, IpcHold how)
    {
        int index = _holders.FindIndex(h => h.ProcessId == processId);
        if (index < 0)
        {
            _holders.Add(new IpcHolder(processId, processName, how));
        }
        else
        {
            _holders[index] = _holders[index] with { How = _holders[index].How | how };
        }
    }

    public override string ToString() => Description;
}
