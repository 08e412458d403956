using System.Management.Automation;
using System.Text;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Lets a Pipe stand for the end a cmdlet needs: its read end for Read-FileDescriptor, its write end for
/// Write-FileDescriptor, so that `$pipe | Read-FileDescriptor` reads.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PipeEndTransformationAttribute(bool readEnd) : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        (inputData is PSObject wrapped ? wrapped.BaseObject : inputData) is Pipe pipe ? (readEnd ? pipe.ReadEnd : pipe.WriteEnd) : inputData;
}

/// <summary>New-Pipe: pipe2(2), with F_SETPIPE_SZ for -Capacity and O_DIRECT for -Packet.</summary>
[Cmdlet(VerbsCommon.New, "Pipe")]
[OutputType(typeof(Pipe))]
public sealed class NewPipeCommand : SysprogCmdlet
{
    /// <summary>Bytes it holds before a writer waits; the kernel rounds up to a power-of-two number of pages. Default: the kernel's (64 KiB).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int Capacity { get; set; }

    /// <summary>Packet mode (O_DIRECT): each write is one packet, each read takes at most one.</summary>
    [Parameter]
    public SwitchParameter Packet { get; set; }

    /// <summary>Leave FD_CLOEXEC clear, so programs started from here inherit both ends under the same numbers.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    /// <summary>O_NONBLOCK on both ends (shared with every process that inherits one): reads and writes that would wait write a WouldBlock record instead.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord() =>
        TryRun("pipe", () => WriteObject(Handles.Track(Pipe.Create(Capacity, Packet, Inheritable, Trace, NonBlocking))));
}

/// <summary>New-Fifo: mkfifo(3) with the exact mode; an existing path is an error, never replaced.</summary>
[Cmdlet(VerbsCommon.New, "Fifo", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(FileInfo))]
public sealed class NewFifoCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    protected override void ProcessRecord()
    {
        foreach (string path in Path)
        {
            string full = LiteralProviderPath(path);
            if (ShouldProcess(NameEscaping.Escape(full), $"Create FIFO (mode {Mode})"))
            {
                TryRun(path, () => WriteObject(Fifo.Create(full, FileModes.ParseOctal(Mode, nameof(Mode)), Trace)));
            }
        }
    }
}

/// <summary>Open-Fifo: open(2) of a FIFO for reading or writing, waiting for the other side unless -NonBlocking.</summary>
[Cmdlet(VerbsCommon.Open, "Fifo")]
[OutputType(typeof(PipeEnd))]
public sealed class OpenFifoCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateSet("Read", "Write")]
    public string Access { get; set; } = "";

    /// <summary>
    /// Do not wait for the other side: for reading, open at once; for writing, fail with ENXIO when no one reads. The
    /// end stays non-blocking: its reads and writes write a WouldBlock record instead of waiting.
    /// </summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    /// <summary>Default: wait for the other side until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    protected override void ProcessRecord()
    {
        string full = LiteralProviderPath(Path);
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        FileAccess access = Access == "Read" ? FileAccess.Read : FileAccess.Write;
        TryRun(Path, () =>
        {
            PipeEnd end = Fifo.Open(full, access, NonBlocking, timeout, Inheritable, Cancellation, Trace)
                ?? throw new TimeoutException(Fifo.DescribeTimeout(full, access, timeout));
            WriteObject(Handles.Track(end));
        });
    }
}

/// <summary>What Read- and Write-FileDescriptor share: -Encoding (parsed once, before the first input) and -TimeoutSeconds.</summary>
public abstract class StreamCommandBase : SysprogCmdlet
{
    /// <summary>utf8 (the default), unicode, bigendianunicode, utf32, ascii or latin1.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public string Encoding { get; set; } = "utf8";

    /// <summary>Default: wait until the read or write can be done, or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    private protected Encoding TextEncoding { get; private set; } = null!;

    /// <summary>What an input writes: a byte[] as it is; anything else as text with <paramref name="suffix"/>, encoded; null as nothing.</summary>
    private protected byte[] BytesOf(object? input, string suffix) => (input is PSObject wrapped ? wrapped.BaseObject : input) switch
    {
        null => [],
        byte[] bytes => bytes,
        object value => TextEncoding.GetBytes(LanguagePrimitives.ConvertTo<string>(value) + suffix),
    };

    protected override void BeginProcessing()
    {
        try
        {
            TextEncoding = TextEncodings.Parse(Encoding, nameof(Encoding));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(ToErrorRecord(e, Encoding));
        }
    }
}

/// <summary>Read-FileDescriptor: what a pipe, FIFO or other stream descriptor carries, as text or bytes.</summary>
[Cmdlet(VerbsCommunications.Read, "FileDescriptor", DefaultParameterSetName = Available)]
[OutputType(typeof(string), typeof(byte[]), typeof(WouldBlock))]
public sealed class ReadFileDescriptorCommand : StreamCommandBase
{
    private const string Available = "Available";
    private const string ByCount = "Count";
    private const string ByDelimiter = "Delimiter";

    /// <summary>A pipe end, a FIFO end, or a pipe (its read end).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [PipeEndTransformation(readEnd: true)]
    public StreamDescriptor InputObject { get; set; } = null!;

    /// <summary>Exactly this many bytes (fewer only when the stream ends first).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByCount)]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Up to and including this text (as Get-Content -Delimiter, it is kept at the end); what follows stays for the next read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByDelimiter)]
    [ValidateNotNullOrEmpty]
    public string Delimiter { get; set; } = "";

