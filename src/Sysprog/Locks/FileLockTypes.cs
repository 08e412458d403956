using System.Globalization;

namespace Sysprog;

/// <summary>
/// The three kinds of advisory lock Linux offers; they differ in what owns the lock, and so in when it goes away.
/// They are named as /proc/locks and lslocks name them (FLOCK, POSIX, OFDLCK).
/// </summary>
public enum FileLockKind
{
    /// <summary>flock(2): the whole file, owned by the open file description: children that inherit the descriptor share it.</summary>
    Flock,

    /// <summary>fcntl(2) F_SETLK: byte ranges owned by the process. Closing any descriptor of the file drops them all, and a child never holds them.</summary>
    Posix,

    /// <summary>fcntl(2) F_OFD_SETLK: byte ranges owned by the open file description, like flock but with ranges (Linux 3.15+).</summary>
    Ofd,
}

/// <summary>Shared (a read lock: many holders) or exclusive (a write lock: one holder).</summary>
public enum FileLockMode
{
    Shared,
    Exclusive,
}

/// <summary>Byte ranges as fcntl takes them: a start and a length, where length 0 runs to the end of the file however far it grows.</summary>
public static class ByteRanges
{
    /// <summary>"the whole file", "bytes 10-19", "bytes 10 to the end".</summary>
    public static string Describe(long start, long length) => (start, length) switch
    {
        (0, 0) => "the whole file",
        (_, 0) => $"bytes {start.ToString(CultureInfo.InvariantCulture)} to the end",
        _ => $"bytes {start.ToString(CultureInfo.InvariantCulture)}-{(start + length - 1).ToString(CultureInfo.InvariantCulture)}",
    };

    /// <summary>Whether two ranges share a byte (length 0 is unbounded).</summary>
    public static bool Overlap(long start, long length, long otherStart, long otherLength) =>
        (length == 0 || otherStart < start + length) && (otherLength == 0 || start < otherStart + otherLength);

    /// <summary>"10-19" (bytes 10 to 19), "10-" (10 to the end), "-" or "" (the whole file) as (start, length).</summary>
    public static (long Start, long Length) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (trimmed is "" or "-")
        {
            return (0, 0);
        }
        int dash = trimmed.IndexOf('-', StringComparison.Ordinal);
        string first = dash < 0 ? trimmed : trimmed[..dash];
        string last = dash < 0 ? first : trimmed[(dash + 1)..];
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out long start)
            || (last.Length > 0 && (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out long end) || end < start)))
        {
            throw new FormatException($"'{text}' is not a byte range such as 10-19 (both included) or 10- (to the end).");
        }
        long length = last.Length == 0 ? 0 : long.Parse(last, CultureInfo.InvariantCulture) - start + 1;
        Validate(start, length);
        return (start, length);
    }

    /// <summary>Refuses a negative start or length and a range past the largest offset.</summary>
    internal static void Validate(long start, long length)
    {
        if (start < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, "A lock's start is an offset of 0 or more.");
        }
        if (length < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A lock's length is 0 (to the end of the file) or more.");
        }
        if (length > long.MaxValue - start)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A lock from byte {start} can be at most {long.MaxValue - start} bytes long.");
        }
    }
}

/// <summary>A lock that stands in the way of the one asked for, as F_GETLK (or /proc/locks, for flock) reports it.</summary>
public sealed class FileLockConflict
{
    internal FileLockConflict(string path, FileLockKind kind, FileLockMode mode, long start, long length, int? processId)
    {
        Path = path;
        Kind = kind;
        Mode = mode;
        Start = start;
        Length = length;
        ProcessId = processId;
    }

    public string Path { get; }

    public FileLockKind Kind { get; }

    public FileLockMode Mode { get; }

    public long Start { get; }

    /// <summary>0: to the end of the file.</summary>
    public long Length { get; }

    /// <summary>
    /// The holder. Null for an OFD lock: it belongs to an open file description, which several processes can share, so
    /// the kernel reports -1; Get-FileLock finds the processes that have it open.
    /// </summary>
    public int? ProcessId { get; }

    public string? ProcessName => ProcessId is int pid ? ProcFile.ProcessName(pid) : null;

    public string Range => ByteRanges.Describe(Start, Length);

    public override string ToString() =>
        $"{Kind} {Mode.ToString().ToLowerInvariant()} lock on {Range} of {NameEscaping.Escape(Path)} held by {(ProcessId is int pid ? $"process {pid}" : "an open file description (no single process)")}";
}
