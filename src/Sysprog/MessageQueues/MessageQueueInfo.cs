using Sysprog.Interop;

namespace Sysprog;

/// <summary>One queue in /dev/mqueue, as listed.</summary>
public sealed class MessageQueueInfo
{
    internal MessageQueueInfo(string name, StatX status, long? queueBytes, MqAttributes? attributes)
    {
        Name = name;
        QueueBytes = queueBytes;
        CurrentMessages = attributes?.CurrentMessages;
        MaxMessages = attributes?.MaxMessages;
        MaxMessageSize = attributes?.MessageSize;
        Mode = (UnixFileMode)(status.Mode & 0xFFF);
        OwnerId = status.Uid;
        GroupId = status.Gid;
        LastWriteTime = status.ModifyTime.ToDateTimeOffset().LocalDateTime;
    }

    public string Name { get; }

    /// <summary>QSIZE: bytes of message data in the queue now (null when this user may not read it).</summary>
    public long? QueueBytes { get; }

    /// <summary>From mq_getattr; null when this user may not open the queue.</summary>
    public long? CurrentMessages { get; }
    public long? MaxMessages { get; }
    public long? MaxMessageSize { get; }
    public UnixFileMode Mode { get; }
    public uint OwnerId { get; }
    public string Owner => Accounts.UserName(OwnerId);
    public uint GroupId { get; }
    public string Group => Accounts.GroupName(GroupId);
    public DateTime LastWriteTime { get; }
    public string Path => MessageQueue.Directory + Name;

    public override string ToString() => $"{Name} ({CurrentMessages?.ToString() ?? "?"}/{MaxMessages?.ToString() ?? "?"} messages, {FileModes.ToOctal(Mode)}, {Owner})";
}
