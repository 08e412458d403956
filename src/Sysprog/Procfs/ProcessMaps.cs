using System.Globalization;
using Sysprog.Interop;

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
        string text;
        try
        {
            text = ProcFile.ReadAllText(path, trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT && !Directory.Exists($"/proc/{processId}"))
        {
            throw new SysprogException(Errno.ENOENT, e.Call, path, $"No process {processId}.", e);
        }
        return Parse(processId, text.Split('\n'), (printedPath, device, inode) => IsLiveFile(processId, printedPath, device, inode, trace));
    }

    /// <summary>
    /// Parses maps or smaps text; pure, so any captured file can be checked. Without the process to look at, a path ending
    /// in " (deleted)" is taken as a deleted file.
    /// </summary>
    public static IReadOnlyList<ProcessMapping> Parse(int processId, IEnumerable<string> lines) => Parse(processId, lines, null);

    // isLiveFile(path as printed, device, inode): whether a path ending in " (deleted)" is a live file of that very name.
    private static IReadOnlyList<ProcessMapping> Parse(int processId, IEnumerable<string> lines, Func<string, string, ulong, bool>? isLiveFile)
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
            if (TryParseHeader(processId, line, isLiveFile) is ProcessMapping mapping)
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
    private static ProcessMapping? TryParseHeader(int processId, string line, Func<string, string, ulong, bool>? isLiveFile)
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
        string printed = DecodeNewlines(rest.TrimStart(' ').ToString());
        string deviceText = device.ToString();
        bool deleted = printed.EndsWith(DeletedSuffix, StringComparison.Ordinal) &&
            !(isLiveFile?.Invoke(printed, deviceText, inodeNumber) ?? false);
        string path = deleted ? printed[..^DeletedSuffix.Length] : printed;
        return new ProcessMapping(processId, start, end, perms.ToString(), fileOffset, deviceText, inodeNumber, path, deleted);
    }

    // What d_path appends to the name of an unlinked file; a live file may end its own name with it too.
    private const string DeletedSuffix = " (deleted)";

    // show_map_vma prints the path with seq_file_path(m, file, "\n"): mangle_path escapes only a newline, as \012, and
    // leaves a backslash as it is. So \012 is the one escape to undo (a name holding the four characters \012 itself
    // reads the same: the kernel's text cannot tell them apart).
    private static string DecodeNewlines(string printed) => printed.Replace("\\012", "\n", StringComparison.Ordinal);

    // A live file named "x (deleted)" and a deleted file named "x" print alike. The kernel keeps the difference: only
    // the live one can still be found under the whole printed name, as the same inode on the same device. The lookup
    // goes through /proc/PID/root so a process in another mount namespace (a container) is looked at from its own root.
    // Any failure (ENOENT, EACCES on another user's root, ENOTDIR) means the name does not lead to the mapped file, so
    // the kernel's word "deleted" stands.
    private static bool IsLiveFile(int processId, string printedPath, string device, ulong inode, SyscallTrace? trace)
    {
        int colon = device.IndexOf(':');
        if (printedPath.Length == 0 || printedPath[0] != '/' || colon <= 0 ||
            !uint.TryParse(device.AsSpan(0, colon), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint major) ||
            !uint.TryParse(device.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint minor))
        {
            return false;
        }
        string path = $"/proc/{processId}/root{printedPath}";
        SyscallResult rc = Syscall.Traced(
            Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, out StatX status), trace, "statx",
            $"AT_FDCWD, {TraceFormat.Quote(path)}, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS");
        return !rc.Failed && status.Inode == inode && status.DevMajor == major && status.DevMinor == minor;
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
