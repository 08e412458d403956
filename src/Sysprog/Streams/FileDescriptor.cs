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

    private protected override string Describe() => $"fd {Number} ({Target})";

    private protected override string ReadRefusal => $"{Description} was opened for writing only.";

    private protected override string WriteRefusal => $"{Description} was opened for reading only.";

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
        FileStatus.Regular => "regular file",
        FileStatus.Directory => "directory",
        FileStatus.Fifo => "FIFO",
        FileStatus.Socket => "socket",
        FileStatus.CharacterDevice => "character device",
        FileStatus.BlockDevice => "block device",
        _ when target.StartsWith("anon_inode:", StringComparison.Ordinal) => "anonymous inode",
        _ => "unknown",
    };
}
