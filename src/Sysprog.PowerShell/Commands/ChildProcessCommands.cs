using System.Collections;
using System.Diagnostics;
using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Start-ChildProcess: posix_spawnp with descriptors mapped and attributes set, then a pidfd on the child.</summary>
[Cmdlet(VerbsLifecycle.Start, "ChildProcess")]
[OutputType(typeof(ChildProcess))]
public sealed class StartChildProcessCommand : ProgramCommandBase
{
    /// <summary>
    /// The child's descriptors by number: a Sysprog object (pipe end, socket, eventfd, shared memory, queue), a
    /// number (this process's descriptor), or a path (opened for reading as 0, else written: created 0600, truncated).
    /// </summary>
    [Parameter]
    public Hashtable? Descriptor { get; set; }

    [Parameter]
    public SwitchParameter NewSession { get; set; }

    [Parameter]
    public SwitchParameter NewProcessGroup { get; set; }

    /// <summary>Signals the child starts with blocked: USR1, SIGTERM, 10.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] BlockSignal { get; set; } = [];

    /// <summary>Other, Fifo or RR, set by posix_spawn before the exec.</summary>
    [Parameter]
    public SchedulingPolicy? SchedulingPolicy { get; set; }

    /// <summary>The static priority for Fifo or RR, 1 to 99.</summary>
    [Parameter]
    [ValidateRange(0, 99)]
    public int SchedulingPriority { get; set; }

    protected override void ProcessRecord()
    {
        var opened = new List<IDisposable>();
        TryRun(FilePath, () =>
        {
            try
            {
                var info = new ChildProcessStartInfo(Program, ArgumentList ?? [])
                {
                    WorkingDirectory = WorkingDirectoryPath,
                    Environment = EnvironmentOverlay,
                    Descriptors = MapDescriptors(opened),
                    NewSession = NewSession,
                    NewProcessGroup = NewProcessGroup,
                    BlockedSignals = BlockSignal.Select(s => Signals.Parse(s, nameof(BlockSignal))).ToArray(),
                    SchedulingPolicy = SchedulingPolicy,
                    SchedulingPriority = SchedulingPriority,
                };
                WriteObject(Handles.Track(ChildProcess.Start(info, Trace)));
            }
            finally
            {
                // The child has its copies; the files and duplicates opened for it are this cmdlet's to close.
                opened.ForEach(o => o.Dispose());
            }
        });
    }

    private Dictionary<int, IDescriptorObject> MapDescriptors(List<IDisposable> opened)
    {
        var map = new Dictionary<int, IDescriptorObject>();
        foreach (DictionaryEntry entry in Descriptor ?? new Hashtable())
        {
            if (!LanguagePrimitives.TryConvertTo(entry.Key, out int number) || number < 0)
            {
                throw new ArgumentException($"-Descriptor key '{entry.Key}' is not a descriptor number (0 or more).", nameof(Descriptor));
            }
            object? value = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value;
            map[number] = value switch
            {
                IDescriptorObject descriptor => descriptor,
                int fd => Opened(FileDescriptor.Duplicate(fd, Trace)),
                long fd when fd is >= 0 and <= int.MaxValue => Opened(FileDescriptor.Duplicate((int)fd, Trace)),
                string path => Opened(FileDescriptor.Open(LiteralProviderPath(path), number == 0 ? FileAccess.Read : FileAccess.Write, Trace)),
                FileSystemInfo file => Opened(FileDescriptor.Open(file.FullName, number == 0 ? FileAccess.Read : FileAccess.Write, Trace)),
                _ => throw new ArgumentException($"-Descriptor {number} is {(value is null ? "$null" : value.GetType().Name)}: give a Sysprog object (a pipe end, socket, eventfd...), a descriptor number of this process, or a path.", nameof(Descriptor)),
            };
        }
        return map;

        FileDescriptor Opened(FileDescriptor descriptor)
        {
            opened.Add(descriptor);
            return descriptor;
        }
    }
}

