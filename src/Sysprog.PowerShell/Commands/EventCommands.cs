using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>What the Close- cmdlets of descriptor objects share.</summary>
public abstract class CloseDescriptorCommandBase<T> : SysprogCmdlet where T : FileDescriptorObject
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public T[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (T handle in InputObject)
        {
            TryRun(handle, () => handle.Close(Trace));
        }
    }
}

/// <summary>Reads of -TimeoutSeconds, shared by the Read- cmdlets of descriptor objects.</summary>
public abstract class ReadDescriptorCommandBase<T> : SysprogCmdlet where T : FileDescriptorObject
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public T InputObject { get; set; } = null!;

    /// <summary>Default: wait until there is something to read, or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    protected TimeSpan Timeout => TimeoutOf(TimeoutSeconds);

    /// <summary>
    /// Writes what one read returned; where it got nothing, a WouldBlock record when the read was not to wait
    /// (<see cref="SysprogCmdlet.WouldBlockInstead"/>), else a timeout error targeting the object. True when it read something.
    /// </summary>
    protected bool ReadOnce(Func<object?> read)
    {
        bool got = false;
        TryRun(InputObject, () =>
        {
            object? value = read();
            if (value is null && WouldBlockInstead(InputObject, Timeout))
            {
                WriteObject(new WouldBlock(InputObject, "read"));
                return;
            }
            WriteObject(value ?? throw NothingToRead());
            got = true;
        });
        return got;
    }

    protected TimeoutException NothingToRead() => NothingToRead(InputObject.Description, Timeout);
}

/// <summary>New-EventFd: eventfd(2).</summary>
[Cmdlet(VerbsCommon.New, "EventFd")]
[OutputType(typeof(EventFd))]
public sealed class NewEventFdCommand : SysprogCmdlet
{
    [Parameter(Position = 0)]
    public uint InitialValue { get; set; }

    /// <summary>EFD_SEMAPHORE: each read takes 1.</summary>
    [Parameter]
    public SwitchParameter Semaphore { get; set; }

    /// <summary>Reads of 0 and overflowing writes do not wait: they write a WouldBlock record (EAGAIN) instead.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    /// <summary>Leave FD_CLOEXEC clear, so programs started from this session inherit it under the same number.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    protected override void ProcessRecord() =>
        TryRun("eventfd", () => WriteObject(Handles.Track(EventFd.Create(InitialValue, Semaphore, NonBlocking, Inheritable, Trace))));
}

