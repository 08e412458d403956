using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace Sysprog.PowerShell;

/// <summary>
/// What every Sysprog cmdlet shares: -Verbose narration of system calls, Ctrl+C (StopProcessing) as a cancellation
/// token, failures as ErrorRecords that name the object, and tracking of handles for module removal.
/// </summary>
public abstract class SysprogCmdlet : PSCmdlet, IDisposable
{
    private static readonly ConditionalWeakTable<Runspace, OpenHandles> HandlesByRunspace = new();
    private static readonly OpenHandles HandlesWithoutRunspace = new();

    /// <summary>
    /// The handles this runspace was given, closed when the module is removed from it. Per runspace, because the
    /// assembly is loaded once per process: Remove-Module (or Import-Module -Force) in one runspace must not close
    /// what a ForEach-Object -Parallel or Start-ThreadJob runspace is still using, nor the other way round.
    /// </summary>
    internal static OpenHandles HandlesOfThisRunspace =>
        Runspace.DefaultRunspace is Runspace runspace ? HandlesByRunspace.GetValue(runspace, _ => new OpenHandles()) : HandlesWithoutRunspace;

    /// <summary>Every runspace of this process that was given handles, with its tracker (null: given out where no runspace was current).</summary>
    internal static IEnumerable<(Runspace? Runspace, OpenHandles Handles)> HandlesOfEveryRunspace() =>
        HandlesByRunspace.Select(pair => ((Runspace?)pair.Key, pair.Value)).Append((null, HandlesWithoutRunspace)).ToList();

    /// <summary>Where this cmdlet's runspace tracks the handles it gives out.</summary>
    protected static OpenHandles Handles => HandlesOfThisRunspace;

    private readonly CancellationTokenSource _stopping = new();
    private SyscallTrace? _trace;
    private bool _traceDecided;

    /// <summary>Fires when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken Cancellation => _stopping.Token;

    /// <summary>
    /// Narrates each system call, strace-style, on the verbose stream; null unless verbose output is wanted, so that
    /// without -Verbose the core formats no trace line at all (decided once per cmdlet invocation).
    /// </summary>
    protected SyscallTrace? Trace
    {
        get
        {
            if (!_traceDecided)
            {
                _trace = IsVerboseWanted() ? Narrate : null;
                _traceDecided = true;
            }
            return _trace;
        }
    }

    /// <summary>
    /// WriteVerbose, except that a pipeline being stopped loses the line instead of throwing: the core calls the trace
    /// between a system call and what records its result, and while a stopped command cleans up (closing its poll
    /// set, say), so a trace that threw would leave a descriptor open. The stop itself reaches the core as the
    /// cancellation of <see cref="Cancellation"/>.
    /// </summary>
    private void Narrate(string line)
    {
        try
        {
            WriteVerbose(line);
        }
        catch (PipelineStoppedException)
        {
        }
    }

    /// <summary>-Verbose (or -Verbose:$false) as bound, else $VerbosePreference as the caller's scope has it.</summary>
    private bool IsVerboseWanted()
    {
        if (MyInvocation.BoundParameters.TryGetValue("Verbose", out object? bound))
        {
            return bound is SwitchParameter verbose ? verbose.IsPresent : LanguagePrimitives.IsTrue(bound);
        }
        return LanguagePrimitives.TryConvertTo(GetVariableValue("VerbosePreference"), out ActionPreference preference)
            && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    }

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>A -TimeoutSeconds value as a timeout: none given is no limit (wait until done, or Ctrl+C).</summary>
    /// <summary>
    /// Warns that another user could shrink what was just mapped or opened (<see cref="MemoryMapping.ShrinkRisk"/>,
    /// <see cref="PosixSemaphore.ShrinkRisk"/>): a warning, so -WarningAction and $WarningPreference decide. With
    /// -WarningAction Stop the object is closed again, never left open unreturned.
    /// </summary>
    protected T WarnOfShrinkRisk<T>(T opened, string? risk) where T : IDisposable
    {
        if (risk is not null)
        {
            try
            {
                WriteWarning(risk);
            }
            catch
            {
                opened.Dispose();
                throw;
            }
        }
        return opened;
    }

    protected static TimeSpan TimeoutOf(double? seconds) => seconds is double given ? TimeSpan.FromSeconds(given) : System.Threading.Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Writes what <paramref name="read"/> returns, and with <paramref name="follow"/> goes on reading and writing,
    /// until it returns an empty piece (<paramref name="isEnd"/>: the end of the stream, which is no error, as
    /// Get-Content at the end of a file) or, after the first piece, nothing in time. Nothing at the first read is a
    /// <see cref="WouldBlock"/> record where the read was not to wait (<see cref="WouldBlockInstead"/>), and a timeout
    /// error otherwise.
    /// </summary>
    protected void WriteUntilEnd<T>(Func<T?> read, Func<T, bool> isEnd, bool follow, IPollable handle, TimeSpan timeout) where T : class
    {
        if (read() is not T piece)
        {
            WriteObject(WouldBlockInstead(handle, timeout) ? new WouldBlock(handle, "read") : throw NothingToRead(handle.Description, timeout));
            return;
        }
        while (!isEnd(piece))
        {
            WriteObject(piece, enumerateCollection: false);
            if (!follow || read() is not T next)
            {
                return;
            }
            piece = next;
        }
    }

