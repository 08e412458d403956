using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>Linux scheduling policies (SCHED_*): the values are the kernel's.</summary>
public enum SchedulingPolicy
{
    /// <summary>SCHED_OTHER: the default, time-shared by nice value.</summary>
    Other = 0,

    /// <summary>SCHED_FIFO: realtime, runs until it blocks or a higher priority is ready.</summary>
    Fifo = 1,

    /// <summary>SCHED_RR: realtime, FIFO with a time slice among equal priorities.</summary>
    RR = 2,

    /// <summary>SCHED_BATCH: like Other, assumed CPU-bound, wakes with a small penalty.</summary>
    Batch = 3,

    /// <summary>SCHED_IDLE: runs only when nothing else wants the CPU.</summary>
    Idle = 5,

    /// <summary>SCHED_DEADLINE: runtime, deadline and period (readable here; set with chrt --deadline).</summary>
    Deadline = 6,
}

/// <summary>
/// How one thread of a process is scheduled: policy, static priority (realtime policies), nice value (the others)
/// and the CPUs it may run on. The kernel schedules threads, so these are per thread; a process's own values are
/// those of its main thread (thread id = process id), and a new thread starts with its creator's.
/// </summary>
public sealed record ProcessScheduling(int ProcessId, int ThreadId, string ThreadName, SchedulingPolicy Policy, int Priority, int Nice,
    bool ResetOnFork, IReadOnlyList<int> Affinity)
{
    /// <summary>SCHED_FIFO.</summary>
    public string PolicyName => NameOf(Policy);

    /// <summary>The CPUs as a list the kernel writes: "0-3,6".</summary>
    public string AffinityList => CpuList.Format(Affinity);

    public override string ToString() => $"{ThreadId} {PolicyName} priority {Priority} nice {Nice} CPUs {AffinityList}";

    /// <summary>The main thread of process <paramref name="processId"/> (0: this process), or thread <paramref name="threadId"/> of it.</summary>
    public static ProcessScheduling Get(int processId = 0, int? threadId = null, SyscallTrace? trace = null)
    {
        int process = ValidateIds(processId, threadId);
        return Read(process, threadId ?? process, trace);
    }

    /// <summary>Every thread of process <paramref name="processId"/> (0: this process).</summary>
    public static IReadOnlyList<ProcessScheduling> GetThreads(int processId = 0, SyscallTrace? trace = null)
    {
        int process = ValidateIds(processId, null);
        var threads = new List<ProcessScheduling>();
        foreach (int thread in ProcFile.ThreadIds(process))
        {
            try
            {
                threads.Add(Read(process, thread, trace));
            }
            catch (SysprogException e) when (e.Errno == Errno.ESRCH && thread != process)
            {
                // A thread that ended while the others were read.
            }
        }
        return threads;
    }

    /// <summary>
    /// Sets the policy and static priority (sched_setscheduler) of thread <paramref name="threadId"/> of the
    /// process, or of each of its threads; returns them as they now are. SCHED_IDLE for this process or any of its
    /// threads is refused unless <paramref name="force"/>: it runs only when nothing else wants the CPU, so any busy
    /// process starves it (a session that then never answers), and without CAP_SYS_NICE it cannot be undone.
    /// </summary>
    public static IReadOnlyList<ProcessScheduling> SetPolicy(int processId, SchedulingPolicy policy, int priority = 0, bool resetOnFork = false,
        int? threadId = null, SyscallTrace? trace = null, bool force = false)
    {
        ValidatePriority(policy, priority);
        if (policy == SchedulingPolicy.Deadline)
        {
            throw new ArgumentException("SCHED_DEADLINE takes a runtime, a deadline and a period (sched_setattr), which Sysprog does not set; chrt --deadline does.", nameof(policy));
        }
        int process = ValidateIds(processId, threadId);
        EnsureThreadOf(process, threadId, "sched_setscheduler");
        if (!force && policy == SchedulingPolicy.Idle && ProcFile.IsThisProcess(process))
        {
            string which = threadId is int thread && thread != process ? $"thread {thread} of this process" : "this process";
            throw new InvalidOperationException($"SCHED_IDLE for {which} can starve it: it runs only when no other thread wants the CPU, and " +
                "without CAP_SYS_NICE it cannot be set back. Set it on a child instead, or force it.");
        }
        return ForEachThread(processId, threadId, "sched_setscheduler", trace, (thread, target) =>
        {
            int policyValue = (int)policy | (resetOnFork ? Libc.SCHED_RESET_ON_FORK : 0);
            SyscallResult result = Libc.sched_setscheduler(thread, policyValue, new SchedParam { Priority = priority });
            Syscall.Check(result, trace, "sched_setscheduler", target, $"{thread}, {NameOf(policy)}{(resetOnFork ? "|SCHED_RESET_ON_FORK" : "")}, [{priority}]",
                result.Errno == Errno.EPERM ? ExplainRefusal(policy, priority, thread) : null);
        });
    }

    /// <summary>Sets the nice value (setpriority, which on Linux takes a thread id) of one thread or each thread of the process.</summary>
    public static IReadOnlyList<ProcessScheduling> SetNice(int processId, int nice, int? threadId = null, SyscallTrace? trace = null)
    {
        if (nice is < -20 or > 19)
        {
            throw new ArgumentOutOfRangeException(nameof(nice), nice, "A nice value is -20 (most favoured) to 19.");
        }
        return ForEachThread(processId, threadId, "setpriority", trace, (thread, target) =>
        {
            SyscallResult result = Libc.setpriority(Libc.PRIO_PROCESS, thread, nice);
            Syscall.Check(result, trace, "setpriority", target, $"PRIO_PROCESS, {thread}, {nice}",
                result.Errno is Errno.EPERM or Errno.EACCES ? ExplainNiceRefusal(thread, nice) : null);
        });
    }

    /// <summary>Sets the CPUs one thread or each thread of the process may run on (sched_setaffinity).</summary>
    public static unsafe IReadOnlyList<ProcessScheduling> SetAffinity(int processId, IReadOnlyCollection<int> cpus, int? threadId = null, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        if (cpus.Count == 0)
        {
            throw new ArgumentException("An affinity names at least one CPU.", nameof(cpus));
        }
        if (cpus.FirstOrDefault(cpu => cpu is < 0 or >= MaxCpus) is int bad && (bad < 0 || bad >= MaxCpus))
        {
            throw new ArgumentOutOfRangeException(nameof(cpus), bad, $"A CPU number is 0 to {MaxCpus - 1} (this machine has {CpuList.Format(CpuList.Possible())}).");
        }
        ulong[] mask = new ulong[MaxCpus / 64];
        foreach (int cpu in cpus)
        {
            mask[cpu / 64] |= 1UL << (cpu % 64);
        }
        return ForEachThread(processId, threadId, "sched_setaffinity", trace, (thread, target) =>
        {
            SyscallResult result;
            fixed (ulong* bits = mask)
            {
                result = Libc.sched_setaffinity(thread, (nuint)(mask.Length * sizeof(ulong)), bits);
            }
            Syscall.Check(result, trace, "sched_setaffinity", target, $"{thread}, {mask.Length * sizeof(ulong)}, [{CpuList.Format(cpus)}]",
                result.Errno switch
                {
                    Errno.EINVAL => $"None of CPUs {CpuList.Format(cpus)} is online and allowed by this thread's cpuset (online: {CpuList.Format(CpuList.Online())}).",
                    Errno.EPERM => $"Thread {thread} belongs to another user, and this process lacks CAP_SYS_NICE.",
                    _ => null,
                });
        });
    }

    /// <summary>The static priorities a policy takes (sched_get_priority_min/max): 1 to 99 for Fifo and RR, 0 for the others.</summary>
    public static (int Minimum, int Maximum) PriorityRange(SchedulingPolicy policy) =>
        policy is SchedulingPolicy.Fifo or SchedulingPolicy.RR ? (1, 99) : (0, 0);

    internal static void ValidatePriority(SchedulingPolicy policy, int priority)
    {
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "Not a scheduling policy: Other, Batch, Idle, Fifo or RR.");
        }
        (int minimum, int maximum) = PriorityRange(policy);
        if (priority < minimum || priority > maximum)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, minimum == maximum
                ? $"{NameOf(policy)} takes priority 0; its threads are ranked by nice value."
                : $"{NameOf(policy)} takes a priority from {minimum} to {maximum}.");
        }
    }

    /// <summary>SCHED_FIFO for Fifo.</summary>
    public static string NameOf(SchedulingPolicy policy) => policy switch
    {
        SchedulingPolicy.Other => "SCHED_OTHER",
        SchedulingPolicy.Fifo => "SCHED_FIFO",
        SchedulingPolicy.RR => "SCHED_RR",
        SchedulingPolicy.Batch => "SCHED_BATCH",
        SchedulingPolicy.Idle => "SCHED_IDLE",
        SchedulingPolicy.Deadline => "SCHED_DEADLINE",
        _ => $"policy {(int)policy}",
    };

    /// <summary>Why a policy change was refused (EPERM), with the limit that would have allowed it.</summary>
    internal static string ExplainRefusal(SchedulingPolicy policy, int priority, int threadId = 0)
    {
        if (threadId != 0 && AnotherUsers(threadId) is string another)
        {
            return another;
        }
        if (policy is SchedulingPolicy.Fifo or SchedulingPolicy.RR)
        {
            ProcessLimit limit = ProcessLimit.Get(ProcessResource.RtPrio);
            return $"{NameOf(policy)} at priority {priority} needs CAP_SYS_NICE, or RLIMIT_RTPRIO of at least {priority} (it is {limit.SoftText}, hard {limit.HardText}; " +
                "as root: prlimit --rtprio, or a line in /etc/security/limits.conf).";
        }
        return $"Leaving a realtime or SCHED_IDLE policy for {NameOf(policy)} needs CAP_SYS_NICE, or RLIMIT_NICE allowing the thread's nice value.";
    }

    private static string ExplainNiceRefusal(int threadId, int nice)
    {
        if (AnotherUsers(threadId) is string another)
        {
            return another;
        }
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.Nice);
        string floor = limit.Soft is long soft ? (20 - soft).ToString(CultureInfo.InvariantCulture) : "-20";
        return $"Lowering nice to {nice} needs CAP_SYS_NICE, or RLIMIT_NICE allowing it (it allows down to {floor}).";
    }

    /// <summary>Why a change to another user's thread was refused; null when the thread is this user's (or gone).</summary>
    private static string? AnotherUsers(int threadId)
    {
        uint? owner;
        try
        {
            owner = FileStatus.OfPath($"/proc/{threadId}", followLinks: true)?.Uid;
        }
        catch (SysprogException)
        {
            return null;
        }
        return owner is uint uid && uid != Libc.geteuid()
            ? $"Thread {threadId} belongs to user {Accounts.UserName(uid)}; changing another user's threads needs CAP_SYS_NICE."
            : null;
    }

    private const int MaxCpus = 8192;

    private static int ValidateIds(int processId, int? threadId)
    {
        if (processId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is 1 or more, or 0 for this process.");
        }
        if (threadId <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threadId), threadId, "A thread id is 1 or more.");
        }
        return processId == 0 ? Environment.ProcessId : processId;
    }

    /// <summary>
    /// Refuses a thread id that is not one of <paramref name="process"/>'s threads (ESRCH) before any change is made:
    /// sched_setscheduler, setpriority and sched_setaffinity take any thread id, so another process's thread would be
    /// changed under the name of this one.
    /// </summary>
    private static void EnsureThreadOf(int process, int? threadId, string call)
    {
        if (threadId is int thread && thread != process && !Directory.Exists($"/proc/{process}/task/{thread}"))
        {
            throw new SysprogException(Errno.ESRCH, call, $"thread {thread} of process {process}",
                $"Thread {thread} is not a thread of process {process}{(Directory.Exists($"/proc/{thread}") ? " (it belongs to another process)" : "")}: nothing was changed.");
        }
    }

    private static IReadOnlyList<ProcessScheduling> ForEachThread(int processId, int? threadId, string call, SyscallTrace? trace, Action<int, string> change)
    {
        int process = ValidateIds(processId, threadId);
        EnsureThreadOf(process, threadId, call);
        var changed = new List<ProcessScheduling>();
        var done = new HashSet<int>();
        // A thread made while the others were being changed, by one not changed yet, copies the old setting and is in
        // no earlier listing: the threads are listed again until a listing shows none that is new (as long as the
        // process keeps making threads faster than this changes them, which no process does for long).
        for (int round = 0; round < 100; round++)
        {
            int[] fresh = (threadId is int one ? [one] : ProcFile.ThreadIds(process)).Where(done.Add).ToArray();
            if (fresh.Length == 0)
            {
                break;
            }
            foreach (int thread in fresh)
            {
                string target = thread == process ? $"process {process}" : $"thread {thread} of process {process}";
                try
                {
                    change(thread, target);
                }
                catch (SysprogException e) when (e.Errno == Errno.ESRCH && threadId is null && thread != process)
                {
                    // A thread that ended while the others were being changed.
                    continue;
                }
                changed.Add(Read(process, thread, trace));
            }
            if (threadId is not null)
            {
                // One thread asked for: nothing can be missed, no second listing.
                break;
            }
        }
        return changed;
    }

    private static unsafe ProcessScheduling Read(int processId, int threadId, SyscallTrace? trace)
    {
        string target = threadId == processId ? $"process {processId}" : $"thread {threadId} of process {processId}";
        string? missing = $"No thread {threadId}{(threadId == processId ? "" : $" in process {processId}")}.";
        if (threadId != processId && !Directory.Exists($"/proc/{processId}/task/{threadId}"))
        {
            throw new SysprogException(Errno.ESRCH, "sched_getscheduler", target, missing);
        }
        SyscallResult policyResult = Libc.sched_getscheduler(threadId);
        int policyValue = Syscall.Check(policyResult, trace, "sched_getscheduler", target, $"{threadId}", policyResult.Errno == Errno.ESRCH ? missing : null);
        var policy = (SchedulingPolicy)(policyValue & ~Libc.SCHED_RESET_ON_FORK);
        Syscall.Check(Libc.sched_getparam(threadId, out SchedParam parameters), trace, "sched_getparam", target, $"{threadId}, [{parameters.Priority}]", missing);
        SyscallResult niceResult = Libc.getpriority(Libc.PRIO_PROCESS, threadId);
        if (niceResult.Errno != Errno.None)
        {
            Syscall.Check(niceResult, trace, "getpriority", target, $"PRIO_PROCESS, {threadId}", missing);
        }
        trace?.Invoke($"getpriority(PRIO_PROCESS, {threadId}) = {niceResult.Value}");
        List<int> affinity = ReadAffinity(threadId, target, trace);
        string name = ReadName(processId, threadId, trace);
        return new ProcessScheduling(processId, threadId, name, policy, parameters.Priority, (int)niceResult.Value, (policyValue & Libc.SCHED_RESET_ON_FORK) != 0, affinity);
    }

    private static unsafe List<int> ReadAffinity(int threadId, string target, SyscallTrace? trace)
    {
        for (int words = 16; ; words *= 2)
        {
            ulong* mask = stackalloc ulong[words];
            SyscallResult result = Libc.sched_getaffinity(threadId, (nuint)(words * sizeof(ulong)), mask);
            if (result.Errno == Errno.EINVAL && words < MaxCpus / 64)
            {
                // The kernel's CPU mask is larger than the buffer: a machine with more possible CPUs.
                continue;
            }
            var cpus = new List<int>();
            for (int cpu = 0; cpu < words * 64 && !result.Failed; cpu++)
            {
                if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
                {
                    cpus.Add(cpu);
                }
            }
            Syscall.Check(result, trace, "sched_getaffinity", target, $"{threadId}, {words * sizeof(ulong)}, [{CpuList.Format(cpus)}]");
            return cpus;
        }
    }

    private static string ReadName(int processId, int threadId, SyscallTrace? trace)
    {
        try
        {
            // Any thread can name itself any bytes (PR_SET_NAME): written escaped, as process names are.
            return NameEscaping.Escape(ProcFile.ReadAllBytes($"/proc/{processId}/task/{threadId}/comm", trace).Span.TrimEnd((byte)'\n'));
        }
        catch (SysprogException)
        {
            // Gone since it was listed, or hidden from this user: the thread is still described, without a name.
            return "";
        }
    }
}

