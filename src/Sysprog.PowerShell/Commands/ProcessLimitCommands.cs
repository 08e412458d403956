using System.Globalization;
using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-ProcessLimit: a process's resource limits (prlimit), soft and hard.</summary>
[Cmdlet(VerbsCommon.Get, "ProcessLimit")]
[OutputType(typeof(ProcessLimit))]
public sealed class GetProcessLimitCommand : ProcessResourceCommandBase
{
    /// <summary>Only these resources; default all sixteen.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public ProcessResource[] Resource { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (int id in ProcessIds)
        {
            TryRun(id, () => WriteObject(Resource.Length == 0
                ? ProcessLimit.GetAll(id, Trace)
                : Resource.Select(r => ProcessLimit.Get(r, id, Trace)).ToList(), enumerateCollection: true));
        }
    }
}

/// <summary>Set-ProcessLimit: prlimit with a new soft limit, hard limit, or both.</summary>
[Cmdlet(VerbsCommon.Set, "ProcessLimit", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ProcessLimit))]
public sealed class SetProcessLimitCommand : ProcessResourceCommandBase
{
    [Parameter(Mandatory = true, Position = 0)]
    public ProcessResource Resource { get; set; }

    /// <summary>A number (64MB works for the byte limits), a size such as '64MiB', or 'unlimited'.</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Soft { get; set; }

    /// <summary>A number, a size, or 'unlimited'. Raising it needs CAP_SYS_RESOURCE.</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Hard { get; set; }

    /// <summary>
    /// Lower a limit of this session (given by its process id or one of its threads' ids) that can end or starve it
    /// (NoFile, NProc, Cpu, RtTime, AS, Data, Stack, FSize, SigPending, MemLock) all the same.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private long? _soft;
    private long? _hard;

    protected override void BeginProcessing()
    {
        if (Soft is null && Hard is null)
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("Nothing to set: give -Soft, -Hard, or both."), MyInvocation.MyCommand.Name));
        }
        _soft = Parse(Soft, nameof(Soft));
        _hard = Parse(Hard, nameof(Hard));
    }

    /// <summary>'unlimited' is long.MaxValue, as the core takes it; a string with a unit is a byte size.</summary>
    private long? Parse(object? value, string parameter)
    {
        object? given = value is PSObject wrapped ? wrapped.BaseObject : value;
        try
        {
            return given switch
            {
                null => null,
                string text when text.Trim().Equals("unlimited", StringComparison.OrdinalIgnoreCase) || text.Trim().Equals("infinity", StringComparison.OrdinalIgnoreCase) => long.MaxValue,
                string text when long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long number) => number,
                string text => Units.ParseByteSize(text),
                _ => LanguagePrimitives.ConvertTo<long>(given),
            };
        }
        catch (Exception e) when (e is FormatException or PSInvalidCastException or OverflowException)
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException($"-{parameter} '{given}' is not a limit: give a number, a size such as 64MiB, or unlimited.", parameter, e), given ?? parameter));
            return null;
        }
    }

    protected override void ProcessRecord()
    {
        string change = $"{(_soft is null ? "" : $"soft {ProcessLimit.Format(Resource, _soft)}")}" +
            $"{(_soft is not null && _hard is not null ? ", " : "")}{(_hard is null ? "" : $"hard {ProcessLimit.Format(Resource, _hard)}")}";
        foreach (int id in ProcessIds)
        {
            if (!ShouldProcess($"{ProcessLimit.NameOf(Resource)} of process {id}", $"Set {change}"))
            {
                continue;
            }
            TryRun(id, () =>
            {
                ProcessLimit limit = ProcessLimit.Set(Resource, _soft, _hard, id, Trace, Force);
                if (PassThru)
                {
                    WriteObject(limit);
                }
            });
        }
    }
}
