using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-ProcessMapping: /proc/PID/maps (and smaps with -Detail), per process; Get-Process output pipes in by Id.</summary>
[Cmdlet(VerbsCommon.Get, "ProcessMapping")]
[OutputType(typeof(ProcessMapping))]
public sealed class GetProcessMappingCommand : SysprogCmdlet
{
    /// <summary>Default: this pwsh process.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId", "Pid")]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = [Environment.ProcessId];

    /// <summary>Read smaps: Rss, Pss, Swap, Locked per mapping (slower).</summary>
    [Parameter]
    public SwitchParameter Detail { get; set; }

    /// <summary>Only mappings of these kinds.</summary>
    [Parameter]
    public ProcessMappingKind[]? Kind { get; set; }

    protected override void ProcessRecord()
    {
        foreach (int processId in Id)
        {
            TryRun(processId, () =>
            {
                IEnumerable<ProcessMapping> mappings = ProcessMaps.Read(processId, Detail, Trace);
                WriteObject(Kind is null ? mappings : mappings.Where(m => Kind.Contains(m.Kind)), enumerateCollection: true);
            });
        }
    }
}
