using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-IpcObject: every POSIX and System V IPC object on the machine, with its holders.</summary>
[Cmdlet(VerbsCommon.Get, "IpcObject")]
[OutputType(typeof(IpcObject))]
public sealed class GetIpcObjectCommand : SysprogCmdlet
{
    /// <summary>POSIX names ("/jobs*") or System V keys ("0x0000162e"), with wildcards. Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IpcObjectNameCompleter))]
    public string[] Name { get; set; } = ["*"];

    [Parameter]
    public IpcObjectKind[]? Kind { get; set; }

    /// <summary>Only objects nobody holds (no descriptor, mapping or attachment in any process).</summary>
    [Parameter]
    public SwitchParameter Orphaned { get; set; }

    private IpcInventory? _inventory;

    protected override void ProcessRecord()
    {
        if (_inventory is null)
        {
            var progress = new ProgressRecord(1, "Finding the holders of IPC objects", "reading /proc/PID/fd and /proc/PID/maps");
            bool taken = TryRun("IPC objects", () => _inventory = IpcInventory.Take(Trace, (read, all) =>
            {
                progress.StatusDescription = $"reading /proc/PID/fd and /proc/PID/maps: {read:N0} of {all:N0} processes";
                progress.PercentComplete = all == 0 ? 100 : 100 * read / all;
                WriteProgress(progress);
            }));
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            if (!taken)
            {
                return;
            }
            // Warned only when it matters to what was asked: queues, when queues are wanted.
            if (!_inventory!.MessageQueuesListed && (Kind is null || Kind.Contains(IpcObjectKind.MessageQueue)))
            {
                WriteWarning(IpcInventory.MessageQueuesNotListedWarning);
            }
        }
        foreach (string name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            List<IpcObject> selected = _inventory!.Objects
                .Where(o => pattern.IsMatch(o.Name) && (Kind is null || Kind.Contains(o.Kind)) && (!Orphaned || o.IsOrphaned == true)).ToList();
            // Processes that could not be inspected change only the verdict "orphaned": warned once something shown has it.
            if (!_warnedUninspected && _inventory.UninspectedWarning is string uninspected && selected.Any(o => o.IsOrphaned == true))
            {
                WriteWarning(uninspected);
                _warnedUninspected = true;
            }
            WriteObject(selected, enumerateCollection: true);
        }
    }

    private bool _warnedUninspected;
}

/// <summary>Remove-IpcObject: unlinks POSIX objects and removes System V ones (IPC_RMID), as Get-IpcObject gives them.</summary>
[Cmdlet(VerbsCommon.Remove, "IpcObject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveIpcObjectCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public IpcObject[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (IpcObject target in InputObject)
        {
            string holders = target switch
            {
                { Holders.Count: > 0 } => $"held by {string.Join(", ", target.Holders)}",
                // Semaphore sets and message queues are used by id: no descriptor or mapping shows who uses them.
                { IsOrphaned: null } => "its users cannot be known from /proc",
                { Attachments: > 0 } => $"attached {target.Attachments} time(s) by processes this user cannot inspect",
                _ => "held by no process",
            };
            if (ShouldProcess($"{target.Description}, {holders}", target.Id is null ? "Unlink" : "Remove (IPC_RMID)"))
            {
                TryRun(target, () => IpcInventory.Remove(target, Trace));
            }
        }
    }
}
