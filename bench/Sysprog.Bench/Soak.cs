using System.Diagnostics;
using System.Globalization;
using Sysprog;

/// <summary>
/// The soak: CYCLES create/use/close cycles of each kind of object in this one process, then proof that nothing
/// stayed behind: /proc/self/fd, Sysprog's entries in /proc/self/maps, and this run's names in /dev/shm and
/// /dev/mqueue are exactly as they were before. Nothing is left to the garbage collector: the snapshots are compared
/// without a collection, and HandleAudit counts every handle that was left for a finalizer to release.
/// </summary>
internal static class Soak
{
    private static readonly string Prefix = $"sysprog-soak-{Environment.ProcessId}-";
    private static long _names;

    private sealed record Kind(string Name, Action Cycle);

    public static int Run(string[] args)
    {
        if (args.Length > 1 || (args.Length == 1 && !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            Console.Error.WriteLine("usage: Sysprog.Bench soak [CYCLES=100000]");
            return 2;
        }
        int cycles = args.Length == 1 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        string file = Path.Combine(Path.GetTempPath(), Prefix + "file");
        File.WriteAllBytes(file, new byte[8192]);
        try
        {
            Kind[] kinds = Kinds(file);
            // A short pass first, printed the same way, so that what the runtime opens once and keeps (the console,
            // /dev/urandom, lazily loaded assemblies) is already in the snapshot.
            Console.WriteLine("warm-up:");
            RunAll(kinds, 10);
            Snapshot before = Snapshot.Take(file);
            Console.WriteLine("soak:");
            var clock = Stopwatch.StartNew();
            RunAll(kinds, cycles);
            Snapshot after = Snapshot.Take(file);
            List<string> changes = before.Differences(after);
            // Now let the collector find anything a cycle dropped without closing: the audit counts each one.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (HandleAudit.ReleasedByFinalizer > 0)
            {
                changes.Add($"{HandleAudit.ReleasedByFinalizer} handles were never closed (released by the finalizer)");
            }
            string summary = $"{cycles} cycles x {kinds.Length} kinds = {(long)cycles * kinds.Length} objects in {clock.Elapsed.TotalSeconds:F1} s";
            if (changes.Count > 0)
            {
                Console.WriteLine($"soak: FAILED: {summary}; left behind:");
                changes.ForEach(c => Console.WriteLine("  " + c));
                return 1;
            }
            Console.WriteLine($"soak: {summary}; /proc/self/fd ({before.Fds.Count} fds), /proc/self/maps, /dev/shm and /dev/mqueue unchanged");
            return 0;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void RunAll(Kind[] kinds, int cycles)
    {
        foreach (Kind kind in kinds)
        {
            var lap = Stopwatch.StartNew();
            for (int i = 0; i < cycles; i++)
            {
                kind.Cycle();
            }
            Console.WriteLine($"  {kind.Name,-22} {cycles} cycles in {lap.Elapsed.TotalSeconds:F1} s");
        }
    }

    private static string NewName() => "/" + Prefix + Interlocked.Increment(ref _names).ToString(CultureInfo.InvariantCulture);

    private static Kind[] Kinds(string file) =>
    [
        new("shared memory + map", () =>
        {
            string name = NewName();
            using (SharedMemory shm = SharedMemory.Create(name, 8192))
            using (MemoryMapping map = shm.Map())
            {
                map.WriteInt64(4096, 42);
                Check(map.ReadInt64(4096) == 42);
            }
            SharedMemory.Unlink(name);
        }),
        new("anonymous map", () =>
        {
            using MemoryMapping map = MemoryMapping.MapAnonymous(8192);
            map.WriteInt64(0, 7);
            map.Protect(MemoryProtection.Read);
            Check(map.ReadInt64(0) == 7);
        }),
        new("file map", () =>
        {
            using MemoryMapping map = MemoryMapping.MapFile(file, MemoryProtection.Read);
            Check(map.ReadInt64(8) == 0);
        }),
        new("named semaphore", () =>
        {
            string name = NewName();
            using (PosixSemaphore semaphore = PosixSemaphore.Create(name, 0))
            {
                semaphore.Post();
                Check(semaphore.TryWait());
            }
            PosixSemaphore.Unlink(name);
        }),
        new("semaphore in memory", () =>
        {
            using MemoryMapping map = MemoryMapping.MapAnonymous(4096, MemoryProtection.ReadWrite, MappingVisibility.Shared);
            using PosixSemaphore semaphore = PosixSemaphore.Initialize(map, 0, 0);
            semaphore.Post();
            Check(semaphore.Wait(TimeSpan.Zero));
            semaphore.Destroy();
        }),
        new("message queue", () =>
        {
            string name = NewName();
            using (MessageQueue queue = MessageQueue.Create(name, 2, 64))
            {
                Check(queue.Send("soak", timeout: TimeSpan.Zero));
                Check(queue.Receive(TimeSpan.Zero)?.Text == "soak");
            }
            MessageQueue.Unlink(name);
        }),
        new("queue watcher", () =>
        {
            string name = NewName();
            using (MessageQueue queue = MessageQueue.Create(name, 2, 64))
            using (var received = new ManualResetEventSlim())
            {
                queue.MessageReceived += (_, _) => received.Set();
                queue.StartWatching();
                Check(queue.Send("soak", timeout: TimeSpan.Zero));
                Check(received.Wait(TimeSpan.FromSeconds(10)));
                queue.StopWatching();
            }
            MessageQueue.Unlink(name);
        }),
        new("eventfd", () =>
        {
            using EventFd counter = EventFd.Create();
            counter.Add(3);
            Check(counter.TryRead() == 3);
        }),
        new("eventfd from a process", () =>
        {
            using EventFd counter = EventFd.Create();
            using EventFd copy = EventFd.FromProcess(Environment.ProcessId, counter.Fd);
            copy.Add(1);
            Check(counter.TryRead() == 1);
        }),
        new("timerfd", () =>
        {
            using TimerFd timer = TimerFd.Create();
            timer.Arm(TimeSpan.FromTicks(1), TimeSpan.Zero);
            Check(timer.Read(TimeSpan.FromSeconds(10)) == 1);
        }),
        new("signalfd", () =>
        {
            using SignalFd signals = SignalFd.Create([10]);
            Check(signals.Read(TimeSpan.Zero) is null);
        }),
        new("poll set", () =>
        {
            using EventFd counter = EventFd.Create(1);
            using var set = new PollSet();
            set.Add(counter);
            Check(set.Wait(new ReadyHandle[1], TimeSpan.Zero) == 1);
        }),
        // About 5 ms a cycle, all of it the kernel's: closing an instance that had a watch waits for fsnotify's mark
        // reaper and an SRCU grace period (the same loop in C takes as long; init and close alone take 3 us).
        new("inotify", () =>
        {
            using Inotify inotify = Inotify.Create();
            InotifyWatch watch = inotify.AddWatch(file, InotifyEvents.Attrib);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow);
            Check(inotify.Read(TimeSpan.FromSeconds(10))?.Events == InotifyEvents.Attrib);
            inotify.RemoveWatch(watch);
            Check(inotify.Read(TimeSpan.FromSeconds(10))?.Events == InotifyEvents.Ignored);
        }),
        new("pty", () =>
        {
            using Pty pty = Pty.Start("true");
            while (pty.Read(TimeSpan.FromSeconds(10)) is { Length: > 0 })
            {
            }
            Check(pty.WaitForExit(TimeSpan.FromSeconds(10))?.ExitCode == 0);
        }),
        new("pipe", () =>
        {
            using Pipe pipe = Pipe.Create();
            pipe.WriteEnd.Write("soak\n"u8, TimeSpan.Zero);
            Check(pipe.ReadEnd.ReadTo("\n"u8, TimeSpan.Zero)?.Length == 5);
        }),
        new("fifo", () =>
        {
            string path = Fifo.Create(file + ".fifo").FullName;
            try
            {
                using PipeEnd reader = Fifo.Open(path, FileAccess.Read, nonBlocking: true)!;
                using PipeEnd writer = Fifo.Open(path, FileAccess.Write, nonBlocking: true)!;
                writer.Write("soak"u8, TimeSpan.Zero);
                Check(reader.ReadExactly(4, TimeSpan.Zero)?.Length == 4);
            }
            finally
            {
                File.Delete(path);
            }
        }),
        new("sockets passing descriptors", () =>
        {
            using SocketPair pair = Socket.CreatePair(SocketKind.SeqPacket);
            using SharedMemory memory = SharedMemory.CreateAnonymous("soak", 4096, MemorySeals.Shrink);
            using EventFd counter = EventFd.Create(1);
            pair.First.Send("soak"u8, [memory, counter], timeout: TimeSpan.Zero);
            SocketMessage message = pair.Second.Receive(TimeSpan.Zero)!;
            foreach (IDisposable descriptor in message.Descriptors.Cast<IDisposable>())
            {
                descriptor.Dispose();
            }
            Check(message.Length == 4 && message.Descriptors.Count == 2 && message.Credentials?.ProcessId == Environment.ProcessId);
        }),
        new("socket file", () =>
        {
            using Socket server = Socket.CreateBound(SocketEndpoint.Unix(file + ".sock"));
            using Socket client = Socket.CreateConnected(SocketEndpoint.Unix(file + ".sock"), timeout: TimeSpan.FromSeconds(10))!;
            using Socket accepted = server.Accept(TimeSpan.FromSeconds(10))!;
            client.Write("soak"u8, TimeSpan.Zero);
            Check(accepted.ReadExactly(4, TimeSpan.FromSeconds(10))?.Length == 4);
        }),
        new("process maps", () => Check(ProcessMaps.Read(Environment.ProcessId).Count > 0)),
        new("ELF file and dlopen", () =>
        {
            Check(ElfFile.Open("/proc/self/exe", ElfSymbolTables.Dynamic).Symbols.Count > 0);
            using SharedLibrary libm = SharedLibrary.Open("libm.so.6");
            Check(libm.GetSymbol("cos").IsFunction);
            Check(libm.Close());
        }),
        new("child process (posix_spawn, pidfd)", () =>
        {
            using Pipe pipe = Pipe.Create();
            using ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo("true") { Descriptors = new Dictionary<int, IDescriptorObject> { [1] = pipe.WriteEnd } });
            Check(child.WaitForExit(TimeSpan.FromSeconds(10))?.ExitCode == 0);
        }),
        new("page-cache residency and program break", () =>
        {
            Check(FileCache.Residency(file).Pages == 2);
            Check(ProgramBreak.Read().IsExact);
            Check(ProcessSyscalls.Read(0, Environment.ProcessId).Count == 1);
        }),
        new("file locks", () =>
        {
            using FileLock posix = FileLock.Acquire(file, FileLockKind.Posix, FileLockMode.Exclusive, TimeSpan.Zero, default, 0, 10)!;
            using FileLock ofd = FileLock.Acquire(file, FileLockKind.Ofd, FileLockMode.Shared, TimeSpan.Zero, default, 20, 10)!;
            using FileLock flock = FileLock.Acquire(file, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero)!;
            // POSIX and OFD locks conflict even within one process: they have different owners.
            Check(FileLock.FindConflict(file, FileLockKind.Ofd, FileLockMode.Shared, 0, 10)?.ProcessId == Environment.ProcessId);
        }),
    ];

    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("a soak cycle did not see what it wrote");
        }
    }

    /// <summary>What a leak would change: open descriptors, Sysprog's mappings, this run's names.</summary>
    private sealed record Snapshot(SortedDictionary<int, string> Fds, List<string> Maps, List<string> Names)
    {
        public static Snapshot Take(string file)
        {
            var fds = new SortedDictionary<int, string>();
            string listing = $"/proc/{Environment.ProcessId}/fd";
            foreach (string entry in Directory.GetFileSystemEntries("/proc/self/fd"))
            {
                string? target = new FileInfo(entry).LinkTarget;
                // The directory being listed is open while it is listed, under whatever number is free.
                if (target is not null && target != listing)
                {
                    fds[int.Parse(Path.GetFileName(entry), CultureInfo.InvariantCulture)] = target;
                }
            }
            // The runtime maps and unmaps on its own (GC regions, JIT code), so only what Sysprog's cycles map is
            // compared: /dev/shm objects (shared memory, semaphores), shared anonymous memory (/dev/zero), the
            // soak's file, and read-only anonymous mappings (each anonymous map is made read-only before it is closed).
            var maps = File.ReadLines("/proc/self/maps")
                .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length == 6 ? f[5].StartsWith("/dev/shm/", StringComparison.Ordinal) || f[5].StartsWith("/dev/zero", StringComparison.Ordinal) || f[5] == file
                    : f.Length == 5 && f[1] == "r--p")
                .Select(f => string.Join(' ', f))
                .ToList();
            var names = Directory.EnumerateFileSystemEntries("/dev/shm").Concat(MessageQueue.IsMqueueFsMounted() ? Directory.EnumerateFiles(MessageQueue.Directory) : [])
                .Where(path => Path.GetFileName(path).Contains(Prefix, StringComparison.Ordinal))
                .ToList();
            return new Snapshot(fds, maps, names);
        }

        public List<string> Differences(Snapshot after)
        {
            var changes = new List<string>();
            foreach ((int fd, string target) in after.Fds.Where(e => !Fds.TryGetValue(e.Key, out string? was) || was != e.Value))
            {
                changes.Add($"fd {fd} -> {target} is open");
            }
            changes.AddRange(Fds.Keys.Except(after.Fds.Keys).Select(fd => $"fd {fd} ({Fds[fd]}) was closed"));
            changes.AddRange(after.Maps.Except(Maps).Select(m => "mapped: " + m));
            changes.AddRange(Maps.Except(after.Maps).Select(m => "unmapped: " + m));
            changes.AddRange(after.Names.Except(Names).Select(n => "left behind: " + n));
            return changes;
        }
    }
}
