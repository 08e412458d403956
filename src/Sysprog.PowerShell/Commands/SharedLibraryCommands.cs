using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sysprog.PowerShell.Commands;

/// <summary>Open-SharedLibrary: dlopen(3), binding every symbol now unless -Lazy.</summary>
[Cmdlet(VerbsCommon.Open, "SharedLibrary")]
[OutputType(typeof(SharedLibrary))]
public sealed class OpenSharedLibraryCommand : SysprogCmdlet
{
    /// <summary>A soname (libm.so.6), searched as the loader searches dependencies, or a path (./libdemo.so).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "FullName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibraryNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>RTLD_LAZY: bind functions at their first call. A function that cannot be bound then ends the session, so the default binds now.</summary>
    [Parameter]
    public SwitchParameter Lazy { get; set; }

    /// <summary>RTLD_GLOBAL: the library's symbols join the global scope.</summary>
    [Parameter]
    public SwitchParameter Global { get; set; }

    /// <summary>RTLD_DEEPBIND: the library prefers its own symbols to the global scope's.</summary>
    [Parameter]
    public SwitchParameter DeepBind { get; set; }

    /// <summary>RTLD_NODELETE: the library stays loaded after its last Close-SharedLibrary.</summary>
    [Parameter]
    public SwitchParameter NoDelete { get; set; }

    /// <summary>RTLD_NOLOAD: only a loaded library is opened (another reference); for one that is not loaded nothing is written.</summary>
    [Parameter]
    public SwitchParameter NoLoad { get; set; }

    protected override void ProcessRecord()
    {
        SharedLibraryOpenFlags flags = (Lazy ? SharedLibraryOpenFlags.Lazy : SharedLibraryOpenFlags.Now)
            | (Global ? SharedLibraryOpenFlags.Global : SharedLibraryOpenFlags.Local)
            | (DeepBind ? SharedLibraryOpenFlags.DeepBind : 0)
            | (NoDelete ? SharedLibraryOpenFlags.NoDelete : 0)
            | (NoLoad ? SharedLibraryOpenFlags.NoLoad : 0);
        foreach (string name in Name)
        {
            TryRun(name, () =>
            {
                // A name with a '/' is a file: relative to this session's location, not the process's.
                string file = name.Contains('/', StringComparison.Ordinal) ? LiteralProviderPath(name) : name;
                SharedLibrary? library = NoLoad ? SharedLibrary.OpenIfLoaded(file, Trace) : SharedLibrary.Open(file, flags, Trace);
                if (library is not null)
                {
                    WriteObject(Handles.Track(library));
                }
            });
        }
    }
}

/// <summary>Close-SharedLibrary: dlclose(3), and whether the library is still loaded after it.</summary>
[Cmdlet(VerbsCommon.Close, "SharedLibrary")]
[OutputType(typeof(SharedLibrary))]
public sealed class CloseSharedLibraryCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public SharedLibrary[] InputObject { get; set; } = [];

    /// <summary>Write each library after closing it: IsStillLoaded says whether other references, dependents or RTLD_NODELETE kept it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (SharedLibrary library in InputObject)
        {
            TryRun(library, () =>
            {
                bool stillLoaded = library.Close(Trace);
                WriteVerbose($"{library.Path} is {(stillLoaded ? "still loaded" : "unloaded")}.");
                if (PassThru)
                {
                    WriteObject(library);
                }
            });
        }
    }
}

/// <summary>Get-SharedLibrary: every object loaded in this session's process (dl_iterate_phdr).</summary>
[Cmdlet(VerbsCommon.Get, "SharedLibrary")]
[OutputType(typeof(LoadedLibrary))]
public sealed class GetSharedLibraryCommand : SysprogCmdlet
{
    /// <summary>Paths matching these wildcard patterns (*libm*); default all.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        WildcardPattern[] patterns = Name.Select(static n => WildcardPattern.Get(n, WildcardOptions.None)).ToArray();
        TryRun("loaded objects", () => WriteObject(
            SharedLibrary.Loaded(Trace).Where(l => patterns.Length == 0 || patterns.Any(p => p.IsMatch(l.Name))), enumerateCollection: true));
    }
}

