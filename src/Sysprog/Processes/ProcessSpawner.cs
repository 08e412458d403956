using System.Runtime.InteropServices;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// The one posix_spawn of Sysprog (children and pty programs alike). glibc runs it as clone(CLONE_VM|CLONE_VFORK):
/// the child borrows this process's memory only until its exec, so nothing of the runtime's many threads is copied
/// and nothing the runtime holds locked is waited for, which is why .NET never calls fork itself.
/// </summary>
internal static class ProcessSpawner
{
    /// <summary>Whether the rest is closed with closefrom (glibc 2.34+) or one close per open descriptor; tests try both.</summary>
    internal static bool UseCloseFrom { get; set; } = Libc.HasSpawnCloseFrom;

    private const ulong EverySignalButKillAndStop = ~((1UL << (Signals.SIGKILL - 1)) | (1UL << (Signals.SIGSTOP - 1)));

    /// <summary>Starts the child and returns its process id; the start info was validated.</summary>
    public static unsafe int Spawn(ChildProcessStartInfo info, SyscallTrace? trace)
    {
        string commandLine = info.CommandLine;
        using SafeFdHandle? workingDirectory = CheckPaths(info, commandLine, trace);
        List<string> environment = info.MergedEnvironment();
        KeyValuePair<int, IDescriptorObject>[] mapped = info.Descriptors.OrderBy(m => m.Key).ToArray();
        using var leases = new PassedLeases(mapped.Select(m => ((SafeHandle)m.Value.DescriptorHandle, m.Value.Description)).ToList());
        void* actions = NativeMemory.AllocZeroed(Libc.SpawnObjectSize);
        void* attributes = NativeMemory.AllocZeroed(Libc.SpawnObjectSize);
        byte** argvPointers = ToCStrings([info.Program, .. info.Arguments]);
        byte** envPointers = ToCStrings(environment);
        try
        {
            Require(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Require(Libc.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            try
            {
                var shown = new List<string>();
                if (workingDirectory is not null)
                {
                    // First: the descriptor map then closes every descriptor it does not hand on, this one included.
                    Require(Libc.posix_spawn_file_actions_addfchdir_np(actions, workingDirectory.Fd), "posix_spawn_file_actions_addfchdir_np");
                    shown.Add($"fchdir({workingDirectory.Fd}<{info.WorkingDirectory}>)");
                }
                if (info.TerminalPath is string terminal)
                {
                    // The child opens the terminal itself, after setsid: a session leader without a controlling
                    // terminal that opens one without O_NOCTTY acquires it. A descriptor passed in would not do that.
                    Require(Libc.posix_spawn_file_actions_addopen(actions, 0, terminal, Libc.O_RDWR, 0), "posix_spawn_file_actions_addopen");
                    Require(Libc.posix_spawn_file_actions_adddup2(actions, 0, 1), "posix_spawn_file_actions_adddup2");
                    Require(Libc.posix_spawn_file_actions_adddup2(actions, 0, 2), "posix_spawn_file_actions_adddup2");
                    shown.Add($"open(0, {Quote(terminal)}, O_RDWR), dup2(0, 1), dup2(0, 2)");
                }
                AddDescriptorMap(actions, mapped, leases, shown);
                string flagsText = SetAttributes(attributes, info);
                SyscallResult spawned = SyscallResult.FromErrorNumber(Libc.posix_spawnp(out int processId, info.Program, actions, attributes, argvPointers, envPointers));
                Syscall.Check(spawned, trace, "posix_spawnp", commandLine,
                    $"[{processId}], {Quote(info.Program)}, [{string.Join(", ", shown)}], [{flagsText}], [{commandLine}], [{environment.Count} variables]",
                    Explain(spawned.Errno, info));
                return processId;
            }
            finally
            {
                Libc.posix_spawn_file_actions_destroy(actions);
                Libc.posix_spawnattr_destroy(attributes);
            }
        }
        finally
        {
            FreeCStrings(argvPointers);
            FreeCStrings(envPointers);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
        }

    }

    /// <summary>
    /// Each mapped descriptor goes first to a number above every source and target, then to its target, so that one
    /// mapping's target can be another's source (3 to 5 and 5 to 3) without either being lost. Then everything from
    /// above the highest target up is closed (the parking numbers with the rest), and every number below it that is
    /// no target: the child holds 0, 1, 2 and what it was given, nothing this process merely made inheritable.
    /// (glibc ignores a close of a number that is not open; so does musl.)
    /// </summary>
    private static unsafe void AddDescriptorMap(void* actions, KeyValuePair<int, IDescriptorObject>[] mapped, PassedLeases leases, List<string> shown)
    {
        int highestTarget = mapped.Length == 0 ? 2 : Math.Max(2, mapped[^1].Key);
        int parking = Math.Max(highestTarget, Enumerable.Range(0, mapped.Length).Select(leases.Fd).DefaultIfEmpty(0).Max()) + 1;
        for (int i = 0; i < mapped.Length; i++)
        {
            Require(Libc.posix_spawn_file_actions_adddup2(actions, leases.Fd(i), parking + i), "posix_spawn_file_actions_adddup2");
            shown.Add($"dup2({leases.Fd(i)}, {parking + i})");
        }
        for (int i = 0; i < mapped.Length; i++)
        {
            Require(Libc.posix_spawn_file_actions_adddup2(actions, parking + i, mapped[i].Key), "posix_spawn_file_actions_adddup2");
            shown.Add($"dup2({parking + i}, {mapped[i].Key})");
        }
        var targets = mapped.Select(m => m.Key).ToHashSet();
        for (int fd = 3; fd < highestTarget; fd++)
        {
            if (!targets.Contains(fd))
            {
                Require(Libc.posix_spawn_file_actions_addclose(actions, fd), "posix_spawn_file_actions_addclose");
                shown.Add($"close({fd})");
            }
        }
        if (UseCloseFrom)
        {
            Require(Libc.posix_spawn_file_actions_addclosefrom_np(actions, highestTarget + 1), "posix_spawn_file_actions_addclosefrom_np");
            shown.Add($"closefrom({highestTarget + 1})");
            return;
        }
        // A libc without closefrom: each descriptor open now above the targets, and the parking numbers. One opened
        // meanwhile by another thread is close-on-exec, as everything the runtime and Sysprog open is.
        IEnumerable<int> open = ProcFile.Descriptors(Environment.ProcessId).Select(d => int.Parse(Path.GetFileName(d.Path), System.Globalization.CultureInfo.InvariantCulture));
        foreach (int fd in open.Concat(Enumerable.Range(parking, mapped.Length)).Where(fd => fd > highestTarget).Distinct().Order())
        {
            Require(Libc.posix_spawn_file_actions_addclose(actions, fd), "posix_spawn_file_actions_addclose");
            shown.Add($"close({fd})");
        }
    }

    /// <summary>Sets what the child starts with besides its descriptors; returns the flags as the trace shows them.</summary>
    private static unsafe string SetAttributes(void* attributes, ChildProcessStartInfo info)
    {
        short flags = Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK;
        var names = new List<string>();
        if (info.NewSession || info.TerminalPath is not null)
        {
            flags |= Libc.POSIX_SPAWN_SETSID;
            names.Add("POSIX_SPAWN_SETSID");
        }
        if (info.NewProcessGroup)
        {
            flags |= Libc.POSIX_SPAWN_SETPGROUP;
            Require(Libc.posix_spawnattr_setpgroup(attributes, 0), "posix_spawnattr_setpgroup");
            names.Add("POSIX_SPAWN_SETPGROUP");
        }
        // The runtime ignores SIGPIPE, and an ignored signal stays ignored across exec; the calling thread blocks
        // signals of its own too. The child starts with every disposition at its default and only the asked-for
        // signals blocked.
        Require(Libc.posix_spawnattr_setsigdefault(attributes, new SigSet { Signals = EverySignalButKillAndStop }), "posix_spawnattr_setsigdefault");
        ulong blocked = info.BlockedSignals.Aggregate(0UL, (mask, signal) => mask | (1UL << (signal - 1)));
        Require(Libc.posix_spawnattr_setsigmask(attributes, new SigSet { Signals = blocked }), "posix_spawnattr_setsigmask");
        names.Add("POSIX_SPAWN_SETSIGDEF");
        names.Add(blocked == 0 ? "POSIX_SPAWN_SETSIGMASK" : $"POSIX_SPAWN_SETSIGMASK {{{string.Join(" ", info.BlockedSignals.Order().Select(Signals.Name))}}}");
        if (info.SchedulingPolicy is SchedulingPolicy policy)
        {
            flags |= Libc.POSIX_SPAWN_SETSCHEDULER;
            Require(Libc.posix_spawnattr_setschedpolicy(attributes, (int)policy), "posix_spawnattr_setschedpolicy");
            Require(Libc.posix_spawnattr_setschedparam(attributes, new SchedParam { Priority = info.SchedulingPriority }), "posix_spawnattr_setschedparam");
            names.Add($"POSIX_SPAWN_SETSCHEDULER {{{ProcessScheduling.NameOf(policy)}, {info.SchedulingPriority}}}");
        }
        Require(Libc.posix_spawnattr_setflags(attributes, flags), "posix_spawnattr_setflags");
        return string.Join("|", names);
    }

    /// <summary>posix_spawn reports what failed in the child before or at the exec; these are the errors a user can act on.</summary>
    /// <summary>
    /// The working directory and a program given as a path, by the planted-path rule, before anything is spawned: a
    /// link another user planted in a shared folder is not followed, and a program that is another user's file in a
    /// shared folder is not run (they could swap it between this check and the exec, which takes the name again: an
    /// exec has no descriptor form a script's interpreter could read). Returns an O_PATH descriptor of the working
    /// directory, which the child changes to (fchdir), so it is that very folder. A path that cannot be reached fails
    /// as posix_spawnp would.
    /// </summary>
    private static SafeFdHandle? CheckPaths(ChildProcessStartInfo info, string commandLine, SyscallTrace? trace)
    {
        SafeFdHandle? workingDirectory = null;
        try
        {
            if (info.Program.Contains('/', StringComparison.Ordinal))
            {
                PlantedPath.Open(info.Program, Libc.O_PATH, 0, AcceptedFileTypes.Any, trace, foreignRefused: true).Fd.Close(trace);
            }
            if (info.WorkingDirectory is string directory)
            {
                workingDirectory = PlantedPath.Open(directory, Libc.O_PATH, 0, AcceptedFileTypes.Any, trace).Fd;
            }
            return workingDirectory;
        }
        catch (SysprogException e)
        {
            workingDirectory?.Dispose();
            throw PlantedPath.AsFailureOf(e, "posix_spawnp", commandLine, e.Detail is null ? Explain(e.Errno, info) : null);
        }
    }

    private static string? Explain(Errno errno, ChildProcessStartInfo info) => errno switch
    {
        Errno.ENOENT => info.WorkingDirectory is null
            ? $"No program '{info.Program}' {(info.Program.Contains('/', StringComparison.Ordinal) ? "at that path" : "in PATH")}, or its interpreter is missing."
            : $"No program '{info.Program}' {(info.Program.Contains('/', StringComparison.Ordinal) ? "at that path" : "in PATH")}, or the working directory '{info.WorkingDirectory}' does not exist.",
        Errno.EACCES => $"'{info.Program}' is not executable by this user, or a folder on the way (or the working directory) is not searchable.",
        Errno.ENOEXEC => $"'{info.Program}' is no program the kernel can run: neither ELF for this machine nor a script starting with #!.",
        Errno.EPERM when info.SchedulingPolicy is not null => ProcessScheduling.ExplainRefusal(info.SchedulingPolicy.Value, info.SchedulingPriority),
        Errno.EBADF => "A descriptor to map was closed, or a parking number above them is over RLIMIT_NOFILE.",
        Errno.EAGAIN => ResourceShortage.ProcessDetail(),
        _ => null,
    };

    /// <summary>
    /// The set-up calls of spawn objects return an error number and fail only for bad arguments or memory; they are
    /// not narrated: the posix_spawnp line shows what they set up.
    /// </summary>
    private static void Require(int result, string call) => Syscall.Check(SyscallResult.FromErrorNumber(result), null, call, "posix_spawn", $"");

    private static unsafe byte** ToCStrings(IReadOnlyList<string> strings)
    {
        var pointers = (byte**)NativeMemory.AllocZeroed((nuint)(strings.Count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < strings.Count; i++)
        {
            pointers[i] = (byte*)Marshal.StringToCoTaskMemUTF8(strings[i]);
        }
        return pointers;
    }

    private static unsafe void FreeCStrings(byte** pointers)
    {
        for (byte** p = pointers; *p != null; p++)
        {
            Marshal.FreeCoTaskMem((IntPtr)(*p));
        }
        NativeMemory.Free(pointers);
    }
}
