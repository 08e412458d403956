using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Get-SysprogHandle: what this session still holds open of what Sysprog's cmdlets gave out, in every runspace
/// (jobs started with Start-ThreadJob and ForEach-Object -Parallel included), so a user finds what they forgot to close.
/// </summary>
[Cmdlet(VerbsCommon.Get, "SysprogHandle")]
[OutputType(typeof(SysprogHandle))]
public sealed class GetSysprogHandleCommand : SysprogCmdlet
{
    /// <summary>Only these kinds (wildcards): SharedMemory, Pipe*, Socket...</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Kind { get; set; }

    /// <summary>Only the handles given out in these runspaces; $Host.Runspace.Id is this one.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public int[]? RunspaceId { get; set; }

    protected override void ProcessRecord()
    {
        WildcardPattern[] kinds = (Kind ?? ["*"]).Select(k => WildcardPattern.Get(k, WildcardOptions.IgnoreCase)).ToArray();
        foreach ((Runspace? runspace, OpenHandles handles) in HandlesOfEveryRunspace().OrderBy(r => r.Runspace?.Id ?? int.MaxValue))
        {
            if (RunspaceId is not null && (runspace is null || !RunspaceId.Contains(runspace.Id)))
            {
                continue;
            }
            foreach (OpenHandle open in handles.Open())
            {
                if (kinds.Any(k => k.IsMatch(open.Kind)))
                {
                    WriteObject(new SysprogHandle(open, runspace));
                }
            }
        }
    }
}
