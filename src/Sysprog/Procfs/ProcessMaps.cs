using System.Globalization;

namespace Sysprog;

/// <summary>Reads and parses /proc/PID/maps and /proc/PID/smaps.</summary>
public static class ProcessMaps
{
    /// <summary>
    /// The mappings of one process. With <paramref name="detail"/>, reads smaps for Rss, Pss, Swap and Locked (slower:
    /// the kernel walks the page tables). Throws <see cref="SysprogException"/> with ENOENT for a process that does not
    /// exist and EACCES for one this user may not inspect.
    /// </summary>
    public static IReadOnlyList<ProcessMapping> Read(int processId, bool detail = false, SyscallTrace? trace = null)
    {
        if (processId <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is positive.");
        }
        string path = $"/proc/{processId}/{(detail ? "smaps" : "maps")}";
        return Parse(processId, ProcFile.ReadAllText(path, trace).Split('\n'));
    }

    /// <summary>Parses maps or smaps text; pure, so any captured file can be checked.</summary>
    public static IReadOnlyList<ProcessMapping> Parse(int processId, IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var mappings = new List<ProcessMapping>();
        ProcessMapping? current = null;
        foreach (string? line in lines)
        {
            if (line is null)
            {
                throw new ArgumentException("A line of maps text is null.", nameof(lines));
            }
            if (line.Length == 0)
            {
                continue;
            }
            if (TryParseHeader(processId, line) is ProcessMapping mapping)
            {
                mappings.Add(current = mapping);
            }
            else if (current is not null)
            {
                ApplyDetail(current, line);
            }
            else
            {
                throw new FormatException($"Not a /proc/PID/maps line: '{line}'.");
            }
        }
        return mappings;
    }

    // 7f2c8c000000-7f2c8c021000 rw-p 00000000 00:00 0                          [heap]
    private static ProcessMapping? TryParseHeader(int processId, string line)
    {
        ReadOnlySpan<char> rest = line;
        if (!NextField(ref rest, out ReadOnlySpan<char> range) || !NextField(ref rest, out ReadOnlySpan<char> perms) ||
            !NextField(ref rest, out ReadOnlySpan<char> offset) || !NextField(ref rest, out ReadOnlySpan<char> device) ||
            !NextField(ref rest, out ReadOnlySpan<char> inode))
        {
            return null;
        }
        int dash = range.IndexOf('-');
        if (dash <= 0 || perms.Length != 4 || device.IndexOf(':') < 0 ||
            !ulong.TryParse(range[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start) ||
            !ulong.TryParse(range[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end) ||
            !ulong.TryParse(offset, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong fileOffset) ||
            !ulong.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out ulong inodeNumber))
        {
            return null;
        }
        // The path is everything after the padding; it may itself contain spaces.
        string path = rest.TrimStart(' ').ToString();
        return new ProcessMapping(processId, start, end, perms.ToString(), fileOffset, device.ToString(), inodeNumber, path);
    }

    private static bool NextField(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> field)
    {
        rest = rest.TrimStart(' ');
        int end = rest.IndexOf(' ');
        field = end < 0 ? rest : rest[..end];
        rest = end < 0 ? [] : rest[end..];
        return field.Length > 0;
    }

    // Rss:                 132 kB
    private static void ApplyDetail(ProcessMapping mapping, string line)
    {
        int colon = line.IndexOf(':');
        if (colon <= 0 || !line.EndsWith(" kB", StringComparison.Ordinal))
        {
            return;
        }
        if (!long.TryParse(line.AsSpan(colon + 1, line.Length - colon - 4).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
        {
            return;
        }
        long bytes = kib * 1024;
        switch (line[..colon])
        {
            case "Rss": mapping.Rss = bytes; break;
            case "Pss": mapping.Pss = bytes; break;
            case "Shared_Clean": mapping.SharedClean = bytes; break;
            case "Shared_Dirty": mapping.SharedDirty = bytes; break;
            case "Private_Clean": mapping.PrivateClean = bytes; break;
            case "Private_Dirty": mapping.PrivateDirty = bytes; break;
            case "Swap": mapping.Swap = bytes; break;
            case "Locked": mapping.Locked = bytes; break;
        }
    }
}
