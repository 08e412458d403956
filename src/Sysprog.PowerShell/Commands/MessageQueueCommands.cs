using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>New-MessageQueue: mq_open(O_CREAT|O_EXCL) with a capacity.</summary>
[Cmdlet(VerbsCommon.New, "MessageQueue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(MessageQueue))]
public sealed class NewMessageQueueCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter]
    [ValidateRange(1L, 65536L)]
    public long MaxMessages { get; set; } = 10;

    [Parameter]
    [ValidateRange(1L, 16777216L)]
    public long MaxMessageSize { get; set; } = 8192;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    /// <summary>O_NONBLOCK: sends to a full queue and receives from an empty one write a WouldBlock record instead of waiting.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (ShouldProcess(name, $"Create message queue ({MaxMessages} messages of up to {MaxMessageSize} bytes, mode {Mode})"))
            {
                TryRun(name, () => WriteObject(Handles.Track(MessageQueue.Create(name, MaxMessages, MaxMessageSize, FileModes.ParseOctal(Mode, nameof(Mode)), Trace, NonBlocking))));
            }
        }
    }
}

/// <summary>Open-MessageQueue: mq_open of an existing queue.</summary>
[Cmdlet(VerbsCommon.Open, "MessageQueue")]
[OutputType(typeof(MessageQueue))]
public sealed class OpenMessageQueueCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(MessageQueueNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter]
    public FileAccess Access { get; set; } = FileAccess.ReadWrite;

    /// <summary>O_NONBLOCK: sends to a full queue and receives from an empty one fail with EAGAIN instead of waiting.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            TryRun(name, () => WriteObject(Handles.Track(MessageQueue.Open(name, Access, NonBlocking, Trace))));
        }
    }
}

/// <summary>Get-MessageQueue: lists /dev/mqueue.</summary>
[Cmdlet(VerbsCommon.Get, "MessageQueue")]
[OutputType(typeof(MessageQueueInfo))]
public sealed class GetMessageQueueCommand : SysprogCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(MessageQueueNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        foreach (string pattern in Name)
        {
            TryRun(pattern, () =>
            {
                WriteObject(NameNotFoundException.ThrowIfExactNameMissing(MessageQueue.List(pattern, Trace), pattern, "message queue",
                    "Create it with New-MessageQueue."), enumerateCollection: true);
            });
        }
    }
}

