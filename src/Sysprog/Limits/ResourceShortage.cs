using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// What a failure at this process's descriptor or thread limit says: found without the resource that ran out (a
/// listing of /proc/self/fd needs a descriptor itself), and naming the limit and its value.
/// </summary>
internal static class ResourceShortage
{
    /// <summary>
    /// Whether this process has no descriptor free (RLIMIT_NOFILE reached): one is taken and given back at once,
    /// since EMFILE also means other limits (inotify instances, POSIX message queue bytes).
    /// </summary>
    public static bool NoDescriptorFree()
    {
        SyscallResult probe = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        if (probe.Failed)
        {
            return probe.Errno == Errno.EMFILE;
        }
        Libc.close((int)probe.Value);
        return false;
    }

    /// <summary>The detail of an EMFILE at RLIMIT_NOFILE.</summary>
    public static string DescriptorDetail()
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.NoFile);
        return $"This process has no file descriptor free: its RLIMIT_NOFILE (ulimit -n) is {limit.SoftText} (hard {limit.HardText}). " +
            "Close descriptors it no longer needs, or raise the soft limit (Set-ProcessLimit -Resource NoFile, up to the hard limit).";
    }

    /// <summary>
    /// Starts <paramref name="thread"/> for <paramref name="target"/>, or throws EAGAIN naming it: the runtime reports
    /// a pthread_create that failed (RLIMIT_NPROC reached, or no memory for the stack; EAGAIN both) as a bare
    /// OutOfMemoryException.
    /// </summary>
    public static void StartThread(Thread thread, string target)
    {
        try
        {
            thread.Start();
        }
        catch (OutOfMemoryException e)
        {
            throw new SysprogException(Errno.EAGAIN, "pthread_create", target, ThreadDetail(), e);
        }
    }

    private static string ThreadDetail()
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.NProc);
        return $"No thread could be started: this process's RLIMIT_NPROC (ulimit -u) is {limit.SoftText} (hard {limit.HardText}), " +
            "the processes and threads its real user may run at once, all of them counted; or there was no memory for the thread's stack. " +
            "End processes of this user, or raise the soft limit (Set-ProcessLimit -Resource NProc).";
    }
}
