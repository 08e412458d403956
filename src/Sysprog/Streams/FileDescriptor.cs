using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// A descriptor of a kind Sysprog has no object for (a regular file, a device, a signalfd, a pidfd...), as another
/// process passed it over a socket: named from /proc/self/fd and /proc/self/fdinfo, readable and writable as a
/// stream when its access mode allows, closed like any other. Its blocking mode is left as the sender had it: calls
/// that must not wait ask per call (RWF_NOWAIT), except on regular files and directories, which never make a reader wait.
/// </summary>
public sealed class FileDescriptor : StreamDescriptor
{
    private readonly int _accessMode;

    private FileDescriptor(SafeFdHandle fd, string target, string kind, int statusFlags, bool keptBlocking) : base(fd, keptBlocking)
    {
        Target = target;
        Kind = kind;
        _accessMode = statusFlags & Libc.O_ACCMODE;
        StatusFlags = Libc.OpenFlagsText(statusFlags & ~Libc.O_LARGEFILE);
    }

    /// <summary>What /proc/self/fd/N links to: a path, or pipe:[N], socket:[N], anon_inode:[signalfd]...</summary>
    public string Target { get; }

    /// <summary>The file type: "regular file", "directory", "character device", "block device", "anonymous inode"...</summary>
    public string Kind { get; }

    /// <summary>The open file description's flags (F_GETFL), as C names: O_RDONLY|O_NONBLOCK...</summary>
    public string StatusFlags { get; }

    /// <summary>
    /// What /proc/self/fdinfo says of it now, by field: pos, flags, mnt_id, ino, and each kind's own (a signalfd's
    /// sigmask, a pidfd's Pid, an inotify instance's watches).
    /// </summary>
    public IReadOnlyDictionary<string, string> Details
    {
        get
        {
            using HandleLease lease = Lease();
            return ProcFile.Fields($"/proc/self/fdinfo/{lease.Fd}");
        }
    }

    public override bool CanRead => _accessMode != Libc.O_WRONLY;

    public override bool CanWrite => _accessMode != Libc.O_RDONLY;

    private protected override string Describe() => $"fd {Number} ({NameEscaping.Escape(Target)})";

    private protected override string ReadRefusal => $"{Description} was opened for writing only.";

    private protected override string WriteRefusal => $"{Description} was opened for reading only.";

    /// <summary>
    /// Opens a file as a descriptor to hand on (a child's stdin or stdout): for reading, or for writing (created
    /// mode 0600 if missing and truncated, as a shell's &gt; does), or both (created, not truncated). Close-on-exec.
    /// Only a regular file or a character device (/dev/null, a terminal) is taken, and the open never waits (a FIFO
    /// is refused: give an Open-Fifo end instead). In a shared folder such as /tmp another user's symbolic link or file
    /// at the path is refused, never followed or truncated (about_Sysprog, "Paths in shared directories").
    /// </summary>
    public static FileDescriptor Open(string path, FileAccess access, SyscallTrace? trace = null)
    {
        PathArguments.Validate(path);
        int flags = Libc.O_CLOEXEC | access switch
        {
            FileAccess.Read => Libc.O_RDONLY,
            FileAccess.Write => Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC,
            FileAccess.ReadWrite => Libc.O_RDWR | Libc.O_CREAT,
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, "Read, Write or ReadWrite."),
        };
        const int mode = 0x180;
        OpenedPath opened = PlantedPath.Open(path, flags, mode, AcceptedFileTypes.Regular | AcceptedFileTypes.CharacterDevice, trace);
        try
        {
            return Adopt(opened.Fd, path, opened.Status);
        }
        catch
        {
            opened.Fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A copy (F_DUPFD_CLOEXEC) of descriptor <paramref name="fd"/> of this process, which this object owns and
    /// closes; the original stays the caller's. How a descriptor Sysprog did not open (0, 1, 2) is handed on.
    /// </summary>
    public static FileDescriptor Duplicate(int fd, SyscallTrace? trace = null)
    {
        if (fd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(fd), fd, "A descriptor is 0 or more.");
        }
        string target = $"fd {fd}";
        SyscallResult copied = Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, 0);
        var handle = new SafeFdHandle(Syscall.Check(copied, trace, "fcntl", target, $"{fd}, F_DUPFD_CLOEXEC, 0",
            copied.Errno == Errno.EBADF ? $"This process has no descriptor {fd}." : null));
        string link;
        try
        {
            link = ProcFile.ReadLink($"/proc/self/fd/{handle.Fd}", trace);
        }
        catch (SysprogException)
        {
            link = target;
        }
        return AdoptOrClose(handle, link, trace);
    }

    private static FileDescriptor AdoptOrClose(SafeFdHandle handle, string target, SyscallTrace? trace)
    {
        try
        {
            return Adopt(handle, target, FileStatus.OfFd(handle, target, trace));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    internal static FileDescriptor Adopt(SafeFdHandle handle, string target, in StatX status)
    {
        int flags;
        using (HandleLease lease = handle.Lease(target))
        {
            flags = Syscall.Check(Libc.fcntl(lease.Fd, Libc.F_GETFL, 0), null, "fcntl", target, $"{lease.Fd}, F_GETFL");
        }
        int type = status.Mode & FileStatus.TypeMask;
        bool neverWaits = type is FileStatus.Regular or FileStatus.Directory || (flags & Libc.O_NONBLOCK) != 0;
        return new FileDescriptor(handle, target, KindOf(type, target), flags, keptBlocking: !neverWaits);
    }

    private static string KindOf(int type, string target) => type switch
    {
        FileStatus.Regular or FileStatus.Directory or FileStatus.Fifo or FileStatus.Socket or FileStatus.CharacterDevice or FileStatus.BlockDevice => FileStatus.KindOf(type),
        _ when target.StartsWith("anon_inode:", StringComparison.Ordinal) => "anonymous inode",
        _ => "unknown",
    };
}
