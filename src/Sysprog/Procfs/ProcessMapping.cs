namespace Sysprog;

/// <summary>What a line of /proc/PID/maps maps.</summary>
public enum ProcessMappingKind
{
    File,
    Anonymous,
    Heap,
    Stack,
    Vdso,
    Vvar,
    Vsyscall,
    /// <summary>
    /// POSIX (/dev/shm), System V (/SYSV…) or memfd shared memory, or shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS or a
    /// shared mapping of /dev/zero, which the kernel names "/dev/zero (deleted)", or [anon_shmem:NAME] once named).
    /// </summary>
    SharedMemory,
    Other,
}

/// <summary>One region of a process's address space, from /proc/PID/maps (and /proc/PID/smaps for the detail).</summary>
public sealed class ProcessMapping
{
    internal ProcessMapping(int processId, ulong start, ulong end, string permissions, ulong offset, string device, ulong inode, string path, bool isDeleted)
    {
        ProcessId = processId;
        Start = start;
        End = end;
        Permissions = permissions;
        Offset = offset;
        Device = device;
        Inode = inode;
        IsDeleted = isDeleted;
        Path = path;
        Kind = Classify(Path, inode, isDeleted);
    }

    public int ProcessId { get; }
    public ulong Start { get; }
    public ulong End { get; }
    public ulong Size => End - Start;

    /// <summary>"rw-p": read, write, execute, then p (private) or s (shared).</summary>
    public string Permissions { get; }
    public bool IsReadable => Permissions[0] == 'r';
    public bool IsWritable => Permissions[1] == 'w';
    public bool IsExecutable => Permissions[2] == 'x';
    public bool IsShared => Permissions[3] == 's';
    public ulong Offset { get; }

    /// <summary>"major:minor" in hex, as the kernel prints it.</summary>
    public string Device { get; }
    public ulong Inode { get; }

    /// <summary>
    /// The file, a pseudo-name such as [heap], or empty for anonymous memory: the real name, with the kernel's \\012 for a
    /// newline decoded, and without the " (deleted)" the kernel adds to a deleted file (a live file whose own name ends in
    /// " (deleted)" keeps it; see <see cref="IsDeleted"/>). Views and the sysprog CLI show it escaped (<see cref="NameEscaping"/>).
    /// </summary>
    public string Path { get; }

    /// <summary>
    /// The file was deleted after it was mapped. Read from a live process, a path ending in " (deleted)" counts as deleted
    /// unless the process's own view of that whole path (/proc/PID/root/PATH) is the mapped file itself (same device and
    /// inode as the maps line): then it is a live file with that name. Parsed from captured text the suffix alone decides.
    /// </summary>
    public bool IsDeleted { get; }
    public ProcessMappingKind Kind { get; }

    // From smaps, in bytes; null when the detail was not asked for.
    public long? Rss { get; internal set; }
    public long? Pss { get; internal set; }
    public long? SharedClean { get; internal set; }
    public long? SharedDirty { get; internal set; }
    public long? PrivateClean { get; internal set; }
    public long? PrivateDirty { get; internal set; }
    public long? Swap { get; internal set; }
    public long? Locked { get; internal set; }

    /// <summary>Whether the address lies inside this region.</summary>
    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>Whether this maps the file <paramref name="status"/> describes (same device and inode).</summary>
    internal bool MapsFile(in Interop.StatX status) => Inode == status.Inode && Device == $"{status.DevMajor:x2}:{status.DevMinor:x2}";

    public override string ToString() => $"{Start:x}-{End:x} {Permissions} {NameEscaping.Escape(Path)}";

    private static ProcessMappingKind Classify(string path, ulong inode, bool isDeleted)
    {
        if (path.Length == 0 || path.StartsWith("[anon", StringComparison.Ordinal))
        {
            return path.StartsWith("[anon_shmem", StringComparison.Ordinal) ? ProcessMappingKind.SharedMemory : ProcessMappingKind.Anonymous;
        }
        if (path == "[heap]")
        {
            return ProcessMappingKind.Heap;
        }
        if (path.StartsWith("[stack", StringComparison.Ordinal))
        {
            return ProcessMappingKind.Stack;
        }
        if (path == "[vdso]")
        {
            return ProcessMappingKind.Vdso;
        }
        if (path.StartsWith("[vvar", StringComparison.Ordinal))
        {
            return ProcessMappingKind.Vvar;
        }
        if (path == "[vsyscall]")
        {
            return ProcessMappingKind.Vsyscall;
        }
        // Shared anonymous memory is an unlinked shmem file the kernel names dev/zero (shmem_zero_setup).
        if (isDeleted && path == "/dev/zero" ||
            path.StartsWith(SharedMemory.Directory + "/", StringComparison.Ordinal) ||
            path.StartsWith("/SYSV", StringComparison.Ordinal) || path.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            return ProcessMappingKind.SharedMemory;
        }
        return path[0] == '[' || inode == 0 && path[0] != '/' ? ProcessMappingKind.Other : ProcessMappingKind.File;
    }
}
