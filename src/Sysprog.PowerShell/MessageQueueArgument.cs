namespace Sysprog.PowerShell;

/// <summary>
/// What -Queue accepts: a name (/q) or an open MessageQueue. PowerShell converts either through these constructors,
/// so `Send-MqMessage -Queue /q` and `Send-MqMessage -Queue $q` both bind.
/// </summary>
public sealed class MessageQueueArgument
{
    public MessageQueueArgument(string name) => Name = name;

    public MessageQueueArgument(MessageQueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Queue = queue;
        Name = queue.Name;
    }

    public string Name { get; }

    public MessageQueue? Queue { get; }

    /// <summary>The open queue, opening it by name when needed; <paramref name="opened"/> says whether the caller must close it.</summary>
    internal MessageQueue Resolve(FileAccess access, SyscallTrace? trace, out bool opened)
    {
        opened = Queue is null;
        return Queue ?? MessageQueue.Open(Name, access, trace: trace);
    }

    public override string ToString() => Name;
}
