using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>The resources a process's limits cap (RLIMIT_*, named as ulimit and prlimit name them).</summary>
public enum ProcessResource
{
    Cpu = 0,
    FSize = 1,
    Data = 2,
    Stack = 3,
    Core = 4,
    Rss = 5,
    NProc = 6,
    NoFile = 7,
    MemLock = 8,
    AS = 9,
    Locks = 10,
    SigPending = 11,
    MsgQueue = 12,
    Nice = 13,
    RtPrio = 14,
    RtTime = 15,
}

/// <summary>
/// One resource limit of a process (prlimit(2)): the soft limit the kernel enforces and the hard one the soft limit
/// may be raised to; null is unlimited (RLIM_INFINITY). Values are in <see cref="Unit"/>.
/// </summary>
public sealed record ProcessLimit(int ProcessId, ProcessResource Resource, long? Soft, long? Hard)
{
    /// <summary>RLIMIT_NOFILE.</summary>
    public string Name => NameOf(Resource);

    /// <summary>bytes, seconds, microseconds, descriptors, processes, signals, locks, priority, or a nice ceiling.</summary>
    public string Unit => UnitOf(Resource);

    /// <summary>What the limit caps, and what happens at it.</summary>
    public string Description => DescriptionOf(Resource);

    /// <summary>The soft limit as a person reads it: "8 MiB", "unlimited".</summary>
    public string SoftText => Format(Resource, Soft);

    public string HardText => Format(Resource, Hard);

    public override string ToString() => $"{Name} {SoftText} (hard {HardText})";

    /// <summary>Every limit of process <paramref name="processId"/> (0: this one).</summary>
    public static IReadOnlyList<ProcessLimit> GetAll(int processId = 0, SyscallTrace? trace = null) =>
        Enum.GetValues<ProcessResource>().Select(resource => Get(resource, processId, trace)).ToList();

    /// <summary>One limit of process <paramref name="processId"/> (0: this one).</summary>
    public static unsafe ProcessLimit Get(ProcessResource resource, int processId = 0, SyscallTrace? trace = null)
    {
        Validate(resource, processId);
        RLimit limit;
        SyscallResult result = Libc.prlimit(processId, (int)resource, null, &limit);
        Syscall.Check(result, trace, "prlimit", Target(processId, resource), $"{processId}, {NameOf(resource)}, NULL, {limit}", Explain(result.Errno, processId, resource, null, null));
        return new ProcessLimit(processId == 0 ? Environment.ProcessId : processId, resource, Value(limit.Current), Value(limit.Maximum));
    }

    /// <summary>
    /// Sets a limit of process <paramref name="processId"/> (0: this one) and returns it as it now is. Null leaves
    /// that side as it is; <see cref="long.MaxValue"/> is unlimited. Lowering is always allowed; raising the hard
    /// limit needs CAP_SYS_RESOURCE; another process needs the same user ids as this one (or CAP_SYS_RESOURCE).
    /// Lowering a limit of this process that can end or starve it (<see cref="CanEndTheProcess"/>) is refused unless
    /// <paramref name="force"/>: a PowerShell session with a soft RLIMIT_NOFILE of 100 dies at its next open. This
    /// process is also any of its threads' ids: limits belong to the whole process, whichever of its ids prlimit gets.
    /// </summary>
    public static unsafe ProcessLimit Set(ProcessResource resource, long? soft, long? hard, int processId = 0, SyscallTrace? trace = null, bool force = false)
    {
        Validate(resource, processId);
        if (soft < 0 || hard < 0)
        {
            throw new ArgumentOutOfRangeException(soft < 0 ? nameof(soft) : nameof(hard), soft < 0 ? soft : hard, "A limit is 0 or more (long.MaxValue for unlimited).");
        }
        if (soft is null && hard is null)
        {
            throw new ArgumentException("Nothing to set: give a soft limit, a hard limit, or both.", nameof(soft));
        }
        ProcessLimit current = soft is null || hard is null ? Get(resource, processId, trace) : new ProcessLimit(processId, resource, null, null);
        long? newSoft = soft is null ? current.Soft : Unlimited(soft.Value);
        long? newHard = hard is null ? current.Hard : Unlimited(hard.Value);
        if ((newSoft ?? long.MaxValue) > (newHard ?? long.MaxValue))
        {
            throw new ArgumentException($"The soft limit ({Format(resource, newSoft)}) cannot be above the hard limit ({Format(resource, newHard)}).", nameof(soft));
        }
        if (!force && CanEndTheProcess(resource) && ProcFile.IsThisProcess(processId)
            && (newSoft ?? long.MaxValue) < (current.Soft ?? Get(resource, processId).Soft ?? long.MaxValue))
        {
            string which = processId is 0 || processId == Environment.ProcessId ? "this process" : $"this process (thread {processId} is one of its threads)";
            throw new InvalidOperationException($"Lowering {NameOf(resource)} of {which} can end or starve it ({DescriptionOf(resource)}); " +
                "set it on a child instead, or force it.");
        }
        var limit = new RLimit { Current = Raw(newSoft), Maximum = Raw(newHard) };
        RLimit old;
        SyscallResult result = Libc.prlimit(processId, (int)resource, &limit, &old);
        Syscall.Check(result, trace, "prlimit", Target(processId, resource), $"{processId}, {NameOf(resource)}, {limit}, {old}",
            Explain(result.Errno, processId, resource, newSoft, newHard));
        return new ProcessLimit(processId == 0 ? Environment.ProcessId : processId, resource, newSoft, newHard);

        static long? Unlimited(long value) => value == long.MaxValue ? null : value;
    }

