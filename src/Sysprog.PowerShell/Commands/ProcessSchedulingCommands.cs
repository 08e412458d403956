using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-ProcessScheduling: policy, priority, nice and CPU affinity of a process's main thread, one thread, or every thread.</summary>
[Cmdlet(VerbsCommon.Get, "ProcessScheduling")]
[OutputType(typeof(ProcessScheduling))]
public sealed class GetProcessSchedulingCommand : ProcessCommandBase
{
    /// <summary>One thread (a TID of the process).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? ThreadId { get; set; }

    /// <summary>Every thread, not only the main one.</summary>
    [Parameter]
    public SwitchParameter AllThreads { get; set; }

    protected override void BeginProcessing()
    {
        if (ThreadId is not null && AllThreads)
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("-ThreadId names one thread; -AllThreads asks for all: give one or the other."), nameof(ThreadId)));
        }
    }

    protected override void ProcessRecord()
    {
        foreach (int id in ProcessIds)
        {
            TryRun(id, () =>
            {
                if (AllThreads)
                {
                    WriteObject(ProcessScheduling.GetThreads(id, Trace), enumerateCollection: true);
                }
                else
                {
                    WriteObject(ProcessScheduling.Get(id, ThreadId, Trace));
                }
            });
        }
    }
}

/// <summary>Set-ProcessScheduling: sched_setscheduler, setpriority and sched_setaffinity on every thread of a process, or one.</summary>
[Cmdlet(VerbsCommon.Set, "ProcessScheduling", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ProcessScheduling))]
public sealed class SetProcessSchedulingCommand : ProcessCommandBase
{
    /// <summary>Only this thread; default every thread of the process.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? ThreadId { get; set; }

    [Parameter]
    public SchedulingPolicy? Policy { get; set; }

    /// <summary>With -Policy Fifo or RR: the static priority, 1 to 99.</summary>
    [Parameter]
    [ValidateRange(0, 99)]
    public int Priority { get; set; }

    /// <summary>With -Policy: children start back at SCHED_OTHER (SCHED_RESET_ON_FORK).</summary>
    [Parameter]
    public SwitchParameter ResetOnFork { get; set; }

    [Parameter]
    [ValidateRange(-20, 19)]
    public int? Nice { get; set; }

    /// <summary>The CPUs it may run on.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRange(0, 8191)]
    public int[]? Affinity { get; set; }

    /// <summary>Set -Policy Idle on this session (its process id or one of its threads' ids) all the same: it can starve it.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        if (Policy is null && Nice is null && Affinity is null)
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("Nothing to set: give -Policy, -Nice or -Affinity."), MyInvocation.MyCommand.Name));
        }
        if (Policy is null && (MyInvocation.BoundParameters.ContainsKey(nameof(Priority)) || ResetOnFork))
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("-Priority and -ResetOnFork go with -Policy."), nameof(Priority)));
        }
    }

    protected override void ProcessRecord()
    {
        foreach (int id in ProcessIds)
        {
            string target = ThreadId is int thread ? $"thread {thread} of process {id}" : $"every thread of process {id}";
            var changes = new List<string>();
            if (Policy is SchedulingPolicy policy)
            {
                changes.Add($"policy {ProcessScheduling.NameOf(policy)} priority {Priority}{(ResetOnFork ? " reset on fork" : "")}");
            }
            if (Nice is int nice)
            {
                changes.Add($"nice {nice}");
            }
            if (Affinity is int[] cpus)
            {
                changes.Add($"CPUs {CpuList.Format(cpus)}");
            }
            if (!ShouldProcess(target, $"Set {string.Join(", ", changes)}"))
            {
                continue;
            }
            TryRun(id, () =>
            {
                IReadOnlyList<ProcessScheduling> result = [];
                if (Policy is SchedulingPolicy newPolicy)
                {
                    result = ProcessScheduling.SetPolicy(id, newPolicy, Priority, ResetOnFork, ThreadId, Trace, Force);
                }
                if (Nice is int newNice)
                {
                    result = ProcessScheduling.SetNice(id, newNice, ThreadId, Trace);
                }
                if (Affinity is int[] newCpus)
                {
                    result = ProcessScheduling.SetAffinity(id, newCpus, ThreadId, Trace);
                }
                if (PassThru)
                {
                    WriteObject(result, enumerateCollection: true);
                }
            });
        }
    }
}
