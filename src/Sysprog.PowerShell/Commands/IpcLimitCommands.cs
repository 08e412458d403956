using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-IpcLimit: every limit on POSIX and System V IPC objects, with usage and hints.</summary>
[Cmdlet(VerbsCommon.Get, "IpcLimit")]
[OutputType(typeof(IpcLimit))]
public sealed class GetIpcLimitCommand : SysprogCmdlet
{
    /// <summary>Limit names ("fs.mqueue.*", "RLIMIT_*", "/dev/shm"); a name without wildcards that matches none is an error.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = ["*"];

    private IReadOnlyList<IpcLimit>? _limits;

    protected override void ProcessRecord()
    {
        if (_limits is null && !TryRun("IPC limits", () => _limits = IpcLimits.Read(Trace)))
        {
            return;
        }
        foreach (string name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            List<IpcLimit> matched = _limits!.Where(l => pattern.IsMatch(l.Name)).ToList();
            if (matched.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(ToErrorRecord(new ItemNotFoundException($"No IPC limit is named '{name}'. The names: {string.Join(", ", _limits!.Select(l => l.Name))}."), name));
            }
            WriteObject(matched, enumerateCollection: true);
        }
    }
}
