using System.Diagnostics;
using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// Every IPC object on the machine, POSIX (/dev/shm, /dev/mqueue) and System V (/proc/sysvipc), with the processes
/// that hold each: descriptors from /proc/PID/fd, mappings and attachments from /proc/PID/maps, notification
/// registrations from the mqueue filesystem. Processes this user may not inspect are listed, never silently skipped.
/// </summary>
public sealed class IpcInventory
{
    /// <summary>What a listing says where <see cref="MessageQueuesListed"/> is false, so an absent queue is not taken for none.</summary>
    public const string MessageQueuesNotListedWarning =
        "Message queues are not listed: the mqueue filesystem is not mounted on /dev/mqueue (the queues still work). As root: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue.";

    private IpcInventory(IReadOnlyList<IpcObject> objects, bool messageQueuesListed, int inspected, IReadOnlyList<int> uninspected)
    {
        Objects = objects;
        MessageQueuesListed = messageQueuesListed;
        InspectedProcessCount = inspected;
        UninspectedProcesses = uninspected;
    }

    public IReadOnlyList<IpcObject> Objects { get; }

    /// <summary>Whether POSIX message queues are among <see cref="Objects"/>: only where the mqueue filesystem is mounted on /dev/mqueue.</summary>
    public bool MessageQueuesListed { get; }

    /// <summary>How many processes had their descriptors and mappings read.</summary>
    public int InspectedProcessCount { get; }

    /// <summary>Processes whose descriptors or mappings this user may not read (other users' without CAP_SYS_PTRACE): their holds are unknown.</summary>
    public IReadOnlyList<int> UninspectedProcesses { get; }

    /// <summary>
    /// What a listing says where <see cref="UninspectedProcesses"/> is not empty, null where it is. Root is refused too
    /// (pid 1 of a container, say): the kernel's ptrace access check also wants every capability the target holds and
    /// consults Yama and security modules, so "run as root" is advice only to a process without CAP_SYS_PTRACE.
    /// </summary>
    public string? UninspectedWarning
    {
        get
        {
            if (UninspectedProcesses.Count == 0)
            {
                return null;
            }
            string pids = string.Join(", ", UninspectedProcesses.Take(20)) + (UninspectedProcesses.Count > 20 ? ", ..." : "");
            string why = Capabilities.Has(Capabilities.SysPtrace)
                ? "the kernel's ptrace access check refused them although this process has CAP_SYS_PTRACE (a target holding " +
                    "capabilities this process lacks, Yama's ptrace_scope 3 or a security module refuses even root)"
                : "other users' processes, which only their user or CAP_SYS_PTRACE (root) may inspect";
            return $"{UninspectedProcesses.Count} processes could not be inspected (EACCES: {why}), so what they hold is unknown " +
                $"and an object only they hold looks orphaned. Their pids: {pids}.";
        }
    }

    /// <summary>
    /// The <see cref="IpcObject.Name"/> of an unlinked semaphore: its name is gone, and the file its holders map has the
    /// temporary name the C library created it under, or the name it had, which cannot be told apart.
    /// </summary>
    public const string UnlinkedSemaphoreName = "(unlinked)";

