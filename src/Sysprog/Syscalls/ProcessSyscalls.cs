using System.Globalization;
using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>What a thread is doing, as /proc/PID/task/TID/syscall tells it.</summary>
public enum ThreadActivity
{
    /// <summary>Blocked (or about to return) in a system call: Number, Name and Arguments say which.</summary>
    InSyscall,

    /// <summary>On a CPU, or ready to be: no system call to show.</summary>
    Running,

    /// <summary>Stopped or blocked outside any system call (a page fault, a ptrace stop).</summary>
    Blocked,
}

/// <summary>
/// One thread and the system call it is in: the number, its name in this architecture's table, the six raw
/// arguments, the call decoded strace-style (descriptors with what they are, futex operations, clocks, paths read
/// from the process's memory), the stack pointer and program counter, the thread's state, and the kernel function it
/// sleeps in (wchan).
/// </summary>
public sealed record ThreadSyscall(int ProcessId, int ThreadId, string ThreadName, char State, ThreadActivity Activity, int? Number,
    string? Name, IReadOnlyList<ulong> Arguments, ulong StackPointer, ulong ProgramCounter, string? WaitChannel, string Call)
{
    public override string ToString() => $"{ThreadId} {ThreadName}: {Call}";
}

/// <summary>Reads and decodes /proc/PID/task/*/syscall and wchan: which system call each thread of a process is in.</summary>
public static class ProcessSyscalls
{
    /// <summary>
    /// Every thread of process <paramref name="processId"/> (0: this one), or only <paramref name="threadId"/>. Reading
    /// another process's needs ptrace access to it (the same user, or CAP_SYS_PTRACE): EACCES otherwise.
    /// </summary>
    public static IReadOnlyList<ThreadSyscall> Read(int processId = 0, int? threadId = null, SyscallTrace? trace = null)
    {
        if (processId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is 1 or more, or 0 for this process.");
        }
        if (threadId <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threadId), threadId, "A thread id is 1 or more.");
        }
        int process = processId == 0 ? Environment.ProcessId : processId;
        IEnumerable<int> threads = threadId is int one ? [one] : ProcFile.ThreadIds(process);
        var result = new List<ThreadSyscall>();
        foreach (int thread in threads)
        {
            try
            {
                result.Add(ReadThread(process, thread, trace));
            }
            catch (SysprogException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH && threadId is null && thread != process)
            {
                // A thread that ended while the others were read.
            }
        }
        return result;
    }

    private static ThreadSyscall ReadThread(int processId, int threadId, SyscallTrace? trace)
    {
        string folder = $"/proc/{processId}/task/{threadId}";
        string stat;
        try
        {
            stat = ProcFile.ReadAllText($"{folder}/stat", trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
            throw new SysprogException(Errno.ESRCH, "open", $"{folder}/stat", $"No thread {threadId} in process {processId}.");
        }
        int close = stat.LastIndexOf(')');
        string name = NameEscaping.Escape(stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..close]);
        char state = stat[close + 2];
        string text;
        try
        {
            text = ProcFile.ReadAllText($"{folder}/syscall", trace).Trim();
        }
        catch (SysprogException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            throw new SysprogException(e.Errno, "open", $"{folder}/syscall", PtraceAccess.Explain(processId, "reading /proc/PID/syscall"));
        }
        string? wchan = ReadWaitChannel($"{folder}/wchan", trace);
        return Parse(processId, threadId, name, state, text, wchan, fd => DescriptorTarget(processId, fd) is string target ? NameEscaping.Escape(target) : null,
            address => ReadString(processId, address));
    }

    /// <summary>Decodes one /proc/PID/task/TID/syscall line ("202 0x7f.. 0x80 ... SP PC", "-1 SP PC" or "running").</summary>
    internal static ThreadSyscall Parse(int processId, int threadId, string threadName, char state, string text, string? wchan,
        Func<int, string?> descriptorTarget, Func<ulong, string?> readString)
    {
        string[] fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0 || fields[0] == "running")
        {
            return new ThreadSyscall(processId, threadId, threadName, state, ThreadActivity.Running, null, null, [], 0, 0, wchan, "running");
        }
        if (fields[0] == "-1" && fields.Length >= 3)
        {
            return new ThreadSyscall(processId, threadId, threadName, state, ThreadActivity.Blocked, null, null, [], Hex(fields[1]), Hex(fields[2]), wchan,
                "not in a system call");
        }
        if (fields.Length < 9 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            throw new FormatException($"/proc/{processId}/task/{threadId}/syscall: '{text}' is not a system call line.");
        }
        ulong[] arguments = fields[1..7].Select(Hex).ToArray();
        string? name = SyscallTable.Name(number);
        string call = SyscallDecoder.Describe(name ?? $"syscall_{number}", arguments, descriptorTarget, readString);
        return new ThreadSyscall(processId, threadId, threadName, state, ThreadActivity.InSyscall, number, name, arguments, Hex(fields[7]), Hex(fields[8]), wchan, call);
    }

    private static ulong Hex(string field) => field.StartsWith("0x", StringComparison.Ordinal)
        ? ulong.Parse(field.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : unchecked((ulong)long.Parse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));

    /// <summary>The kernel function the thread sleeps in; null when the kernel does not say (it writes 0, or hides it).</summary>
    private static string? ReadWaitChannel(string path, SyscallTrace? trace)
    {
        try
        {
            string text = ProcFile.ReadAllText(path, trace).Trim();
            return text is "" or "0" ? null : text;
        }
        catch (SysprogException)
        {
            return null;
        }
    }

    private static string? DescriptorTarget(int processId, int fd)
    {
        try
        {
            return ProcFile.ReadLink($"/proc/{processId}/fd/{fd}", null);
        }
        catch (SysprogException)
        {
            return null;
        }
    }

    /// <summary>A NUL-terminated string of the process (process_vm_readv), up to 256 bytes; null when it cannot be read.</summary>
    private static string? ReadString(int processId, ulong address)
    {
        if (address == 0)
        {
            return null;
        }
        Span<byte> buffer = stackalloc byte[256];
        try
        {
            ProcessMemoryTransfer transfer = ProcessMemory.Read(processId, address, buffer);
            ReadOnlySpan<byte> read = buffer[..(int)transfer.Transferred];
            int end = read.IndexOf((byte)0);
            return end < 0 ? Encoding.UTF8.GetString(read) + "..." : Encoding.UTF8.GetString(read[..end]);
        }
        catch (SysprogException)
        {
            return null;
        }
    }
}

