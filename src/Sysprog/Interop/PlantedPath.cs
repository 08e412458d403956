using static Sysprog.Interop.TraceFormat;

namespace Sysprog.Interop;

/// <summary>The kinds of file an open of a user-given path takes; anything else there is refused once opened, before it is used.</summary>
[Flags]
internal enum AcceptedFileTypes
{
    Regular = 1,
    Directory = 2,
    CharacterDevice = 4,
    Fifo = 8,
    Socket = 16,
    BlockDevice = 32,
    Any = Regular | Directory | CharacterDevice | Fifo | Socket | BlockDevice,
}

/// <summary>A descriptor <see cref="PlantedPath.Open"/> gave, what it is, and whether this call created the file.</summary>
internal readonly record struct OpenedPath(SafeFdHandle Fd, StatX Status, bool Created);

/// <summary>
/// The one way Sysprog opens, creates and changes the mode of a path a user gave, treating whatever stands at it as
/// possibly planted by another local user (anyone can write to /tmp and /dev/shm). The kernel's fs.protected_symlinks,
/// protected_fifos and protected_regular rules are applied here whatever those sysctls say (they are off on many
/// machines, and protected_fifos/protected_regular never covered opens without O_CREAT): in a sticky world-writable
/// folder, a symbolic link owned by neither this user nor the folder's owner is not followed, and a FIFO or regular
/// file owned by such a user is not opened to be created or written into (EACCES, naming the rule and the owner). The
/// open itself is O_NONBLOCK and O_NOFOLLOW, so nothing planted can make it wait (a FIFO without a writer, a device)
/// or lead it elsewhere unchecked; the file type is checked on the descriptor, truncation happens only after those
/// checks, and a file is never created through a symbolic link.
/// </summary>
internal static class PlantedPath
{
    /// <summary>How often a create that lost a race (EEXIST, the name appeared after ENOENT) is tried again before giving up.</summary>
    private const int CreateAttempts = 3;

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="flags"/> (an access mode, and O_CREAT, O_TRUNC, O_NONBLOCK
    /// as wanted; the descriptor is close-on-exec and blocking unless O_NONBLOCK was asked for). O_CREAT makes a
    /// missing file with O_EXCL and <paramref name="createMode"/> (narrowed by the umask). With
    /// <paramref name="readOnlyWhereRefused"/> an O_RDWR open that fails with EACCES, EISDIR, EROFS or ETXTBSY is
    /// made O_RDONLY instead.
    /// </summary>
    public static OpenedPath Open(string path, int flags, int createMode, AcceptedFileTypes accept, SyscallTrace? trace, bool readOnlyWhereRefused = false)
    {
        string full = Path.GetFullPath(path);
        string trimmed = full.Length > 1 ? full.TrimEnd('/') : full;
        string folder = Path.GetDirectoryName(trimmed) ?? "/";
        string name = Path.GetFileName(trimmed);
        if (name.Length == 0)
        {
            name = ".";
        }
        // Targets and messages name the path escaped (NameEscaping): a planted name may hold ESC or a newline.
        string shown = NameEscaping.Escape(full);
        SafeFdHandle folderFd = OpenFolder(folder, trace);
        SafeFdHandle fd;
        bool created, followed;
        SharedFolder shared;
        bool create = (flags & Libc.O_CREAT) != 0;
        try
        {
            shared = new SharedFolder(folder, FileStatus.OfFd(folderFd, NameEscaping.Escape(folder)));
            int open = (flags & ~(Libc.O_CREAT | Libc.O_EXCL | Libc.O_TRUNC)) | Libc.O_NONBLOCK | Libc.O_NOFOLLOW | Libc.O_NOCTTY | Libc.O_CLOEXEC;
            using HandleLease lease = folderFd.Lease(NameEscaping.Escape(folder));
            (fd, created, followed) = OpenIn(lease.Fd, full, name, shared, open, create, createMode, trace, readOnlyWhereRefused);
        }
        finally
        {
            folderFd.Close(trace);
        }
        try
        {
            StatX status = FileStatus.OfFd(fd, shown);
            int type = status.Mode & FileStatus.TypeMask;
            // The kernel applies protected_fifos/protected_regular in the folder the file is in; a link this user or
            // the folder's owner made may lead elsewhere, where this folder's rule says nothing.
            if (create && !created && !followed && type is FileStatus.Regular or FileStatus.Fifo && shared.IsPlanter(status.Uid))
            {
                throw PlantedForCreation(shown, shared, type, status.Uid);
            }
            if (!Accepts(accept, type))
            {
                throw new SysprogException(Errno.EINVAL, "open", shown, $"{shown} is a {FileStatus.KindOf(type)}, and only {Describe(accept)} is opened here (nothing that could make the open or a later read or write wait).");
            }
            if ((flags & Libc.O_TRUNC) != 0 && !created && type == FileStatus.Regular)
            {
                using HandleLease fdLease = fd.Lease(shown);
                Syscall.Check(Libc.ftruncate(fdLease.Fd, 0), trace, "ftruncate", shown, $"{fdLease.Fd}, 0");
            }
            if ((flags & Libc.O_NONBLOCK) == 0)
            {
                using HandleLease fdLease = fd.Lease(shown);
                int statusFlags = Syscall.Check(Libc.fcntl(fdLease.Fd, Libc.F_GETFL, 0), trace, "fcntl", shown, $"{fdLease.Fd}, F_GETFL");
                int blocking = statusFlags & ~Libc.O_NONBLOCK;
                Syscall.Check(Libc.fcntl(fdLease.Fd, Libc.F_SETFL, blocking), trace, "fcntl", shown, $"{fdLease.Fd}, F_SETFL, {Libc.OpenFlagsText(blocking & ~Libc.O_LARGEFILE)}");
            }
            return new OpenedPath(fd, status, created);
        }
        catch
        {
            fd.Dispose();
            if (created)
            {
                // A file this call made and could not finish is not left behind.
                Syscall.Traced(Libc.unlink(full), trace, "unlink", $"{Quote(full)}");
            }
            throw;
        }
    }

    /// <summary>
    /// The folder the name is in, reached without following a symbolic link another user planted in a shared folder
    /// on the way (/tmp/planted-link/out.txt). Where the folder's real path is the one asked for, no link was
    /// followed and the descriptor is used as it is; otherwise the path is walked again one folder at a time.
    /// </summary>
    private static SafeFdHandle OpenFolder(string folder, SyscallTrace? trace)
    {
        int flags = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC;
        var direct = new SafeFdHandle(Syscall.Check(Libc.open(folder, flags, 0), trace, "open", NameEscaping.Escape(folder), $"{Quote(folder)}, {Libc.OpenFlagsText(flags)}"));
        string reached;
        try
        {
            using HandleLease lease = direct.Lease(NameEscaping.Escape(folder));
            reached = ProcFile.ReadLink($"/proc/self/fd/{lease.Fd}", trace);
        }
        catch (SysprogException)
        {
            reached = "";
        }
        if (reached == folder)
        {
            return direct;
        }
        direct.Close(trace);
        SafeFdHandle current = new(Syscall.Check(Libc.open("/", flags, 0), trace, "open", "/", $"{Quote("/")}, {Libc.OpenFlagsText(flags)}"));
        string walked = "";
        try
        {
            foreach (string part in folder.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                string path = walked + "/" + part;
                SafeFdHandle next;
                using (HandleLease lease = current.Lease(walked.Length == 0 ? "/" : NameEscaping.Escape(walked)))
                {
                    StatX? entry = StatusIn(lease.Fd, part, path, trace);
                    int open = flags | Libc.O_NOFOLLOW;
                    if (entry is StatX link && (link.Mode & FileStatus.TypeMask) == FileStatus.SymbolicLink)
                    {
                        var shared = new SharedFolder(walked.Length == 0 ? "/" : walked, FileStatus.OfFd(current, NameEscaping.Escape(walked)));
                        if (shared.IsPlanter(link.Uid))
                        {
                            throw PlantedLink(path, shared, link.Uid);
                        }
                        open = flags;
                    }
                    // With O_NOFOLLOW, a link swapped in since the check is ENOTDIR here, never followed.
                    next = new SafeFdHandle(Syscall.Check(Libc.openat(lease.Fd, part, open, 0), trace, "openat", NameEscaping.Escape(path),
                        $"{lease.Fd}, {Quote(part)}, {Libc.OpenFlagsText(open)}"));
                }
                current.Close(trace);
                current = next;
                walked = path;
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private static (SafeFdHandle Fd, bool Created, bool Followed) OpenIn(int folderFd, string full, string name, SharedFolder shared, int open, bool create,
        int createMode, SyscallTrace? trace, bool readOnlyWhereRefused)
    {
        for (int attempt = 1; ; attempt++)
        {
            SyscallResult opened = OpenAt(folderFd, name, open, readOnlyWhereRefused, trace);
            if (!opened.Failed)
            {
                return (new SafeFdHandle((int)opened.Value), false, false);
            }
            switch (opened.Errno)
            {
                case Errno.ELOOP:
                    if (FollowLink(folderFd, full, name, shared, open, create, readOnlyWhereRefused, trace) is SafeFdHandle followed)
                    {
                        return (followed, false, true);
                    }
                    break;
                case Errno.ENXIO:
                    // O_WRONLY|O_NONBLOCK on a FIFO without a reader, a socket, a device without its driver.
                    StatX? there = StatusIn(folderFd, name, full, trace);
                    int type = there?.Mode & FileStatus.TypeMask ?? 0;
                    if (create && type == FileStatus.Fifo && shared.IsPlanter(there!.Value.Uid))
                    {
                        throw PlantedForCreation(NameEscaping.Escape(full), shared, type, there.Value.Uid);
                    }
                    throw new SysprogException(Errno.ENXIO, "open", NameEscaping.Escape(full), type == 0 ? null : $"{NameEscaping.Escape(full)} is a {FileStatus.KindOf(type)}, not a file to open here.");
                case Errno.ENOENT when create:
                    int exclusive = open | Libc.O_CREAT | Libc.O_EXCL;
                    SyscallResult made = Syscall.Traced(Libc.openat(folderFd, name, exclusive, createMode), trace, "openat",
                        $"{folderFd}, {Quote(name)}, {Libc.OpenFlagsText(exclusive)}, {Octal(createMode)}");
                    if (!made.Failed)
                    {
                        return (new SafeFdHandle((int)made.Value), true, false);
                    }
                    if (made.Errno != Errno.EEXIST || attempt == CreateAttempts)
                    {
                        throw new SysprogException(made.Errno, "open", NameEscaping.Escape(full), made.Errno == Errno.EEXIST
                            ? $"Something kept appearing at {NameEscaping.Escape(full)} between finding nothing there and creating it ({CreateAttempts} times): another process is racing for the name."
                            : null);
                    }
                    break;
                default:
                    throw new SysprogException(opened.Errno, "open", NameEscaping.Escape(full));
            }
        }
    }

    /// <summary>The protected_symlinks refusal: another user's link, which could lead anywhere.</summary>
    private static SysprogException PlantedLink(string path, SharedFolder shared, uint owner) =>
        new(Errno.EACCES, "open", NameEscaping.Escape(path),
            $"{shared.Describe($"a symbolic link (to {LinkText(path)})", owner)}: it is not followed (the fs.protected_symlinks rule, applied whatever that sysctl says). Remove it, or use a path in a folder only trusted users can write.");

    /// <summary>The protected_fifos/protected_regular refusal: another user's file where this one would create its own.</summary>
    private static SysprogException PlantedForCreation(string shown, SharedFolder shared, int type, uint owner)
    {
        string rule = type == FileStatus.Fifo ? "fs.protected_fifos" : "fs.protected_regular";
        return new SysprogException(Errno.EACCES, "open", shown,
            $"{shared.Describe($"a {FileStatus.KindOf(type)}", owner)}: it is not opened to be written as if this user had made it (the {rule} rule, applied whatever that sysctl says). Remove it, or use a path in a folder only trusted users can write.");
    }

    /// <summary>The descriptor through the symbolic link at the name, when the rule lets it be followed; null when the name changed meanwhile (try again).</summary>
    private static SafeFdHandle? FollowLink(int folderFd, string full, string name, SharedFolder shared, int open, bool create, bool readOnlyWhereRefused,
        SyscallTrace? trace)
    {
        if (StatusIn(folderFd, name, full, trace) is not StatX link || (link.Mode & FileStatus.TypeMask) != FileStatus.SymbolicLink)
        {
            return null;
        }
        if (shared.IsPlanter(link.Uid))
        {
            throw PlantedLink(full, shared, link.Uid);
        }
        SyscallResult opened = OpenAt(folderFd, name, open & ~Libc.O_NOFOLLOW, readOnlyWhereRefused, trace);
        if (!opened.Failed)
        {
            return new SafeFdHandle((int)opened.Value);
        }
        if (opened.Errno == Errno.ENOENT)
        {
            // Creating the file the link names would write wherever its maker pointed it; and the retry of open
            // then O_CREAT|O_EXCL (ENOENT, EEXIST, again) would never end.
            throw new SysprogException(create ? Errno.EEXIST : Errno.ENOENT, "open", NameEscaping.Escape(full),
                $"{NameEscaping.Escape(full)} is a symbolic link to {LinkText(full)}, which does not exist{(create ? "; a file is never created through a symbolic link. Remove the link, or create its target first" : "")}.");
        }
        if (opened.Errno == Errno.ENXIO)
        {
            throw new SysprogException(Errno.ENXIO, "open", NameEscaping.Escape(full), $"{NameEscaping.Escape(full)} leads to {LinkText(full)}, which is not a file to open here (a FIFO without a reader, a socket or a device).");
        }
        throw new SysprogException(opened.Errno, "open", NameEscaping.Escape(full));
    }

    /// <summary>
    /// Gives a node this process just made by name (mkfifo, bind, sem_open) the exact <paramref name="mode"/>,
    /// without a second lookup that another user could redirect: the name is opened O_PATH|O_NOFOLLOW and the mode
    /// changed through that descriptor (chmod of /proc/self/fd/N: fchmod refuses O_PATH descriptors), only once it
    /// is checked to be a <paramref name="type"/> owned by this user with one link, as the node just made is. A
    /// symbolic link or another file swapped in is never changed: EPERM, naming what is there.
    /// </summary>
    /// <remarks><paramref name="escapedPath"/>: the path is built from an escaped IPC name (<see cref="NameEscaping"/>).</remarks>
    public static StatX ChangeModeOfCreated(string path, int type, UnixFileMode mode, SyscallTrace? trace, bool escapedPath = false)
    {
        const int flags = Libc.O_PATH | Libc.O_CLOEXEC;
        int open = flags | Libc.O_NOFOLLOW;
        string shown = escapedPath ? path : NameEscaping.Escape(path);
        using var fd = new SafeFdHandle(Syscall.Check(escapedPath ? Libc.open_escaped(path, open, 0) : Libc.open(path, open, 0), trace, "open", shown,
            $"{(escapedPath ? QuoteName(path) : Quote(path))}, {Libc.OpenFlagsText(open)}"));
        StatX status = FileStatus.OfFd(fd, shown);
        uint self = Libc.geteuid();
        int found = status.Mode & FileStatus.TypeMask;
        if (found != type || status.Uid != self || status.LinkCount != 1)
        {
            throw new SysprogException(Errno.EPERM, "chmod", shown,
                $"{shown} is no longer the {FileStatus.KindOf(type)} this process made: it is now a {FileStatus.KindOf(found)} owned by {Owner(status.Uid)} with {status.LinkCount} link(s), replaced by another process. Its mode is left alone.");
        }
        if ((status.Mode & 0xFFF) == (int)mode)
        {
            return status;
        }
        using HandleLease lease = fd.Lease(shown);
        string magic = $"/proc/self/fd/{lease.Fd}";
        SyscallResult changed = Libc.chmod(magic, (int)mode);
        Syscall.Check(changed, trace, "chmod", shown, $"{Quote(magic)}, {Octal((int)mode)}",
            changed.Errno == Errno.ENOENT ? "Changing the mode through the descriptor needs /proc mounted." : null);
        return status;
    }

    /// <summary>openat, and O_RDONLY again where O_RDWR is refused and the caller can do with reading.</summary>
    private static SyscallResult OpenAt(int folderFd, string name, int open, bool readOnlyWhereRefused, SyscallTrace? trace)
    {
        SyscallResult opened = Syscall.Traced(Libc.openat(folderFd, name, open, 0), trace, "openat", $"{folderFd}, {Quote(name)}, {Libc.OpenFlagsText(open)}");
        if (readOnlyWhereRefused && opened.Errno is Errno.EACCES or Errno.EISDIR or Errno.EROFS or Errno.ETXTBSY && (open & Libc.O_ACCMODE) == Libc.O_RDWR)
        {
            int readOnly = (open & ~Libc.O_ACCMODE) | Libc.O_RDONLY;
            opened = Syscall.Traced(Libc.openat(folderFd, name, readOnly, 0), trace, "openat", $"{folderFd}, {Quote(name)}, {Libc.OpenFlagsText(readOnly)}");
        }
        return opened;
    }

    private static StatX? StatusIn(int folderFd, string name, string full, SyscallTrace? trace)
    {
        SyscallResult rc = Syscall.Traced(Libc.statx(folderFd, name, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out StatX status), trace, "statx",
            $"{folderFd}, {Quote(name)}, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS");
        if (rc.Errno == Errno.ENOENT)
        {
            return null;
        }
        Syscall.Check(rc, null, "statx", NameEscaping.Escape(full), $"");
        return status;
    }

    private static string LinkText(string path)
    {
        try
        {
            return Quote(ProcFile.ReadLink(path, null));
        }
        catch (SysprogException)
        {
            return "a target that could not be read";
        }
    }

    private static bool Accepts(AcceptedFileTypes accept, int type) => type switch
    {
        FileStatus.Regular => accept.HasFlag(AcceptedFileTypes.Regular),
        FileStatus.Directory => accept.HasFlag(AcceptedFileTypes.Directory),
        FileStatus.CharacterDevice => accept.HasFlag(AcceptedFileTypes.CharacterDevice),
        FileStatus.Fifo => accept.HasFlag(AcceptedFileTypes.Fifo),
        FileStatus.Socket => accept.HasFlag(AcceptedFileTypes.Socket),
        FileStatus.BlockDevice => accept.HasFlag(AcceptedFileTypes.BlockDevice),
        _ => false,
    };

    private static string Describe(AcceptedFileTypes accept) => accept switch
    {
        AcceptedFileTypes.Regular => "a regular file",
        AcceptedFileTypes.Regular | AcceptedFileTypes.Directory | AcceptedFileTypes.Fifo => "a regular file, a directory or a FIFO",
        AcceptedFileTypes.Regular | AcceptedFileTypes.CharacterDevice => "a regular file or a character device (/dev/null, a terminal)",
        _ => accept.ToString(),
    };

    private static string Owner(uint uid) => $"{Accounts.UserName(uid)} (uid {uid})";

    /// <summary>The folder a name is opened in, and who may have planted what stands in it.</summary>
    private readonly record struct SharedFolder(string Path, StatX Status)
    {
        /// <summary>Sticky and world-writable, as /tmp and /dev/shm are: anyone may put names there, and only remove their own.</summary>
        public bool IsShared => (Status.Mode & Libc.S_ISVTX) != 0 && (Status.Mode & Libc.S_IWOTH) != 0;

        /// <summary>Whether a file owned by <paramref name="uid"/> here is one this user should not trust: the kernel's rule (neither this user nor the folder's owner).</summary>
        public bool IsPlanter(uint uid) => IsShared && uid != Libc.geteuid() && uid != Status.Uid;

        public string Describe(string what, uint uid) =>
            $"In {NameEscaping.Escape(Path)}, a sticky folder anyone may write to, the name is {what} owned by {Owner(uid)}, who is neither this user ({Owner(Libc.geteuid())}) nor the folder's owner ({Owner(Status.Uid)})";
    }
}