/// <summary>CPU lists as the kernel writes them ("0-3,6"), and the machine's possible and online CPUs.</summary>
public static class CpuList
{
    public static string Format(IEnumerable<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        var ranges = new List<string>();
        int? start = null, end = null;
        foreach (int cpu in cpus.Distinct().Order())
        {
            if (end == cpu - 1)
            {
                end = cpu;
                continue;
            }
            Flush();
            start = end = cpu;
        }
        Flush();
        return string.Join(',', ranges);

        void Flush()
        {
            if (start is int first && end is int last)
            {
                ranges.Add(first == last ? first.ToString(CultureInfo.InvariantCulture) : $"{first}-{last}");
            }
        }
    }

    /// <summary>Accepts "0-3,6", "1", "0,2".</summary>
    public static IReadOnlyList<int> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cpus = new SortedSet<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] bounds = part.Split('-');
            if (bounds.Length is < 1 or > 2 || !bounds.All(b => int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                throw new FormatException($"'{text}' is not a CPU list such as 0-3,6.");
            }
            int first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            int last = int.Parse(bounds[^1], CultureInfo.InvariantCulture);
            if (last < first || last - first > 8192)
            {
                throw new FormatException($"'{part}' in '{text}' is not a CPU range.");
            }
            for (int cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }
        if (cpus.Count == 0)
        {
            throw new FormatException($"'{text}' names no CPU.");
        }
        return cpus.ToList();
    }

    /// <summary>/sys/devices/system/cpu/possible.</summary>
    public static IReadOnlyList<int> Possible() => ReadSystemList("possible");

    /// <summary>/sys/devices/system/cpu/online.</summary>
    public static IReadOnlyList<int> Online() => ReadSystemList("online");

    private static IReadOnlyList<int> ReadSystemList(string name)
    {
        try
        {
            return Parse(File.ReadAllText($"/sys/devices/system/cpu/{name}"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount).ToList();
        }
    }
}
