using Sysprog.Interop;

namespace Sysprog;

/// <summary>A resource limit of this process (getrlimit): the soft limit the kernel enforces, the hard one it may be raised to; null is unlimited.</summary>
internal readonly record struct ProcessLimit(long? Soft, long? Hard)
{
    public static ProcessLimit Get(int resource, string name, SyscallTrace? trace = null)
    {
        Syscall.Check(Libc.getrlimit(resource, out ResourceLimit limit), trace, "getrlimit", name, $"{name}, {{rlim_cur={Show(limit.Current)}, rlim_max={Show(limit.Maximum)}}}");
        return new ProcessLimit(Value(limit.Current), Value(limit.Maximum));

        static long? Value(ulong value) => value == Libc.RLIM_INFINITY ? null : (long)Math.Min(value, long.MaxValue);

        static string Show(ulong value) => value == Libc.RLIM_INFINITY ? "RLIM_INFINITY" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
