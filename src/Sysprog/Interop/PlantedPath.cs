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
/// file owned by such a user is not opened to be created or written into (EACCES, naming the rule and the owner). As in
/// the kernel, each rule looks at the folder the name really is in: the path is walked here, a folder at a time, and
/// every symbolic link on the way or at the end is read and walked in its place (never followed by the kernel
/// unchecked), so a trusted link that leads into /tmp, or to a link another user planted there, meets the rule there.
/// The open itself is O_NONBLOCK and O_NOFOLLOW, so nothing planted can make it wait (a FIFO without a writer, a
/// device) or lead it elsewhere unchecked; the file type is checked on the descriptor, truncation happens only after
/// those checks, and a file is never created through a symbolic link. Calls that take no descriptor (connect,
/// inotify_add_watch, a blocking FIFO open) are given /proc/self/fd/N of an O_PATH descriptor of what was checked.
/// </summary>
internal static class PlantedPath
{
    /// <summary>How often a create that lost a race (EEXIST, the name appeared after ENOENT) is tried again before giving up.</summary>
    private const int CreateAttempts = 3;

    /// <summary>How many symbolic links one path may lead through, as the kernel's MAXSYMLINKS: more is ELOOP.</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="flags"/> (an access mode, and O_CREAT, O_TRUNC, O_NONBLOCK
    /// as wanted; the descriptor is close-on-exec and blocking unless O_NONBLOCK was asked for). O_CREAT makes a
    /// missing file with O_EXCL and <paramref name="createMode"/> (narrowed by the umask). With
    /// <paramref name="readOnlyWhereRefused"/> an O_RDWR open that fails with EACCES, EISDIR, EROFS or ETXTBSY is
    /// made O_RDONLY instead. O_PATH alone gives a descriptor of what stands at the path without opening it (no FIFO
    /// side taken, no device woken), for the calls that are then made through <see cref="DescriptorPath"/>. With
    /// <paramref name="foreignRefused"/>, another user's file in a shared folder is refused as if O_CREAT were given:
    /// for a file whose name is used again after this check (dlopen), which that user could swap meanwhile.
    /// </summary>
    public static OpenedPath Open(string path, int flags, int createMode, AcceptedFileTypes accept, SyscallTrace? trace, bool readOnlyWhereRefused = false,
        bool foreignRefused = false)
    {
        string full = Path.GetFullPath(path);
        bool create = (flags & Libc.O_CREAT) != 0;
        bool nodeOnly = (flags & Libc.O_PATH) != 0;
        if (nodeOnly && (flags & (Libc.O_CREAT | Libc.O_TRUNC)) != 0)
        {
            throw new ArgumentException("An O_PATH descriptor neither creates nor truncates.", nameof(flags));
        }
        int open = nodeOnly
            ? Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC
            : (flags & ~(Libc.O_CREAT | Libc.O_EXCL | Libc.O_TRUNC)) | Libc.O_NONBLOCK | Libc.O_NOFOLLOW | Libc.O_NOCTTY | Libc.O_CLOEXEC;
        int linksLeft = MaxLinks;
        NameInFolder at = Reach(full, null, ref linksLeft, trace);
        SafeFdHandle fd;
        StatX status;
        bool created;
        try
        {
            string? linkTarget = null;
            while (true)
            {
                // Only the name the user gave is created; through a link the file must exist already.
                (fd, status, created, bool isLink) = OpenIn(at, full, open, create, linkTarget, createMode, trace, readOnlyWhereRefused);
                if (!isLink)
                {
                    break;
                }
                linkTarget = FollowedLink(fd, status, at, full, create, ref linksLeft, trace, out NameInFolder next);
                at.Close(trace);
                at = next;
            }
            int type = status.Mode & FileStatus.TypeMask;
            try
            {
                // The kernel applies protected_fifos/protected_regular in the folder the file is in, wherever the path led.
                // A folder planted where this user would create its file (a lock file) is refused alike: its owner
                // could hold a lock on it and keep this user from ever taking one.
                if ((create || foreignRefused) && !created && (type is FileStatus.Regular or FileStatus.Fifo || create && type == FileStatus.Directory)
                    && at.IsPlanter(status.Uid, trace))
                {
                    throw create ? PlantedForCreation(full, at, type, status.Uid) : PlantedForReuse(full, at, type, status.Uid);
                }
                if (!Accepts(accept, type))
                {
                    throw new SysprogException(Errno.EINVAL, "open", Shown(full), $"{Shown(full)} is a {FileStatus.KindOf(type)}, and only {Describe(accept)} is opened here (nothing that could make the open or a later read or write wait).");
                }
                if ((flags & Libc.O_TRUNC) != 0 && !created && type == FileStatus.Regular)
                {
                    using HandleLease fdLease = fd.Lease(Shown(full));
                    Syscall.Check(Libc.ftruncate(fdLease.Fd, 0), trace, "ftruncate", Shown(full), $"{fdLease.Fd}, 0");
                }
                if ((flags & Libc.O_NONBLOCK) == 0 && !nodeOnly)
                {
                    using HandleLease fdLease = fd.Lease(Shown(full));
                    int statusFlags = Syscall.Check(Libc.fcntl(fdLease.Fd, Libc.F_GETFL, 0), trace, "fcntl", Shown(full), $"{fdLease.Fd}, F_GETFL");
                    int blocking = statusFlags & ~Libc.O_NONBLOCK;
                    Syscall.Check(Libc.fcntl(fdLease.Fd, Libc.F_SETFL, blocking), trace, "fcntl", Shown(full), $"{fdLease.Fd}, F_SETFL, {Libc.OpenFlagsText(blocking & ~Libc.O_LARGEFILE)}");
                }
                return new OpenedPath(fd, status, created);
            }
            catch
            {
                fd.Dispose();
                if (created)
                {
                    // A file this call made and could not finish is not left behind.
                    using HandleLease folderLease = at.Folder.Lease(Shown(at.FolderPath));
                    Syscall.Traced(Libc.unlinkat(folderLease.Fd, at.Name, 0), trace, "unlinkat", $"{folderLease.Fd}, {Quote(at.Name)}, 0");
                }
                throw;
            }
        }
        finally
        {
            at.Close(trace);
        }
    }

