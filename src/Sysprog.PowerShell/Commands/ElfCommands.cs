using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-ElfFile: the header, segments, sections, interpreter, dynamic section and build id of ELF files.</summary>
[Cmdlet(VerbsCommon.Get, "ElfFile", DefaultParameterSetName = "Path")]
[OutputType(typeof(ElfFile))]
public sealed class GetElfFileCommand : FilePathCommandBase
{
    protected override void ProcessRecord() => ForEachFile(file => WriteObject(ElfFile.Open(file, ElfSymbolTables.None, Trace)));
}

/// <summary>Get-ElfSymbol: the symbols of .dynsym and .symtab, with their versions.</summary>
[Cmdlet(VerbsCommon.Get, "ElfSymbol", DefaultParameterSetName = "Path")]
[OutputType(typeof(ElfSymbol))]
public sealed class GetElfSymbolCommand : FilePathCommandBase
{
    /// <summary>Symbol names, wildcards allowed (mem*).</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Dynamic (.dynsym, what the loader sees), Static (.symtab) or All, the default.</summary>
    [Parameter]
    public ElfSymbolTables Table { get; set; } = ElfSymbolTables.All;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public ElfSymbolType[] Type { get; set; } = [];

    /// <summary>Only symbols the file defines.</summary>
    [Parameter]
    public SwitchParameter Defined { get; set; }

    /// <summary>Only symbols the file needs from another object (SHN_UNDEF).</summary>
    [Parameter]
    public SwitchParameter Undefined { get; set; }

    protected override void BeginProcessing()
    {
        if (Table == ElfSymbolTables.None)
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("-Table None reads no symbol: use Dynamic, Static or All.", nameof(Table)), Table));
        }
        if (Defined && Undefined)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Defined and -Undefined exclude each other: give one, or neither for both."), "InvalidArgument", ErrorCategory.InvalidArgument, null));
        }
    }

    protected override void ProcessRecord()
    {
        WildcardPattern[] patterns = Name.Select(static n => WildcardPattern.Get(n, WildcardOptions.None)).ToArray();
        ForEachFile(file =>
        {
            foreach (ElfSymbol symbol in ElfFile.Open(file, Table, Trace).Symbols)
            {
                if ((patterns.Length == 0 || patterns.Any(p => p.IsMatch(symbol.Name)))
                    && (Type.Length == 0 || Type.Contains(symbol.Type))
                    && (!Defined || symbol.IsDefined)
                    && (!Undefined || !symbol.IsDefined))
                {
                    WriteObject(symbol);
                }
            }
        });
    }
}

/// <summary>Resolve-ElfDependency: the libraries a program or library loads, found as ld.so finds them, without running it.</summary>
[Cmdlet(VerbsDiagnostic.Resolve, "ElfDependency", DefaultParameterSetName = "Path")]
[OutputType(typeof(ElfDependency))]
public sealed class ResolveElfDependencyCommand : FilePathCommandBase
{
    /// <summary>LD_LIBRARY_PATH for the resolution; default: this session's. An empty string resolves without it.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? LibraryPath { get; set; }

    /// <summary>Every DT_NEEDED reference, also those an object already loaded answers; default: each object once, as ldd lists them.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    private LibraryResolver? _resolver;

    protected override void BeginProcessing()
    {
        LibrarySearchOptions options = LibrarySearchOptions.ForThisMachine();
        if (LibraryPath is not null)
        {
            options = options with { LibraryPath = LibraryPath };
        }
        _resolver = new LibraryResolver(options, Trace);
    }

    protected override void ProcessRecord() => ForEachFile(file =>
    {
        foreach (ElfDependency dependency in _resolver!.Resolve(file))
        {
            if (All || dependency.IsNewObject || !dependency.IsFound)
            {
                WriteObject(dependency);
            }
        }
    });
}
