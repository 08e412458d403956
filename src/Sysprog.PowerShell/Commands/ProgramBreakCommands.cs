using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-ProgramBreak: where a process's heap starts and where its break is (sbrk(0), /proc/PID/stat and maps).</summary>
[Cmdlet(VerbsCommon.Get, "ProgramBreak")]
[OutputType(typeof(ProgramBreak))]
public sealed class GetProgramBreakCommand : ProcessCommandBase
{
    protected override void ProcessRecord()
    {
        foreach (int id in ProcessIds)
        {
            TryRun(id, () => WriteObject(ProgramBreak.Read(id, Trace)));
        }
    }
}