    /// <summary>
    /// The resources whose soft limit, once reached, ends a process or makes what it needs to go on fail: CPU and
    /// RTTIME (SIGXCPU, SIGKILL), FSIZE (SIGXFSZ), DATA, STACK and AS (allocations fail), NOFILE (opens fail), NPROC
    /// (no thread starts: the runtime's thread pool and finalizer stall), SIGPENDING (queued signals, the runtime's
    /// among them, fail) and MEMLOCK (locking, the GC's and realtime code's, fails).
    /// </summary>
    public static bool CanEndTheProcess(ProcessResource resource) => resource is ProcessResource.Cpu or ProcessResource.RtTime
        or ProcessResource.FSize or ProcessResource.Data or ProcessResource.Stack or ProcessResource.AS or ProcessResource.NoFile
        or ProcessResource.NProc or ProcessResource.SigPending or ProcessResource.MemLock;

    private static void Validate(ProcessResource resource, int processId)
    {
        if (!Enum.IsDefined(resource))
        {
            throw new ArgumentOutOfRangeException(nameof(resource), resource, "Not a resource this kernel limits (RLIMIT_CPU to RLIMIT_RTTIME).");
        }
        if (processId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is 1 or more, or 0 for this process.");
        }
    }

    private static string Target(int processId, ProcessResource resource) => processId == 0 ? NameOf(resource) : $"{NameOf(resource)} of process {processId}";

    private static string? Explain(Errno errno, int processId, ProcessResource resource, long? soft, long? hard) => errno switch
    {
        Errno.ESRCH => $"No process {processId}.",
        Errno.EPERM => ExplainRefusal(processId, resource, hard),
        Errno.EINVAL when resource == ProcessResource.NoFile => $"RLIMIT_NOFILE cannot be above fs.nr_open ({ProcFile.Sysctl("fs.nr_open")}).",
        Errno.EINVAL => $"The soft limit {Format(resource, soft)} is above the hard limit {Format(resource, hard)}.",
        _ => null,
    };

    // EPERM has two causes: another user's process, or a raised hard limit. The ids say which.
    private static string ExplainRefusal(int processId, ProcessResource resource, long? hard)
    {
        string raising = $"Raising the hard limit of {NameOf(resource)} needs CAP_SYS_RESOURCE{(hard is null ? "" : $" (asked: {Format(resource, hard)})")}.";
        bool? sharesIds = processId == 0 || processId == Environment.ProcessId ? true : SharesIds(processId);
        const string ids = "with this process's real user and group id as its real, effective and saved ids, and this process lacks CAP_SYS_RESOURCE to change another user's limits";
        return sharesIds switch
        {
            true => raising,
            false => $"Process {processId} does not run {ids}.",
            null => $"Either process {processId} does not run {ids}, or: {raising}",
        };
    }

