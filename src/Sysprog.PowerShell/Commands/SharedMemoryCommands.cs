using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>New-SharedMemory: shm_open(O_CREAT|O_EXCL), fchmod, ftruncate; or with -Anonymous memfd_create, ftruncate and F_ADD_SEALS.</summary>
[Cmdlet(VerbsCommon.New, "SharedMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = Named)]
[OutputType(typeof(SharedMemory))]
public sealed class NewSharedMemoryCommand : SysprogCmdlet
{
    private const string Named = "Named";
    private const string AnonymousSet = "Anonymous";

    /// <summary>The name (/demo); with -Anonymous, only a label shown in /proc/PID/fd and maps (memfd:LABEL).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = Named)]
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = AnonymousSet)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["sysprog"];

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1L, MemorySize.MaxMappable)]
    public long Size { get; set; }

    /// <summary>Octal, as a string: PowerShell has no octal literals, so 0600 typed bare would be decimal 600.</summary>
    [Parameter(ParameterSetName = Named)]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    /// <summary>No name in /dev/shm (memfd_create): gone with its last descriptor and mapping; other processes get it passed over a socket or inherited.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AnonymousSet)]
    public SwitchParameter Anonymous { get; set; }

    /// <summary>Seals to add once it is sized (Shrink, Grow, Write, FutureWrite, Seal); Add-SharedMemorySeal adds them later, after filling it.</summary>
    [Parameter(ParameterSetName = AnonymousSet)]
    [ValidateNotNullOrEmpty]
    public MemorySeals[] Seal { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (Anonymous)
            {
                MemorySeals seals = Seal.Aggregate(MemorySeals.None, (all, seal) => all | seal);
                if (ShouldProcess($"memfd:{NameEscaping.Escape(name)}", $"Create anonymous shared memory ({Size} bytes{(seals == MemorySeals.None ? "" : $", seals {seals}")})"))
                {
                    TryRun(name, () => WriteObject(Handles.Track(SharedMemory.CreateAnonymous(name, Size, seals, Trace))));
                }
                continue;
            }
            if (ShouldProcess(name, $"Create shared memory object ({Size} bytes, mode {Mode})"))
            {
                TryRun(name, () => WriteObject(Handles.Track(SharedMemory.Create(name, Size, FileModes.ParseOctal(Mode, nameof(Mode)), Trace))));
            }
        }
    }
}

/// <summary>Open-SharedMemory: shm_open of an existing object, never resized.</summary>
[Cmdlet(VerbsCommon.Open, "SharedMemory")]
[OutputType(typeof(SharedMemory))]
public sealed class OpenSharedMemoryCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SharedMemoryNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            TryRun(name, () => WriteObject(Handles.Track(SharedMemory.Open(name, ReadOnly, Trace))));
        }
    }
}

/// <summary>Get-SharedMemory: lists /dev/shm.</summary>
[Cmdlet(VerbsCommon.Get, "SharedMemory")]
[OutputType(typeof(SharedMemoryInfo))]
public sealed class GetSharedMemoryCommand : SysprogCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SharedMemoryNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        foreach (string pattern in Name)
        {
            TryRun(pattern, () =>
            {
                WriteObject(NameNotFoundException.ThrowIfExactNameMissing(SharedMemory.List(pattern, Trace), pattern, "shared memory object",
                    "Create it with New-SharedMemory."), enumerateCollection: true);
            });
        }
    }
}

/// <summary>Remove-SharedMemory: shm_unlink of a name; open handles keep working.</summary>
[Cmdlet(VerbsCommon.Remove, "SharedMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveSharedMemoryCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SharedMemoryNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (ShouldProcess(name, "Unlink shared memory object"))
            {
                TryRun(name, () => SharedMemory.Unlink(name, Trace));
            }
        }
    }
}

/// <summary>Close-SharedMemory: closes this session's fd; the name stays.</summary>
[Cmdlet(VerbsCommon.Close, "SharedMemory")]
[OutputType(typeof(void))]
public sealed class CloseSharedMemoryCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public SharedMemory[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (SharedMemory shm in InputObject)
        {
            TryRun(shm, () => shm.Close(Trace));
        }
    }
}

/// <summary>Resize-SharedMemory: ftruncate to a new size.</summary>
[Cmdlet(VerbsCommon.Resize, "SharedMemory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(SharedMemory))]
public sealed class ResizeSharedMemoryCommand : SysprogCmdlet
{
    private const string ByObject = "ByObject";
    private const string ByName = "ByName";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
    public SharedMemory InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SharedMemoryNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1L, MemorySize.MaxMappable)]
    public long Size { get; set; }

    [Parameter(ParameterSetName = ByObject)]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Shrink even below the end of a mapping this session holds of the object (touching it then raises SIGBUS).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        string target = ParameterSetName == ByName ? Name : InputObject.Name;
        if (!ShouldProcess(target, $"Resize shared memory object to {Size} bytes"))
        {
            return;
        }
        if (ParameterSetName == ByName)
        {
            TryRun(Name, () =>
            {
                using SharedMemory shm = SharedMemory.Open(Name, trace: Trace);
                shm.Resize(Size, Force, Trace);
                shm.Close(Trace);
            });
        }
        else if (TryRun(InputObject, () => InputObject.Resize(Size, Force, Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}
