using System.Text;

namespace Sysprog;

/// <summary>One received message.</summary>
public sealed class MqMessage
{
    private readonly byte[] _body;
    private readonly Encoding _textEncoding;

    public MqMessage(string queue, int priority, byte[] body, DateTime receivedAt, Encoding? textEncoding = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        Queue = queue;
        Priority = priority;
        _body = body;
        ReceivedAt = receivedAt;
        _textEncoding = textEncoding ?? Encoding.UTF8;
    }

    /// <summary>The queue it came from.</summary>
    public string Queue { get; }

    public int Priority { get; }

    public int Length => _body.Length;

    /// <summary>A copy of the raw bytes.</summary>
    public byte[] Body => (byte[])_body.Clone();

    /// <summary>The body decoded as text: UTF-8 unless the receiver chose another encoding.</summary>
    public string Text => GetText(_textEncoding);

    public DateTime ReceivedAt { get; }

    public string GetText(Encoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        return encoding.GetString(_body);
    }

    public ReadOnlySpan<byte> AsSpan() => _body;

    public override string ToString() => $"[{Priority}] {(Length <= 60 ? Text : Text[..60] + "...")}";
}

public sealed class MqMessageEventArgs(MqMessage message) : EventArgs
{
    public MqMessage Message { get; } = message;
}