    /// <summary>
    /// The folder the last name of <paramref name="path"/> is in, reached by the rule (a link another user planted in a
    /// shared folder on the way is not followed), and that name, not looked at: for calls that make the name
    /// themselves (mkfifoat, bind) or must not follow a link at it (inotify's IN_DONT_FOLLOW). The caller disposes it.
    /// </summary>
    public static NameInFolder FolderOf(string path, SyscallTrace? trace)
    {
        int linksLeft = MaxLinks;
        return Reach(Path.GetFullPath(path), null, ref linksLeft, trace);
    }

    /// <summary>
    /// /proc/self/fd/N: the name that reaches descriptor <paramref name="fd"/>'s file itself, with no lookup another
    /// process could redirect, for calls that take a path (connect, inotify_add_watch, chmod of an O_PATH descriptor,
    /// open again with other flags). Needs /proc mounted.
    /// </summary>
    public static string DescriptorPath(int fd) => $"/proc/self/fd/{fd}";

    /// <summary>
    /// Opens the file an O_PATH descriptor from <see cref="Open"/> names with <paramref name="flags"/> (O_CLOEXEC
    /// included unless it is to be inherited): that very file, checked already, with no new lookup of its name. <paramref name="enxioDetail"/>
    /// explains ENXIO (a device with nothing behind it).
    /// </summary>
    public static SafeFdHandle Reopen(SafeFdHandle node, string path, int flags, SyscallTrace? trace, string? enxioDetail = null)
    {
        using HandleLease lease = node.Lease(Shown(path));
        string magic = DescriptorPath(lease.Fd);
        SyscallResult opened = Libc.open(magic, flags, 0);
        return new SafeFdHandle(Syscall.Check(opened, trace, "open", Shown(path), $"{Quote(magic)}, {Libc.OpenFlagsText(flags)}", opened.Errno switch
        {
            Errno.ENOENT => NeedsProc,
            Errno.ENXIO => enxioDetail,
            _ => null,
        }));
    }

