using System.Globalization;

namespace Sysprog;

/// <summary>inotify event bits (IN_*): what a watch asks for, and what an event reports.</summary>
[Flags]
public enum InotifyEvents : uint
{
    None = 0,

    /// <summary>IN_ACCESS: a file was read.</summary>
    Access = 0x1,

    /// <summary>IN_MODIFY: a file was written (each write; consecutive identical events are merged by the kernel).</summary>
    Modify = 0x2,

    /// <summary>IN_ATTRIB: mode, owner, timestamps, link count or extended attributes changed.</summary>
    Attrib = 0x4,

    /// <summary>IN_CLOSE_WRITE: a file opened for writing was closed: the moment a writer is done.</summary>
    CloseWrite = 0x8,

    /// <summary>IN_CLOSE_NOWRITE: a file opened read-only was closed.</summary>
    CloseNoWrite = 0x10,

    /// <summary>IN_OPEN.</summary>
    Open = 0x20,

    /// <summary>IN_MOVED_FROM: a name left a watched directory; the MovedTo with the same cookie says where it went.</summary>
    MovedFrom = 0x40,

    /// <summary>IN_MOVED_TO: a name arrived in a watched directory.</summary>
    MovedTo = 0x80,

    /// <summary>IN_CREATE: a name was created in a watched directory (file, directory, link, socket, FIFO).</summary>
    Create = 0x100,

    /// <summary>IN_DELETE: a name was removed from a watched directory.</summary>
    Delete = 0x200,

    /// <summary>IN_DELETE_SELF: the watched file or directory itself was deleted (the watch then ends with Ignored).</summary>
    DeleteSelf = 0x400,

    /// <summary>IN_MOVE_SELF: the watched file or directory itself was moved.</summary>
    MoveSelf = 0x800,

    /// <summary>IN_UNMOUNT (reported only): the filesystem holding the watched object was unmounted.</summary>
    Unmount = 0x2000,

    /// <summary>IN_Q_OVERFLOW (reported only): the instance's queue was full and events were lost.</summary>
    QueueOverflow = 0x4000,

    /// <summary>IN_IGNORED (reported only): the watch ended (removed, its object deleted, a one-shot fired, or unmounted).</summary>
    Ignored = 0x8000,

    /// <summary>IN_CLOSE: CloseWrite and CloseNoWrite.</summary>
    Close = CloseWrite | CloseNoWrite,

    /// <summary>IN_MOVE: MovedFrom and MovedTo.</summary>
    Move = MovedFrom | MovedTo,

    /// <summary>What changes the filesystem (the default): every event but Access, Open and CloseNoWrite.</summary>
    Changes = Modify | Attrib | CloseWrite | Move | Create | Delete | DeleteSelf | MoveSelf,

    /// <summary>IN_ALL_EVENTS.</summary>
    All = 0xfff,
}

/// <summary>How a watch is added (the IN_* flags that are not events).</summary>
[Flags]
public enum InotifyWatchOptions : uint
{
    None = 0,

    /// <summary>IN_ONLYDIR: fail with ENOTDIR unless the path is a directory.</summary>
    OnlyDir = 0x01000000,

    /// <summary>IN_DONT_FOLLOW: watch a symbolic link itself, not what it points to.</summary>
    DontFollow = 0x02000000,

    /// <summary>IN_EXCL_UNLINK: no more events for a child once it is unlinked (though still open somewhere).</summary>
    ExclUnlink = 0x04000000,

    /// <summary>IN_MASK_CREATE: fail with EEXIST if the object is watched already, rather than replacing that watch's events.</summary>
    MaskCreate = 0x10000000,

    /// <summary>IN_MASK_ADD: add these events to an existing watch of the object, rather than replacing them.</summary>
    MaskAdd = 0x20000000,

    /// <summary>IN_ONESHOT: end the watch after its first event.</summary>
    OneShot = 0x80000000,
}

/// <summary>One watch of an <see cref="Inotify"/> instance: a watch descriptor for one file or directory.</summary>
public sealed class InotifyWatch
{
    internal InotifyWatch(Inotify instance, int descriptor, string path, InotifyEvents events, InotifyWatchOptions options)
    {
        Instance = instance;
        Descriptor = descriptor;
        Path = path;
        Events = events;
        Options = options;
        IsActive = true;
    }

    public Inotify Instance { get; }

    /// <summary>The watch descriptor (wd) the kernel gave; the same object reached by another path gets the same one.</summary>
    public int Descriptor { get; }

    /// <summary>The path it was added with, made absolute; events under it are named from it.</summary>
    public string Path { get; internal set; }

    public InotifyEvents Events { get; internal set; }

    public InotifyWatchOptions Options { get; internal set; }

    /// <summary>False once removed, by the caller or by the kernel (its object deleted, a one-shot fired, an unmount).</summary>
    public bool IsActive { get; internal set; }

    public override string ToString() => $"wd {Descriptor} {NameEscaping.Escape(Path)} ({Events}){(IsActive ? "" : " (removed)")}";
}