    /// <summary>
    /// Whether a read, write, receive, send or accept that could not be done without waiting writes a
    /// <see cref="WouldBlock"/> record (EAGAIN, no failure) rather than a timeout error: the handle is non-blocking, or
    /// the call was given no time to wait (-TimeoutSeconds 0).
    /// </summary>
    protected static bool WouldBlockInstead(IPollable handle, TimeSpan timeout) => timeout == TimeSpan.Zero || handle.IsNonBlocking;

    /// <summary>The timeout error of a read that found nothing.</summary>
    protected static TimeoutException NothingToRead(string source, TimeSpan timeout) =>
        new($"Nothing to read from {source} within {Units.FormatDuration(timeout)}.");

    /// <summary>
    /// PowerShell's current file system location, asked of PowerShell, which reads /proc/self/mountinfo to answer (its
    /// drives): calls Sysprog does not make itself, narrated in words so that -Verbose still accounts for every call.
    /// </summary>
    protected string PowerShellLocation()
    {
        string location = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        Trace?.Invoke($"CurrentFileSystemLocation(): \"{NameEscaping.Escape(location).Replace("\"", "\\x22", StringComparison.Ordinal)}\", PowerShell's location (PowerShell reads /proc/self/mountinfo for it)");
        return location;
    }

    /// <summary>
    /// The file system paths one -Path value names, by Get-Item's rules: wildcards expand to what exists, and a
    /// backtick escapes one; a path without wildcards is taken as it is, so a missing one fails in the core with the
    /// kernel's ENOENT, naming it. A -LiteralPath value (<paramref name="literal"/>) is one path, every character as
    /// written. A pattern that is not valid ("/usr/bin/[") is an argument error on that input, pointing to -LiteralPath.
    /// </summary>
    protected IEnumerable<string> FileSystemPaths(string path, bool literal = false)
    {
        if (literal || !WildcardPattern.ContainsWildcardCharacters(path))
        {
            return [LiteralProviderPath(literal ? path : WildcardPattern.Unescape(path))];
        }
        try
        {
            return SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _);
        }
        catch (WildcardPatternException e)
        {
            throw new ArgumentException($"'{path}' is not a valid wildcard pattern ({e.Message.TrimEnd('.')}): give a name with [ or ] as -LiteralPath, or escape them with a backtick.", "Path", e);
        }
    }

    /// <summary>
    /// A path as the file system takes it, every character as written: PowerShell's own resolution reads a backtick
    /// as an escape, and not even consistently ("a`[1`]" loses its backticks, "`[" keeps them), so it is not used.
    /// A PSPath (Microsoft.PowerShell.Core\FileSystem::/x, what Get-ChildItem's items carry) is its file system path;
    /// "~" is the home folder, as in Get-Item -LiteralPath; a drive-qualified path (Temp:/x) starts at the drive's
    /// root; anything else is relative to PowerShell's current file system location, not the process's.
    /// </summary>
    protected string LiteralProviderPath(string path)
    {
        int provider = path.IndexOf("::", StringComparison.Ordinal);
        if (provider > 0 && path.AsSpan(0, provider).EndsWith("FileSystem", StringComparison.OrdinalIgnoreCase))
        {
            return path[(provider + 2)..];
        }
        if (path.StartsWith('/'))
        {
            return path;
        }
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            return System.IO.Path.Join(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), path[1..]);
        }
        int colon = path.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && path.IndexOf('/', StringComparison.Ordinal) is int slash && (slash < 0 || colon < slash)
            && SessionState.Drive.GetAll().FirstOrDefault(d => d.Name.Equals(path[..colon], StringComparison.OrdinalIgnoreCase) && d.Provider.Name == "FileSystem") is PSDriveInfo drive)
        {
            return System.IO.Path.Join(drive.Root, path[(colon + 1)..]);
        }
        return System.IO.Path.Join(PowerShellLocation(), path);
    }

    /// <summary>
    /// Runs <paramref name="read"/> for each file the paths name (<see cref="FileSystemPaths"/>); a failure is an error
    /// targeting the path as given, and the other paths go on.
    /// </summary>
    protected void ForEachFile(IEnumerable<string> paths, Action<string> read, bool literal = false)
    {
        foreach (string path in paths)
        {
            TryRun(path, () =>
            {
                foreach (string file in FileSystemPaths(path, literal))
                {
                    read(file);
                }
            });
        }
    }

    /// <summary>Runs one core call for one input; a failure becomes a non-terminating error targeting that input.</summary>
    protected bool TryRun(object target, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e) when (ErrorMapping.IsExpected(e))
        {
            WriteError(ToErrorRecord(e, target));
            return false;
        }
    }

    /// <summary>An expected failure as an ErrorRecord: the id and category from the errno or exception kind, the target as given.</summary>
    protected static ErrorRecord ToErrorRecord(Exception exception, object target)
    {
        (string errorId, ErrorCategory category) = ErrorMapping.Classify(exception);
        var record = new ErrorRecord(exception, errorId, category, target);
        if (ErrorMapping.UserMessage(exception) is string message)
        {
            record.ErrorDetails = new ErrorDetails(message);
        }
        return record;
    }

    /// <summary>Releases what a cmdlet held across records (an opened queue, say); runs even when the pipeline is stopped.</summary>
    protected virtual void ReleaseResources()
    {
    }

    public void Dispose()
    {
        ReleaseResources();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
