using System.Globalization;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// One limit that governs IPC objects: where it is set, its value, how much of it is in use where the kernel says,
/// and a hint when it is set the way that commonly bites (a 64 MiB /dev/shm, an unmounted mqueue filesystem, a
/// private IPC namespace, a limit nearly used up).
/// </summary>
/// <remarks>
/// Limit is unsigned so that it holds the kernel's number whole: kernel.shmmax and kernel.shmall default to
/// ULONG_MAX - 2^24 (18446744073692774399), past long.
/// </remarks>
public sealed record IpcLimit(string Area, string Name, string Value, ulong? Limit, long? Used, string Meaning)
{
    /// <summary>What to do about it; null when nothing needs doing.</summary>
    public string? Hint { get; init; }
}

/// <summary>
/// Every limit on POSIX and System V IPC objects, read from where the kernel keeps it: the fs.mqueue and kernel
/// sysctls, this process's resource limits, statfs of /dev/shm, /proc/sysvipc for usage, and the IPC namespace.
/// </summary>
public static class IpcLimits
{
    /// <summary>The inode of the kernel's initial IPC namespace (PROC_IPC_INIT_INO): the host's, as opposed to a container's.</summary>
    public const long InitialNamespace = 0xEFFFFFFF;

    /// <summary>The /dev/shm size that container runtimes give by default, and that large shared memory outgrows.</summary>
    public const long ContainerSharedMemoryDefault = 64L * 1024 * 1024;

    private const string MessageQueues = "POSIX message queues";
    private const string SharedMemory = "POSIX shared memory";
    private const string Semaphores = "POSIX semaphores";
    private const string Process = "This process";
    private const string SysVShared = "System V shared memory";
    private const string SysVSemaphores = "System V semaphores";
    private const string SysVMessages = "System V message queues";
    private const string Namespace = "IPC namespace";

    /// <summary>Reads every limit; one that cannot be read is a row saying why, never a silent gap.</summary>
    public static IReadOnlyList<IpcLimit> Read(SyscallTrace? trace = null)
    {
        bool mqueueMounted = MessageQueue.IsMqueueFsMounted();
        long? queues = mqueueMounted ? Directory.EnumerateFiles(MessageQueue.Directory).LongCount() : null;
        IReadOnlyList<Dictionary<string, string>>? sysVShared = SysVObjects("shm", trace);
        IReadOnlyList<Dictionary<string, string>>? sysVSemaphores = SysVObjects("sem", trace);
        IReadOnlyList<Dictionary<string, string>>? sysVMessages = SysVObjects("msg", trace);
        long pageSize = Environment.SystemPageSize;
        string[] sem = Sysctl("kernel.sem", trace, out string? semError)?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];

