using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-TerminalSize: TIOCGWINSZ on terminals by path, this session's own (/dev/tty) by default.</summary>
[Cmdlet(VerbsCommon.Get, "TerminalSize")]
[OutputType(typeof(TerminalSize))]
public sealed class GetTerminalSizeCommand : SysprogCmdlet
{
    /// <summary>Terminals: /dev/pts/N, /dev/tty1; default /dev/tty, the session's controlling terminal.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("SecondaryPath", "PSPath", "LiteralPath", "LP")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [Terminal.Controlling];

    protected override void ProcessRecord()
    {
        ForEachFile(Path, path => WriteObject(Terminal.GetSize(path, Trace)));
    }
}

/// <summary>Set-TerminalSize: TIOCSWINSZ; the programs in the terminal's foreground get SIGWINCH.</summary>
[Cmdlet(VerbsCommon.Set, "TerminalSize", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TerminalSize))]
public sealed class SetTerminalSizeCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("SecondaryPath", "PSPath", "LiteralPath", "LP")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true)]
    [ValidateRange(1, ushort.MaxValue)]
    public int Rows { get; set; }

    [Parameter(Mandatory = true)]
    [ValidateRange(1, ushort.MaxValue)]
    public int Columns { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        ForEachFile(Path, path =>
        {
            if (ShouldProcess(NameEscaping.Escape(path), $"Set the size to {Rows}x{Columns}"))
            {
                TerminalSize size = Terminal.SetSize(path, Rows, Columns, Trace);
                if (PassThru)
                {
                    WriteObject(size);
                }
            }
        });
    }
}
