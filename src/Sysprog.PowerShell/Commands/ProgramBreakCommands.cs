using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-ProgramBreak: where a process's heap starts and where its break is (sbrk(0), /proc/PID/stat and maps).</summary>
[Cmdlet(VerbsCommon.Get, "ProgramBreak")]
[OutputType(typeof(ProgramBreak))]
public sealed class GetProgramBreakCommand : SysprogCmdlet
{
    /// <summary>Default: this session's process. Takes Get-Process and ChildProcess objects from the pipeline.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (int id in Id.Length == 0 ? [System.Environment.ProcessId] : Id)
        {
            TryRun(id, () => WriteObject(ProgramBreak.Read(id, Trace)));
        }
    }
}
