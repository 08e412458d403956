using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Lets a pipe or a socket pair stand for both its descriptors, so that `New-Pipe | Set-FileDescriptor -NonBlocking
/// $true` changes both ends.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class BothDescriptorsTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        (inputData is PSObject wrapped ? wrapped.BaseObject : inputData) switch
        {
            Pipe pipe => new IPollable[] { pipe.ReadEnd, pipe.WriteEnd },
            SocketPair pair => new IPollable[] { pair.First, pair.Second },
            _ => inputData,
        };
}

/// <summary>
/// Set-FileDescriptor: O_NONBLOCK on or off (fcntl F_SETFL, or mq_setattr for a queue); or signal-driven I/O on or off
/// (F_SETOWN_EX, F_SETSIG and O_ASYNC).
/// </summary>
[Cmdlet(VerbsCommon.Set, "FileDescriptor", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = Blocking)]
[OutputType(typeof(PipeEnd), typeof(Socket), typeof(EventFd), typeof(TimerFd), typeof(SignalFd), typeof(Inotify), typeof(MessageQueue), typeof(Pty),
    typeof(ChildProcess), typeof(FileDescriptor))]
public sealed class SetFileDescriptorCommand : SysprogCmdlet
{
    /// <summary>Pipe ends, FIFO ends, sockets, eventfds, timerfds, signalfds, inotify instances, queues, ptys; a pipe or socket pair stands for both.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [BothDescriptorsTransformation]
    [ValidateNotNull]
    public IPollable[] InputObject { get; set; } = [];

    private const string Blocking = "NonBlocking";
    private const string Signalling = "SignalDriven";

    /// <summary>$true: reads and writes no longer wait (they write a WouldBlock record); $false: they wait again.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = Blocking)]
    public bool NonBlocking { get; set; }

    /// <summary>$true: the kernel signals each time the descriptor becomes ready (O_ASYNC); $false: it stops.</summary>
    [Parameter(Mandatory = true, ParameterSetName = Signalling)]
    public bool SignalDriven { get; set; }

    /// <summary>The signal sent: IO (SIGIO) by default; a real-time one (RTMIN+5) queues one per event.</summary>
    [Parameter(ParameterSetName = Signalling)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    public string Signal { get; set; } = "IO";

    /// <summary>The process the signal goes to: this session by default.</summary>
    [Parameter(ParameterSetName = Signalling)]
    [ValidateRange(1, int.MaxValue)]
    public int? OwnerProcessId { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        int signal = 0;
        if (ParameterSetName == Signalling && !TryRun(Signal, () => signal = Signals.Parse(Signal, nameof(Signal))))
        {
            return;
        }
        foreach (IPollable handle in InputObject)
        {
            if (handle is null || !ShouldProcess(handle.Description, Action(signal)))
            {
                continue;
            }
            if (TryRun(handle, () => Apply(handle, signal)) && PassThru)
            {
                WriteObject(handle);
            }
        }
    }

    private string Action(int signal) => ParameterSetName == Signalling
        ? SignalDriven ? $"Send {Signals.Name(signal)} to process {OwnerProcessId ?? Environment.ProcessId} when ready (O_ASYNC)" : "Stop signalling readiness (clear O_ASYNC)"
        : NonBlocking ? "Make non-blocking (O_NONBLOCK)" : "Make blocking (clear O_NONBLOCK)";

    private void Apply(IPollable handle, int signal)
    {
        if (ParameterSetName != Signalling)
        {
            handle.SetNonBlocking(NonBlocking, Trace);
        }
        else if (handle is FileDescriptorObject descriptor)
        {
            descriptor.SetSignalDriven(SignalDriven, signal, OwnerProcessId, Trace);
        }
        else
        {
            throw new ArgumentException($"{handle.Description} cannot signal its readiness: a message queue announces messages with mq_notify (New-MqNotification).", nameof(InputObject));
        }
    }
}

/// <summary>New-PollSet: epoll_create1(2), a set of handles waited on together.</summary>
[Cmdlet(VerbsCommon.New, "PollSet")]
[OutputType(typeof(PollSet))]
public sealed class NewPollSetCommand : SysprogCmdlet
{
    /// <summary>Handles to add at once, level-triggered for reading; Add-PollSetMember adds more, and any other way.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public IPollable[] InputObject { get; set; } = [];

    private PollSet? _set;
    private bool _failed;

    protected override void ProcessRecord()
    {
        if (_set is null && !_failed)
        {
            _failed = !TryRun("epoll", () => _set = Handles.Track(new PollSet(Trace)));
        }
        if (_set is null)
        {
            return;
        }
        foreach (IPollable handle in InputObject)
        {
            if (handle is not null)
            {
                TryRun(handle, () => _set.Add(handle, Readiness.Readable, PollOptions.None, Trace));
            }
        }
    }

    // One set for every handle piped in, written once they are all in it.
    protected override void EndProcessing()
    {
        if (_set is not null)
        {
            WriteObject(_set);
        }
    }
}

/// <summary>What Add- and Set-PollSetMember share: the set, the handles, what to watch for and how.</summary>
public abstract class PollSetMemberCommandBase : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public PollSet InputObject { get; set; } = null!;

    /// <summary>Pipe ends, FIFO ends, sockets, eventfds, timerfds, signalfds, inotify instances, queues, ptys, children.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNull]
    public IPollable[] Handle { get; set; } = [];

