using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// Why the kernel's ptrace access check (PTRACE_MODE_ATTACH_REALCREDS) refused this process access to another, for
/// the calls that make it (process_vm_readv and writev, pidfd_getfd): the two users, CAP_SYS_PTRACE, Yama's
/// ptrace_scope, and whether the target is dumpable.
/// </summary>
internal static class PtraceAccess
{
    /// <summary>The reasons that apply, as one message, for an EPERM from <paramref name="call"/> on <paramref name="processId"/>.</summary>
    public static string Explain(int processId, string call)
    {
        var reasons = new List<string>();
        uint[]? target = Ids(processId, "Uid");
        uint[]? self = Ids(Environment.ProcessId, "Uid");
        bool privileged = Capabilities.Has(Capabilities.SysPtrace);
        if (target is not null && self is not null && !privileged && (target[0] != self[0] || target[1] != self[0] || target[2] != self[0]))
        {
            reasons.Add($"it runs as uid {string.Join('/', target)} (real/effective/saved/fs) and this process as uid {self[0]}: " +
                "without CAP_SYS_PTRACE all of them must be this process's real uid");
        }
        if (!privileged && IsNotDumpable(processId, target))
        {
            reasons.Add("it is not dumpable (a set-user-ID or set-group-ID program, or one that called prctl(PR_SET_DUMPABLE, 0)), which only CAP_SYS_PTRACE overrides");
        }
        string? scope = YamaScope();
        switch (scope)
        {
            case "1" when !privileged:
                reasons.Add("kernel.yama.ptrace_scope is 1: only a process's ancestors (or one it named with PR_SET_PTRACER) may attach to it");
                break;
            case "2" when !privileged:
                reasons.Add("kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may attach");
                break;
            case "3":
                reasons.Add("kernel.yama.ptrace_scope is 3: no process may attach, root included, until reboot");
                break;
        }
        string because = reasons.Count == 0
            ? "no reason visible from here (a security module such as SELinux or AppArmor may deny it)"
            : string.Join("; and ", reasons);
        return $"{call} on process {processId} needs the kernel's ptrace access check to pass, and it does not: {because}. " +
            "Run as the same user (or root), or grant CAP_SYS_PTRACE" + (scope is "1" or "2" ? ", or lower kernel.yama.ptrace_scope." : ".");
    }

    private static uint[]? Ids(int processId, string field)
    {
        try
        {
            return ProcFile.Field($"/proc/{processId}/status", field)?
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(v => uint.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is SysprogException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The kernel makes /proc/PID of a process that is not dumpable belong to root, whatever its uid.</summary>
    private static bool IsNotDumpable(int processId, uint[]? ids)
    {
        if (ids is null || ids[1] == 0)
        {
            return false;
        }
        return FileStatus.OfPath($"/proc/{processId}") is { } status && status.Uid == 0;
    }

    public static string? YamaScope()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/yama/ptrace_scope").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
