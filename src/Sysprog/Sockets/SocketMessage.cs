using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>Who sent a message or is on the other end of a connection: a process, a user, a group (struct ucred).</summary>
public sealed class SocketCredentials
{
    internal SocketCredentials(UnixCredentials credentials)
    {
        ProcessId = credentials.ProcessId;
        UserId = credentials.UserId;
        GroupId = credentials.GroupId;
    }

    public int ProcessId { get; }

    public uint UserId { get; }

    public uint GroupId { get; }

    public string UserName => Accounts.UserName(UserId);

    public string GroupName => Accounts.GroupName(GroupId);

    public override string ToString() => $"pid {ProcessId}, uid {UserId} ({UserName}), gid {GroupId} ({GroupName})";
}

/// <summary>
/// One message received from a socket: its bytes, who sent it, and the descriptors that came with it, each already
/// this process's own and typed (a <see cref="SharedMemory"/>, a <see cref="MessageQueue"/>, a <see cref="PipeEnd"/>,
/// a <see cref="Socket"/>, an <see cref="EventFd"/>, a <see cref="TimerFd"/>, or a <see cref="FileDescriptor"/> for
/// other kinds). Close the descriptors when done with them.
/// </summary>
public sealed class SocketMessage
{
    internal SocketMessage(byte[] data, SocketEndpoint? sender, SocketCredentials? credentials, IReadOnlyList<object> descriptors, bool isTruncated,
        bool descriptorsLost, bool isEndOfStream, int? originalLength = null)
    {
        Data = data;
        Sender = sender;
        Credentials = credentials;
        Descriptors = descriptors;
        IsTruncated = isTruncated;
        DescriptorsLost = descriptorsLost;
        IsEndOfStream = isEndOfStream;
        OriginalLength = originalLength ?? data.Length;
    }

    public byte[] Data { get; }

    public int Length => Data.Length;

    /// <summary>The bytes as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Data);

    /// <summary>The sender's address, for datagrams; null on a connected socket, which always has the same sender.</summary>
    public SocketEndpoint? Sender { get; }

    /// <summary>The sending process, user and group (SCM_CREDENTIALS), on a UNIX socket with SO_PASSCRED; null otherwise.</summary>
    public SocketCredentials? Credentials { get; }

    public IReadOnlyList<object> Descriptors { get; }

    /// <summary>A datagram longer than the buffer was cut short; <see cref="OriginalLength"/> says how long it was.</summary>
    public bool IsTruncated { get; }

    public int OriginalLength { get; }

    /// <summary>MSG_CTRUNC: the kernel dropped descriptors or credentials that came with it (this process had no free descriptor numbers, RLIMIT_NOFILE).</summary>
    public bool DescriptorsLost { get; }

    /// <summary>The peer closed its end of a stream (or shut it down for sending): nothing more will come.</summary>
    public bool IsEndOfStream { get; }

    public override string ToString() =>
        IsEndOfStream ? "(end of stream)" : $"{Length} bytes{(Descriptors.Count > 0 ? $", {Descriptors.Count} descriptors" : "")}{(Credentials is null ? "" : $" from pid {Credentials.ProcessId}")}";
}
