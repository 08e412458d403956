using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>The request every file-lock cmdlet describes: a file, a kind, a mode and a byte range.</summary>
public abstract class FileLockRequestCommandBase : SysprogCmdlet
{
    /// <summary>Relative to PowerShell's location; a Get-ChildItem item binds by its PSPath.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = null!;

    [Parameter]
    public FileLockKind Kind { get; set; } = FileLockKind.Flock;

    /// <summary>A shared (read) lock; the default is exclusive (write).</summary>
    [Parameter]
    public SwitchParameter Shared { get; set; }

    /// <summary>The first byte of the range (Posix and Ofd only).</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long Start { get; set; }

    /// <summary>How many bytes; 0 (the default) runs to the end of the file, however far it grows.</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long Length { get; set; }

    protected FileLockMode LockMode => Shared ? FileLockMode.Shared : FileLockMode.Exclusive;

    /// <summary>Relative paths are relative to PowerShell's location, which is not the process's working directory.</summary>
    protected string FullPath => LiteralProviderPath(Path);
}

/// <summary>Lock-File: takes a flock, POSIX or OFD lock, waiting while another holder conflicts.</summary>
[Cmdlet(VerbsCommon.Lock, "File", DefaultParameterSetName = Hold)]
[OutputType(typeof(FileLock), ParameterSetName = new[] { Hold })]
[OutputType(typeof(object), ParameterSetName = new[] { Run })]
public sealed class LockFileCommand : FileLockRequestCommandBase
{
    private const string Hold = "Hold";
    private const string Run = "ScriptBlock";

    /// <summary>How long to wait for a conflicting holder. Default: until Ctrl+C. 0 tries once.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    /// <summary>Permissions of the lock file when it has to be created.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    /// <summary>Runs this while holding the lock, then releases it whatever happens (like flock(1) COMMAND).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = Run)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        FileLock? held = null;
        bool acquired = TryRun(Path, () =>
        {
            string path = FullPath;
            held = FileLock.Acquire(path, Kind, LockMode, timeout, Cancellation, Start, Length, FileModes.ParseOctal(Mode, nameof(Mode)), Trace)
                ?? throw new TimeoutException(FileLock.TimedOutMessage(path, Kind, LockMode, timeout, Start, Length));
        });
        if (!acquired || held is null)
        {
            return;
        }
        if (ParameterSetName == Hold)
        {
            WriteObject(Handles.Track(held));
            return;
        }
        try
        {
            foreach (PSObject output in InvokeCommand.InvokeScript(false, ScriptBlock, null))
            {
                WriteObject(output);
            }
        }
        finally
        {
            held.Release(Trace);
        }
    }
}

/// <summary>Unlock-File: releases locks Lock-File took.</summary>
[Cmdlet(VerbsCommon.Unlock, "File")]
[OutputType(typeof(void))]
public sealed class UnlockFileCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public FileLock[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (FileLock held in InputObject)
        {
            TryRun(held, () => held.Release(Trace));
        }
    }
}

/// <summary>
/// Test-FileLock: whether another lock stands in the way of this request now (F_GETLK, F_OFD_GETLK, or a flock try):
/// $true when it is locked against it, as Test-Path is $true when the item is there; -PassThru writes the lock in the
/// way instead (nothing when free).
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "FileLock")]
[OutputType(typeof(bool), typeof(FileLockConflict))]
public sealed class TestFileLockCommand : FileLockRequestCommandBase
{
    /// <summary>Write the conflicting lock (kind, mode, range, process), or nothing when the request is free.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() =>
        TryRun(Path, () =>
        {
            FileLockConflict? conflict = FileLock.FindConflict(FullPath, Kind, LockMode, Start, Length, Trace);
            if (!PassThru)
            {
                WriteObject(conflict is not null);
            }
            else if (conflict is not null)
            {
                WriteObject(conflict);
            }
        });
}

/// <summary>Get-FileLock: every lock on the machine from /proc/locks, like lslocks.</summary>
[Cmdlet(VerbsCommon.Get, "FileLock")]
[OutputType(typeof(FileLockInfo))]
public sealed class GetFileLockCommand : SysprogCmdlet
{
    /// <summary>Only locks on this file.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Only locks this process holds or waits for.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? ProcessId { get; set; }

    protected override void ProcessRecord() =>
        TryRun((object?)Path ?? "/proc/locks", () =>
        {
            string? path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            WriteObject(FileLockInfo.List(path, ProcessId, Trace), enumerateCollection: true);
        });
}