    /// <summary>Readable (the default), Writable, Priority (EPOLLPRI: TCP urgent data), ReadHangUp (EPOLLRDHUP: the peer shut down sending).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public Readiness[] Event { get; set; } = [Readiness.Readable];

    /// <summary>EPOLLET: reported when it becomes ready, not while it stays so; read until a read would block.</summary>
    [Parameter]
    public SwitchParameter EdgeTriggered { get; set; }

    /// <summary>EPOLLONESHOT: reported once, then disabled until Set-PollSetMember re-arms it.</summary>
    [Parameter]
    public SwitchParameter OneShot { get; set; }

    private protected Readiness Interest => Event.Aggregate((Readiness)0, (all, one) => all | one);

    private protected PollOptions BaseOptions => (EdgeTriggered ? PollOptions.EdgeTriggered : 0) | (OneShot ? PollOptions.OneShot : 0);

    private protected string Way(PollOptions options) => $"{Interest}{(options == PollOptions.None ? ", level-triggered" : $", {options}")}";
}

/// <summary>Add-PollSetMember: epoll_ctl(EPOLL_CTL_ADD).</summary>
[Cmdlet(VerbsCommon.Add, "PollSetMember")]
[OutputType(typeof(PollSetMember))]
public sealed class AddPollSetMemberCommand : PollSetMemberCommandBase
{
    /// <summary>EPOLLEXCLUSIVE: where several sets (threads, processes) watch this handle so, an event wakes one of their waiters, not all.</summary>
    [Parameter]
    public SwitchParameter Exclusive { get; set; }

    protected override void ProcessRecord()
    {
        PollOptions options = BaseOptions | (Exclusive ? PollOptions.Exclusive : 0);
        foreach (IPollable handle in Handle)
        {
            if (handle is not null)
            {
                TryRun(handle, () =>
                {
                    InputObject.Add(handle, Interest, options, Trace);
                    WriteObject(InputObject.Find(handle));
                });
            }
        }
    }
}

/// <summary>Set-PollSetMember: epoll_ctl(EPOLL_CTL_MOD), which also re-arms a one-shot member.</summary>
[Cmdlet(VerbsCommon.Set, "PollSetMember", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(PollSetMember))]
public sealed class SetPollSetMemberCommand : PollSetMemberCommandBase
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (IPollable handle in Handle)
        {
            if (handle is null || !ShouldProcess($"{handle.Description} in {InputObject.Description}", $"Watch for {Way(BaseOptions)} (EPOLL_CTL_MOD)"))
            {
                continue;
            }
            TryRun(handle, () =>
            {
                InputObject.Modify(handle, Interest, BaseOptions, Trace);
                if (PassThru)
                {
                    WriteObject(InputObject.Find(handle));
                }
            });
        }
    }
}

/// <summary>Remove-PollSetMember: epoll_ctl(EPOLL_CTL_DEL).</summary>
[Cmdlet(VerbsCommon.Remove, "PollSetMember", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class RemovePollSetMemberCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public PollSet InputObject { get; set; } = null!;

    /// <summary>Members' handles, or the PollSetMember objects Add-PollSetMember wrote.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNull]
    public object[] Handle { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (object item in Handle)
        {
            object value = item is PSObject wrapped ? wrapped.BaseObject : item;
            if (value is not (IPollable or PollSetMember))
            {
                WriteError(ToErrorRecord(new ArgumentException($"Remove-PollSetMember takes handles and PollSetMember objects, not {value?.GetType().Name ?? "null"}.",
                    nameof(Handle)), value ?? "null"));
                continue;
            }
            IPollable handle = value as IPollable ?? ((PollSetMember)value).Handle;
            if (ShouldProcess($"{handle.Description} in {InputObject.Description}", "Remove (EPOLL_CTL_DEL)"))
            {
                TryRun(handle, () => InputObject.Remove(handle, Trace));
            }
        }
    }
}

/// <summary>Wait-PollSet: epoll_wait(2), the ready members as ReadyHandle records.</summary>
[Cmdlet(VerbsLifecycle.Wait, "PollSet")]
[OutputType(typeof(ReadyHandle))]
public sealed class WaitPollSetCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public PollSet InputObject { get; set; } = null!;

    /// <summary>Default: wait until a member is ready, or Ctrl+C. A timeout with nothing ready is an error (id Timeout).</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    /// <summary>The most ready members one wait reports (epoll_wait's maxevents); the others are reported by the next.</summary>
    [Parameter]
    [ValidateRange(1, 255)]
    public int MaxEvents { get; set; } = 64;

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(InputObject, () =>
        {
            var ready = new ReadyHandle[MaxEvents];
            int count = InputObject.Wait(ready, timeout, Cancellation, Trace);
            if (count == 0)
            {
                throw new TimeoutException($"No member of {InputObject.Description} was ready within {Units.FormatDuration(timeout)}.");
            }
            for (int i = 0; i < count; i++)
            {
                WriteObject(ready[i]);
            }
        });
    }
}

/// <summary>Close-PollSet: closes the epoll descriptor; the members stay open.</summary>
[Cmdlet(VerbsCommon.Close, "PollSet")]
[OutputType(typeof(void))]
public sealed class ClosePollSetCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public PollSet[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (PollSet set in InputObject)
        {
            if (set is not null)
            {
                TryRun(set, () => set.Close(Trace));
            }
        }
    }
}