/// <summary>Wait-ChildProcess: until each child ends (its pidfd is readable), then reaps it (waitid P_PIDFD).</summary>
[Cmdlet(VerbsLifecycle.Wait, "ChildProcess")]
[OutputType(typeof(ProcessExit))]
public sealed class WaitChildProcessCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ChildProcess[] InputObject { get; set; } = [];

    /// <summary>One limit for the whole pipeline, as Wait-Process has; default: until each has ended, or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    private Stopwatch? _clock;

    protected override void ProcessRecord()
    {
        _clock ??= Stopwatch.StartNew();
        TimeSpan limit = TimeoutOf(TimeoutSeconds);
        foreach (ChildProcess child in InputObject)
        {
            TryRun(child, () =>
            {
                TimeSpan left = limit == System.Threading.Timeout.InfiniteTimeSpan ? limit : TimeSpan.FromTicks(Math.Max(0, (limit - _clock.Elapsed).Ticks));
                WriteObject(child.WaitForExit(left, Cancellation, Trace)
                    ?? throw new TimeoutException($"{child.Description} did not end within {Units.FormatDuration(limit)}."));
            });
        }
    }
}

/// <summary>Stop-ChildProcess: sends a signal (SIGTERM unless told) through the child's pidfd.</summary>
[Cmdlet(VerbsLifecycle.Stop, "ChildProcess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ChildProcess))]
public sealed class StopChildProcessCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public ChildProcess[] InputObject { get; set; } = [];

    /// <summary>TERM, KILL, INT, HUP, USR1, STOP, CONT, 9, SIGRTMIN+1...</summary>
    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Signal { get; set; } = "TERM";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private int _signal;

    protected override void BeginProcessing()
    {
        try
        {
            _signal = Signals.Parse(Signal, nameof(Signal));
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(ToErrorRecord(e, Signal));
        }
    }

    protected override void ProcessRecord()
    {
        foreach (ChildProcess child in InputObject)
        {
            if (ShouldProcess(child.Description, $"Send {Signals.Name(_signal)}") && TryRun(child, () => child.Signal(_signal, Trace)) && PassThru)
            {
                WriteObject(child);
            }
        }
    }
}

/// <summary>Get-ChildProcess: the children this session started and has not closed, each asked whether it has ended (poll on its pidfd).</summary>
[Cmdlet(VerbsCommon.Get, "ChildProcess")]
[OutputType(typeof(ChildProcess))]
public sealed class GetChildProcessCommand : SysprogCmdlet
{
    /// <summary>Only these process ids; default all.</summary>
    [Parameter(Position = 0)]
    [Alias("ProcessId")]
    [ValidateNotNullOrEmpty]
    public int[] Id { get; set; } = [];

    protected override void ProcessRecord()
    {
        List<ChildProcess> open = Handles.Alive<ChildProcess>().Where(c => !c.IsClosed).ToList();
        foreach (ChildProcess child in open.Where(c => Id.Length == 0 || Id.Contains(c.ProcessId)))
        {
            // Asked now, so -Verbose shows whether each has ended (its pidfd readable) and the view's state is current.
            if (TryRun(child, () => child.CheckExited(Trace)))
            {
                WriteObject(child);
            }
        }
        foreach (int missing in Id.Where(id => !open.Any(c => c.ProcessId == id)))
        {
            TryRun(missing, () => throw new KeyNotFoundException($"This session holds no open child process {missing} (Start-ChildProcess starts one; Close-ChildProcess lets go of it)."));
        }
    }
}

/// <summary>Close-ChildProcess: closes the pidfd; a child still running goes on and is reaped once it ends.</summary>
[Cmdlet(VerbsCommon.Close, "ChildProcess")]
[OutputType(typeof(void))]
public sealed class CloseChildProcessCommand : CloseDescriptorCommandBase<ChildProcess>
{
}
