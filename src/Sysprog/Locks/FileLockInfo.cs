using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// One line of /proc/locks: a lock held (or waited for) anywhere on the machine, with the file resolved to a path and
/// the processes holding it found through their /proc/PID/fdinfo "lock:" lines, as lslocks does.
/// </summary>
public sealed class FileLockInfo
{
    private FileLockInfo(int id, string type, bool isWaiting, string modeText, int? processId, FileKey file, long start, long? end)
    {
        Id = id;
        Type = type;
        IsWaiting = isWaiting;
        ModeText = modeText;
        ProcessId = processId;
        File = file;
        Start = start;
        End = end;
    }

    /// <summary>The line's number in /proc/locks; a waiter shares the number of the lock it waits for.</summary>
    public int Id { get; }

    /// <summary>As the kernel prints it: FLOCK, POSIX, OFDLCK, LEASE, DELEG.</summary>
    public string Type { get; }

    /// <summary>Null for leases and delegations, which Sysprog does not take.</summary>
    public FileLockKind? Kind => Type switch { "FLOCK" => FileLockKind.Flock, "POSIX" => FileLockKind.Posix, "OFDLCK" => FileLockKind.Ofd, _ => null };

    /// <summary>READ or WRITE as a mode; null for a lease being broken (UNLCK).</summary>
    public FileLockMode? Mode => ModeText switch { "READ" => FileLockMode.Shared, "WRITE" => FileLockMode.Exclusive, _ => null };

    /// <summary>READ, WRITE or UNLCK, as the kernel prints it.</summary>
    public string ModeText { get; }

    /// <summary>True for a process blocked waiting for lock <see cref="Id"/> (a "->" line).</summary>
    public bool IsWaiting { get; }

    /// <summary>The process the kernel names: the locker for FLOCK and POSIX, null for OFD locks (see <see cref="HeldBy"/>).</summary>
    public int? ProcessId { get; }

    /// <summary>The processes whose descriptors carry the lock, from /proc/PID/fdinfo; the only owners an OFD lock has.</summary>
    public IReadOnlyList<int> HeldBy { get; private set; } = [];

    public string? ProcessName => (ProcessId ?? (HeldBy.Count > 0 ? HeldBy[0] : null)) is int pid ? ProcFile.ProcessName(pid) : null;

    public long Start { get; }

    /// <summary>The last byte; null for EOF (to the end of the file).</summary>
    public long? End { get; }

    /// <summary>0 for a lock that runs to the end of the file, as fcntl counts it.</summary>
    public long Length => End is long end ? end - Start + 1 : 0;

    public string Range => ByteRanges.Describe(Start, Length);

    /// <summary>major:minor of the device, in hex as /proc/locks prints it.</summary>
    public string Device => $"{File.DevMajor:x2}:{File.DevMinor:x2}";

    public ulong Inode => File.Inode;

    /// <summary>
    /// The file, from a holder's descriptor; null when no holder could be inspected (another user's process). Any user
    /// names the files they lock: views and the sysprog CLI show the path escaped (<see cref="NameEscaping"/>).
    /// </summary>
    public string? Path { get; private set; }

    internal FileKey File { get; }

    public override string ToString() =>
        $"{Type} {ModeText} {Range} of {(Path is null ? $"{Device}:{Inode}" : NameEscaping.Escape(Path))}{(IsWaiting ? " (waiting)" : "")} pid {ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "-1"}";

    /// <summary>Every lock on the machine, optionally only those on one file or involving one process.</summary>
    public static IReadOnlyList<FileLockInfo> List(string? path = null, int? processId = null, SyscallTrace? trace = null)
    {
        if (path is not null)
        {
            PathArguments.Validate(path);
        }
        if (processId is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is 1 or more.");
        }
        FileKey? only = null;
        if (path is not null)
        {
            string fullPath = System.IO.Path.GetFullPath(path);
            only = FileStatus.OfPath(fullPath, trace, followLinks: true) is StatX status
                ? FileKey.Of(status)
                : throw new SysprogException(Errno.ENOENT, "statx", fullPath);
        }
        List<FileLockInfo> locks = ReadLocks(only, trace);
        FindHolders(locks);
        return locks.Where(l => processId is null || l.ProcessId == processId || l.HeldBy.Contains(processId.Value)).ToList();
    }

    /// <summary>
    /// The locks in /proc/locks (on one file, or all), read so that none shows twice or goes missing. The kernel hands
    /// the file out a page per read(2), each read walking its list of locks afresh from the start: a lock any process
    /// takes or releases between two reads shifts the rest, so a longer file shows some lock twice, or skips one (seen
    /// here: a few hundred locks held while another process took and released others; a test saw its own lock twice).
    /// One page was one walk and is whole; a longer file is read again until two reads agree on the locks wanted, the
    /// way a seqlock's reader takes what it read twice alike.
    /// </summary>
    private static List<FileLockInfo> ReadLocks(FileKey? only, SyscallTrace? trace)
    {
        const int mostReads = 100;
        string[]? previous = null;
        for (int read = 1; ; read++)
        {
            string text = ProcFile.ReadAllText("/proc/locks", trace);
            List<FileLockInfo> locks = Parse(text.Split('\n')).Where(l => only is null || l.File == only).ToList();
            // The ordinal in front of each line counts positions, not locks, so it is left out of the comparison.
            string[] seen = locks.Select(l => l.ToString()).ToArray();
            if (System.Text.Encoding.UTF8.GetByteCount(text) <= Environment.SystemPageSize || previous is not null && seen.SequenceEqual(previous))
            {
                return locks;
            }
            if (read == mostReads)
            {
                throw new SysprogException(Errno.EAGAIN, "read", "/proc/locks",
                    $"{mostReads} reads in a row differed: other processes take and release locks faster than the file can be read whole. Try again when they are quieter.");
            }
            previous = seen;
        }
    }

