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

    /// <summary>Null when the path vanished in between (a listing racing an unlink). A symbolic link is described itself unless <paramref name="followLinks"/>.</summary>
    public static StatX? OfPath(string path, SyscallTrace? trace = null, bool followLinks = false)
    {
        int flags = followLinks ? 0 : Libc.AT_SYMLINK_NOFOLLOW;
        string flagText = followLinks ? "0" : "AT_SYMLINK_NOFOLLOW";
        SyscallResult rc = Libc.statx(Libc.AT_FDCWD, path, flags, Libc.STATX_BASIC_STATS, out StatX status);
        if (rc.Errno == Errno.ENOENT)
        {
            trace?.Invoke($"statx(AT_FDCWD, {TraceFormat.Quote(path)}, {flagText}, STATX_BASIC_STATS) = -1 ENOENT ({Errno.ENOENT.Description()})");
            return null;
        }
        Syscall.Check(rc, trace, "statx", path, $"AT_FDCWD, {TraceFormat.Quote(path)}, {flagText}, STATX_BASIC_STATS");
        return status;
    }
}