/// <summary>One event read from an inotify instance.</summary>
public sealed class InotifyEvent
{
    internal InotifyEvent(InotifyWatch? watch, int watchDescriptor, uint mask, uint cookie, string? name, string? path, string? movedFrom)
    {
        Watch = watch;
        Path = path;
        WatchDescriptor = watchDescriptor;
        Events = (InotifyEvents)(mask & ~IsDirectoryBit);
        IsDirectory = (mask & IsDirectoryBit) != 0;
        Cookie = cookie;
        Name = name;
        MovedFrom = movedFrom;
        ReceivedAt = DateTime.Now;
    }

    private const uint IsDirectoryBit = 0x40000000;

    /// <summary>The watch it came through; null for a queue overflow, which belongs to no watch.</summary>
    public InotifyWatch? Watch { get; }

    /// <summary>wd: -1 for a queue overflow.</summary>
    public int WatchDescriptor { get; }

    /// <summary>What happened: one event bit, with Ignored or Unmount where the kernel adds them.</summary>
    public InotifyEvents Events { get; }

    /// <summary>IN_ISDIR: the subject is a directory.</summary>
    public bool IsDirectory { get; }

    /// <summary>
    /// The name within the watched directory; null for events on the watched object itself. Any user who can write to the
    /// directory chooses it: views, ToString and sysprog watch show it escaped (<see cref="NameEscaping"/>).
    /// </summary>
    public string? Name { get; }

    /// <summary>The watched path joined with the name; null for a queue overflow or a watch this object did not add.</summary>
    public string? Path { get; }

    /// <summary>Pairs a MovedFrom with its MovedTo (a rename); 0 for other events.</summary>
    public uint Cookie { get; }

    /// <summary>On a MovedTo: the path its MovedFrom named (same cookie), when that was read from this instance too.</summary>
    public string? MovedFrom { get; }

    public DateTime ReceivedAt { get; }

    public bool IsOverflow => (Events & InotifyEvents.QueueOverflow) != 0;

    /// <summary>
    /// The kernel's names as inotifywait prints them: "CREATE,ISDIR", "CLOSE_WRITE,CLOSE". inotifywait (libinotifytools)
    /// names the bits in the kernel's order except that MOVE_SELF comes after IGNORED, adds CLOSE after either close
    /// event, and ends with ISDIR.
    /// </summary>
    public string EventNames
    {
        get
        {
            var names = NameOrder.Where(n => n.Bit != InotifyEvents.MoveSelf && (Events & n.Bit) != 0).Select(n => n.Name).ToList();
            if ((Events & InotifyEvents.Close) != 0)
            {
                names.Add("CLOSE");
            }
            if ((Events & InotifyEvents.MoveSelf) != 0)
            {
                names.Add("MOVE_SELF");
            }
            if (IsDirectory)
            {
                names.Add("ISDIR");
            }
            return string.Join(',', names);
        }
    }

    private static readonly (InotifyEvents Bit, string Name)[] NameOrder =
    [
        (InotifyEvents.Access, "ACCESS"), (InotifyEvents.Modify, "MODIFY"), (InotifyEvents.Attrib, "ATTRIB"),
        (InotifyEvents.CloseWrite, "CLOSE_WRITE"), (InotifyEvents.CloseNoWrite, "CLOSE_NOWRITE"), (InotifyEvents.Open, "OPEN"),
        (InotifyEvents.MovedFrom, "MOVED_FROM"), (InotifyEvents.MovedTo, "MOVED_TO"), (InotifyEvents.Create, "CREATE"),
        (InotifyEvents.Delete, "DELETE"), (InotifyEvents.DeleteSelf, "DELETE_SELF"), (InotifyEvents.MoveSelf, "MOVE_SELF"),
        (InotifyEvents.Unmount, "UNMOUNT"), (InotifyEvents.QueueOverflow, "Q_OVERFLOW"), (InotifyEvents.Ignored, "IGNORED"),
    ];

    /// <summary>Parses "create,delete" or "CREATE|MOVED_TO" (the C names, with or without IN_, or this enum's names).</summary>
    public static InotifyEvents ParseEvents(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        InotifyEvents events = InotifyEvents.None;
        foreach (string part in text.Split([',', '|', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            string name = part.StartsWith("IN_", StringComparison.OrdinalIgnoreCase) ? part[3..] : part;
            (InotifyEvents Bit, string Name) known = NameOrder.FirstOrDefault(n => n.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            events |= known.Name is not null ? known.Bit
                : Enum.TryParse(name, ignoreCase: true, out InotifyEvents parsed) && !int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? parsed
                : throw new FormatException($"'{part}' is not an inotify event; use {string.Join(", ", NameOrder.Take(12).Select(n => n.Name.ToLowerInvariant()))}, close, move, changes or all.");
        }
        return events;
    }

    public override string ToString() =>
        IsOverflow ? "Q_OVERFLOW: the queue was full and events were lost"
        : $"{EventNames} {NameEscaping.Escape(Path ?? Name ?? "")}{(MovedFrom is null ? "" : $" (from {NameEscaping.Escape(MovedFrom)})")}";
}