    /// <summary>
    /// Whether prlimit may touch process <paramref name="processId"/> without CAP_SYS_RESOURCE: this process's real uid
    /// is its real, effective and saved uid, and the same for the gid (the kernel's check_prlimit_permission). Null
    /// when its /proc status cannot be read (gone, or hidden).
    /// </summary>
    private static bool? SharesIds(int processId)
    {
        try
        {
            Dictionary<string, string> own = ProcFile.Fields("/proc/self/status");
            Dictionary<string, string> target = ProcFile.Fields($"/proc/{processId}/status");
            return Matches("Uid") && Matches("Gid");

            // "Uid:	1000	1000	1000	1000": real, effective, saved, filesystem.
            bool Matches(string field)
            {
                string real = own[field].Split('\t')[0];
                return target[field].Split('\t').Take(3).All(id => id == real);
            }
        }
        catch (Exception e) when (e is SysprogException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static long? Value(ulong value) => value == Libc.RLIM_INFINITY ? null : (long)Math.Min(value, long.MaxValue - 1);

    private static ulong Raw(long? value) => value is long given ? (ulong)given : Libc.RLIM_INFINITY;

    /// <summary>RLIMIT_NOFILE for NoFile.</summary>
    public static string NameOf(ProcessResource resource) => "RLIMIT_" + resource.ToString().ToUpperInvariant();

    private static string UnitOf(ProcessResource resource) => resource switch
    {
        ProcessResource.Cpu => "seconds",
        ProcessResource.RtTime => "microseconds",
        ProcessResource.NProc => "processes",
        ProcessResource.NoFile => "descriptors",
        ProcessResource.Locks => "locks",
        ProcessResource.SigPending => "signals",
        ProcessResource.Nice => "20 - nice",
        ProcessResource.RtPrio => "priority",
        _ => "bytes",
    };

    private static string DescriptionOf(ProcessResource resource) => resource switch
    {
        ProcessResource.Cpu => "CPU time: SIGXCPU at the soft limit, every second after, SIGKILL at the hard one.",
        ProcessResource.FSize => "Largest file it may write: SIGXFSZ, then EFBIG.",
        ProcessResource.Data => "Data segment, heap and private writable mappings: brk and mmap fail with ENOMEM.",
        ProcessResource.Stack => "Main thread's stack (and where mmap places its base): SIGSEGV beyond it.",
        ProcessResource.Core => "Largest core dump; 0 writes none.",
        ProcessResource.Rss => "Not enforced by Linux.",
        ProcessResource.NProc => "Processes and threads of its real user: fork and clone fail with EAGAIN.",
        ProcessResource.NoFile => "One more than the highest descriptor it may open: EMFILE.",
        ProcessResource.MemLock => "Memory it may lock (mlock, mlockall, SHM_LOCK, MAP_LOCKED) without CAP_IPC_LOCK.",
        ProcessResource.AS => "Whole address space: mmap, brk and mremap fail with ENOMEM.",
        ProcessResource.Locks => "Not enforced by Linux since 2.4.25.",
        ProcessResource.SigPending => "Signals queued to its real user: sigqueue fails with EAGAIN.",
        ProcessResource.MsgQueue => "Bytes of POSIX message queues its real user may create: mq_open fails with EMFILE.",
        ProcessResource.Nice => "How far nice may be lowered without CAP_SYS_NICE: to 20 minus this value.",
        ProcessResource.RtPrio => "Highest SCHED_FIFO or SCHED_RR priority it may take without CAP_SYS_NICE.",
        ProcessResource.RtTime => "CPU time a realtime thread may run without blocking: SIGXCPU, then SIGKILL.",
        _ => "",
    };

    /// <summary>A value of the resource as a person reads it: "8 MiB", "1024", "unlimited" (null or long.MaxValue).</summary>
    public static string Format(ProcessResource resource, long? value)
    {
        if (value is not long given || given == long.MaxValue)
        {
            return "unlimited";
        }
        return UnitOf(resource) == "bytes" && given >= 1024 ? MemorySize.Describe(given) : given.ToString(CultureInfo.InvariantCulture);
    }
}