    /// <summary>
    /// A failure to reach a path, reported as the failure of <paramref name="call"/>, which is given the path through
    /// a checked descriptor instead: the errno is the one that call would have given for the same path (ENOENT,
    /// ENOTDIR, ELOOP, and EACCES for a planted link, as fs.protected_symlinks gives it).
    /// </summary>
    public static SysprogException AsFailureOf(SysprogException reaching, string call, string path, string? detail = null) =>
        new(reaching.Errno, call, path, detail ?? reaching.Detail, reaching);

    /// <summary>
    /// Walks <paramref name="path"/> (absolute, or relative to <paramref name="from"/>'s folder) to the folder its
    /// last name is in. Where that folder's real path is the one asked for, no link was on the way and a single open
    /// does; otherwise each folder is opened O_PATH|O_NOFOLLOW in the one before, and a symbolic link met is checked
    /// in the folder it is in, read (readlinkat on its own descriptor, so what was checked is what is read) and its
    /// target walked in its place, as the kernel's namei does.
    /// </summary>
    private static NameInFolder Reach(string path, NameInFolder? from, ref int linksLeft, SyscallTrace? trace)
    {
        bool absolute = path.StartsWith('/');
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string name = parts.Length == 0 ? "." : parts[^1];
        const int folderFlags = Libc.O_PATH | Libc.O_CLOEXEC;
        int directoryFlags = folderFlags | Libc.O_DIRECTORY;
        if (absolute && parts.Length > 0 && Array.TrueForAll(parts, part => part is not ("." or "..")))
        {
            string folder = "/" + string.Join('/', parts[..^1]);
            if (OpenIfReachedDirectly(folder, directoryFlags, trace) is SafeFdHandle direct)
            {
                return NameInFolder.Reached(direct, folder, name, trace);
            }
        }
        var pending = new Stack<string>(Enumerable.Reverse(parts.Length == 0 ? parts : parts[..^1]));
        string reached = absolute || from is null ? "/" : from.FolderPath;
        SafeFdHandle current = absolute || from is null
            ? OpenChecked(Libc.AT_FDCWD, "/", directoryFlags, "/", trace)
            : OpenChecked(from.Folder, ".", directoryFlags, reached, trace);
        try
        {
            while (pending.TryPop(out string? part))
            {
                if (part == ".")
                {
                    continue;
                }
                string partPath = part == ".." ? ParentOf(reached) : Join(reached, part);
                SafeFdHandle next = OpenChecked(current, part, part == ".." ? directoryFlags : folderFlags | Libc.O_NOFOLLOW, partPath, trace);
                StatX entry;
                try
                {
                    entry = FileStatus.OfFd(next, Shown(partPath), trace);
                }
                catch
                {
                    next.Dispose();
                    throw;
                }
                int type = entry.Mode & FileStatus.TypeMask;
                if (type == FileStatus.SymbolicLink)
                {
                    string target;
                    using (next)
                    {
                        var folder = new SharedFolder(reached, FileStatus.OfFd(current, Shown(reached), trace));
                        target = ReadLinkOf(next, partPath, trace);
                        if (folder.IsPlanter(entry.Uid, trace))
                        {
                            throw PlantedLink(partPath, folder, entry.Uid, target);
                        }
                        next.Close(trace);
                    }
                    CountLink(ref linksLeft, partPath);
                    string[] targetParts = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
                    if (target.Length == 0)
                    {
                        throw new SysprogException(Errno.ENOENT, "readlinkat", Shown(partPath), $"{Shown(partPath)} is a symbolic link to nothing (an empty target).");
                    }
                    for (int i = targetParts.Length - 1; i >= 0; i--)
                    {
                        pending.Push(targetParts[i]);
                    }
                    if (target.StartsWith('/'))
                    {
                        SafeFdHandle root = OpenChecked(Libc.AT_FDCWD, "/", directoryFlags, "/", trace);
                        current.Close(trace);
                        current = root;
                        reached = "/";
                    }
                    continue;
                }
                if (type != FileStatus.Directory)
                {
                    next.Dispose();
                    throw new SysprogException(Errno.ENOTDIR, "openat", Shown(partPath), $"{Shown(partPath)} is a {FileStatus.KindOf(type)}, not a folder.");
                }
                current.Close(trace);
                current = next;
                reached = partPath;
            }
            return NameInFolder.Reached(current, reached, name, trace);
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The folder opened by its name, when no link was followed on the way: its real path (/proc/self/fd/N) is the
    /// one asked for. Null otherwise, or when it could not be opened so (the walk then names what is wrong).
    /// </summary>
    private static SafeFdHandle? OpenIfReachedDirectly(string folder, int flags, SyscallTrace? trace)
    {
        SyscallResult opened = Syscall.Traced(Libc.open(folder, flags, 0), trace, "open", $"{Quote(folder)}, {Libc.OpenFlagsText(flags)}");
        if (opened.Failed)
        {
            return null;
        }
        var direct = new SafeFdHandle((int)opened.Value);
        try
        {
            if (ProcFile.ReadLink(DescriptorPath(direct.Fd), trace) == folder)
            {
                return direct;
            }
        }
        catch (SysprogException)
        {
        }
        direct.Close(trace);
        return null;
    }

    private static SafeFdHandle OpenChecked(SafeFdHandle folder, string name, int flags, string path, SyscallTrace? trace)
    {
        using HandleLease lease = folder.Lease(Shown(path));
        return OpenChecked(lease.Fd, name, flags, path, trace);
    }

    private static SafeFdHandle OpenChecked(int folderFd, string name, int flags, string path, SyscallTrace? trace) =>
        new(Syscall.Check(Libc.openat(folderFd, name, flags, 0), trace, "openat", Shown(path), $"{(folderFd == Libc.AT_FDCWD ? "AT_FDCWD" : folderFd.ToString(System.Globalization.CultureInfo.InvariantCulture))}, {Quote(name)}, {Libc.OpenFlagsText(flags)}"));

    private static string Join(string folder, string name) => folder == "/" ? "/" + name : folder + "/" + name;

    private static string ParentOf(string folder) => folder == "/" ? "/" : Path.GetDirectoryName(folder) ?? "/";

    private static void CountLink(ref int linksLeft, string path)
    {
        if (--linksLeft < 0)
        {
            throw new SysprogException(Errno.ELOOP, "open", Shown(path), $"{Shown(path)} leads through more than {MaxLinks} symbolic links (a loop?).");
        }
    }

    /// <summary>What the symbolic link this descriptor (O_PATH|O_NOFOLLOW) names points to.</summary>
    private static unsafe string ReadLinkOf(SafeFdHandle link, string path, SyscallTrace? trace)
    {
        using HandleLease lease = link.Lease(Shown(path));
        byte* buffer = stackalloc byte[4096];
        long length = Syscall.CheckCount(Libc.readlinkat(lease.Fd, "", buffer, 4096), trace, "readlinkat", path, $"{lease.Fd}, \"\", ..., 4096");
        return System.Text.Encoding.UTF8.GetString(buffer, (int)length);
    }

    /// <summary>
    /// A symbolic link met at the last name: refused where the rule says so, else its target walked to the folder its
    /// last name is in (<paramref name="next"/>); returns the target, which names the link in messages.
    /// </summary>
    private static string FollowedLink(SafeFdHandle link, StatX status, NameInFolder at, string full, bool create, ref int linksLeft, SyscallTrace? trace,
        out NameInFolder next)
    {
        string target;
        using (link)
        {
            target = ReadLinkOf(link, at.Path, trace);
            if (at.IsPlanter(status.Uid, trace))
            {
                throw PlantedLink(at.Path, at.Shared, status.Uid, target);
            }
            link.Close(trace);
        }
        CountLink(ref linksLeft, full);
        try
        {
            next = Reach(target, at, ref linksLeft, trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT && e.Call == "openat")
        {
            throw Dangling(full, target, create);
        }
        return target;
    }

    /// <summary>
    /// The last name opened in its folder: the descriptor, what it is and whether this call made it, or (IsLink) an
    /// O_PATH descriptor of the symbolic link standing there, for the caller to follow. <paramref name="linkTarget"/>:
    /// the target of the link that led here, if one did; then nothing is created.
    /// </summary>
    private static (SafeFdHandle Fd, StatX Status, bool Created, bool IsLink) OpenIn(NameInFolder at, string full, int open, bool create, string? linkTarget,
        int createMode, SyscallTrace? trace, bool readOnlyWhereRefused)
    {
        using HandleLease lease = at.Folder.Lease(Shown(at.FolderPath));
        int folderFd = lease.Fd;
        string name = at.Name;
        for (int attempt = 1; ; attempt++)
        {
            SyscallResult opened = OpenAt(folderFd, name, open, readOnlyWhereRefused, trace);
            if (!opened.Failed)
            {
                var fd = new SafeFdHandle((int)opened.Value);
                StatX status;
                try
                {
                    status = FileStatus.OfFd(fd, Shown(full), trace);
                }
                catch
                {
                    fd.Dispose();
                    throw;
                }
                // O_PATH|O_NOFOLLOW gives the link itself where any other open fails with ELOOP.
                return (fd, status, false, (status.Mode & FileStatus.TypeMask) == FileStatus.SymbolicLink);
            }
            switch (opened.Errno)
            {
                case Errno.ELOOP:
                    int linkFlags = Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
                    SyscallResult link = Syscall.Traced(Libc.openat(folderFd, name, linkFlags, 0), trace, "openat", $"{folderFd}, {Quote(name)}, {Libc.OpenFlagsText(linkFlags)}");
                    if (!link.Failed)
                    {
                        var linkFd = new SafeFdHandle((int)link.Value);
                        StatX linkStatus = FileStatus.OfFd(linkFd, Shown(full), trace);
                        if ((linkStatus.Mode & FileStatus.TypeMask) == FileStatus.SymbolicLink)
                        {
                            return (linkFd, linkStatus, false, true);
                        }
                        linkFd.Close(trace);
                    }
                    // The name changed between the two opens: look again.
                    break;
                case Errno.ENXIO:
                    // O_WRONLY|O_NONBLOCK on a FIFO without a reader, a socket, a device without its driver.
                    StatX? there = StatusIn(folderFd, name, full, trace);
                    int type = there?.Mode & FileStatus.TypeMask ?? 0;
                    if (create && type == FileStatus.Fifo && at.IsPlanter(there!.Value.Uid, trace))
                    {
                        throw PlantedForCreation(full, at, type, there.Value.Uid);
                    }
                    throw new SysprogException(Errno.ENXIO, "open", Shown(full), type == 0 ? null
                        : $"{full} {(linkTarget is null ? "is" : $"leads to {at.Path}, which is")} a {FileStatus.KindOf(type)}, not a file to open here.");
                case Errno.ENOENT when linkTarget is not null:
                    throw Dangling(full, linkTarget, create);
                case Errno.ENOENT when create:
                    int exclusive = open | Libc.O_CREAT | Libc.O_EXCL;
                    SyscallResult made = Syscall.Traced(Libc.openat(folderFd, name, exclusive, createMode), trace, "openat",
                        $"{folderFd}, {Quote(name)}, {Libc.OpenFlagsText(exclusive)}, {Octal(createMode)}");
                    if (!made.Failed)
                    {
                        var fd = new SafeFdHandle((int)made.Value);
                        try
                        {
                            return (fd, FileStatus.OfFd(fd, Shown(full), trace), true, false);
                        }
                        catch
                        {
                            fd.Dispose();
                            Syscall.Traced(Libc.unlinkat(folderFd, name, 0), trace, "unlinkat", $"{folderFd}, {Quote(name)}, 0");
                            throw;
                        }
                    }
                    if (made.Errno != Errno.EEXIST || attempt == CreateAttempts)
                    {
                        throw new SysprogException(made.Errno, "open", Shown(full), made.Errno == Errno.EEXIST
                            ? $"Something kept appearing at {Shown(full)} between finding nothing there and creating it ({CreateAttempts} times): another process is racing for the name."
                            : null);
                    }
                    break;
                default:
                    throw new SysprogException(opened.Errno, "open", Shown(full));
            }
            if (attempt == CreateAttempts)
            {
                throw new SysprogException(Errno.EAGAIN, "open", Shown(full), $"What stands at {Shown(full)} kept changing while it was being opened ({CreateAttempts} times): another process is racing for the name.");
            }
        }
    }

    /// <summary>The protected_symlinks refusal: another user's link, which could lead anywhere.</summary>
    private static SysprogException PlantedLink(string path, SharedFolder shared, uint owner, string target) =>
        new(Errno.EACCES, "open", path,
            $"{shared.Describe($"a symbolic link (to {Quote(target)})", owner)}: it is not followed (the fs.protected_symlinks rule, applied whatever that sysctl says). Remove it, or use a path in a folder only trusted users can write.");

    /// <summary>The protected_fifos/protected_regular refusal: another user's file where this one would create its own.</summary>
    private static SysprogException PlantedForCreation(string full, NameInFolder at, int type, uint owner)
    {
        string rule = type == FileStatus.Fifo ? "fs.protected_fifos" : "fs.protected_regular";
        return new SysprogException(Errno.EACCES, "open", Shown(full),
            $"{at.Shared.Describe($"a {FileStatus.KindOf(type)}", owner)}: it is not opened to be written as if this user had made it (the {rule} rule, applied whatever that sysctl says). Remove it, or use a path in a folder only trusted users can write.");
    }

    /// <summary>The same refusal for a file whose name is used again after the check, which its owner could swap meanwhile.</summary>
    private static SysprogException PlantedForReuse(string full, NameInFolder at, int type, uint owner) =>
        new(Errno.EACCES, "open", full,
            $"{at.Shared.Describe($"a {FileStatus.KindOf(type)}", owner)}: it is not used, since that user could replace it between this check and its use (with a FIFO that would hang the call, or a link to another file), as the fs.protected_regular rule refuses it to O_CREAT. Copy it to a folder only trusted users can write.");

    /// <summary>A link to nothing: never created through, and never an endless open/create retry.</summary>
    private static SysprogException Dangling(string full, string target, bool create) =>
        // Creating the file the link names would write wherever its maker pointed it; and the retry of open then
        // O_CREAT|O_EXCL (ENOENT, EEXIST, again) would never end.
        new(create ? Errno.EEXIST : Errno.ENOENT, "open", full,
            $"{Shown(full)} is a symbolic link to {Quote(target)}, which does not exist{(create ? "; a file is never created through a symbolic link. Remove the link, or create its target first" : "")}.");

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
        int open = Libc.O_PATH | Libc.O_CLOEXEC | Libc.O_NOFOLLOW;
        var fd = new SafeFdHandle(Syscall.Check(escapedPath ? Libc.open_escaped(path, open, 0) : Libc.open(path, open, 0), trace, "open", escapedPath ? path : Shown(path), $"{(escapedPath ? QuoteName(path) : Quote(path))}, {Libc.OpenFlagsText(open)}"));
        try
        {
            return ChangeModeOfCreated(fd, path, type, mode, trace);
        }
        finally
        {
            fd.Close(trace);
        }
    }

    /// <summary>The same for a node made in a folder <see cref="FolderOf"/> reached (mkfifoat; bind, checked to have made it there).</summary>
    public static StatX ChangeModeOfCreated(NameInFolder at, int type, UnixFileMode mode, SyscallTrace? trace)
    {
        int open = Libc.O_PATH | Libc.O_CLOEXEC | Libc.O_NOFOLLOW;
        SafeFdHandle fd;
        using (HandleLease lease = at.Folder.Lease(Shown(at.FolderPath)))
        {
            fd = new SafeFdHandle(Syscall.Check(Libc.openat(lease.Fd, at.Name, open, 0), trace, "openat", Shown(at.Path), $"{lease.Fd}, {Quote(at.Name)}, {Libc.OpenFlagsText(open)}"));
        }
        // Closed with the trace (not by a using): its close is a call like any other, and is narrated.
        try
        {
            return ChangeModeOfCreated(fd, Shown(at.Path), type, mode, trace);
        }
        finally
        {
            fd.Close(trace);
        }
    }

    private static StatX ChangeModeOfCreated(SafeFdHandle fd, string shown, int type, UnixFileMode mode, SyscallTrace? trace)
    {
        StatX status = FileStatus.OfFd(fd, shown, trace);
        uint self = Syscall.EffectiveUserId(trace);
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
        string magic = DescriptorPath(lease.Fd);
        SyscallResult changed = Libc.chmod(magic, (int)mode);
        Syscall.Check(changed, trace, "chmod", shown, $"{Quote(magic)}, {Octal((int)mode)}",
            changed.Errno == Errno.ENOENT ? NeedsProc : null);
        return status;
    }

    /// <summary>A path as targets and messages name it: escaped by the one rule, since a planted name may hold ESC or a newline.</summary>
    internal static string Shown(string path) => NameEscaping.Escape(path);

    /// <summary>Why a call through <see cref="DescriptorPath"/> fails with ENOENT: /proc is not mounted.</summary>
    public const string NeedsProc = "Calls through a checked descriptor (/proc/self/fd/N) need /proc mounted.";

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
        Syscall.Check(rc, null, "statx", Shown(full), $"");
        return status;
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
        AcceptedFileTypes.CharacterDevice | AcceptedFileTypes.Regular | AcceptedFileTypes.Directory => "a character device (a terminal), a regular file or a directory",
        AcceptedFileTypes.Fifo => "a FIFO",
        AcceptedFileTypes.Socket => "a socket file",
        _ => accept.ToString(),
    };

    internal static string Owner(uint uid) => $"{Accounts.UserName(uid)} (uid {uid})";

    /// <summary>The folder a name is opened in, and who may have planted what stands in it.</summary>
    internal readonly record struct SharedFolder(string Path, StatX Status)
    {
        /// <summary>Sticky and world-writable, as /tmp and /dev/shm are: anyone may put names there, and only remove their own.</summary>
        public bool IsShared => (Status.Mode & Libc.S_ISVTX) != 0 && (Status.Mode & Libc.S_IWOTH) != 0;

        /// <summary>Whether a file owned by <paramref name="uid"/> here is one this user should not trust: the kernel's rule (neither this user nor the folder's owner).</summary>
        public bool IsPlanter(uint uid, SyscallTrace? trace) => IsShared && uid != Syscall.EffectiveUserId(trace) && uid != Status.Uid;

        public string Describe(string what, uint uid) =>
            $"In {Shown(Path)}, a sticky folder anyone may write to, the name is {what} owned by {Owner(uid)}, who is neither this user ({Owner(Libc.geteuid())}) nor the folder's owner ({Owner(Status.Uid)})";
    }
}

/// <summary>
/// A name and the folder it is in, as <see cref="PlantedPath"/> reached it: an O_PATH descriptor of the folder, to
/// look the name up in with the *at calls (openat, mkfifoat, unlinkat, statx), and the folder's real path for messages.
/// </summary>
internal sealed class NameInFolder : IDisposable
{
    private NameInFolder(SafeFdHandle folder, PlantedPath.SharedFolder shared, string name)
    {
        Folder = folder;
        Shared = shared;
        Name = name;
    }

    public SafeFdHandle Folder { get; }

    /// <summary>The folder's path and status, and who may have planted what stands in it.</summary>
    public PlantedPath.SharedFolder Shared { get; }

    public string FolderPath => Shared.Path;

    public string Name { get; }

    /// <summary>Where the name really is (the folder's path as reached, links replaced by where they led).</summary>
    public string Path => FolderPath == "/" ? "/" + Name : FolderPath + "/" + Name;

    /// <summary>Whether a file owned by <paramref name="uid"/> in this folder is one this user should not trust (see <see cref="PlantedPath.SharedFolder.IsPlanter"/>).</summary>
    public bool IsPlanter(uint uid, SyscallTrace? trace) => Shared.IsPlanter(uid, trace);

    /// <summary>Takes <paramref name="folder"/> (closed here if its status cannot be read).</summary>
    internal static NameInFolder Reached(SafeFdHandle folder, string folderPath, string name, SyscallTrace? trace)
    {
        try
        {
            return new NameInFolder(folder, new PlantedPath.SharedFolder(folderPath, FileStatus.OfFd(folder, PlantedPath.Shown(folderPath), trace)), name);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    public void Close(SyscallTrace? trace) => Folder.Close(trace);

    public void Dispose() => Folder.Dispose();
}
