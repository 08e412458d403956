using Sysprog.Interop;

namespace Sysprog;

/// <summary>Whole-process locking (mlockall, munlockall) and the RLIMIT_MEMLOCK explanation mlock failures carry.</summary>
public static class MemoryLock
{
    public static void LockAll(MemoryLockAllOptions options = MemoryLockAllOptions.Current | MemoryLockAllOptions.Future, SyscallTrace? trace = null)
    {
        if (options == 0 || ((int)options & ~7) != 0 || options == MemoryLockAllOptions.OnFault)
        {
            throw new ArgumentException("Choose Current and/or Future (OnFault only alongside them).", nameof(options));
        }
        SyscallResult rc = Libc.mlockall((int)options);
        string? detail = LimitDetail(rc.Errno, null);
        Syscall.Check(rc, trace, "mlockall", "this process", $"{Libc.MlockallFlagsText((int)options)}", detail);
    }

    public static void UnlockAll(SyscallTrace? trace = null) =>
        Syscall.Check(Libc.munlockall(), trace, "munlockall", "this process", $"");

    /// <summary>The soft and hard RLIMIT_MEMLOCK of this process, in bytes (null = unlimited).</summary>
    public static (long? Soft, long? Hard) Limit()
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.MemLock);
        return (limit.Soft, limit.Hard);
    }

    /// <summary>For ENOMEM, EPERM and EAGAIN from mlock and mlockall: what the limit is and how to raise it.</summary>
    internal static string? LimitDetail(Errno errno, long? requested)
    {
        if (errno is not (Errno.ENOMEM or Errno.EPERM or Errno.EAGAIN))
        {
            return null;
        }
        (long? soft, long? hard) = Limit();
        return FormatLimit(errno, requested, soft, hard);
    }

    internal static string FormatLimit(Errno errno, long? requested, long? soft, long? hard)
    {
        string Show(long? v) => v is long b ? $"{b} bytes ({MemorySize.Describe(b)})" : "unlimited";
        string asked = requested is long r ? $"locking {r} more bytes ({MemorySize.Describe(r)}) needs more than " : "";
        string why = errno == Errno.EPERM && soft == 0
            ? "RLIMIT_MEMLOCK is 0 for this process and it lacks CAP_IPC_LOCK"
            : $"{asked}RLIMIT_MEMLOCK allows: the soft limit is {Show(soft)}, the hard limit {Show(hard)}";
        return $"{char.ToUpperInvariant(why[0])}{why[1..]}. Raise it with 'ulimit -l' (up to the hard limit), 'memlock' in /etc/security/limits.conf, " +
            "LimitMEMLOCK= for a systemd service, or grant CAP_IPC_LOCK.";
    }
}