/// <summary>Write-EventFd: adds to the counter.</summary>
[Cmdlet(VerbsCommunications.Write, "EventFd")]
[OutputType(typeof(EventFd), typeof(WouldBlock))]
public sealed class WriteEventFdCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public EventFd InputObject { get; set; } = null!;

    [Parameter(Position = 1)]
    [ValidateRange(1UL, EventFd.MaxValue)]
    public ulong Value { get; set; } = 1;

    /// <summary>How long to wait while the add would overflow the counter. Default: until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        bool added = false;
        TryRun(InputObject, () =>
        {
            if (InputObject.Add(Value, timeout, Cancellation, Trace))
            {
                added = true;
            }
            else if (WouldBlockInstead(InputObject, timeout))
            {
                WriteObject(new WouldBlock(InputObject, "write"));
            }
            else
            {
                throw new TimeoutException($"{InputObject.Description} stayed too full to add {Value} for {Units.FormatDuration(timeout)}.");
            }
        });
        if (added && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Read-EventFd: the count (reset to 0), or 1 in semaphore mode.</summary>
[Cmdlet(VerbsCommunications.Read, "EventFd")]
[OutputType(typeof(ulong), typeof(WouldBlock))]
public sealed class ReadEventFdCommand : ReadDescriptorCommandBase<EventFd>
{
    protected override void ProcessRecord() => ReadOnce(() => InputObject.Read(Timeout, Cancellation, Trace));
}

/// <summary>Close-EventFd.</summary>
[Cmdlet(VerbsCommon.Close, "EventFd")]
[OutputType(typeof(void))]
public sealed class CloseEventFdCommand : CloseDescriptorCommandBase<EventFd>
{
}

/// <summary>New-TimerFd: timerfd_create(2).</summary>
[Cmdlet(VerbsCommon.New, "TimerFd")]
[OutputType(typeof(TimerFd))]
public sealed class NewTimerFdCommand : SysprogCmdlet
{
    [Parameter(Position = 0)]
    public TimerClock Clock { get; set; } = TimerClock.Monotonic;

    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    /// <summary>A read before the next expiry does not wait: it writes a WouldBlock record (EAGAIN) instead.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord() =>
        TryRun("timerfd", () => WriteObject(Handles.Track(TimerFd.Create(Clock, Inheritable, Trace, NonBlocking))));
}

/// <summary>Set-TimerFd: arms (after a delay, or at a date) or disarms (timerfd_settime).</summary>
[Cmdlet(VerbsCommon.Set, "TimerFd", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = AfterDelay)]
[OutputType(typeof(TimerFd))]
public sealed class SetTimerFdCommand : SysprogCmdlet
{
    private const string AfterDelay = "Delay";
    private const string AtTime = "At";
    private const string Stop = "Disarm";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public TimerFd InputObject { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = AfterDelay)]
    [ValidateRange(0.000001, 2073600.0)]
    public double DelaySeconds { get; set; }

    /// <summary>Absolute wall-clock time (Realtime timers only).</summary>
    [Parameter(Mandatory = true, ParameterSetName = AtTime)]
    public DateTime At { get; set; }

    /// <summary>Then expire every this many seconds (0: once).</summary>
    [Parameter(ParameterSetName = AfterDelay)]
    [Parameter(ParameterSetName = AtTime)]
    [ValidateRange(0.0, 2073600.0)]
    public double IntervalSeconds { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = Stop)]
    public SwitchParameter Disarm { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string action = ParameterSetName switch
        {
            Stop => "Disarm timer",
            AtTime => $"Arm timer at {At:o}, then every {IntervalSeconds} s",
            _ => $"Arm timer in {DelaySeconds} s, then every {IntervalSeconds} s",
        };
        if (!ShouldProcess(InputObject.Description, action))
        {
            return;
        }
        TimeSpan interval = TimeSpan.FromSeconds(IntervalSeconds);
        bool done = TryRun(InputObject, () =>
        {
            switch (ParameterSetName)
            {
                case Stop: InputObject.Disarm(Trace); break;
                case AtTime: InputObject.ArmAt(new DateTimeOffset(At), interval, Trace); break;
                default: InputObject.Arm(TimeSpan.FromSeconds(DelaySeconds), interval, Trace); break;
            }
        });
        if (done && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Read-TimerFd: the number of expirations since the last read.</summary>
[Cmdlet(VerbsCommunications.Read, "TimerFd")]
[OutputType(typeof(ulong), typeof(WouldBlock))]
public sealed class ReadTimerFdCommand : ReadDescriptorCommandBase<TimerFd>
{
    protected override void ProcessRecord() => ReadOnce(() => InputObject.Read(Timeout, Cancellation, Trace));
}

/// <summary>Close-TimerFd.</summary>
[Cmdlet(VerbsCommon.Close, "TimerFd")]
[OutputType(typeof(void))]
public sealed class CloseTimerFdCommand : CloseDescriptorCommandBase<TimerFd>
{
}

/// <summary>New-SignalFd: receive chosen signals as records.</summary>
[Cmdlet(VerbsCommon.New, "SignalFd")]
[OutputType(typeof(SignalFd))]
public sealed class NewSignalFdCommand : SysprogCmdlet
{
    /// <summary>Names or numbers: USR1, SIGTERM, 10.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    public string[] Signal { get; set; } = [];

    /// <summary>A read with no signal pending does not wait: it writes a WouldBlock record (EAGAIN) instead.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord() =>
        TryRun(string.Join(",", Signal), () => WriteObject(Handles.Track(SignalFd.Create(Signal.Select(s => Signals.Parse(s, nameof(Signal))), Trace, NonBlocking))));
}

/// <summary>Read-SignalFd: the next signals received.</summary>
[Cmdlet(VerbsCommunications.Read, "SignalFd")]
[OutputType(typeof(SignalRecord), typeof(WouldBlock))]
public sealed class ReadSignalFdCommand : ReadDescriptorCommandBase<SignalFd>
{
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    protected override void ProcessRecord()
    {
        for (int i = 0; i < Count && !Cancellation.IsCancellationRequested; i++)
        {
            if (!ReadOnce(() => InputObject.Read(Timeout, Cancellation, Trace)))
            {
                return;
            }
        }
    }
}

/// <summary>Close-SignalFd: the signals' dispositions are what they were before.</summary>
[Cmdlet(VerbsCommon.Close, "SignalFd")]
[OutputType(typeof(void))]
public sealed class CloseSignalFdCommand : CloseDescriptorCommandBase<SignalFd>
{
}

/// <summary>Wait-FileDescriptor: one wait over many handles (epoll, or poll), until any or all are ready.</summary>
[Cmdlet(VerbsLifecycle.Wait, "FileDescriptor")]
[OutputType(typeof(ReadyHandle))]
public sealed class WaitFileDescriptorCommand : SysprogCmdlet
{
    private readonly List<IPollable> _handles = [];

    /// <summary>EventFd, TimerFd, SignalFd, Inotify and MessageQueue objects, from the pipeline or as an array.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public IPollable[] InputObject { get; set; } = [];

    /// <summary>Wait until every handle has been ready, rather than any.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Wait for room to write (a queue with space, an eventfd below its maximum) instead of something to read.</summary>
    [Parameter]
    public SwitchParameter Writable { get; set; }

    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    /// <summary>Epoll (the default: the kernel keeps the list) or Poll (poll(2): the whole list goes to the kernel at each wait).</summary>
    [Parameter]
    public WaitMechanism Mechanism { get; set; } = WaitMechanism.Epoll;

    protected override void ProcessRecord() => _handles.AddRange(InputObject);

    protected override void EndProcessing()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(_handles.ToArray(), () =>
        {
            IReadOnlyList<ReadyHandle> ready = PollSet.WaitFor(_handles, Writable ? Readiness.Writable : Readiness.Readable, All, timeout, Cancellation, Trace, Mechanism);
            if (ready.Count == 0)
            {
                throw new TimeoutException($"None of the {_handles.Count} handles {(All ? "were all" : "was")} ready within {Units.FormatDuration(timeout)}.");
            }
            WriteObject(ready, enumerateCollection: true);
        });
    }
}
