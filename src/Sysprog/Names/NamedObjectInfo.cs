using Sysprog.Interop;

namespace Sysprog;

/// <summary>What listings of named IPC objects share: the name and the file's mode, owner and time.</summary>
public abstract class NamedObjectInfo
{
    private protected NamedObjectInfo(string name, StatX status, string? problem = null)
    {
        Name = name;
        Problem = problem;
        UnixFileMode = (UnixFileMode)(status.Mode & 0xFFF);
        OwnerId = status.Uid;
        GroupId = status.Gid;
        LastWriteTime = status.ModifyTime.ToDateTimeOffset().LocalDateTime;
        FileIdentity = (status.DevMajor, status.DevMinor, status.Inode);
    }

    /// <summary>The file's device and inode, as statx and /proc/PID/maps both give them: what the inventory matches holders by.</summary>
    internal (uint Major, uint Minor, ulong Inode) FileIdentity { get; }

    /// <summary>The name, with its leading '/'.</summary>
    public string Name { get; }
    /// <summary>The permission bits as octal text, "0600": what -Mode takes and JSON shows (Sysprog's one form of a mode).</summary>
    public string Mode => FileModes.ToOctal(UnixFileMode);

    /// <summary>The permission bits as .NET's UnixFileMode, for bit tests (-band); Mode is the same as octal text.</summary>
    public UnixFileMode UnixFileMode { get; }

    public uint OwnerId { get; }
    public string Owner => Accounts.UserName(OwnerId);
    public uint GroupId { get; }
    public string Group => Accounts.GroupName(GroupId);
    public DateTime LastWriteTime { get; }

    /// <summary>
    /// Why the entry is not a usable object of its kind (a directory, a file of the wrong size, one this user may not
    /// read), or null. Anyone can put files in /dev/shm: listings show such entries with the reason and never map them.
    /// </summary>
    public string? Problem { get; }

    /// <summary>The file that stands for the object.</summary>
    public abstract string Path { get; }
}