    /// <summary>Parses /proc/locks lines ("1: POSIX  ADVISORY  WRITE 123 fe:00:4567 0 EOF", waiters with "->"); unreadable lines are skipped.</summary>
    public static IEnumerable<FileLockInfo> Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        return ParseLines(lines);
    }

    private static IEnumerable<FileLockInfo> ParseLines(IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            if (TryParse(line, out FileLockInfo? info))
            {
                yield return info;
            }
        }
    }

    private static bool TryParse(string? line, out FileLockInfo info)
    {
        info = null!;
        if (line is null)
        {
            return false;
        }
        string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int at = 0;
        if (fields.Length < 8 || !fields[0].EndsWith(':') || !int.TryParse(fields[0].AsSpan(0, fields[0].Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
        {
            return false;
        }
        at++;
        bool waiting = fields[at] == "->";
        if (waiting)
        {
            at++;
        }
        if (fields.Length - at < 7)
        {
            return false;
        }
        string type = fields[at];
        string mode = fields[at + 2];
        string[] file = fields[at + 4].Split(':');
        if (!int.TryParse(fields[at + 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int pid)
            || file.Length != 3
            || !uint.TryParse(file[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint major)
            || !uint.TryParse(file[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint minor)
            || !ulong.TryParse(file[2], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode)
            || !long.TryParse(fields[at + 5], NumberStyles.None, CultureInfo.InvariantCulture, out long start))
        {
            return false;
        }
        long? end = null;
        if (fields[at + 6] != "EOF")
        {
            if (!long.TryParse(fields[at + 6], NumberStyles.None, CultureInfo.InvariantCulture, out long last))
            {
                return false;
            }
            end = last;
        }
        info = new FileLockInfo(id, type, waiting, mode, pid > 0 ? pid : null, new FileKey(major, minor, inode), start, end);
        return true;
    }

    /// <summary>
    /// Matches each lock to every process whose fdinfo lists it. A flock or OFD lock belongs to an open file
    /// description, which every process that inherited or was passed a descriptor of it shares (the command flock(1)
    /// runs, a forked child), while /proc/locks names at most the process that took it; so every process is read. A
    /// POSIX lock shows only in the fdinfo of its owner's descriptor it was taken through. Waiters are in no fdinfo.
    /// </summary>
    private static void FindHolders(List<FileLockInfo> locks)
    {
        Dictionary<FileKey, List<FileLockInfo>> heldByFile = locks.Where(l => !l.IsWaiting).GroupBy(l => l.File).ToDictionary(g => g.Key, g => g.ToList());
        if (heldByFile.Count == 0)
        {
            return;
        }
        var holders = new Dictionary<FileLockInfo, List<int>>();
        var found = new List<(int Fd, FileLockInfo Lock)>();
        FdInfoVisitor addLockLines = (fd, text) => AddLockLines(fd, text, found);
        byte[] buffer = new byte[4096];
        // By inode number alone: /proc/locks names the device by its superblock, which statx does not always give
        // (a btrfs subvolume has a device of its own), but both give the inode's own number.
        HashSet<ulong> lockedInodes = heldByFile.Keys.Select(k => k.Inode).ToHashSet();
        foreach (int pid in ProcFile.ProcessIds())
        {
            found.Clear();
            ProcFile.ReadFdInfos(pid, lockedInodes, ref buffer, addLockLines);
            foreach ((int fd, FileLockInfo fdLock) in found)
            {
                FileLockInfo? match = heldByFile.TryGetValue(fdLock.File, out List<FileLockInfo>? onFile)
                    ? onFile.FirstOrDefault(l => l.Type == fdLock.Type && l.ModeText == fdLock.ModeText && l.Start == fdLock.Start && l.End == fdLock.End
                        && l.ProcessId == fdLock.ProcessId)
                    : null;
                if (match is null)
                {
                    continue;
                }
                if (!holders.TryGetValue(match, out List<int>? pids))
                {
                    holders[match] = pids = [];
                }
                if (!pids.Contains(pid))
                {
                    pids.Add(pid);
                }
                match.Path ??= LinkTarget($"/proc/{pid}/fd/{fd.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        foreach ((FileLockInfo info, List<int> pids) in holders)
        {
            info.HeldBy = pids;
        }
        foreach (FileLockInfo waiter in locks.Where(l => l.IsWaiting))
        {
            waiter.Path = heldByFile.GetValueOrDefault(waiter.File)?.FirstOrDefault(l => l.Path is not null)?.Path;
        }
    }

    /// <summary>The "lock:" lines of one fdinfo text ("lock:\t1: FLOCK  ADVISORY  WRITE 123 fe:00:4567 0 EOF"); only those become strings.</summary>
    private static void AddLockLines(int fd, ReadOnlySpan<byte> text, List<(int, FileLockInfo)> found)
    {
        while (text.Length > 0)
        {
            int newline = text.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = newline < 0 ? text : text[..newline];
            if (line.StartsWith("lock:"u8) && TryParse(System.Text.Encoding.ASCII.GetString(line["lock:".Length..]).Trim(), out FileLockInfo info))
            {
                found.Add((fd, info));
            }
            text = newline < 0 ? default : text[(newline + 1)..];
        }
    }

    private static string? LinkTarget(string link)
    {
        try
        {
            return new FileInfo(link).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
