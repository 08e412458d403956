using System.Collections;
using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Cmdlets about processes by id: -Id (default this session's process), from Get-Process and ChildProcess objects too.</summary>
public abstract class ProcessCommandBase : SysprogCmdlet
{
    /// <summary>Default: this session's process. Takes Get-Process and ChildProcess objects from the pipeline.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, int.MaxValue)]
    public virtual int[] Id { get; set; } = [];

    /// <summary>The ids given, or this session's process when none was.</summary>
    protected IEnumerable<int> ProcessIds => Id.Length == 0 ? [System.Environment.ProcessId] : Id;
}

/// <summary>
/// Cmdlets about one resource of processes by id, the resource first (Get-ProcessLimit NoFile 1234, as prlimit
/// --nofile --pid 1234 reads): -Id comes second.
/// </summary>
public abstract class ProcessResourceCommandBase : ProcessCommandBase
{
    /// <summary>Default: this session's process. Takes Get-Process and ChildProcess objects from the pipeline.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, int.MaxValue)]
    public override int[] Id { get => base.Id; set => base.Id = value; }
}

/// <summary>
/// Cmdlets about files by path, as Get-Item takes them: -Path with wildcards (and backtick escapes), -LiteralPath
/// as written, which is what Get-ChildItem's items bind to (their PSPath), so a file named '[' is read as itself.
/// </summary>
public abstract class FilePathCommandBase : SysprogCmdlet
{
    protected const string ByPath = "Path";
    protected const string ByLiteralPath = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByPath)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByLiteralPath)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Runs <paramref name="read"/> for each file -Path or -LiteralPath names.</summary>
    protected void ForEachFile(Action<string> read) =>
        ForEachFile(ParameterSetName == ByLiteralPath ? LiteralPath : Path, read, literal: ParameterSetName == ByLiteralPath);
}

/// <summary>Cmdlets that start a program: what to run, with which arguments, where, and with which environment.</summary>
public abstract class ProgramCommandBase : SysprogCmdlet
{
    /// <summary>The program: a name is looked up in PATH, a path (one with a '/') is taken relative to PowerShell's location.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = "";

    [Parameter(Position = 1)]
    [Alias("Args")]
    public string[] ArgumentList { get; set; } = [];

    /// <summary>Default: PowerShell's current file-system location, as Start-Process does.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    /// <summary>Variables laid over this session's environment; a $null value removes one.</summary>
    [Parameter]
    public Hashtable? Environment { get; set; }

    /// <summary>-FilePath as posix_spawnp takes it: a name as it is, a path made absolute from PowerShell's location.</summary>
    protected string Program => FilePath.Contains('/', StringComparison.Ordinal) ? LiteralProviderPath(FilePath) : FilePath;

    /// <summary>-WorkingDirectory made absolute, or PowerShell's location (the process's own may differ).</summary>
    protected string WorkingDirectoryPath => WorkingDirectory is null
        ? PowerShellLocation()
        : LiteralProviderPath(WorkingDirectory);

    /// <summary>-Environment with its values as strings.</summary>
    protected Dictionary<string, string?>? EnvironmentOverlay => Environment?.Cast<DictionaryEntry>()
        .ToDictionary(e => e.Key?.ToString() ?? "", e => e.Value is null ? null : LanguagePrimitives.ConvertTo<string>(e.Value), StringComparer.Ordinal);
}
