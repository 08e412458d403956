using Sysprog.Interop;

namespace Sysprog;

/// <summary>One queue in /dev/mqueue, as listed.</summary>
public sealed class MessageQueueInfo : NamedObjectInfo
{
    internal MessageQueueInfo(string name, StatX status, long? queueBytes, int? notifyProcessId, MqAttributes? attributes, string? problem) : base(name, status, problem)
    {
        QueueBytes = queueBytes;
        NotifyProcessId = notifyProcessId;
        CurrentMessages = attributes?.CurrentMessages;
        MaxMessages = attributes?.MaxMessages;
        MaxMessageSize = attributes?.MessageSize;
    }

    /// <summary>QSIZE: bytes of message data in the queue now (null when this user may not read it).</summary>
    public long? QueueBytes { get; }

    /// <summary>NOTIFY_PID: the process registered with mq_notify to hear of the next message; null when none (or unreadable).</summary>
    public int? NotifyProcessId { get; }

    /// <summary>From mq_getattr; null when this user may not open the queue.</summary>
    public long? CurrentMessages { get; }
    public long? MaxMessages { get; }
    public long? MaxMessageSize { get; }
    public override string Path => MessageQueue.Directory + Name;

    public override string ToString() => $"{Name} ({CurrentMessages?.ToString() ?? "?"}/{MaxMessages?.ToString() ?? "?"} messages, {Mode}, {Owner})";
}
