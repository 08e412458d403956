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

    /// <summary>The detail of an EMFILE at RLIMIT_NOFILE, with how many descriptors are open.</summary>
    public static string DescriptorDetail()
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.NoFile);
        string open = OpenDescriptorCount(limit) is int count ? $"{count} descriptors are open and " : "";
        return $"This process has no file descriptor free: {open}its RLIMIT_NOFILE (ulimit -n) is {limit.SoftText} (hard {limit.HardText}). " +
            "Close descriptors it no longer needs, or raise the soft limit (Set-ProcessLimit -Resource NoFile, up to the hard limit).";
    }

    /// <summary>The highest descriptor number counted by <see cref="OpenDescriptorCount"/>: past it, the count is a lower bound.</summary>
    private const int CountedDescriptorsMax = 1 << 16;

    /// <summary>
    /// How many descriptors this process has open below <see cref="CountedDescriptorsMax"/> (or the hard limit), found
    /// without one: listing /proc/self/fd needs a descriptor, and at RLIMIT_NOFILE there is none. poll(2) with no
    /// events and no wait reports POLLNVAL for each number that is not open; it takes at most RLIMIT_NOFILE entries a
    /// call (EINVAL past it), so the numbers are asked in slices of that size. Null when poll fails.
    /// </summary>
    internal static unsafe int? OpenDescriptorCount(ProcessLimit limit)
    {
        long end = Math.Min(limit.Hard ?? CountedDescriptorsMax, CountedDescriptorsMax);
        int slice = (int)Math.Clamp(limit.Soft ?? 1024, 1, 4096);
        var entries = new PollFd[slice];
        int open = 0;
        fixed (PollFd* first = entries)
        {
            for (long start = 0; start < end; start += slice)
            {
                int count = (int)Math.Min(slice, end - start);
                for (int i = 0; i < count; i++)
                {
                    entries[i] = new PollFd { Fd = (int)(start + i) };
                }
                if (Libc.poll(first, (nuint)count, 0) < 0)
                {
                    return null;
                }
                for (int i = 0; i < count; i++)
                {
                    if ((entries[i].ReturnedEvents & Libc.POLLNVAL) == 0)
                    {
                        open++;
                    }
                }
            }
        }
        return open;
    }

    /// <summary>
    /// What an EMFILE or EFBIG means when it was a limit of this process, for a failure whose detail does not say so
    /// already: every such failure names RLIMIT_NOFILE or RLIMIT_FSIZE, whatever call met it. EMFILE also means other
    /// limits (inotify instances, queue bytes), so RLIMIT_NOFILE is named only when no descriptor is free; EFBIG
    /// also means a file system's own maximum, so RLIMIT_FSIZE only when it is set. Never throws: working this out
    /// must not hide the error it explains.
    /// </summary>
    internal static string? Explain(Errno errno, string? detail)
    {
        try
        {
            string? more = errno switch
            {
                Errno.EMFILE when detail?.Contains("RLIMIT_NOFILE", StringComparison.Ordinal) != true && NoDescriptorFree() => DescriptorDetail(),
                Errno.EFBIG when detail?.Contains("RLIMIT_FSIZE", StringComparison.Ordinal) != true => FileSizeDetail(),
                _ => null,
            };
            return more is null ? detail : detail is null ? more : $"{detail} {more}";
        }
        catch (Exception e) when (e is SysprogException or IOException or UnauthorizedAccessException)
        {
            return detail;
        }
    }

    /// <summary>The detail of an EFBIG at RLIMIT_FSIZE; null when the limit is not set (EFBIG was the file system's own maximum).</summary>
    public static string? FileSizeDetail()
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.FSize);
        return limit.Soft is null
            ? null
            : $"No file this process writes may grow past its RLIMIT_FSIZE (ulimit -f), {limit.SoftText} (hard {limit.HardText}); " +
                "the kernel sent SIGXFSZ, which Sysprog keeps from ending the process. Write less, or raise the soft limit (Set-ProcessLimit -Resource FSize).";
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

    private static string ThreadDetail() => TaskDetail("No thread could be started", "the thread's stack");

    /// <summary>The detail of an EAGAIN from posix_spawn or fork: RLIMIT_NPROC, with how many tasks the real user runs.</summary>
    public static string ProcessDetail() => TaskDetail("No process could be started", "the new process");

    private static string TaskDetail(string what, string memoryFor)
    {
        ProcessLimit limit = ProcessLimit.Get(ProcessResource.NProc);
        uint user = Libc.getuid();
        string usage = UserTaskCount(user) is int count ? $"; user {Accounts.UserName(user)} runs {count} now" : "";
        return $"{what}: this process's RLIMIT_NPROC (ulimit -u) is {limit.SoftText} (hard {limit.HardText}), " +
            $"the processes and threads its real user may run at once, all of them counted{usage}; or there was no memory for {memoryFor}. " +
            "End processes of this user, or raise the soft limit (Set-ProcessLimit -Resource NProc).";
    }

    /// <summary>
    /// The processes and threads whose real user is <paramref name="user"/>, as RLIMIT_NPROC counts them (every
    /// thread; in every PID namespace, though /proc shows this one's): the first Uid field and Threads of each
    /// /proc/PID/status. A process that ends while being read is skipped; null when /proc cannot be read at all.
    /// </summary>
    internal static int? UserTaskCount(uint user)
    {
        int count = 0;
        bool read = false;
        foreach (int process in ProcFile.ProcessIds())
        {
            Dictionary<string, string> fields;
            try
            {
                fields = ProcFile.Fields($"/proc/{process}/status");
            }
            catch (Exception e) when (e is SysprogException or IOException or UnauthorizedAccessException)
            {
                continue;
            }
            read = true;
            if (fields.TryGetValue("Uid", out string? uids) && uids.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries) is [string real, ..]
                && uint.TryParse(real, System.Globalization.CultureInfo.InvariantCulture, out uint owner) && owner == user
                && fields.TryGetValue("Threads", out string? threads) && int.TryParse(threads.Trim(), System.Globalization.CultureInfo.InvariantCulture, out int n))
            {
                count += n;
            }
        }
        return read ? count : null;
    }
}
