using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Set-FileAdvice: posix_fadvise on a range of files (read ahead, drop from the page cache...).</summary>
[Cmdlet(VerbsCommon.Set, "FileAdvice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Path")]
[OutputType(typeof(FileResidency))]
public sealed class SetFileAdviceCommand : FilePathCommandBase
{
    [Parameter(Mandatory = true, Position = 1)]
    public FileAdvice Advice { get; set; }

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long Offset { get; set; }

    /// <summary>Default: to the end of the file.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long Length { get; set; }

    /// <summary>Write each file's residency afterwards (WillNeed reads ahead asynchronously: it may still be rising).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        ForEachFile(path =>
        {
            if (!ShouldProcess(NameEscaping.Escape(path), $"Advise {Advice}"))
            {
                return;
            }
            FileCache.Advise(path, Advice, Offset, Length, Trace);
            if (PassThru)
            {
                WriteObject(FileCache.Residency(path, Offset - Offset % System.Environment.SystemPageSize, Length, Trace));
            }
        });
    }
}

/// <summary>Get-FileResidency: how much of files is in the page cache (mincore), like fincore.</summary>
[Cmdlet(VerbsCommon.Get, "FileResidency", DefaultParameterSetName = "Path")]
[OutputType(typeof(FileResidency))]
public sealed class GetFileResidencyCommand : FilePathCommandBase
{
    /// <summary>A multiple of the page size.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long Offset { get; set; }

    /// <summary>Default: to the end of the file.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long Length { get; set; }

    protected override void ProcessRecord()
    {
        ForEachFile(path => WriteObject(FileCache.Residency(path, Offset, Length, Trace)));
    }
}
