using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>New-Semaphore: sem_open(O_CREAT|O_EXCL) by name, or sem_init(pshared=1) inside a shared mapping.</summary>
/// <remarks>
/// The default set is the mapping's: PowerShell binds pipeline input to the default set first, converting it if it
/// must, so with -Name's set the default a piped MemoryMapping became a name (its text) and made a named semaphore.
/// A piped name still binds -Name: no string converts to a MemoryMapping.
/// </remarks>
[Cmdlet(VerbsCommon.New, "Semaphore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = InMemory)]
[OutputType(typeof(PosixSemaphore))]
public sealed class NewSemaphoreCommand : SysprogCmdlet
{
    private const string ByName = "Name";
    private const string InMemory = "Memory";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InMemory)]
    public MemoryMapping InputObject { get; set; } = null!;

    [Parameter(ParameterSetName = InMemory)]
    [ValidateRange(0L, long.MaxValue)]
    public long Offset { get; set; }

    [Parameter(Position = 1)]
    [ValidateRange(0, PosixSemaphore.MaxValue)]
    public int Value { get; set; }

    [Parameter(ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InMemory)
        {
            if (ShouldProcess($"{InputObject.Source} offset {Offset}", $"Initialize a process-shared semaphore with value {Value}"))
            {
                TryRun(InputObject, () => WriteObject(PosixSemaphore.Initialize(InputObject, Offset, Value, Trace)));
            }
            return;
        }
        foreach (string name in Name)
        {
            if (ShouldProcess(name, $"Create semaphore (value {Value}, mode {Mode})"))
            {
                TryRun(name, () => WriteObject(Handles.Track(PosixSemaphore.Create(name, Value, FileModes.ParseOctal(Mode, nameof(Mode)), Trace))));
            }
        }
    }
}

/// <summary>Open-Semaphore: sem_open of an existing name, or a semaphore another process initialized in a mapping.</summary>
/// <remarks>The mapping's set is the default, so that a piped MemoryMapping binds -InputObject (see New-Semaphore).</remarks>
[Cmdlet(VerbsCommon.Open, "Semaphore", DefaultParameterSetName = InMemory)]
[OutputType(typeof(PosixSemaphore))]
public sealed class OpenSemaphoreCommand : SysprogCmdlet
{
    private const string ByName = "Name";
    private const string InMemory = "Memory";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SemaphoreNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InMemory)]
    public MemoryMapping InputObject { get; set; } = null!;

    [Parameter(ParameterSetName = InMemory)]
    [ValidateRange(0L, long.MaxValue)]
    public long Offset { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InMemory)
        {
            TryRun(InputObject, () => WriteObject(PosixSemaphore.Attach(InputObject, Offset)));
            return;
        }
        foreach (string name in Name)
        {
            TryRun(name, () =>
            {
                PosixSemaphore semaphore = PosixSemaphore.Open(name, Trace);
                WriteObject(Handles.Track(WarnOfShrinkRisk(semaphore, semaphore.ShrinkRisk)));
            });
        }
    }
}

/// <summary>Get-Semaphore: lists the named semaphores (/dev/shm/sem.*).</summary>
[Cmdlet(VerbsCommon.Get, "Semaphore")]
[OutputType(typeof(SemaphoreInfo))]
public sealed class GetSemaphoreCommand : SysprogCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SemaphoreNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    protected override void ProcessRecord()
    {
        foreach (string pattern in Name)
        {
            TryRun(pattern, () =>
            {
                WriteObject(NameNotFoundException.ThrowIfExactNameMissing(PosixSemaphore.List(pattern, Trace), pattern, "semaphore",
                    "Create it with New-Semaphore.", PosixSemaphore.NameMaxBytes), enumerateCollection: true);
            });
        }
    }
}

/// <summary>Remove-Semaphore: sem_unlink.</summary>
[Cmdlet(VerbsCommon.Remove, "Semaphore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveSemaphoreCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SemaphoreNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            if (ShouldProcess(name, "Unlink semaphore"))
            {
                TryRun(name, () => PosixSemaphore.Unlink(name, Trace));
            }
        }
    }
}

/// <summary>Close-Semaphore: sem_close; the name stays.</summary>
[Cmdlet(VerbsCommon.Close, "Semaphore")]
[OutputType(typeof(void))]
public sealed class CloseSemaphoreCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public PosixSemaphore[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (PosixSemaphore semaphore in InputObject)
        {
            TryRun(semaphore, () => semaphore.Close(Trace));
        }
    }
}

/// <summary>What Wait- and Unlock-Semaphore share: semaphores given as objects, or by name (opened, used, closed).</summary>
public abstract class SemaphoreTargetCommandBase : SysprogCmdlet
{
    protected const string ByObject = "Object";
    protected const string ByName = "Name";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
    public PosixSemaphore[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SemaphoreNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter(ParameterSetName = ByObject)]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Runs <paramref name="act"/> on each semaphore; a failure is an error for that one alone.</summary>
    protected void ForEachSemaphore(Action<PosixSemaphore> act)
    {
        if (ParameterSetName == ByName)
        {
            foreach (string name in Name)
            {
                TryRun(name, () =>
                {
                    using PosixSemaphore semaphore = PosixSemaphore.Open(name, Trace);
                    act(semaphore);
                    semaphore.Close(Trace);
                });
            }
            return;
        }
        foreach (PosixSemaphore semaphore in InputObject)
        {
            if (TryRun(semaphore, () => act(semaphore)) && PassThru)
            {
                WriteObject(semaphore);
            }
        }
    }
}

/// <summary>Wait-Semaphore: takes one unit, blocking up to -TimeoutSeconds; Ctrl+C stops it.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Semaphore", DefaultParameterSetName = ByObject)]
[OutputType(typeof(PosixSemaphore))]
public sealed class WaitSemaphoreCommand : SemaphoreTargetCommandBase
{
    /// <summary>Default: wait until the semaphore is posted or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        ForEachSemaphore(semaphore =>
        {
            if (!semaphore.Wait(timeout, Cancellation, Trace))
            {
                throw new TimeoutException($"{semaphore.Name ?? semaphore.Location} was not posted within {Units.FormatDuration(timeout)}.");
            }
        });
    }
}

/// <summary>Unlock-Semaphore: sem_post, waking a waiter.</summary>
[Cmdlet(VerbsCommon.Unlock, "Semaphore", DefaultParameterSetName = ByObject)]
[OutputType(typeof(PosixSemaphore))]
public sealed class UnlockSemaphoreCommand : SemaphoreTargetCommandBase
{
    [Parameter]
    [ValidateRange(1, PosixSemaphore.MaxValue)]
    public int Count { get; set; } = 1;

    protected override void ProcessRecord() => ForEachSemaphore(semaphore =>
    {
        for (int i = 0; i < Count; i++)
        {
            semaphore.Post(Trace);
        }
    });
}