/// <summary>
/// System call arguments as strace shows them, for the calls a thread is usually found blocked in: descriptors with
/// what they refer to, futex operations, clocks, poll timeouts, paths. Other calls show their six raw arguments.
/// </summary>
internal static class SyscallDecoder
{
    // Argument kinds: fd (a descriptor), dirfd (a descriptor or AT_FDCWD), ptr, str (a path in the process), int,
    // uint, ms (a poll timeout), futex (an operation), clock, hex.
    private static readonly Dictionary<string, string[]> Signatures = new(StringComparer.Ordinal)
    {
        ["read"] = ["fd", "ptr", "uint"],
        ["write"] = ["fd", "ptr", "uint"],
        ["pread64"] = ["fd", "ptr", "uint", "int"],
        ["pwrite64"] = ["fd", "ptr", "uint", "int"],
        ["readv"] = ["fd", "ptr", "int"],
        ["writev"] = ["fd", "ptr", "int"],
        ["preadv2"] = ["fd", "ptr", "int", "int", "int", "hex"],
        ["pwritev2"] = ["fd", "ptr", "int", "int", "int", "hex"],
        ["close"] = ["fd"],
        ["open"] = ["str", "hex", "hex"],
        ["openat"] = ["dirfd", "str", "hex", "hex"],
        ["poll"] = ["ptr", "uint", "ms"],
        ["ppoll"] = ["ptr", "uint", "ptr", "ptr", "uint"],
        ["select"] = ["int", "ptr", "ptr", "ptr", "ptr"],
        ["pselect6"] = ["int", "ptr", "ptr", "ptr", "ptr", "ptr"],
        ["epoll_wait"] = ["fd", "ptr", "int", "ms"],
        ["epoll_pwait"] = ["fd", "ptr", "int", "ms", "ptr", "uint"],
        ["epoll_pwait2"] = ["fd", "ptr", "int", "ptr", "ptr", "uint"],
        ["futex"] = ["ptr", "futex", "int", "ptr", "ptr", "hex"],
        ["nanosleep"] = ["ptr", "ptr"],
        ["clock_nanosleep"] = ["clock", "hex", "ptr", "ptr"],
        ["wait4"] = ["int", "ptr", "hex", "ptr"],
        ["waitid"] = ["int", "int", "ptr", "hex", "ptr"],
        ["accept"] = ["fd", "ptr", "ptr"],
        ["accept4"] = ["fd", "ptr", "ptr", "hex"],
        ["connect"] = ["fd", "ptr", "uint"],
        ["recvfrom"] = ["fd", "ptr", "uint", "hex", "ptr", "ptr"],
        ["recvmsg"] = ["fd", "ptr", "hex"],
        ["recvmmsg"] = ["fd", "ptr", "uint", "hex", "ptr"],
        ["sendto"] = ["fd", "ptr", "uint", "hex", "ptr", "uint"],
        ["sendmsg"] = ["fd", "ptr", "hex"],
        ["mq_timedreceive"] = ["fd", "ptr", "uint", "ptr", "ptr"],
        ["mq_timedsend"] = ["fd", "ptr", "uint", "uint", "ptr"],
        ["rt_sigtimedwait"] = ["ptr", "ptr", "ptr", "uint"],
        ["rt_sigsuspend"] = ["ptr", "uint"],
        ["pause"] = [],
        ["flock"] = ["fd", "hex"],
        ["fcntl"] = ["fd", "int", "hex"],
        ["ioctl"] = ["fd", "hex", "hex"],
        ["splice"] = ["fd", "ptr", "fd", "ptr", "uint", "hex"],
        ["sendfile"] = ["fd", "fd", "ptr", "uint"],
        ["io_uring_enter"] = ["fd", "uint", "uint", "hex", "ptr", "uint"],
        ["semop"] = ["int", "ptr", "uint"],
        ["semtimedop"] = ["int", "ptr", "uint", "ptr"],
        ["msgrcv"] = ["int", "ptr", "uint", "int", "hex"],
        ["msgsnd"] = ["int", "ptr", "uint", "hex"],
        ["sched_yield"] = [],
        ["exit_group"] = ["int"],
        ["execve"] = ["str", "ptr", "ptr"],
    };

