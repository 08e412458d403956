using System.Globalization;
using System.Text;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>Reads /proc files through open/read so a failure carries the real errno (EACCES, ENOENT, ESRCH).</summary>
internal static class ProcFile
{
    public static unsafe string ReadAllText(string path, SyscallTrace? trace) => ReadAllText(path, trace, escapedPath: false);

    /// <summary>Reads a file whose path is built from escaped names (<see cref="NameEscaping"/>) when <paramref name="escapedPath"/>.</summary>
    internal static string ReadAllText(string path, SyscallTrace? trace, bool escapedPath)
    {
        MemoryStream text = ReadAll(path, trace, escapedPath);
        return Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length);
    }

    /// <summary>The file's bytes as they are, for text that holds names any user chose (which need not be UTF-8).</summary>
    public static ReadOnlyMemory<byte> ReadAllBytes(string path, SyscallTrace? trace)
    {
        MemoryStream bytes = ReadAll(path, trace, escapedPath: false);
        return bytes.GetBuffer().AsMemory(0, (int)bytes.Length);
    }

    private static unsafe MemoryStream ReadAll(string path, SyscallTrace? trace, bool escapedPath)
    {
        const int flags = Libc.O_RDONLY | Libc.O_CLOEXEC;
        SyscallResult rawFd;
        do
        {
            rawFd = escapedPath ? Libc.open_escaped(path, flags, 0) : Libc.open(path, flags, 0);
        }
        while (rawFd.Errno == Errno.EINTR);
        string target = escapedPath ? path : NameEscaping.Escape(path);
        using var fd = new SafeFdHandle(Syscall.Check(rawFd, trace, "open", target, $"{(escapedPath ? QuoteName(path) : Quote(path))}, {Libc.OpenFlagsText(flags)}"));
        var text = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            SyscallResult got;
            fixed (byte* start = buffer)
            {
                do
                {
                    got = Libc.read(fd.Fd, start, (nuint)buffer.Length);
                }
                while (got.Errno == Errno.EINTR);
            }
            Syscall.CheckCount(got, trace, "read", target, $"{fd.Fd}, ..., {buffer.Length}");
            if (got.Value == 0)
            {
                break;
            }
            text.Write(buffer, 0, (int)got.Value);
        }
        fd.Close(trace);
        return text;
    }

    /// <summary>
    /// Hands each of a process's /proc/PID/fdinfo/N files to <paramref name="visit"/> as its bytes, read into
    /// <paramref name="buffer"/> (reused across calls, grown as needed): for a scan of every descriptor of every
    /// process, each costs one openat relative to the folder, one read and one close, and allocates nothing. With
    /// <paramref name="inodes"/>, only descriptors of files with one of those inode numbers are read, found by a statx of
    /// /proc/PID/fd/N (AT_STATX_DONT_SYNC: no filesystem is asked), which costs half as much. A descriptor closed
    /// meanwhile is skipped; false when the process cannot be inspected (another user's) or has gone.
    /// </summary>
    internal static unsafe bool ReadFdInfos(int processId, IReadOnlySet<ulong>? inodes, ref byte[] buffer, FdInfoVisitor visit)
    {
        string process = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/";
        IntPtr folder = Libc.opendir(process + (inodes is null ? "fdinfo" : "fd"));
        if (folder == IntPtr.Zero)
        {
            return false;
        }
        int fdinfoFolder = -1;
        try
        {
            if (inodes is null)
            {
                fdinfoFolder = Libc.dirfd(folder);
            }
            else
            {
                SyscallResult opened = Libc.open(process + "fdinfo", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
                if (opened.Failed)
                {
                    return false;
                }
                fdinfoFolder = (int)opened.Value;
            }
            for (byte* entry = Libc.readdir(folder); entry != null; entry = Libc.readdir(folder))
            {
                byte* name = entry + Libc.DirentNameOffset;
                int fd = 0;
                int digits = 0;
                for (; name[digits] is >= (byte)'0' and <= (byte)'9'; digits++)
                {
                    fd = fd * 10 + name[digits] - '0';
                }
                if (digits == 0 || name[digits] != 0
                    || inodes is not null && (Libc.statx(Libc.dirfd(folder), name, Libc.AT_STATX_DONT_SYNC, Libc.STATX_INO, out StatX status) != 0
                        || !inodes.Contains(status.Inode)))
                {
                    continue;
                }
                int length = ReadAt(fdinfoFolder, name, ref buffer);
                if (length >= 0)
                {
                    visit(fd, buffer.AsSpan(0, length));
                }
            }
            return true;
        }
        finally
        {
            if (inodes is not null && fdinfoFolder >= 0)
            {
                Libc.close(fdinfoFolder);
            }
            Libc.closedir(folder);
        }
    }

    /// <summary>The whole of a small /proc file by its name in an open folder, into <paramref name="buffer"/>; -1 when it is gone.</summary>
    private static unsafe int ReadAt(int folderFd, byte* name, ref byte[] buffer)
    {
        SyscallResult opened;
        do
        {
            opened = Libc.openat(folderFd, name, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        }
        while (opened.Errno == Errno.EINTR);
        if (opened.Failed)
        {
            return -1;
        }
        int fd = (int)opened.Value;
        try
        {
            for (int length = 0; ; )
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                SyscallResult got;
                fixed (byte* start = buffer)
                {
                    do
                    {
                        got = Libc.read(fd, start + length, (nuint)(buffer.Length - length));
                    }
                    while (got.Errno == Errno.EINTR);
                }
                if (got.Failed || got.Value == 0)
                {
                    return got.Failed ? -1 : length;
                }
                length += (int)got.Value;
            }
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>
    /// The value of a "Name: value" line of a /proc file (status, fdinfo), trimmed; null when the file has no such
    /// line. Failures to read are SysprogExceptions with the errno (ENOENT, ESRCH: the process or thread is gone).
    /// </summary>
    public static string? Field(string path, string name, SyscallTrace? trace = null) => Fields(path, trace).GetValueOrDefault(name);

    /// <summary>Every "Name: value" line of a /proc file, by name (the first of each), values trimmed.</summary>
    public static Dictionary<string, string> Fields(string path, SyscallTrace? trace = null)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in ReadAllText(path, trace).Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon > 0)
            {
                fields.TryAdd(line[..colon], line[(colon + 1)..].Trim());
            }
        }
        return fields;
    }

    /// <summary>A /proc table whose first line names its columns (/proc/sysvipc/*): one dictionary per row, by column name.</summary>
    public static List<Dictionary<string, string>> ReadTable(string path, SyscallTrace? trace)
    {
        string[][] lines = ReadAllText(path, trace).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        string[] header = lines.FirstOrDefault() ?? [];
        return lines.Skip(1).Select(fields => header.Zip(fields).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal)).ToList();
    }

    /// <summary>A column of a <see cref="ReadTable"/> row as a number (keys may be negative); 0 when it is missing or not a number.</summary>
    public static long Column(Dictionary<string, string> row, string column) =>
        row.TryGetValue(column, out string? text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;

    /// <summary>Where a /proc link points ("ipc:[4026531839]", "/dev/pts/3"), with readlink's errno when it cannot be read (EACCES: another user's process).</summary>
    public static unsafe string ReadLink(string path, SyscallTrace? trace)
    {
        byte* buffer = stackalloc byte[4096];
        long length = Syscall.CheckCount(Libc.readlink(path, buffer, 4096), trace, "readlink", NameEscaping.Escape(path), $"{Quote(path)}, ..., 4096");
        return Encoding.UTF8.GetString(buffer, (int)length);
    }

    /// <summary>A sysctl's text by its dotted name ("fs.mqueue.msg_max"), read with open/read; ENOENT when this kernel or namespace does not show it.</summary>
    public static string SysctlText(string name, SyscallTrace? trace) => ReadAllText("/proc/sys/" + name.Replace('.', '/'), trace).Trim();

    /// <summary>A numeric sysctl by its dotted name; null when this kernel or namespace does not show it.</summary>
    public static long? Sysctl(string name, SyscallTrace? trace = null)
    {
        try
        {
            return long.Parse(SysctlText(name, trace), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is SysprogException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>
    /// What the process runs: its command name (/proc/PID/comm), except that a program the dotnet host runs is named
    /// by its entry assembly ("pwsh" for the PowerShell dotnet tool, not "dotnet"); null when it has gone or cannot be
    /// read.
    /// </summary>
    public static string? ProcessName(int processId)
    {
        try
        {
            // Any user can give a process any name (prctl PR_SET_NAME), ESC and newlines included: shown escaped.
            string command = NameEscaping.Escape(File.ReadAllBytes($"/proc/{processId}/comm").AsSpan().TrimEnd((byte)'\n'));
            return command == "dotnet" ? EntryAssemblyOfDotnetHost(processId) ?? command : command;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The name of the .dll a dotnet host runs ("dotnet [exec] [host options] app.dll args"), without its extension;
    /// null when the command line names none (the SDK's own commands, or a process that has gone).
    /// </summary>
    private static string? EntryAssemblyOfDotnetHost(int processId)
    {
        string[] arguments = File.ReadAllText($"/proc/{processId}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 1; i < arguments.Length; i++)
        {
            string argument = arguments[i];
            if (argument.EndsWith(".dll", StringComparison.Ordinal))
            {
                return Path.GetFileNameWithoutExtension(argument);
            }
            // "exec" and the host's own options ("--runtimeconfig FILE", "--roll-forward Major", ...) come first; the
            // first other word is a command or an SDK verb, not an assembly.
            if (argument == "exec")
            {
                continue;
            }
            if (!argument.StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }
            i++;
        }
        return null;
    }

    /// <summary>The ids of the processes /proc shows (this PID namespace's).</summary>
    public static IEnumerable<int> ProcessIds()
    {
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int processId))
            {
                yield return processId;
            }
        }
    }

    /// <summary>
    /// The process a process or thread id belongs to (Tgid in /proc/ID/status: /proc shows every thread's id there
    /// though it lists only processes); null when there is no such process or thread, or it cannot be read.
    /// </summary>
    public static int? ThreadGroupOf(int id)
    {
        try
        {
            return Field($"/proc/{id}/status", "Tgid") is string tgid && int.TryParse(tgid, NumberStyles.None, CultureInfo.InvariantCulture, out int group)
                ? group : null;
        }
        catch (SysprogException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="id"/> (0 for this process) is this process or one of its threads.</summary>
    public static bool IsThisProcess(int id) => id == 0 || id == Environment.ProcessId || ThreadGroupOf(id) == Environment.ProcessId;

    /// <summary>The thread ids of a process (/proc/PID/task), in order; ESRCH when there is no such process.</summary>
    public static List<int> ThreadIds(int processId)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{processId}/task")
                .Select(path => int.Parse(Path.GetFileName(path), CultureInfo.InvariantCulture)).Order().ToList();
        }
        catch (DirectoryNotFoundException)
        {
            throw new SysprogException(Errno.ESRCH, "opendir", $"/proc/{processId}/task", $"No process {processId}.");
        }
    }

    /// <summary>
    /// A process's open descriptors and what each links to (/proc/PID/fd); one closed between the listing and its
    /// readlink is left out. Throws UnauthorizedAccessException for another user's process (without
    /// CAP_SYS_PTRACE) and DirectoryNotFoundException for one that ended: see <see cref="Inspect"/>.
    /// </summary>
    public static IEnumerable<(string Path, string Link)> Descriptors(int processId)
    {
        foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{processId}/fd"))
        {
            string link;
            try
            {
                link = ReadLink(fd, null);
            }
            catch (SysprogException)
            {
                continue;
            }
            yield return (fd, link);
        }
    }

    /// <summary>
    /// Runs a reading of one process's /proc files: <see cref="ProcessInspection.Denied"/> when they are another
    /// user's (EACCES), <see cref="ProcessInspection.Gone"/> when the process ended meanwhile (it holds nothing any more).
    /// </summary>
    public static ProcessInspection Inspect(Action read)
    {
        try
        {
            read();
            return ProcessInspection.Done;
        }
        catch (Exception e) when (e is UnauthorizedAccessException || e is SysprogException { Errno: Errno.EACCES })
        {
            return ProcessInspection.Denied;
        }
        catch (Exception e) when (e is DirectoryNotFoundException or SysprogException { Errno: Errno.ENOENT or Errno.ESRCH })
        {
            return ProcessInspection.Gone;
        }
    }
}

/// <summary>One descriptor's /proc/PID/fdinfo text, as bytes valid only during the call.</summary>
internal delegate void FdInfoVisitor(int fd, ReadOnlySpan<byte> text);

/// <summary>How the reading of one process's /proc files went.</summary>
internal enum ProcessInspection
{
    Done,
    Denied,
    Gone,
}
