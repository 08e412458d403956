using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Read-ProcessMemory: process_vm_readv, by address, by symbol name, or by a mapping from Get-ProcessMapping.</summary>
[Cmdlet(VerbsCommunications.Read, "ProcessMemory", DefaultParameterSetName = ByAddress)]
[OutputType(typeof(byte[]), typeof(int), typeof(uint), typeof(long), typeof(ulong))]
public sealed class ReadProcessMemoryCommand : SysprogCmdlet
{
    private const string ByAddress = "Address";
    private const string BySymbol = "Symbol";
    private const string ByMapping = "Mapping";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByAddress)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = BySymbol)]
    [Alias("ProcessId", "Pid")]
    [ValidateRange(1, int.MaxValue)]
    public int Id { get; set; }

    /// <summary>Where to read: a number (0x7f12a000), a mapping's Address, or hex text.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByAddress)]
    [AddressTransformation]
    public ulong Address { get; set; }

    /// <summary>A symbol of the process (a global variable, a function), found in its maps and its files' symbol tables.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BySymbol)]
    [ValidateNotNullOrEmpty]
    public string Symbol { get; set; } = string.Empty;

    /// <summary>A mapping of the process (Get-ProcessMapping): read from its start, plus -Offset.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByMapping)]
    public ProcessMapping Mapping { get; set; } = null!;

    [Parameter(ParameterSetName = ByMapping)]
    [ValidateRange(0, long.MaxValue)]
    public long Offset { get; set; }

    /// <summary>How many values of -As: bytes by default. Default with -Mapping: to the end of the mapping; with -Symbol: the symbol's size.</summary>
    [Parameter(Position = 2, ParameterSetName = ByAddress, Mandatory = true)]
    [Parameter(ParameterSetName = BySymbol)]
    [Parameter(ParameterSetName = ByMapping)]
    [ValidateRange(1, ProcessMemory.MaxTransfer)]
    public int Count { get; set; }

    [Parameter]
    public ProcessMemoryValue As { get; set; } = ProcessMemoryValue.Bytes;

    protected override void ProcessRecord()
    {
        int width = ProcessMemory.WidthOf(As);
        object target = ParameterSetName switch
        {
            ByMapping => Mapping,
            BySymbol => Symbol,
            _ => Id,
        };
        TryRun(target, () =>
        {
            ProcessSymbol? symbol = ParameterSetName == BySymbol ? ProcessSymbols.Find(Id, Symbol, Trace) : null;
            (int processId, ulong address) = ParameterSetName switch
            {
                ByMapping => (Mapping.ProcessId, Mapping.Start + (ulong)Offset),
                BySymbol => (Id, symbol!.Address),
                _ => (Id, Address),
            };
            long wanted = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? (long)Count * width
                : symbol is not null ? (symbol.Size > 0 ? (long)symbol.Size : throw new ArgumentException($"{Symbol} has no size in its symbol table: give -Count.", nameof(Count)))
                : Offset >= (long)Mapping.Size ? throw new ArgumentOutOfRangeException(nameof(Offset), Offset, $"The mapping is {Mapping.Size} bytes.")
                : (long)Mapping.Size - Offset;
            if (wanted > ProcessMemory.MaxTransfer)
            {
                throw new ArgumentOutOfRangeException(nameof(Count), wanted, $"That is {wanted} bytes; one read takes at most {ProcessMemory.MaxTransfer}: read in parts.");
            }
            byte[] bytes = ProcessMemory.Read(processId, address, (int)wanted, out ProcessMemoryTransfer transfer, Trace);
            // A byte[] stays one object, for Format-Hex; integers go down the pipeline one by one.
            WriteObject(ProcessMemory.Decode(bytes, As), enumerateCollection: As != ProcessMemoryValue.Bytes);
            transfer.ThrowIfIncomplete();
        });
    }
}

/// <summary>Write-ProcessMemory: process_vm_writev; asks first, since it changes a running program under it.</summary>
[Cmdlet(VerbsCommunications.Write, "ProcessMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = AsBytes)]
[OutputType(typeof(ProcessMemoryTransfer))]
public sealed class WriteProcessMemoryCommand : SysprogCmdlet
{
    private const string AsBytes = "Bytes";
    private const string AsInt64 = "Int64";
    private const string AsInt32 = "Int32";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId", "Pid")]
    [ValidateRange(1, int.MaxValue)]
    public int Id { get; set; }

    /// <summary>Where to write: a number (0x7f12a000), a mapping's Address, or hex text. Give this or -Symbol.</summary>
    [Parameter(Position = 1)]
    [AddressTransformation]
    public ulong? Address { get; set; }

    /// <summary>Write at a symbol of the process (a global variable), found in its maps and its files' symbol tables.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Symbol { get; set; }

    [Parameter(Mandatory = true, Position = 2, ParameterSetName = AsBytes)]
    [ValidateCount(1, ProcessMemory.MaxTransfer)]
    public byte[] Bytes { get; set; } = [];

    /// <summary>One 64-bit integer, in this machine's byte order.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AsInt64)]
    public long Int64 { get; set; }

    /// <summary>One 32-bit integer, in this machine's byte order.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AsInt32)]
    public int Int32 { get; set; }

    /// <summary>Write the transfer: bytes asked and written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Write into this session's own memory (-Id $PID, or one of its threads' ids) all the same: a wrong address or value ends it.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        byte[] data = ParameterSetName switch
        {
            AsInt64 => BitConverter.GetBytes(Int64),
            AsInt32 => BitConverter.GetBytes(Int32),
            _ => Bytes,
        };
        if ((Address is null) == (Symbol is null))
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("Give where to write: -Address or -Symbol, one of them.", Address is null ? nameof(Address) : nameof(Symbol)), Id));
        }
        TryRun(Symbol ?? (object)Id, () =>
        {
            ulong address = Address ?? ProcessSymbols.Find(Id, Symbol!, Trace).Address;
            string where = Symbol is null ? $"0x{address:x} in process {Id}" : $"{Symbol} (0x{address:x}) in process {Id}";
            if (!ShouldProcess(where, $"Write {data.Length} bytes"))
            {
                return;
            }
            if (!Force && ProcessMemory.IsThisProcess(Id))
            {
                throw new InvalidOperationException($"Process {Id} is this session{(Id == System.Environment.ProcessId ? "" : $" (process {System.Environment.ProcessId}: {Id} is one of its threads)")}: " +
                    "writing its memory changes the running program under it, and a wrong address or value ends the session. Give -Force to write all the same.");
            }
            ProcessMemoryTransfer transfer = ProcessMemory.Write(Id, address, data, Trace);
            if (PassThru)
            {
                WriteObject(transfer);
            }
            transfer.ThrowIfIncomplete();
        });
    }
}