    /// <summary>
    /// Lists the objects, then reads every process's descriptors and mappings to find their holders.
    /// <paramref name="progress"/> is told (processes read, processes in all) every 50 processes, on this thread.
    /// </summary>
    public static IpcInventory Take(SyscallTrace? trace = null, Action<int, int>? progress = null)
    {
        var objects = new List<IpcObject>();
        var byFile = new Dictionary<FileKey, IpcObject>();
        void AddPosix(IpcObjectKind kind, NamedObjectInfo info, long? size, long? count)
        {
            var item = new IpcObject(kind, info.Name, null, size, count, info.UnixFileMode, info.OwnerId, info.LastWriteTime, info.Path, info.Problem);
            objects.Add(item);
            // The listing's own statx identifies the file: no second one per object.
            (uint major, uint minor, ulong inode) = info.FileIdentity;
            byFile[new FileKey(major, minor, inode)] = item;
        }
        foreach (SharedMemoryInfo info in SharedMemory.List(null, trace))
        {
            AddPosix(IpcObjectKind.SharedMemory, info, info.Size, null);
        }
        foreach (SemaphoreInfo info in PosixSemaphore.List(null, trace))
        {
            AddPosix(IpcObjectKind.Semaphore, info, null, info.Value);
        }
        bool queuesListed = MessageQueue.IsMqueueFsMounted();
        List<MessageQueueInfo> queues = queuesListed ? [.. MessageQueue.List(null, trace)] : [];
        foreach (MessageQueueInfo info in queues)
        {
            AddPosix(IpcObjectKind.MessageQueue, info, info.QueueBytes, info.CurrentMessages);
        }
        Dictionary<int, IpcObject> segments = SysV(objects, "shm", IpcObjectKind.SysVSharedMemory, "shmid", "size", null, trace);
        SysV(objects, "sem", IpcObjectKind.SysVSemaphoreSet, "semid", null, "nsems", trace);
        SysV(objects, "msg", IpcObjectKind.SysVMessageQueue, "msqid", "cbytes", "qnum", trace);

        var clock = Stopwatch.StartNew();
        (uint, uint)? mqueueDevice = queuesListed && FileStatus.OfPath(MessageQueue.Directory) is StatX mqueue ? FileKey.DeviceOf(mqueue) : null;
        // A process in another mount namespace may have a /dev/shm of its own (a container, a machine's worth of
        // namespaces): its files there are not this /dev/shm's, unlinked or not, so only this device's count.
        (uint, uint)? shmDevice = FileStatus.OfPath(SharedMemory.Directory, followLinks: true) is StatX shm ? FileKey.DeviceOf(shm) : null;
        var scan = new ProcessScan(byFile, segments, objects, mqueueDevice, shmDevice, ProcFile.ReadLink("/proc/self/ns/ipc", null));
        List<int> processIds = [.. ProcFile.ProcessIds()];
        for (int i = 0; i < processIds.Count; i++)
        {
            if (i % ProgressEvery == 0)
            {
                progress?.Invoke(i, processIds.Count);
            }
            scan.Inspect(processIds[i]);
        }
        foreach (MessageQueueInfo queue in queues.Where(q => q.NotifyProcessId is not null))
        {
            objects.First(o => o.Kind == IpcObjectKind.MessageQueue && o.Name == queue.Name)
                .AddHolder(queue.NotifyProcessId!.Value, ProcFile.ProcessName(queue.NotifyProcessId.Value), IpcHold.Notification);
        }
        trace?.Invoke($"/proc/*/fd and /proc/*/maps of {scan.Inspected} processes read in {Units.FormatDuration(clock.Elapsed)}" +
            (scan.Uninspected.Count > 0 ? $"; {scan.Uninspected.Count} could not be (EACCES)" : ""));
        return new IpcInventory(objects, queuesListed, scan.Inspected, scan.Uninspected);
    }

    private const int ProgressEvery = 50;