/// <summary>Get-SharedLibrarySymbol: dlsym/dlvsym through a library or a scope, or dladdr for addresses.</summary>
[Cmdlet(VerbsCommon.Get, "SharedLibrarySymbol", DefaultParameterSetName = AtAddress)]
[OutputType(typeof(SharedLibrarySymbol))]
public sealed class GetSharedLibrarySymbolCommand : SysprogCmdlet
{
    internal const string InLibrary = "Library";
    internal const string InScope = "Scope";
    private const string AtAddress = "Address";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InLibrary)]
    public SharedLibrary Library { get; set; } = null!;

    /// <summary>Default (RTLD_DEFAULT: the global scope) or Next (RTLD_NEXT).</summary>
    [Parameter(Mandatory = true, ParameterSetName = InScope)]
    public SymbolScope Scope { get; set; }

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = InLibrary)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = InScope)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>A symbol version (GLIBC_2.2.5): dlvsym instead of dlsym.</summary>
    [Parameter(ParameterSetName = InLibrary)]
    [Parameter(ParameterSetName = InScope)]
    [ValidateNotNullOrEmpty]
    public string? Version { get; set; }

    /// <summary>Addresses to describe (dladdr): the object each lies in and the nearest exported symbol.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AtAddress, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[] Address { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AtAddress)
        {
            foreach (ulong address in Address)
            {
                TryRun($"0x{address:x}", () => WriteObject(SharedLibrary.DescribeAddress(address, Trace)
                    ?? throw new KeyNotFoundException($"0x{address:x} lies in no object loaded in this process.")));
            }
            return;
        }
        foreach (string name in Name)
        {
            TryRun(name, () => WriteObject(ParameterSetName == InLibrary
                ? Library.GetSymbol(name, Version, Trace)
                : SharedLibrary.GetSymbol(Scope, name, Version, Trace)));
        }
    }
}

/// <summary>
/// Invoke-SharedLibraryFunction: calls a function found by dlsym with one of the fixed C signatures. Asks first
/// (ConfirmImpact High): a wrong signature or pointer argument ends the session, and nothing can catch that.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "SharedLibraryFunction", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = BySymbol)]
[OutputType(typeof(int), typeof(long), typeof(ulong), typeof(double), typeof(string))]
public sealed class InvokeSharedLibraryFunctionCommand : SysprogCmdlet
{
    private const string BySymbol = "Symbol";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = GetSharedLibrarySymbolCommand.InLibrary)]
    public SharedLibrary Library { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = GetSharedLibrarySymbolCommand.InScope)]
    public SymbolScope Scope { get; set; }

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = GetSharedLibrarySymbolCommand.InLibrary)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = GetSharedLibrarySymbolCommand.InScope)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>A symbol from Get-SharedLibrarySymbol.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BySymbol)]
    public SharedLibrarySymbol Symbol { get; set; } = null!;

    /// <summary>The C signature: double(double), size_t(const char*), int(void)... (tab completes the list).</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(NativeSignatureCompleter))]
    [ValidateNotNullOrEmpty]
    public string Signature { get; set; } = string.Empty;

    [Parameter(ValueFromRemainingArguments = false)]
    [Alias("Args")]
    [AllowEmptyCollection]
    public object[] ArgumentList { get; set; } = [];

    protected override void ProcessRecord()
    {
        object target = ParameterSetName == BySymbol ? Symbol : Name;
        TryRun(target, () =>
        {
            NativeSignature signature = NativeSignature.Parse(Signature);
            SharedLibrarySymbol function = ParameterSetName switch
            {
                BySymbol => Symbol,
                GetSharedLibrarySymbolCommand.InLibrary => Library.GetSymbol(Name, null, Trace),
                _ => SharedLibrary.GetSymbol(Scope, Name, null, Trace),
            };
            // -ArgumentList $null is no arguments, as an empty list.
            object?[] arguments = (ArgumentList ?? []).Select(static a => a is PSObject wrapped ? wrapped.BaseObject : a).ToArray();
            string call = $"{function.Name}({string.Join(", ", arguments)}) as {signature} at 0x{function.Address:x} in {function.LibraryPath}";
            if (ShouldProcess(call, "Call"))
            {
                object? result = signature.Invoke(function, arguments, Trace);
                if (result is not null)
                {
                    WriteObject(result);
                }
            }
        });
    }
}

/// <summary>Tab completion of the C signatures Invoke-SharedLibraryFunction can call.</summary>
public sealed class NativeSignatureCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        return NativeSignature.All
            .Where(s => s.Text.StartsWith(typed, StringComparison.Ordinal))
            .Select(s => new CompletionResult($"'{s.Text}'", s.Text, CompletionResultType.ParameterValue, s.Text));
    }
}
