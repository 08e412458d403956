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
            case Errno.EMFILE when UserBytesMax is long bytesMax:
                long needed = ReservedBytes(maxMessages, maxMessageSize);
                return $"This queue reserves about {needed} bytes ({MemorySize.Describe(needed)}) against RLIMIT_MSGQUEUE, which is {bytesMax} bytes " +
                    $"({MemorySize.Describe(bytesMax)}) for all of this user's queues, or this process ran out of file descriptors. " +
                    "Raise the first with 'ulimit -q' (up to the hard limit) or 'msgqueue' in /etc/security/limits.conf.";
            default:
                return null;
        }
    }

    private static long? ReadSysctl(string name) => ProcFile.Sysctl("fs.mqueue." + name);
}
