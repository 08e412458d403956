using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>The parameters New-MemoryMap and Invoke-MemoryMap share: what to map and how.</summary>
public abstract class MemoryMapCmdletBase : SysprogCmdlet
{
    protected const string FromFile = "File";
    protected const string FromSharedMemory = "SharedMemory";
    protected const string FromName = "Name";
    protected const string FromAnonymous = "Anonymous";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FromFile)]
    [Alias("PSPath", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = FromSharedMemory)]
    public SharedMemory InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = FromName)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SharedMemoryNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = FromAnonymous)]
    public SwitchParameter Anonymous { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = FromAnonymous)]
    [ValidateRange(1L, MemorySize.MaxMappable)]
    public long Size { get; set; }

    /// <summary>Default: Read for a file, ReadWrite for shared memory (Read if opened read-only) and anonymous memory.</summary>
    [Parameter]
    public MemoryProtection? Protection { get; set; }

    /// <summary>Default: Shared for files and shared memory, Private for anonymous memory.</summary>
    [Parameter]
    public MappingVisibility? Visibility { get; set; }

    [Parameter(ParameterSetName = FromFile)]
    [Parameter(ParameterSetName = FromSharedMemory)]
    [Parameter(ParameterSetName = FromName)]
    [ValidateRange(0L, long.MaxValue)]
    public long Offset { get; set; }

    [Parameter(ParameterSetName = FromFile)]
    [Parameter(ParameterSetName = FromSharedMemory)]
    [Parameter(ParameterSetName = FromName)]
    [ValidateRange(1L, MemorySize.MaxMappable)]
    public long? Length { get; set; }

    /// <summary>The target errors name: the path, the object or the size asked for.</summary>
    protected object MapTarget => ParameterSetName switch
    {
        FromFile => Path,
        FromSharedMemory => InputObject,
        FromName => Name,
        _ => $"anonymous mapping of {Size} bytes",
    };

    /// <summary>Makes the mapping the parameters describe, warning when another user could shrink what it maps.</summary>
    protected MemoryMapping Map()
    {
        MemoryMapping mapping = MapAsAsked();
        return WarnOfShrinkRisk(mapping, mapping.ShrinkRisk);
    }

    /// <summary>One core call per parameter set.</summary>
    private MemoryMapping MapAsAsked()
    {
        switch (ParameterSetName)
        {
            case FromFile:
                // Relative paths are relative to PowerShell's location, which is not the process's working directory.
                return MemoryMapping.MapFile(LiteralProviderPath(Path), Protection, Visibility, Offset, Length, Trace);
            case FromSharedMemory:
                return InputObject.Map(Protection, Visibility, Offset, Length, Trace);
            case FromName:
                bool readOnly = Protection is MemoryProtection p && !p.HasFlag(MemoryProtection.Write);
                using (SharedMemory shm = SharedMemory.Open(Name, readOnly, Trace))
                {
                    MemoryMapping mapping = shm.Map(Protection, Visibility, Offset, Length, Trace);
                    shm.Close(Trace);
                    return mapping;
                }
            default:
                return MemoryMapping.MapAnonymous(Size, Protection, Visibility, Trace);
        }
    }
}

/// <summary>New-MemoryMap: mmap a file, a shared memory object or anonymous memory; the mapping lives until Close-MemoryMap.</summary>
[Cmdlet(VerbsCommon.New, "MemoryMap", DefaultParameterSetName = FromFile)]
[OutputType(typeof(MemoryMapping))]
public sealed class NewMemoryMapCommand : MemoryMapCmdletBase
{
    protected override void ProcessRecord() => TryRun(MapTarget, () => WriteObject(Handles.Track(Map())));
}

/// <summary>Invoke-MemoryMap: maps, runs a script block with the mapping as $_ and $args[0], and unmaps in all cases.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MemoryMap", DefaultParameterSetName = FromFile)]
[OutputType(typeof(object))]
public sealed class InvokeMemoryMapCommand : MemoryMapCmdletBase
{
    [Parameter(Mandatory = true, Position = 1)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    protected override void ProcessRecord()
    {
        MemoryMapping? mapping = null;
        if (!TryRun(MapTarget, () => mapping = Map()) || mapping is null)
        {
            return;
        }
        try
        {
            var variables = new List<PSVariable> { new("_", mapping) };
            foreach (PSObject result in ScriptBlock.InvokeWithContext(null, variables, mapping))
            {
                WriteObject(result);
            }
        }
        finally
        {
            mapping.Close(Trace);
        }
    }
}

/// <summary>Close-MemoryMap: munmap.</summary>
[Cmdlet(VerbsCommon.Close, "MemoryMap")]
[OutputType(typeof(void))]
public sealed class CloseMemoryMapCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MemoryMapping[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (MemoryMapping mapping in InputObject)
        {
            TryRun(mapping, () => mapping.Close(Trace));
        }
    }
}