    /// <summary>Keep reading, writing each piece as it comes, until the stream ends (every writer closed), Ctrl+C, or -TimeoutSeconds pass without anything.</summary>
    [Parameter(ParameterSetName = Available)]
    [Parameter(ParameterSetName = ByDelimiter)]
    public SwitchParameter Wait { get; set; }

    /// <summary>Bytes (one byte[] per read, which pipes into Format-Hex) instead of text.</summary>
    [Parameter]
    public SwitchParameter AsByteStream { get; set; }


    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(InputObject, () => WriteUntilEnd(() => ReadPiece(timeout), piece => piece is string { Length: 0 } or byte[] { Length: 0 }, Wait,
            InputObject, timeout));
    }

    private object? ReadPiece(TimeSpan timeout)
    {
        if (ParameterSetName == Available && !AsByteStream)
        {
            return InputObject.ReadAvailableText(TextEncoding, timeout, Cancellation, Trace);
        }
        byte[]? bytes = ParameterSetName switch
        {
            ByCount => InputObject.ReadExactly(Count, timeout, Cancellation, Trace),
            ByDelimiter => InputObject.ReadTo(TextEncoding.GetBytes(Delimiter), timeout, Cancellation, Trace),
            _ => InputObject.ReadAvailable(timeout, Cancellation, Trace),
        };
        return bytes is null ? null : AsByteStream ? bytes : TextEncoding.GetString(bytes);
    }
}

/// <summary>Write-FileDescriptor: text or bytes into a pipe, FIFO or other stream descriptor.</summary>
[Cmdlet(VerbsCommunications.Write, "FileDescriptor")]
[OutputType(typeof(WouldBlock))]
public sealed class WriteFileDescriptorCommand : StreamCommandBase
{
    /// <summary>A pipe end, a FIFO end, or a pipe (its write end).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [PipeEndTransformation(readEnd: false)]
    public StreamDescriptor InputObject { get; set; } = null!;

    /// <summary>Text (each string followed by a newline unless -NoNewline) or a byte[] (written as it is).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowEmptyString]
    public object Value { get; set; } = null!;

    [Parameter]
    public SwitchParameter NoNewline { get; set; }


    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        byte[] data = BytesOf(Value, NoNewline ? "" : "\n");
        TryRun(InputObject, () =>
        {
            int written = InputObject.Write(data, timeout, Cancellation, Trace);
            if (written < data.Length)
            {
                WriteObject(new WouldBlock(InputObject, "write", written));
            }
        });
    }
}

/// <summary>Set-Pipe: a pipe's capacity (F_SETPIPE_SZ).</summary>
[Cmdlet(VerbsCommon.Set, "Pipe", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Pipe), typeof(PipeEnd))]
public sealed class SetPipeCommand : SysprogCmdlet
{
    /// <summary>A pipe, or one end of a pipe or FIFO.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public object InputObject { get; set; } = null!;

    /// <summary>Bytes; the kernel rounds up to a power-of-two number of pages, and refuses less than the pipe holds now (EBUSY).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1, int.MaxValue)]
    public int Capacity { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        object target = InputObject is PSObject wrapped ? wrapped.BaseObject : InputObject;
        PipeEnd? end = target switch { Pipe pipe => pipe.WriteEnd, PipeEnd pipeEnd => pipeEnd, _ => null };
        if (end is null)
        {
            WriteError(ToErrorRecord(new ArgumentException($"Set-Pipe takes a pipe or a pipe end, not {target.GetType().Name}.", nameof(InputObject)), target));
            return;
        }
        if (ShouldProcess(end.Description, $"Set the capacity to {Capacity} bytes"))
        {
            TryRun(target, () =>
            {
                end.SetCapacity(Capacity, Trace);
                if (PassThru)
                {
                    WriteObject(target);
                }
            });
        }
    }
}

/// <summary>
/// What Close-Pipe and Close-Socket share: each input is one descriptor object or a pair of them (a pipe's ends, a
/// socket pair), closed; anything else is an error naming what the cmdlet takes.
/// </summary>
public abstract class ClosePairableCommandBase<TPair, TSingle> : SysprogCmdlet where TSingle : FileDescriptorObject
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public object[] InputObject { get; set; } = [];

    /// <summary>What the cmdlet takes, for the error on anything else: "pipes and pipe ends".</summary>
    private protected abstract string Takes { get; }

    private protected abstract void ClosePair(TPair pair);

    protected override void ProcessRecord()
    {
        foreach (object item in InputObject)
        {
            object target = item is PSObject wrapped ? wrapped.BaseObject : item;
            TryRun(target, () =>
            {
                switch (target)
                {
                    case TPair pair:
                        ClosePair(pair);
                        break;
                    case TSingle single:
                        single.Close(Trace);
                        break;
                    default:
                        throw new ArgumentException($"{MyInvocation.MyCommand.Name} takes {Takes}, not {target.GetType().Name}.", nameof(InputObject));
                }
            });
        }
    }
}

/// <summary>Close-Pipe: closes both ends of a pipe, or one end of a pipe or FIFO.</summary>
[Cmdlet(VerbsCommon.Close, "Pipe")]
[OutputType(typeof(void))]
public sealed class ClosePipeCommand : ClosePairableCommandBase<Pipe, PipeEnd>
{
    private protected override string Takes => "pipes and pipe ends";

    private protected override void ClosePair(Pipe pair) => pair.Close(Trace);
}
