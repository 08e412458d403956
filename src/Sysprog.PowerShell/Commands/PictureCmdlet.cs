using System.Management.Automation;
using System.Management.Automation.Host;
using System.Text;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// What the Show- cmdlets that draw share: -Width (default the window's), colour as PowerShell renders it, and -Path
/// or -LiteralPath for the SVG, written through the core's open so that it never waits on a FIFO.
/// </summary>
public abstract class PictureCmdlet : SysprogCmdlet
{
    /// <summary>Columns to fit; default the window's width (80 where there is no window).</summary>
    [Parameter]
    [ValidateRange(AddressSpacePicture.MinimumWidth, AddressSpacePicture.MaximumWidth)]
    public int? Width { get; set; }

    /// <summary>Write the picture as SVG to this file instead (wildcards are not expanded: a file to create).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>As -Path, every character as written.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [Alias("PSPath", "LP")]
    public string? LiteralPath { get; set; }

    protected override void BeginProcessing()
    {
        if (Path is not null && LiteralPath is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give -Path or -LiteralPath, not both."), "PathAndLiteralPath", ErrorCategory.InvalidArgument, null));
        }
    }

    /// <summary>The SVG file -Path (a backtick escape undone, no wildcard expanded: a file to create) or -LiteralPath names; null for text.</summary>
    protected string? OutputFile() =>
        Path is null && LiteralPath is null ? null : LiteralProviderPath(Path is null ? LiteralPath! : WildcardPattern.Unescape(Path));

    protected int PictureWidth() => Width ?? WindowWidth();

    protected void WriteFile(string file, string svg) => PictureFile.Write(file, svg, Cancellation, Trace);

    private int WindowWidth()
    {
        try
        {
            int columns = Host.UI.RawUI.WindowSize.Width;
            return columns >= AddressSpacePicture.MinimumWidth ? Math.Min(columns, AddressSpacePicture.MaximumWidth) : 80;
        }
        catch (Exception e) when (e is NotImplementedException or HostException or IOException or PlatformNotSupportedException)
        {
            return 80;
        }
    }

    /// <summary>Colour as PowerShell renders it: $PSStyle.OutputRendering, and never under NO_COLOR (https://no-color.org).</summary>
    protected bool ColorWanted()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")))
        {
            return false;
        }
        // Read as a variable: the module builds against PowerShell Standard, which has no PSStyle type.
        object? rendering = GetVariableValue("PSStyle") is object style ? PSObject.AsPSObject(style).Properties["OutputRendering"]?.Value : null;
        return rendering?.ToString() switch
        {
            "Ansi" => true,
            "PlainText" => false,
            _ => Host.UI.SupportsVirtualTerminal,
        };
    }
}
