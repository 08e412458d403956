namespace Sysprog.Interop;

/// <summary>statx(2) wrappers: by fd for open objects, by path for listings.</summary>
internal static class FileStatus
{
    // st_mode's file type (S_IFMT and its values).
    public const int TypeMask = 0xF000;
    public const int Fifo = 0x1000;
    public const int Socket = 0xC000;
    public const int Regular = 0x8000;
    public const int Directory = 0x4000;
    public const int SymbolicLink = 0xA000;
    public const int CharacterDevice = 0x2000;
    public const int BlockDevice = 0x6000;

    /// <summary>"regular file", "FIFO", "symbolic link"...: a file type (st_mode &amp; S_IFMT) as the messages name it, without an article.</summary>
    public static string KindOf(int type) => type switch
    {
        Regular => "regular file",
        Directory => "directory",
        Fifo => "FIFO",
        Socket => "socket",
        CharacterDevice => "character device",
        BlockDevice => "block device",
        SymbolicLink => "symbolic link",
        _ => "file of an unknown type",
    };

    /// <summary>The status of an open descriptor. <paramref name="trace"/> is null only where no operation is narrated (a property read).</summary>
    public static StatX OfFd(SafeFdHandle fd, string target, SyscallTrace? trace)
    {
        using HandleLease lease = fd.Lease(target);
        SyscallResult rc = Libc.statx(lease.Fd, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out StatX status);
        Syscall.Check(rc, trace, "statx", target, $"{lease.Fd}, \"\", AT_EMPTY_PATH, STATX_BASIC_STATS");
        return status;
    }

    /// <summary>Null when the path vanished in between (a listing racing an unlink). A symbolic link is described itself unless <paramref name="followLinks"/>.</summary>
    public static StatX? OfPath(string path, SyscallTrace? trace = null, bool followLinks = false) =>
        Of(path, escaped: false, trace, followLinks);

    /// <summary>Like <see cref="OfPath"/>, for a path built from escaped names (<see cref="NameEscaping"/>): a listing's entry.</summary>
    public static StatX? OfEscapedPath(string path, SyscallTrace? trace = null) => Of(path, escaped: true, trace, followLinks: false);

    private static StatX? Of(string path, bool escaped, SyscallTrace? trace, bool followLinks)
    {
        int flags = followLinks ? 0 : Libc.AT_SYMLINK_NOFOLLOW;
        string flagText = followLinks ? "0" : "AT_SYMLINK_NOFOLLOW";
        SyscallResult rc = Syscall.Traced(escaped
                ? Libc.statx_escaped(Libc.AT_FDCWD, path, flags, Libc.STATX_BASIC_STATS, out StatX status)
                : Libc.statx(Libc.AT_FDCWD, path, flags, Libc.STATX_BASIC_STATS, out status), trace, "statx",
            $"AT_FDCWD, {(escaped ? TraceFormat.QuoteName(path) : TraceFormat.Quote(path))}, {flagText}, STATX_BASIC_STATS");
        if (rc.Errno == Errno.ENOENT)
        {
            return null;
        }
        Syscall.Check(rc, null, "statx", escaped ? path : NameEscaping.Escape(path), $"");
        return status;
    }
}
