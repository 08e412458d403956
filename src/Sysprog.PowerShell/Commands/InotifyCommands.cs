using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>What the cmdlets that add watches share: the paths, the events and the options.</summary>
public abstract class InotifyWatchRequestCommandBase : SysprogCmdlet
{
    /// <summary>Events to watch for. Default: Changes (every event but Access, Open and CloseNoWrite).</summary>
    [Parameter]
    public InotifyEvents Event { get; set; } = InotifyEvents.Changes;

    [Parameter]
    public InotifyWatchOptions Option { get; set; }

    /// <summary>Adds a watch for each path (see <see cref="SysprogCmdlet.FileSystemPaths"/>).</summary>
    protected void AddWatches(Inotify inotify, string[] paths, bool writeWatches)
    {
        foreach (string path in paths)
        {
            TryRun(path, () =>
            {
                foreach (string file in FileSystemPaths(path))
                {
                    InotifyWatch watch = inotify.AddWatch(file, Event, Option, Trace);
                    if (writeWatches)
                    {
                        WriteObject(watch);
                    }
                }
            });
        }
    }
}

/// <summary>New-Inotify: inotify_init1(2), and the first watches.</summary>
[Cmdlet(VerbsCommon.New, "Inotify")]
[OutputType(typeof(Inotify))]
public sealed class NewInotifyCommand : InotifyWatchRequestCommandBase
{
    /// <summary>Files or directories to watch at once; more can be added with Add-InotifyWatch.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LiteralPath", "LP")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Leave FD_CLOEXEC clear, so programs started from this session inherit it under the same number.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    /// <summary>A read with no event queued does not wait: it writes a WouldBlock record (EAGAIN) instead.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    private Inotify? _inotify;
    private bool _failed;

    protected override void ProcessRecord()
    {
        if (_inotify is null && !_failed)
        {
            _failed = !TryRun("inotify", () => _inotify = Handles.Track(Inotify.Create(Inheritable, Trace, NonBlocking)));
        }
        if (_inotify is not null)
        {
            AddWatches(_inotify, Path, writeWatches: false);
        }
    }

    // One instance for every path piped in, written once they are all watched.
    protected override void EndProcessing()
    {
        if (_inotify is not null)
        {
            WriteObject(_inotify);
        }
    }
}

/// <summary>Add-InotifyWatch: inotify_add_watch(2) on a live instance.</summary>
[Cmdlet(VerbsCommon.Add, "InotifyWatch")]
[OutputType(typeof(InotifyWatch))]
public sealed class AddInotifyWatchCommand : InotifyWatchRequestCommandBase
{
    [Parameter(Mandatory = true, Position = 0)]
    public Inotify InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LiteralPath", "LP")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void ProcessRecord() => AddWatches(InputObject, Path, writeWatches: true);
}

/// <summary>Remove-InotifyWatch: inotify_rm_watch(2); the instance then reads an Ignored event for the watch.</summary>
[Cmdlet(VerbsCommon.Remove, "InotifyWatch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByWatch)]
[OutputType(typeof(void))]
public sealed class RemoveInotifyWatchCommand : SysprogCmdlet
{
    private const string ByWatch = "Watch";
    private const string ByPath = "Path";

    /// <summary>Watches, as Add-InotifyWatch or the instance's Watches property gives them.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByWatch)]
    public InotifyWatch[] Watch { get; set; } = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByPath)]
    public Inotify InputObject { get; set; } = null!;

    /// <summary>The watched paths, as they were added (relative ones against PowerShell's location).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByPath)]
    [Alias("PSPath", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByWatch)
        {
            foreach (InotifyWatch watch in Watch)
            {
                Remove(watch);
            }
            return;
        }
        foreach (string path in Path)
        {
            InotifyWatch? watch = null;
            bool found = TryRun(path, () =>
            {
                string fullPath = LiteralProviderPath(path);
                watch = InputObject.FindWatch(fullPath) ?? throw new ItemNotFoundException($"{InputObject.Description} has no active watch on {fullPath}.");
            });
            if (found)
            {
                Remove(watch!);
            }
        }
    }

    private void Remove(InotifyWatch watch)
    {
        if (ShouldProcess($"{watch.Instance.Description} wd {watch.Descriptor} ({NameEscaping.Escape(watch.Path)})", "Remove inotify watch"))
        {
            TryRun(watch, () => watch.Instance.RemoveWatch(watch, Trace));
        }
    }
}

/// <summary>Read-Inotify: the events of an instance's watches.</summary>
[Cmdlet(VerbsCommunications.Read, "Inotify")]
[OutputType(typeof(InotifyEvent), typeof(WouldBlock))]
public sealed class ReadInotifyCommand : ReadDescriptorCommandBase<Inotify>
{
    /// <summary>Exactly this many events, waiting for each. Default: the first event and every other read with it.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    /// <summary>Keep writing events as they come, until Ctrl+C, or until -TimeoutSeconds pass without one.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override void BeginProcessing()
    {
        if (Count is not null && Wait)
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("-Count stops after that many events and -Wait never stops: use one."), Count));
        }
    }

    protected override void ProcessRecord()
    {
        if (Count is int count)
        {
            int written = 0;
            TryRun(InputObject, () =>
            {
                for (; written < count; written++)
                {
                    if (InputObject.Read(Timeout, Cancellation, Trace) is InotifyEvent next)
                    {
                        Write(next);
                    }
                    else if (WouldBlockInstead(InputObject, Timeout))
                    {
                        WriteObject(new WouldBlock(InputObject, "read"));
                        return;
                    }
                    else
                    {
                        throw new TimeoutException($"{InputObject.Description} gave {written} of {count} events; none came within {Units.FormatDuration(Timeout)}.");
                    }
                }
            });
        }
        else if (Wait)
        {
            TryRun(InputObject, () =>
            {
                while (InputObject.Read(Timeout, Cancellation, Trace) is InotifyEvent next)
                {
                    Write(next);
                }
            });
        }
        else
        {
            TryRun(InputObject, () =>
            {
                IReadOnlyList<InotifyEvent> events = InputObject.ReadAvailable(Timeout, Cancellation, Trace);
                if (events.Count == 0)
                {
                    WriteObject(WouldBlockInstead(InputObject, Timeout) ? new WouldBlock(InputObject, "read") : throw NothingToRead());
                    return;
                }
                foreach (InotifyEvent next in events)
                {
                    Write(next);
                }
            });
        }
    }

    private void Write(InotifyEvent next)
    {
        if (next.IsOverflow)
        {
            WriteWarning($"{InputObject.Description}: the kernel's queue of {InputObject.QueueLimit} events (fs.inotify.max_queued_events) " +
                "overflowed and later events were lost; rescan what is watched.");
        }
        WriteObject(next);
    }
}

/// <summary>Close-Inotify: every watch ends with the instance.</summary>
[Cmdlet(VerbsCommon.Close, "Inotify")]
[OutputType(typeof(void))]
public sealed class CloseInotifyCommand : CloseDescriptorCommandBase<Inotify>
{
}
