namespace Sysprog.Interop;

/// <summary>statx(2) wrappers: by fd for open objects, by path for listings.</summary>
internal static class FileStatus
{
    public static StatX OfFd(SafeFdHandle fd, string target)
    {
        using HandleLease lease = fd.Lease(target);
        SyscallResult rc = Libc.statx(lease.Fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out StatX status);
        Syscall.Check(rc, null, "statx", target, $"");
        return status;
    }

    /// <summary>Null when the path vanished in between (a listing racing an unlink).</summary>
    public static StatX? OfPath(string path, SyscallTrace? trace = null)
    {
        SyscallResult rc = Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out StatX status);
        if (rc.Errno == Errno.ENOENT)
        {
            trace?.Invoke($"statx(AT_FDCWD, {TraceFormat.Quote(path)}, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS) = -1 ENOENT ({Errno.ENOENT.Description()})");
            return null;
        }
        Syscall.Check(rc, trace, "statx", path, $"AT_FDCWD, {TraceFormat.Quote(path)}, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS");
        return status;
    }
}