    /// <summary>
    /// Removes the object: shm_unlink, sem_unlink or mq_unlink for a POSIX one (its memory goes with the last holder),
    /// IPC_RMID for a System V one (a segment still attached goes when the last process detaches).
    /// </summary>
    public static void Remove(IpcObject target, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.IsUnlinked)
        {
            throw new InvalidOperationException($"{target.Description} is unlinked already: its memory is freed when the last holder ({string.Join(", ", target.Holders)}) lets go.");
        }
        switch (target.Kind)
        {
            case IpcObjectKind.SharedMemory:
                SharedMemory.Unlink(target.Name, trace);
                break;
            case IpcObjectKind.Semaphore:
                PosixSemaphore.Unlink(target.Name, trace);
                break;
            case IpcObjectKind.MessageQueue:
                MessageQueue.Unlink(target.Name, trace);
                break;
            case IpcObjectKind.SysVSharedMemory:
                Syscall.Check(Libc.shmctl(target.Id!.Value, Libc.IPC_RMID, IntPtr.Zero), trace, "shmctl", target.Description, $"{target.Id}, IPC_RMID, NULL");
                break;
            case IpcObjectKind.SysVSemaphoreSet:
                Syscall.Check(Libc.semctl(target.Id!.Value, 0, Libc.IPC_RMID), trace, "semctl", target.Description, $"{target.Id}, 0, IPC_RMID");
                break;
            default:
                Syscall.Check(Libc.msgctl(target.Id!.Value, Libc.IPC_RMID, IntPtr.Zero), trace, "msgctl", target.Description, $"{target.Id}, IPC_RMID, NULL");
                break;
        }
    }

    /// <summary>The keys of the System V objects (0x0000162e), as the inventory names them; for completion, without the scan for holders.</summary>
    public static IReadOnlyList<string> SysVKeys()
    {
        var objects = new List<IpcObject>();
        foreach ((string kind, IpcObjectKind objectKind, string id) in new[] { ("shm", IpcObjectKind.SysVSharedMemory, "shmid"), ("sem", IpcObjectKind.SysVSemaphoreSet, "semid"), ("msg", IpcObjectKind.SysVMessageQueue, "msqid") })
        {
            SysV(objects, kind, objectKind, id, null, null, null);
        }
        return objects.Select(o => o.Name).Where(n => n != "IPC_PRIVATE").ToList();
    }

    /// <summary>The objects of /proc/sysvipc/KIND, by id; the header names the columns.</summary>
    private static Dictionary<int, IpcObject> SysV(List<IpcObject> objects, string kind, IpcObjectKind objectKind, string idColumn, string? sizeColumn,
        string? countColumn, SyscallTrace? trace)
    {
        var byId = new Dictionary<int, IpcObject>();
        List<Dictionary<string, string>> rows;
        try
        {
            rows = ProcFile.ReadTable($"/proc/sysvipc/{kind}", trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
            return byId;
        }
        foreach (Dictionary<string, string> row in rows)
        {
            long Number(string? column) => column is null ? 0 : ProcFile.Column(row, column);
            int id = (int)Number(idColumn);
            int perms = Convert.ToInt32(row.GetValueOrDefault("perms", "0"), 8);
            long key = Number("key");
            var item = new IpcObject(objectKind, key == 0 ? "IPC_PRIVATE" : $"0x{(uint)key:x8}", id, sizeColumn is null ? null : Number(sizeColumn),
                countColumn is null ? null : Number(countColumn), (UnixFileMode)(perms & 0x1FF), (uint)Number("uid"),
                DateTimeOffset.FromUnixTimeSeconds(Number("ctime")).LocalDateTime, null, null)
            {
                Attachments = objectKind == IpcObjectKind.SysVSharedMemory ? Number("nattch") : null,
                IsMarkedForDestruction = objectKind == IpcObjectKind.SysVSharedMemory && (perms & Libc.SHM_DEST) != 0,
            };
            objects.Add(item);
            byId[id] = item;
        }
        return byId;
    }

    /// <summary>A file's identity: its device and inode, as statx and /proc/PID/maps both give them.</summary>
    private readonly record struct FileKey(uint Major, uint Minor, ulong Inode)
    {
        public static FileKey Of(in StatX status) => new(status.DevMajor, status.DevMinor, status.Inode);

        public static (uint Major, uint Minor) DeviceOf(in StatX status) => (status.DevMajor, status.DevMinor);
    }

    /// <summary>Reads each process's descriptors and mappings and records what they hold.</summary>
    private sealed class ProcessScan(Dictionary<FileKey, IpcObject> byFile, Dictionary<int, IpcObject> segments, List<IpcObject> objects,
        (uint Major, uint Minor)? mqueueDevice, (uint Major, uint Minor)? shmDevice, string ipcNamespace)
    {
        public int Inspected { get; private set; }

        public List<int> Uninspected { get; } = [];

        public void Inspect(int processId)
        {
            string? name = ProcFile.ProcessName(processId);
            ProcessInspection result = ProcFile.Inspect(() =>
            {
                foreach ((string fd, string link) in ProcFile.Descriptors(processId))
                {
                    Descriptor(processId, name, fd, link);
                }
                foreach (string line in ProcFile.ReadAllText($"/proc/{processId}/maps", null).Split('\n'))
                {
                    Mapping(processId, name, line);
                }
            });
            if (result == ProcessInspection.Done)
            {
                Inspected++;
            }
            else if (result == ProcessInspection.Denied)
            {
                Uninspected.Add(processId);
            }
        }

        private void Descriptor(int processId, string? name, string fd, string link)
        {
            // Only candidates get a statx: files of /dev/shm, and the root-level names an mqueue descriptor shows ("/jobs").
            bool shm = link.StartsWith(SharedMemory.Directory + "/", StringComparison.Ordinal);
            if (!shm && (mqueueDevice is null || !link.StartsWith('/') || link.IndexOf('/', 1) >= 0))
            {
                return;
            }
            if (FileStatusOrNull(fd) is not StatX status || (status.DevMajor, status.DevMinor) != (shm ? shmDevice : mqueueDevice))
            {
                return;
            }
            Holder(FileKey.Of(status), link, shm ? null : IpcObjectKind.MessageQueue, status, null).AddHolder(processId, name, IpcHold.Descriptor);
        }

        private void Mapping(int processId, string? name, string line)
        {
            // "7f12a000-7f12b000 rw-s 00000000 00:1a 1234   /dev/shm/jobs (deleted)"
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || !ulong.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                return;
            }
            string path = fields[5].Trim();
            if (path.StartsWith("/SYSV", StringComparison.Ordinal))
            {
                // An attached System V segment: the inode is its shmid, which is only unique within an IPC namespace
                // (every namespace's segments live on one kernel filesystem), so another namespace's segment of the
                // same id is not this one.
                if (segments.TryGetValue((int)inode, out IpcObject? segment) && InIpcNamespace(processId))
                {
                    segment.AddHolder(processId, name, IpcHold.Mapping);
                }
                return;
            }
            if (!path.StartsWith(SharedMemory.Directory + "/", StringComparison.Ordinal) || fields[3].Split(':') is not [string major, string minor])
            {
                return;
            }
            var key = new FileKey(uint.Parse(major, NumberStyles.HexNumber, CultureInfo.InvariantCulture), uint.Parse(minor, NumberStyles.HexNumber, CultureInfo.InvariantCulture), inode);
            if ((key.Major, key.Minor) != shmDevice)
            {
                return;
            }
            Holder(key, path, null, null, fields[0].Split('-') is [string start, string end] ? (processId, start, end) : null).AddHolder(processId, name, IpcHold.Mapping);
        }

        /// <summary>
        /// The object a file key stands for; one unlinked but still held is added the first time it is met, with what
        /// can still be known of it: from the descriptor's <paramref name="status"/>, or through the mapping's file.
        /// </summary>
        private IpcObject Holder(FileKey key, string link, IpcObjectKind? kind, StatX? status, (int ProcessId, string Start, string End)? mapping)
        {
            if (byFile.TryGetValue(key, out IpcObject? known))
            {
                return known;
            }
            // The name any user chose, as readlink or /proc/PID/maps gives it: shown escaped like every listed name.
            string path = NameEscaping.Escape(link.EndsWith(" (deleted)", StringComparison.Ordinal) ? link[..^" (deleted)".Length] : link);
            string fileName = System.IO.Path.GetFileName(path);
            IpcObjectKind found = kind ?? (fileName.StartsWith("sem.", StringComparison.Ordinal) ? IpcObjectKind.Semaphore : IpcObjectKind.SharedMemory);
            int? value = null;
            string? problem = null;
            if (status is null && mapping is (int holder, string start, string end))
            {
                (status, value, problem) = ThroughMapping(holder, start, end, found == IpcObjectKind.Semaphore);
            }
            // shm_open maps the name itself, so a holder's maps line names the object. sem_open does not: it makes the
            // semaphore in a file of a temporary name (glibc's sem.XXXXXX, gone at once) and links the name to it, so
            // its creator maps it under that temporary name and its openers under the name; once unlinked, which is
            // which cannot be told, and the name it was created with is gone.
            string objectName = found switch
            {
                IpcObjectKind.Semaphore => UnlinkedSemaphoreName,
                _ => "/" + fileName,
            };
            var unlinked = new IpcObject(found, objectName, null, status is StatX s && found == IpcObjectKind.SharedMemory ? (long)s.Size : null, value,
                status is StatX m ? (UnixFileMode)(m.Mode & 0xFFF) : UnixFileMode.None, status?.Uid ?? 0, status?.ModifyTime.ToDateTimeOffset().LocalDateTime,
                path, problem)
            {
                IsUnlinked = true,
            };
            objects.Add(unlinked);
            byFile[key] = unlinked;
            return unlinked;
        }

        /// <summary>
        /// What can still be read of an unlinked object a process maps, through /proc/PID/map_files/START-END: the
        /// mapped file itself, whatever its name was. Opening it needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE); without
        /// either, nothing but the reason.
        /// </summary>
        private static (StatX? Status, int? Value, string? Problem) ThroughMapping(int processId, string start, string end, bool semaphore)
        {
            // map_files names a mapping by its addresses without the zeros maps pads them with.
            string path = string.Create(CultureInfo.InvariantCulture,
                $"/proc/{processId}/map_files/{ulong.Parse(start, NumberStyles.HexNumber, CultureInfo.InvariantCulture):x}-{ulong.Parse(end, NumberStyles.HexNumber, CultureInfo.InvariantCulture):x}");
            SyscallResult opened = Libc.open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
            if (opened.Failed)
            {
                return (null, null, opened.Errno is Errno.EPERM or Errno.EACCES
                    ? $"unlinked, and only mapped: its mode{(semaphore ? " and value" : ", size")} and owner can be read only through a holder's /proc/PID/map_files, which needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE)"
                    : null);
            }
            using var fd = new SafeFdHandle((int)opened.Value);
            StatX status = FileStatus.OfFd(fd, path, null);
            if (!semaphore)
            {
                return (status, null, null);
            }
            (int? value, string? problem) = PosixSemaphore.ReadValue(fd, path, null);
            return (status, value, problem);
        }

        /// <summary>Whether a process shares this one's IPC namespace (asked only of those that attach a segment).</summary>
        private bool InIpcNamespace(int processId)
        {
            try
            {
                return ProcFile.ReadLink($"/proc/{processId}/ns/ipc", null) == ipcNamespace;
            }
            catch (SysprogException)
            {
                // It ended, or cannot be asked: its maps were readable a moment ago, so the former.
                return false;
            }
        }

        private static StatX? FileStatusOrNull(string fd)
        {
            try
            {
                return FileStatus.OfPath(fd, null, followLinks: true);
            }
            catch (SysprogException)
            {
                return null;
            }
        }
    }
}