/// <summary>Set-MessageQueue: mq_setattr (O_NONBLOCK on this descriptor).</summary>
[Cmdlet(VerbsCommon.Set, "MessageQueue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(MessageQueue))]
public sealed class SetMessageQueueCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MessageQueue InputObject { get; set; } = null!;

    /// <summary>-NonBlocking sets O_NONBLOCK; -NonBlocking:$false clears it.</summary>
    [Parameter(Mandatory = true)]
    public SwitchParameter NonBlocking { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ShouldProcess(InputObject.Name, $"mq_setattr {(NonBlocking ? "O_NONBLOCK" : "blocking")}") &&
            TryRun(InputObject, () => InputObject.SetNonBlocking(NonBlocking, Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Remove-MessageQueue: mq_unlink.</summary>
[Cmdlet(VerbsCommon.Remove, "MessageQueue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveMessageQueueCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(MessageQueueNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (ShouldProcess(name, "Unlink message queue"))
            {
                TryRun(name, () => MessageQueue.Unlink(name, Trace));
            }
        }
    }
}

/// <summary>Close-MessageQueue: closes this session's descriptor (and stops its watcher); the queue stays.</summary>
[Cmdlet(VerbsCommon.Close, "MessageQueue")]
[OutputType(typeof(void))]
public sealed class CloseMessageQueueCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MessageQueue[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (MessageQueue queue in InputObject)
        {
            TryRun(queue, () => queue.Close(Trace));
        }
    }
}

/// <summary>Send-MqMessage: mq_send of each pipeline input, as text, raw bytes or a serialized object.</summary>
[Cmdlet(VerbsCommunications.Send, "MqMessage")]
[OutputType(typeof(WouldBlock))]
public sealed class SendMqMessageCommand : SysprogCmdlet
{
    private MessageQueue? _queue;
    private bool _opened;
    private System.Text.Encoding _encoding = System.Text.Encoding.UTF8;

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(MessageQueueNameCompleter))]
    public MessageQueueArgument Queue { get; set; } = null!;

    /// <summary>The message: a byte[] is sent as is, anything else as text, or as CLIXML with -AsObject.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowEmptyString]
    public object InputObject { get; set; } = null!;

    [Parameter]
    [ValidateRange(0, MessageQueue.MaxPriority)]
    public int Priority { get; set; }

    /// <summary>Default: wait while the queue is full until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public string Encoding { get; set; } = "utf8";

    /// <summary>Serialize each input with PSSerializer (CLIXML, UTF-8), for Receive-MqMessage -AsObject.</summary>
    [Parameter]
    public SwitchParameter AsObject { get; set; }

    /// <summary>CLIXML depth for -AsObject.</summary>
    [Parameter]
    [ValidateRange(1, 10)]
    public int Depth { get; set; } = 2;

    protected override void BeginProcessing()
    {
        try
        {
            _encoding = TextEncodings.Parse(Encoding, nameof(Encoding));
            _queue = Queue.Resolve(FileAccess.Write, Trace, out _opened);
        }
        catch (Exception e) when (ErrorMapping.IsExpected(e))
        {
            ThrowTerminatingError(ToErrorRecord(e, Queue.Name));
        }
    }

    protected override void ProcessRecord()
    {
        if (!TryEncode(out byte[]? body))
        {
            return;
        }
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(_queue!, () =>
        {
            if (!_queue!.Send(body, Priority, timeout, Cancellation, Trace))
            {
                WriteObject(WouldBlockInstead(_queue, timeout) ? new WouldBlock(_queue, "send")
                    : throw new TimeoutException($"{_queue.Name} stayed full for {Units.FormatDuration(timeout)}; the message was not sent."));
            }
        });
    }

    /// <summary>
    /// The input as a message body. An input that cannot be turned into one (its ToString or a property throws) is an
    /// error on that input alone, targeting it, and the rest of the pipeline is still sent: the object came from the
    /// user's script, so any failure of its conversion counts, not only the expected kinds.
    /// </summary>
    private bool TryEncode([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? body)
    {
        object input = InputObject is PSObject wrapped ? wrapped.BaseObject : InputObject;
        try
        {
            body = AsObject
                ? System.Text.Encoding.UTF8.GetBytes(PSSerializer.Serialize(InputObject, Depth))
                : input as byte[] ?? _encoding.GetBytes(LanguagePrimitives.ConvertTo<string>(InputObject) ?? "");
            return true;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteError(new ErrorRecord(new InvalidDataException(
                $"This input cannot be made into a message for {_queue!.Name} ({(AsObject ? "CLIXML" : "text")}); it was not sent. {e.Message}{(e.GetBaseException() == e ? "" : " " + e.GetBaseException().Message)}", e),
                "NotSerializable", ErrorCategory.InvalidData, InputObject));
            body = null;
            return false;
        }
    }

    protected override void ReleaseResources()
    {
        if (_opened)
        {
            _queue?.Dispose();
        }
    }
}

/// <summary>Receive-MqMessage: mq_receive, highest priority first; with -Wait, a stream until Ctrl+C, -Count or -TimeoutSeconds.</summary>
[Cmdlet(VerbsCommunications.Receive, "MqMessage")]
[OutputType(typeof(MqMessage), typeof(WouldBlock))]
public sealed class ReceiveMqMessageCommand : SysprogCmdlet
{
    private MessageQueue? _queue;
    private bool _opened;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ArgumentCompleter(typeof(MessageQueueNameCompleter))]
    public MessageQueueArgument Queue { get; set; } = null!;

    /// <summary>Stop after this many messages. Default: 1, or unlimited with -Wait.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    /// <summary>Keep receiving as messages arrive, until Ctrl+C, -Count or -TimeoutSeconds without a message.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>How long to wait for a message. Default: not at all, or without limit with -Wait.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    /// <summary>How Text decodes the body.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public string Encoding { get; set; } = "utf8";

    /// <summary>Write the objects that Send-MqMessage -AsObject serialized, instead of messages.</summary>
    [Parameter]
    public SwitchParameter AsObject { get; set; }

    protected override void ProcessRecord()
    {
        System.Text.Encoding encoding;
        try
        {
            encoding = TextEncodings.Parse(Encoding, nameof(Encoding));
            ReleaseResources();
            _queue = Queue.Resolve(FileAccess.Read, Trace, out _opened);
        }
        catch (Exception e) when (ErrorMapping.IsExpected(e))
        {
            WriteError(ToErrorRecord(e, Queue.Name));
            return;
        }
        TimeSpan timeout = TimeoutSeconds is double seconds ? TimeSpan.FromSeconds(seconds) : Wait ? Timeout.InfiniteTimeSpan : TimeSpan.Zero;
        int wanted = Count ?? (Wait ? int.MaxValue : 1);
        for (int received = 0; received < wanted; received++)
        {
            MqMessage? message = null;
            if (!TryRun(_queue, () => message = _queue.Receive(timeout, Cancellation, Trace, encoding)))
            {
                return;
            }
            if (message is null)
            {
                // Nothing came in time: the end of a -Wait stream; a WouldBlock record when asked outright not to wait
                // (-TimeoutSeconds 0, or a non-blocking queue given a timeout); an error when a timeout was asked for.
                if (!Wait && TimeoutSeconds is not null && received == 0)
                {
                    if (WouldBlockInstead(_queue, timeout))
                    {
                        WriteObject(new WouldBlock(_queue, "receive"));
                    }
                    else
                    {
                        WriteError(new ErrorRecord(new TimeoutException($"No message arrived in {_queue.Name} within {Units.FormatDuration(timeout)}."),
                            "Timeout", ErrorCategory.OperationTimeout, _queue));
                    }
                }
                return;
            }
            if (!AsObject)
            {
                WriteObject(message);
            }
            else if (TryDeserialize(message, out object? value))
            {
                WriteObject(value);
            }
        }
    }

    /// <summary>
    /// A body that is not CLIXML is an error on that message alone, targeting it, so its bytes are not lost and the
    /// stream goes on. Any failure of the deserializer counts: the body came from another process, not from this code.
    /// </summary>
    private bool TryDeserialize(MqMessage message, out object? value)
    {
        try
        {
            value = PSSerializer.Deserialize(message.Text);
            return true;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteError(new ErrorRecord(new InvalidDataException(
                $"A message of priority {message.Priority} ({message.Length} bytes) from {message.Queue} is not CLIXML, so -AsObject cannot read it " +
                $"(was it sent with Send-MqMessage -AsObject?). The message is this error's TargetObject. {e.Message}", e),
                "NotClixml", ErrorCategory.InvalidData, message));
            value = null;
            return false;
        }
    }

    protected override void ReleaseResources()
    {
        if (_opened)
        {
            _queue?.Dispose();
            _opened = false;
        }
    }
}

/// <summary>New-MqNotification: mq_notify, by thread or by signal; the object raises Notified for Register-ObjectEvent and Wait-Event.</summary>
[Cmdlet(VerbsCommon.New, "MqNotification")]
[OutputType(typeof(MqNotification))]
public sealed class NewMqNotificationCommand : SysprogCmdlet
{
    /// <summary>The queue, as Open-MessageQueue or New-MessageQueue gives it; it must stay open while the registration lives.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MessageQueue Queue { get; set; } = null!;

    /// <summary>Deliver by this signal (SIGEV_SIGNAL: "USR1", "SIGRTMIN+2", 10). Default: on a thread the C library starts (SIGEV_THREAD).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Signal { get; set; }

    protected override void ProcessRecord() => TryRun(Queue, () => WriteObject(Handles.Track(Signal is null
        ? MqNotification.ByThread(Queue, Trace)
        : MqNotification.BySignal(Queue, Signals.Parse(Signal, nameof(Signal)), Trace))));
}

/// <summary>Enable-MqNotification: registers again after a notification (mq_notify is one-shot).</summary>
[Cmdlet(VerbsLifecycle.Enable, "MqNotification")]
[OutputType(typeof(MqNotification))]
public sealed class EnableMqNotificationCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MqNotification[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (MqNotification notification in InputObject)
        {
            if (TryRun(notification, () => notification.Arm(Trace)) && PassThru)
            {
                WriteObject(notification);
            }
        }
    }
}

/// <summary>Close-MqNotification: ends the registration (mq_notify with NULL) and stops listening; the queue stays open.</summary>
[Cmdlet(VerbsCommon.Close, "MqNotification")]
[OutputType(typeof(void))]
public sealed class CloseMqNotificationCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MqNotification[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (MqNotification notification in InputObject)
        {
            TryRun(notification, () => notification.Close(Trace));
        }
    }
}