/// <summary>Set-MemoryProtection: mprotect.</summary>
[Cmdlet(VerbsCommon.Set, "MemoryProtection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(MemoryMapping))]
public sealed class SetMemoryProtectionCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MemoryMapping InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    public MemoryProtection Protection { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ShouldProcess(InputObject.ToString(), $"mprotect to {MemoryMapping.ProtectionText(Protection)}") &&
            TryRun(InputObject, () => InputObject.Protect(Protection, Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Sync-MemoryMap: msync.</summary>
[Cmdlet(VerbsData.Sync, "MemoryMap")]
[OutputType(typeof(MemoryMapping))]
public sealed class SyncMemoryMapCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MemoryMapping InputObject { get; set; } = null!;

    /// <summary>MS_ASYNC instead of MS_SYNC: schedule the write-back and return at once.</summary>
    [Parameter]
    public SwitchParameter Asynchronous { get; set; }

    /// <summary>MS_INVALIDATE.</summary>
    [Parameter]
    public SwitchParameter Invalidate { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        MemorySyncOptions options = (Asynchronous ? MemorySyncOptions.Asynchronous : MemorySyncOptions.Synchronous) |
            (Invalidate ? MemorySyncOptions.Invalidate : 0);
        if (TryRun(InputObject, () => InputObject.Sync(options, Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Set-MemoryAdvice: madvise.</summary>
[Cmdlet(VerbsCommon.Set, "MemoryAdvice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(MemoryMapping))]
public sealed class SetMemoryAdviceCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MemoryMapping InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    public MemoryAdvice Advice { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        // DontNeed, Free and Remove discard contents, hence ShouldProcess.
        if (ShouldProcess(InputObject.ToString(), $"madvise {Advice}") &&
            TryRun(InputObject, () => InputObject.Advise(Advice, Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Lock-Memory: mlock one mapping, or mlockall.</summary>
[Cmdlet(VerbsCommon.Lock, "Memory", DefaultParameterSetName = OneMapping)]
[OutputType(typeof(MemoryMapping))]
public sealed class LockMemoryCommand : SysprogCmdlet
{
    private const string OneMapping = "Mapping";
    private const string Everything = "All";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = OneMapping)]
    public MemoryMapping InputObject { get; set; } = null!;

    /// <summary>mlockall(MCL_CURRENT): every page this process has mapped.</summary>
    [Parameter(Mandatory = true, ParameterSetName = Everything)]
    public SwitchParameter All { get; set; }

    /// <summary>MCL_FUTURE: also every page mapped from now on.</summary>
    [Parameter(ParameterSetName = Everything)]
    public SwitchParameter Future { get; set; }

    /// <summary>MCL_ONFAULT: lock pages as they are touched rather than all at once.</summary>
    [Parameter(ParameterSetName = Everything)]
    public SwitchParameter OnFault { get; set; }

    [Parameter(ParameterSetName = OneMapping)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == Everything)
        {
            MemoryLockAllOptions options = MemoryLockAllOptions.Current | (Future ? MemoryLockAllOptions.Future : 0) |
                (OnFault ? MemoryLockAllOptions.OnFault : 0);
            TryRun("this process", () => MemoryLock.LockAll(options, Trace));
        }
        else if (TryRun(InputObject, () => InputObject.Lock(Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Unlock-Memory: munlock one mapping, or munlockall.</summary>
[Cmdlet(VerbsCommon.Unlock, "Memory", DefaultParameterSetName = OneMapping)]
[OutputType(typeof(MemoryMapping))]
public sealed class UnlockMemoryCommand : SysprogCmdlet
{
    private const string OneMapping = "Mapping";
    private const string Everything = "All";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = OneMapping)]
    public MemoryMapping InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = Everything)]
    public SwitchParameter All { get; set; }

    [Parameter(ParameterSetName = OneMapping)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == Everything)
        {
            TryRun("this process", () => MemoryLock.UnlockAll(Trace));
        }
        else if (TryRun(InputObject, () => InputObject.Unlock(Trace)) && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}
