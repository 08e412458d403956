using Sysprog.Interop;

namespace Sysprog;

/// <summary>Which file a descriptor or path is: the device and inode, as /proc/locks names files.</summary>
internal readonly record struct FileKey(uint DevMajor, uint DevMinor, ulong Inode)
{
    public static FileKey Of(in StatX status) => new(status.DevMajor, status.DevMinor, status.Inode);
}

/// <summary>
/// This process's POSIX locks, per file, so that Sysprog never springs the fcntl trap on its own user: POSIX locks
/// belong to the process, and closing any descriptor of a file drops every one of them on that file. So all POSIX
/// locks on one file go through one shared descriptor, closed only when the last of them is released; a descriptor
/// Sysprog opened on such a file for anything else (a flock or OFD lock, a test) is parked instead of closed until
/// then; and a second lock overlapping one this process holds is refused, because the kernel would merge the two
/// (a shared lock over an exclusive one converts those bytes) and releasing either would release both.
/// Descriptors opened outside Sysprog (Get-Content on the file) still drop the locks when closed: that is the kernel's
/// rule, and the docs show it.
/// </summary>
internal static class FileLockTable
{
    private sealed class LockedFile(FileKey key, SafeFdHandle fd)
    {
        public FileKey Key { get; } = key;
        public SafeFdHandle Fd { get; } = fd;
        public List<FileLock> Locks { get; } = [];
        public List<SafeFdHandle> Parked { get; } = [];
    }

    private static readonly object Gate = new();
    private static readonly Dictionary<FileKey, LockedFile> Files = [];

    /// <summary>
    /// Registers a POSIX lock about to be taken and returns the descriptor to take it through: the file's shared one,
    /// or <paramref name="open"/>'s when this process holds no POSIX lock on it yet.
    /// </summary>
    public static SafeFdHandle Join(string path, FileLock posixLock, Func<SafeFdHandle> open, SyscallTrace? trace)
    {
        lock (Gate)
        {
            LockedFile? file = Find(path);
            if (file is null)
            {
                SafeFdHandle fd = open();
                FileKey key = KeyOf(fd, path, trace);
                if (!Files.TryGetValue(key, out file))
                {
                    file = new LockedFile(key, fd);
                    Files.Add(key, file);
                }
                else
                {
                    // The path was replaced by a file this process already locks, between the look and the open.
                    file.Parked.Add(fd);
                }
            }
            FileLock? overlapping = file.Locks.FirstOrDefault(held => ByteRanges.Overlap(held.Start, held.Length, posixLock.Start, posixLock.Length));
            if (overlapping is not null)
            {
                throw new InvalidOperationException(
                    $"This process already holds a POSIX lock on {overlapping.Range} of {path}. POSIX locks of one process merge, so a second lock over the same bytes would change the first one and releasing either would release both: release it first, or use an OFD lock.");
            }
            file.Locks.Add(posixLock);
            return file.Fd;
        }
    }

    /// <summary>Forgets a POSIX lock (released, or never taken: no <paramref name="unlock"/>); closes the shared descriptor and the parked ones after the last.</summary>
    public static void Leave(FileLock posixLock, Action<SafeFdHandle>? unlock, SyscallTrace? trace)
    {
        lock (Gate)
        {
            LockedFile? file = Files.Values.FirstOrDefault(f => f.Locks.Contains(posixLock));
            if (file is null)
            {
                return;
            }
            try
            {
                unlock?.Invoke(file.Fd);
            }
            finally
            {
                LeaveLocked(file, posixLock, trace);
            }
        }
    }

    private static void LeaveLocked(LockedFile file, FileLock posixLock, SyscallTrace? trace)
    {
        file.Locks.Remove(posixLock);
        if (file.Locks.Count > 0)
        {
            return;
        }
        Files.Remove(file.Key);
        file.Fd.Close(trace);
        foreach (SafeFdHandle parked in file.Parked)
        {
            parked.Close(trace);
        }
    }

    /// <summary>Closes a descriptor Sysprog opened on a file, unless that would drop this process's POSIX locks on it: then it waits with them.</summary>
    public static void CloseOrPark(SafeFdHandle fd, string path, SyscallTrace? trace)
    {
        lock (Gate)
        {
            if (Files.Count > 0 && !fd.IsClosed && Files.TryGetValue(KeyOf(fd, path, trace), out LockedFile? file))
            {
                file.Parked.Add(fd);
                return;
            }
        }
        fd.Close(trace);
    }

    /// <summary>Runs <paramref name="use"/> with the shared descriptor of a file this process holds POSIX locks on, or returns false.</summary>
    public static bool TryUseShared(string path, Action<SafeFdHandle> use)
    {
        lock (Gate)
        {
            LockedFile? file = Find(path);
            if (file is null)
            {
                return false;
            }
            use(file.Fd);
            return true;
        }
    }

    private static LockedFile? Find(string path)
    {
        if (Files.Count == 0)
        {
            return null;
        }
        StatX? status;
        try
        {
            status = FileStatus.OfPath(path, followLinks: true);
        }
        catch (SysprogException)
        {
            // Not even stat-able (EACCES on a folder on the way): the open that follows reports it.
            return null;
        }
        return status is StatX found && Files.TryGetValue(FileKey.Of(found), out LockedFile? file) ? file : null;
    }

    private static FileKey KeyOf(SafeFdHandle fd, string path, SyscallTrace? trace) => FileKey.Of(FileStatus.OfFd(fd, path, trace));
}