    private static readonly string[] FutexOperations =
    [
        "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE", "FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI",
        "FUTEX_TRYLOCK_PI", "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI", "FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
    ];

    private static readonly string[] Clocks =
    [
        "CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW",
        "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME", "CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM",
        "", "CLOCK_TAI",
    ];

    private const int AtFdCwd = -100;

    public static string Describe(string name, IReadOnlyList<ulong> arguments, Func<int, string?> descriptorTarget, Func<ulong, string?> readString)
    {
        if (!Signatures.TryGetValue(name, out string[]? kinds))
        {
            return $"{name}({string.Join(", ", arguments.Select(a => $"0x{a:x}"))})";
        }
        return $"{name}({string.Join(", ", kinds.Select((kind, i) => Argument(kind, arguments[i], descriptorTarget, readString)))})";
    }

    private static string Argument(string kind, ulong value, Func<int, string?> descriptorTarget, Func<ulong, string?> readString)
    {
        int asInt = unchecked((int)value);
        return kind switch
        {
            "dirfd" when asInt == AtFdCwd => "AT_FDCWD",
            "fd" or "dirfd" => descriptorTarget(asInt) is string target ? $"{asInt}<{target}>" : asInt.ToString(CultureInfo.InvariantCulture),
            "ptr" => value == 0 ? "NULL" : $"0x{value:x}",
            "str" => readString(value) is string text ? TraceFormat.Quote(text) : value == 0 ? "NULL" : $"0x{value:x}",
            "int" or "ms" => asInt.ToString(CultureInfo.InvariantCulture),
            "uint" => value.ToString(CultureInfo.InvariantCulture),
            "futex" => FutexOperation(asInt),
            "clock" => asInt >= 0 && asInt < Clocks.Length && Clocks[asInt].Length > 0 ? Clocks[asInt] : asInt.ToString(CultureInfo.InvariantCulture),
            _ => $"0x{value:x}",
        };
    }

    /// <summary>FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, as strace writes it.</summary>
    internal static string FutexOperation(int operation)
    {
        const int Private = 128, ClockRealtime = 256;
        int command = operation & 127;
        string text = command < FutexOperations.Length ? FutexOperations[command] : $"{command}";
        if ((operation & Private) != 0)
        {
            text += "_PRIVATE";
        }
        if ((operation & ClockRealtime) != 0)
        {
            text += "|FUTEX_CLOCK_REALTIME";
        }
        int rest = operation & ~(127 | Private | ClockRealtime);
        return rest == 0 ? text : $"{text}|0x{rest:x}";
    }
}
