using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>The system-wide and per-user limits on message queues, and which one a failed mq_open ran into.</summary>
public static class MessageQueueLimits
{
    private const string Sysctl = "/proc/sys/fs/mqueue/";

    /// <summary>fs.mqueue.msg_max: the most messages an unprivileged caller may ask a queue to hold.</summary>
    public static long? MessageCountMax => ReadSysctl("msg_max");

    /// <summary>fs.mqueue.msgsize_max: the largest message size an unprivileged caller may ask for.</summary>
    public static long? MessageSizeMax => ReadSysctl("msgsize_max");

    /// <summary>fs.mqueue.queues_max: how many queues may exist system-wide.</summary>
    public static long? QueueCountMax => ReadSysctl("queues_max");

    /// <summary>RLIMIT_MSGQUEUE (soft): bytes of queue capacity this user's queues may reserve; null when unlimited.</summary>
    public static long? UserBytesMax => ProcessLimit.Get(ProcessResource.MsgQueue).Soft;

    /// <summary>
    /// About what a queue of this capacity reserves against RLIMIT_MSGQUEUE: the kernel counts the message bytes plus
    /// a struct msg_msg per message and a priority tree node per possible priority in use (about 48 bytes each).
    /// </summary>
    public static long ReservedBytes(long maxMessages, long maxMessageSize) =>
        maxMessages * (maxMessageSize + 48) + Math.Min(maxMessages, Libc.MqPriorityMax) * 48;

    /// <summary>For a failed mq_open(O_CREAT): the limit that was hit, its value, and how to raise it.</summary>
    internal static string? Explain(Errno errno, long maxMessages, long maxMessageSize)
    {
        switch (errno)
        {
            case Errno.EINVAL when MessageCountMax is long countMax && maxMessages > countMax:
                return $"mq_maxmsg {maxMessages} is above fs.mqueue.msg_max ({countMax}), the limit for unprivileged callers. " +
                    $"Raise it as root with 'sysctl fs.mqueue.msg_max={maxMessages}' (or {Sysctl}msg_max), or run with CAP_SYS_RESOURCE.";
            case Errno.EINVAL when MessageSizeMax is long sizeMax && maxMessageSize > sizeMax:
                return $"mq_msgsize {maxMessageSize} is above fs.mqueue.msgsize_max ({sizeMax}), the limit for unprivileged callers. " +
                    $"Raise it as root with 'sysctl fs.mqueue.msgsize_max={maxMessageSize}' (or {Sysctl}msgsize_max), or run with CAP_SYS_RESOURCE.";
            case Errno.ENOSPC:
                return $"fs.mqueue.queues_max ({QueueCountMax?.ToString(CultureInfo.InvariantCulture) ?? "?"}) queues exist already. " +
                    "Remove unused ones (Get-MessageQueue, Remove-MessageQueue) or raise it as root with 'sysctl fs.mqueue.queues_max=N'.";
            case Errno.EMFILE when OutOfDescriptors() is string descriptors:
                return descriptors;
            case Errno.EMFILE when UserBytesMax is long bytesMax:
                long needed = ReservedBytes(maxMessages, maxMessageSize);
                return $"This queue would reserve about {needed} bytes ({MemorySize.Describe(needed)}) against RLIMIT_MSGQUEUE, which is {bytesMax} bytes " +
                    $"({MemorySize.Describe(bytesMax)}) for all the queues of this user together. {UserQueuesNow()} " +
                    "Remove queues no longer used (Get-MessageQueue, Remove-MessageQueue), or raise the limit with 'ulimit -q' (up to the hard limit) " +
                    "or 'msgqueue' in /etc/security/limits.conf.";
            default:
                return null;
        }
    }

    /// <summary>
    /// EMFILE is also RLIMIT_NOFILE's error: when this process has as many descriptors open as that allows, it says so
    /// instead; otherwise null.
    /// </summary>
    private static string? OutOfDescriptors()
    {
        if (ProcessLimit.Get(ProcessResource.NoFile).Soft is not long max)
        {
            return null;
        }
        int open;
        try
        {
            // Less the listing's own descriptor.
            open = System.IO.Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1;
        }
        catch (IOException)
        {
            // Not even the listing could open one.
            open = (int)Math.Min(max, int.MaxValue);
        }
        return open >= max
            ? $"This process has {open} descriptors open, as many as RLIMIT_NOFILE ({max}) allows. Close some, or raise it with 'ulimit -n'."
            : null;
    }

    /// <summary>
    /// What this user's queues reserve already, from the mqueue filesystem: the queues of this IPC namespace only
    /// (RLIMIT_MSGQUEUE counts the user's queues in every one). Never fails: it explains an error, and must not hide it.
    /// </summary>
    private static string UserQueuesNow()
    {
        if (!MessageQueue.IsMqueueFsMounted())
        {
            return "What this user's queues reserve already cannot be seen here: the mqueue filesystem is not mounted on /dev/mqueue to list them.";
        }
        try
        {
            uint user = Libc.geteuid();
            MessageQueueInfo[] mine = MessageQueue.List().Where(q => q.OwnerId == user).ToArray();
            long reserved = mine.Where(q => q.MaxMessages is not null && q.MaxMessageSize is not null)
                .Sum(q => ReservedBytes(q.MaxMessages!.Value, q.MaxMessageSize!.Value));
            int unknown = mine.Count(q => q.MaxMessages is null || q.MaxMessageSize is null);
            return $"This user's {mine.Length} queue{(mine.Length == 1 ? "" : "s")} in /dev/mqueue reserve{(mine.Length == 1 ? "s" : "")} about {reserved} bytes ({MemorySize.Describe(reserved)})" +
                (unknown > 0 ? $", {unknown} of them unreadable and not counted" : "") +
                "; queues of this user in other IPC namespaces (containers, other runs) count too and are not seen here.";
        }
        catch (Exception e) when (e is SysprogException or IOException or UnauthorizedAccessException)
        {
            return $"What this user's queues reserve already could not be listed ({e.Message}).";
        }
    }

    private static long? ReadSysctl(string name) => ProcFile.Sysctl("fs.mqueue." + name);
}