        var rows = new List<IpcLimit>
        {
            SysctlRow(MessageQueues, "fs.mqueue.msg_max", Unit.Count, null, "The most messages a queue may hold, when an unprivileged process creates it.", trace),
            SysctlRow(MessageQueues, "fs.mqueue.msgsize_max", Unit.Bytes, null, "The largest message a queue may take, when an unprivileged process creates it.", trace),
            SysctlRow(MessageQueues, "fs.mqueue.msg_default", Unit.Count, null, "Messages per queue when mq_open is given no attributes.", trace),
            SysctlRow(MessageQueues, "fs.mqueue.msgsize_default", Unit.Bytes, null, "Message size when mq_open is given no attributes.", trace),
            SysctlRow(MessageQueues, "fs.mqueue.queues_max", Unit.Count, queues,
                "Queues in this IPC namespace" + (mqueueMounted ? " (used: those in /dev/mqueue)." : "; the mqueue filesystem is not mounted, so their count is unknown."), trace),
            ResourceRow(MessageQueues, ProcessResource.MsgQueue, Unit.Bytes, null,
                "Bytes all queues of this user may reserve, each about messages x (size + 48); ulimit -q.", trace),
            MqueueFileSystemRow(mqueueMounted),
            SharedMemoryFileSystemRow(trace),
            new(Semaphores, "SEM_VALUE_MAX", Show(PosixSemaphore.MaxValue, Unit.Count), PosixSemaphore.MaxValue, null,
                "The highest value a semaphore may have; sem_post past it fails with EOVERFLOW. Named semaphores are files in /dev/shm."),
            ResourceRow(Process, ProcessResource.MemLock, Unit.Bytes, LockedBytes(trace),
                "Bytes this process may lock in RAM (mlock, SHM_LOCK) without CAP_IPC_LOCK; ulimit -l. Used: VmLck.", trace),
            ResourceRow(Process, ProcessResource.NoFile, Unit.Count, Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount(),
                "Descriptors this process may have open: each queue, shared memory object, eventfd or pty holds one; ulimit -n. The .NET runtime raises the soft limit to the hard one as it starts.", trace),
            ResourceRow(Process, ProcessResource.RtPrio, Unit.Count, null,
                "The highest real-time priority (SCHED_FIFO, SCHED_RR) this process may set without CAP_SYS_NICE; ulimit -r.", trace),
            SysctlRow(SysVShared, "kernel.shmmax", Unit.Bytes, null, "The largest segment shmget may create.", trace),
            SysctlRow(SysVShared, "kernel.shmall", Unit.Pages, sysVShared?.Sum(s => (ProcFile.Column(s, "size") + pageSize - 1) / pageSize),
                $"Pages ({pageSize} bytes) all segments may use together.", trace),
            SysctlRow(SysVShared, "kernel.shmmni", Unit.Count, sysVShared?.Count, "Segments that may exist.", trace),
            SemaphoreRow(sem, 0, "SEMMSL", sysVSemaphores?.Select(s => ProcFile.Column(s, "nsems")).DefaultIfEmpty().Max(), "Semaphores per set (used: the largest set).", semError),
            SemaphoreRow(sem, 1, "SEMMNS", sysVSemaphores?.Sum(s => ProcFile.Column(s, "nsems")), "Semaphores in all sets together.", semError),
            SemaphoreRow(sem, 2, "SEMOPM", null, "Operations one semop call may make.", semError),
            SemaphoreRow(sem, 3, "SEMMNI", sysVSemaphores?.Count, "Semaphore sets that may exist.", semError),
            SysctlRow(SysVMessages, "kernel.msgmax", Unit.Bytes, null, "The largest message msgsnd takes.", trace),
            SysctlRow(SysVMessages, "kernel.msgmnb", Unit.Bytes, sysVMessages?.Select(q => ProcFile.Column(q, "cbytes")).DefaultIfEmpty().Max(),
                "Bytes a queue may hold (used: the fullest queue).", trace),
            SysctlRow(SysVMessages, "kernel.msgmni", Unit.Count, sysVMessages?.Count, "Message queues that may exist.", trace),
            NamespaceRow(trace),
        };
        return rows.Select(WithUsageHint).ToList();
    }

    private enum Unit
    {
        Count,
        Bytes,
        Pages,
    }

    private static string Show(ulong? value, Unit unit) => value switch
    {
        null => "unlimited",
        ulong v when unit == Unit.Bytes && v >= 1024 => $"{v.ToString(CultureInfo.InvariantCulture)} ({MemorySize.Describe((long)v)})",
        ulong v when unit == Unit.Bytes => $"{v.ToString(CultureInfo.InvariantCulture)} bytes",
        ulong v when unit == Unit.Pages => $"{v.ToString(CultureInfo.InvariantCulture)} pages",
        ulong v => v.ToString(CultureInfo.InvariantCulture),
    };

    // A count, size or rlimit the kernel keeps as a non-negative long (an unlimited rlimit is already null).
    private static ulong? Unsigned(long? value) => value is long v ? checked((ulong)v) : null;

    /// <summary>A sysctl's text; null with the errno's name in <paramref name="error"/> when it cannot be read.</summary>
    private static string? Sysctl(string name, SyscallTrace? trace, out string? error)
    {
        try
        {
            error = null;
            return ProcFile.SysctlText(name, trace);
        }
        catch (SysprogException e)
        {
            error = $"unavailable: {e.Errno.Symbol()}";
            return null;
        }
    }

    /// <summary>A number as the kernel prints it, whole: kernel.shmmax's default is near ULONG_MAX.</summary>
    private static ulong? ParseLimit(string? text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ? value : null;

    private static IpcLimit SysctlRow(string area, string name, Unit unit, long? used, string meaning, SyscallTrace? trace)
    {
        string? text = Sysctl(name, trace, out string? error);
        ulong? limit = ParseLimit(text);
        // Past long, a byte or page count is more than any machine has (MemorySize.Describe takes a long).
        string value = error ?? (limit > long.MaxValue ? $"{text} (no practical limit)" : limit is null ? $"{text} (not a number)" : Show(limit, unit));
        return new IpcLimit(area, name, value, limit, used, meaning);
    }

    private static IpcLimit SemaphoreRow(string[] fields, int index, string field, long? used, string meaning, string? error)
    {
        ulong? limit = fields.Length == 4 ? ParseLimit(fields[index]) : null;
        string value = error ?? (limit is null ? "unavailable: kernel.sem does not have four fields" : Show(limit, Unit.Count));
        return new IpcLimit(SysVSemaphores, $"kernel.sem {field}", value, limit, used, meaning);
    }

    private static IpcLimit ResourceRow(string area, ProcessResource resource, Unit unit, long? used, string meaning, SyscallTrace? trace)
    {
        string name = ProcessLimit.NameOf(resource);
        ProcessLimit limit = ProcessLimit.Get(resource, 0, trace);
        return new IpcLimit(area, name, $"{Show(Unsigned(limit.Soft), unit)} (hard: {Show(Unsigned(limit.Hard), unit)})", Unsigned(limit.Soft), used, meaning);
    }

    private static IpcLimit MqueueFileSystemRow(bool mounted) =>
        new(MessageQueues, "mqueue filesystem", mounted ? $"mounted on {MessageQueue.Directory}" : "not mounted", null, null,
            "Where queues are visible as files, for listing (Get-MessageQueue, sysprog mq list) and their NOTIFY_PID.")
        {
            Hint = mounted ? null : $"Queues work without it, but cannot be listed. As root: mkdir -p {MessageQueue.Directory} && mount -t mqueue none {MessageQueue.Directory}; " +
                "in a container, mount it in the image's entry point or run with the host's IPC namespace.",
        };

    private static IpcLimit SharedMemoryFileSystemRow(SyscallTrace? trace)
    {
        const string path = "/dev/shm";
        const string meaning = "Where POSIX shared memory objects and named semaphores live (a tmpfs, in RAM and swap); objects cannot grow past its size.";
        SyscallResult result = Libc.statfs(path, out FileSystemStatus status);
        if (result.Failed)
        {
            Syscall.Traced(result, trace, "statfs", $"{Quote(path)}, ...");
            return new IpcLimit(SharedMemory, path, $"unavailable: {result.Errno.Symbol()}", null, null, meaning)
            {
                Hint = "Without /dev/shm, shm_open and sem_open fail. As root: mount -t tmpfs -o size=50% tmpfs /dev/shm.",
            };
        }
        long size = (long)status.Blocks * status.BlockSize;
        long used = (long)(status.Blocks - status.FreeBlocks) * status.BlockSize;
        bool tmpfs = status.Type == Libc.TMPFS_MAGIC;
        Syscall.Traced(result, trace, "statfs", $"{Quote(path)}, {{f_type={(tmpfs ? "TMPFS_MAGIC" : $"0x{status.Type:x}")}, f_bsize={status.BlockSize}, f_blocks={status.Blocks}, f_bfree={status.FreeBlocks}, ...}}");
        string? hint = !tmpfs
            ? "/dev/shm is not a tmpfs here: shared memory objects are files on that filesystem, written back to its disk."
            : size <= ContainerSharedMemoryDefault
                ? $"Only {MemorySize.Describe(size)}, the size container runtimes default to: larger shared memory fails (ENOSPC, or SIGBUS on touching pages past it, which Sysprog's maps refuse). " +
                    "Give it more: docker run --shm-size=1g, a Kubernetes emptyDir with medium: Memory mounted on /dev/shm, or as root mount -o remount,size=1G /dev/shm."
                : null;
        long free = (long)status.AvailableBlocks * status.BlockSize;
        return new IpcLimit(SharedMemory, path, $"{Show(Unsigned(size), Unit.Bytes)}{(tmpfs ? " tmpfs" : "")}, {MemorySize.Describe(free)} free", Unsigned(size), used, meaning) { Hint = hint };
    }

    private static IpcLimit NamespaceRow(SyscallTrace? trace)
    {
        const string meaning = "POSIX and System V objects are visible only inside one IPC namespace; containers usually get their own.";
        long? own = NamespaceInode("/proc/self/ns/ipc", trace, out string ownText);
        long? init = NamespaceInode("/proc/1/ns/ipc", trace, out string initText);
        string pidOne = init is null ? $"PID 1's {initText}" : init == own ? "the same as PID 1's" : $"PID 1 is in {initText}";
        return new IpcLimit(Namespace, "ipc", $"{ownText}, {pidOne}", Unsigned(own), null, meaning)
        {
            Hint = own is long inode && inode != InitialNamespace
                ? "A private IPC namespace (a container's, or unshare --ipc): other containers and the host do not see these objects, nor this process theirs. " +
                    "To share, start the processes in one namespace: docker run --ipc=host, --ipc=container:NAME, or a pod's containers."
                : null,
        };
    }

    /// <summary>The namespace inode from a /proc/PID/ns link ("ipc:[4026531839]"), with the link or why it cannot be read.</summary>
    private static long? NamespaceInode(string link, SyscallTrace? trace, out string text)
    {
        try
        {
            text = ProcFile.ReadLink(link, trace);
        }
        catch (SysprogException e)
        {
            text = $"cannot be read ({e.Errno.Symbol()})";
            return null;
        }
        int open = text.IndexOf('[', StringComparison.Ordinal);
        return open >= 0 && text.EndsWith(']') && long.TryParse(text.AsSpan(open + 1, text.Length - open - 2), NumberStyles.None, CultureInfo.InvariantCulture, out long inode)
            ? inode
            : null;
    }

    /// <summary>VmLck of /proc/self/status, in bytes.</summary>
    private static long? LockedBytes(SyscallTrace? trace)
    {
        // "VmLck:	     12 kB"
        string? locked = ProcFile.Field("/proc/self/status", "VmLck", trace);
        return locked is not null && long.TryParse(locked.Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib) ? kib * 1024 : null;
    }

    /// <summary>
    /// The rows of /proc/sysvipc/KIND, each by its header's column names; null when it cannot be read (no System V
    /// IPC in this kernel, or a /proc that hides it), which leaves the usage it would give unknown rather than 0.
    /// </summary>
    private static IReadOnlyList<Dictionary<string, string>>? SysVObjects(string kind, SyscallTrace? trace)
    {
        try
        {
            return ProcFile.ReadTable($"/proc/sysvipc/{kind}", trace);
        }
        catch (SysprogException)
        {
            return null;
        }
    }

    /// <summary>A limit 90% used gets a hint, unless it has one already.</summary>
    private static IpcLimit WithUsageHint(IpcLimit row) =>
        row.Hint is null && row.Used is long used and >= 0 && row.Limit is ulong limit and > 0 && used >= limit * 0.9
            ? row with { Hint = $"{(ulong)used * 100 / limit}% used: {row.Name} is nearly reached." }
            : row;
}
