using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// A POSIX semaphore: named (sem_open, visible to every process as /dev/shm/sem.NAME) or unnamed and process-shared
/// inside a shared mapping (sem_init with pshared=1). Waits are measured on CLOCK_MONOTONIC, retried on EINTR, and
/// cancellable; post and wait allocate nothing. Semaphores are not robust: a process killed while "holding" one
/// never posts it, so waits take a timeout.
/// </summary>
public sealed class PosixSemaphore : IDisposable
{
    /// <summary>SEM_VALUE_MAX on Linux.</summary>
    public const int MaxValue = int.MaxValue;

    /// <summary>NAME_MAX less the "sem." prefix glibc and musl put before the name in /dev/shm.</summary>
    public const int NameMaxBytes = IpcName.NameMax - 4;

    /// <summary>Bytes a semaphore takes inside a mapping (sizeof(sem_t) on 64-bit Linux).</summary>
    public const int SizeInMemory = Libc.SemaphoreSize;

    /// <summary>
    /// The slice of a wait that cannot be interrupted (no real-time signal free, or no sem_clockwait): its token is
    /// looked at between slices, so cancellation is honoured within one.
    /// </summary>
    internal static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(20);

    private readonly SafeSemaphoreHandle? _named;
    private readonly MemoryMapping? _mapping;
    private readonly long _offset;
    private readonly string _target;

    private PosixSemaphore(SafeSemaphoreHandle named, string name)
    {
        _named = named;
        Name = name;
        _target = name;
    }

    private PosixSemaphore(MemoryMapping mapping, long offset)
    {
        _mapping = mapping;
        _offset = offset;
        _target = $"semaphore at offset {offset} of {mapping.Source}";
    }

    /// <summary>The name (/demo) of a named semaphore; null for one inside a mapping.</summary>
    public string? Name { get; }

    public bool IsNamed => _named is not null;

    /// <summary>Where it lives: /dev/shm/sem.demo, or the mapping and offset.</summary>
    /// <summary>
    /// For a named semaphore <see cref="Open"/> opened: who besides this user could shrink its file (its owner when
    /// another user, everyone when it is mode 0666...), which would make the next wait or post raise SIGBUS and end the
    /// process; null when no one else can. sem_open keeps no descriptor, so this is the file at the name just after
    /// sem_open mapped it. Open-Semaphore writes it as a warning. See <see cref="MemoryMapping.ShrinkRisk"/>.
    /// </summary>
    public string? ShrinkRisk { get; private set; }

    public string Location => Name is not null ? SharedMemory.Directory + "/sem." + Name[1..] : _target;

    public bool IsClosed => _named?.IsClosed ?? _mapping!.IsClosed;

    /// <summary>The current value (sem_getvalue); 0 when waiters are blocked.</summary>
    public int Value
    {
        get
        {
            using MappingAccess held = Hold("sem_getvalue");
            Syscall.Check(Libc.sem_getvalue(Address(held), out int value), null, "sem_getvalue", _target, $"");
            return value;
        }
    }

    /// <summary>
    /// How many threads, in any process, are asleep in a wait on this semaphore now, as the C library counts them:
    /// glibc (the high half of its 64-bit word) and musl (its second int) both keep that count at byte 4 of sem_t.
    /// It is what shows that a waiter really is blocked, which <see cref="Value"/> (0 either way) cannot.
    /// </summary>
    public unsafe int Waiters
    {
        get
        {
            using MappingAccess held = Hold("sem_t");
            return Volatile.Read(ref *(int*)(Address(held) + 4));
        }
    }

    /// <summary>sem_open(O_CREAT|O_EXCL) with the exact <paramref name="mode"/>, whatever the umask.</summary>
    public static PosixSemaphore Create(string name, int initialValue = 0, UnixFileMode mode = FileModes.OwnerReadWrite, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name, NameMaxBytes);
        ValidateValue(initialValue, nameof(initialValue));
        FileModes.Validate(mode, nameof(mode));
        const int flags = Libc.O_CREAT | Libc.O_EXCL;
        IntPtr semaphore = Syscall.CheckPointer(SyscallResult.NullOnFailure(Libc.sem_open(canonical, flags, (int)mode, (uint)initialValue)),
            trace, "sem_open", canonical, $"{QuoteName(canonical)}, {Libc.OpenFlagsText(flags)}, {Octal((int)mode)}, {initialValue}");
        var created = new PosixSemaphore(new SafeSemaphoreHandle(semaphore), canonical);
        string path = created.Location;
        ExclusiveCreation.CompleteOrUndo(
            () => PlantedPath.ChangeModeOfCreated(path, FileStatus.Regular, mode, trace, escapedPath: true),
            () => created.Close(trace),
            () => Unlink(canonical, trace));
        return created;
    }

    /// <summary>sem_open of an existing semaphore.</summary>
    public static PosixSemaphore Open(string name, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name, NameMaxBytes);
        // sem_open maps whatever file has the name; a file that is not a semaphore (planted, truncated) would raise
        // SIGBUS at the first wait. Another process that truncates a real one later can still do that: ShrinkRisk says
        // who could, from the file as it is now (sem_open keeps no descriptor to ask).
        string path = $"{SharedMemory.Directory}/sem.{canonical[1..]}";
        StatX? found = FileStatus.OfEscapedPath(path, trace);
        if (found is StatX status && FileProblem(status) is string problem)
        {
            throw new SysprogException(Errno.EINVAL, "sem_open", canonical, $"{path} is {problem}.");
        }
        SyscallResult result = SyscallResult.NullOnFailure(Libc.sem_open(canonical, 0, 0, 0));
        string? hint = result.Errno == Errno.ENOENT ? "No semaphore has that name; create it first (New-Semaphore, sysprog sem create)." : null;
        IntPtr semaphore = Syscall.CheckPointer(result, trace, "sem_open", canonical, $"{QuoteName(canonical)}, 0", hint);
        var opened = new PosixSemaphore(new SafeSemaphoreHandle(semaphore), canonical);
        try
        {
            opened.ShrinkRisk = Sysprog.ShrinkRisk.Describe($"The semaphore {canonical} ({path})", FileStatus.OfEscapedPath(path, trace) ?? found ?? default, false,
                Syscall.EffectiveUserId(trace), Accounts.IsPrivateGroupOf);
        }
        catch
        {
            opened.Close(trace);
            throw;
        }
        return opened;
    }

    public static void Unlink(string name, SyscallTrace? trace = null)
    {
        string canonical = IpcName.Normalize(name, NameMaxBytes);
        Syscall.Check(Libc.sem_unlink(canonical), trace, "sem_unlink", canonical, $"{QuoteName(canonical)}");
    }

    /// <summary>
    /// The named semaphores in /dev/shm, with their values where this user may read them. Nothing is mapped or
    /// sem_open'd: each file is opened (O_NOFOLLOW|O_NONBLOCK), checked to be a regular file of sizeof(sem_t), and its
    /// value read with pread, so a planted or truncated file is listed with its <see cref="NamedObjectInfo.Problem"/>
    /// instead of raising SIGBUS.
    /// </summary>
    public static IReadOnlyList<SemaphoreInfo> List(string? pattern = null, SyscallTrace? trace = null)
    {
        NamePattern wanted = IpcName.Pattern(pattern);
        if (!Directory.Exists(SharedMemory.Directory))
        {
            throw new SysprogException(Errno.ENOENT, "opendir", SharedMemory.Directory, "POSIX semaphores need a tmpfs mounted on /dev/shm.");
        }
        var found = new List<SemaphoreInfo>();
        foreach (string fileName in DirectoryEntries.Read(SharedMemory.Directory, trace))
        {
            if (!fileName.StartsWith("sem.", StringComparison.Ordinal))
            {
                continue;
            }
            string name = "/" + fileName["sem.".Length..];
            string path = SharedMemory.Directory + "/" + fileName;
            if (name.Length > 1 && wanted.Matches(name) && FileStatus.OfEscapedPath(path, trace) is StatX status)
            {
                (int? value, string? problem) = ReadValue(path, status, trace);
                found.Add(new SemaphoreInfo(name, status, value, problem));
            }
        }
        found.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return found;
    }

    /// <summary>Why a file in /dev/shm is not a semaphore that sem_open could map safely, or null when it is one.</summary>
    internal static string? FileProblem(in StatX status) =>
        (status.Mode & FileStatus.TypeMask) switch
        {
            FileStatus.Regular when status.Size == Libc.SemaphoreSize => null,
            FileStatus.Regular => $"{status.Size} bytes, not a semaphore: sem_open makes files of exactly {Libc.SemaphoreSize} bytes, and mapping a shorter one would raise SIGBUS",
            FileStatus.Directory => "a directory, not a semaphore",
            FileStatus.SymbolicLink => "a symbolic link, not a semaphore",
            int type => $"a {FileStatus.KindOf(type)}, not a regular file, so not a semaphore",
        };

    /// <summary>The value from the file's first word, as sem_getvalue reads it (glibc and musl keep it there), without mapping it.</summary>
    private static unsafe (int? Value, string? Problem) ReadValue(string path, StatX listed, SyscallTrace? trace)
    {
        if (FileProblem(listed) is string problem)
        {
            return (null, problem);
        }
        int flags = Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
        SyscallResult opened = Libc.open_escaped(path, flags, 0);
        trace?.Invoke(opened.Failed
            ? $"open({QuoteName(path)}, {Libc.OpenFlagsText(flags)}) = -1 {opened.Errno.Symbol()} ({opened.Errno.Description()})"
            : $"open({QuoteName(path)}, {Libc.OpenFlagsText(flags)}) = {opened.Value}");
        if (opened.Failed)
        {
            return (null, opened.Errno == Errno.EACCES ? "not readable by this user" : $"open failed: {opened.Errno.Symbol()}");
        }
        using var fd = new SafeFdHandle((int)opened.Value);
        // Checked again on the descriptor itself: the name may have been replaced since it was listed.
        return ReadValue(fd, path, trace);
    }

    /// <summary>The value from an open semaphore file's first word, once the descriptor is checked to be one; <paramref name="fd"/> is closed.</summary>
    internal static unsafe (int? Value, string? Problem) ReadValue(SafeFdHandle fd, string path, SyscallTrace? trace)
    {
        if (FileProblem(FileStatus.OfFd(fd, path, trace)) is string changed)
        {
            fd.Close(trace);
            return (null, changed);
        }
        int word;
        SyscallResult read = Libc.pread(fd.Fd, (byte*)&word, sizeof(int), 0);
        trace?.Invoke($"pread({fd.Fd}, [{word}], {sizeof(int)}, 0) = {read.Value}");
        fd.Close(trace);
        return read.Value == sizeof(int) ? (word & int.MaxValue, null) : (null, $"pread failed: {read.Errno.Symbol()}");
    }

    /// <summary>
    /// sem_init(pshared=1) at <paramref name="offset"/> of a shared, read-write mapping: an unnamed semaphore every
    /// process mapping the same object can use. Initialize once; other processes <see cref="Attach"/>.
    /// </summary>
    public static PosixSemaphore Initialize(MemoryMapping mapping, long offset, int initialValue = 0, SyscallTrace? trace = null)
    {
        ValidateValue(initialValue, nameof(initialValue));
        var semaphore = Attach(mapping, offset);
        using MappingAccess held = semaphore.Hold("sem_init");
        IntPtr pointer = semaphore.Address(held);
        Syscall.Check(Libc.sem_init(pointer, 1, (uint)initialValue), trace, "sem_init", semaphore._target, $"{Pointer(pointer)}, 1, {initialValue}");
        return semaphore;
    }

    /// <summary>Uses a semaphore another process (or this one) initialized in a shared mapping.</summary>
    public static PosixSemaphore Attach(MemoryMapping mapping, long offset)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ClosedObject.ThrowIf(mapping.IsClosed, $"the mapping of {mapping.Source}");
        if (mapping.Visibility != MappingVisibility.Shared)
        {
            throw new ArgumentException("A process-shared semaphore needs a Shared mapping; in a Private one each process has its own copy.", nameof(mapping));
        }
        if ((mapping.Protection & MemoryProtection.ReadWrite) != MemoryProtection.ReadWrite)
        {
            throw new UnauthorizedAccessException($"A semaphore needs a read-write mapping; {mapping.Source} is mapped {MemoryMapping.ProtectionText(mapping.Protection)}.");
        }
        if (offset < 0 || offset % 8 != 0 || offset > mapping.Length - SizeInMemory)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"A semaphore takes {SizeInMemory} bytes at an 8-byte aligned offset within the {mapping.Length}-byte mapping.");
        }
        return new PosixSemaphore(mapping, offset);
    }

    /// <summary>sem_post: adds one, waking one waiter. EOVERFLOW at SEM_VALUE_MAX.</summary>
    // Hot path: compiled fully optimized from the first call rather than tiering up while a ping-pong runs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Post(SyscallTrace? trace = null)
    {
        using MappingAccess held = Hold("sem_post");
        IntPtr semaphore = Address(held);
        SyscallResult result = Libc.sem_post(semaphore);
        string? detail = result.Errno == Errno.EOVERFLOW ? $"The value is already SEM_VALUE_MAX ({MaxValue})." : null;
        Syscall.Check(result, trace, "sem_post", _target, $"{Pointer(semaphore)}", detail);
    }

    /// <summary>sem_trywait: takes one if the value is above zero; false (EAGAIN) otherwise, without blocking.</summary>
    // Hot path: compiled fully optimized from the first call rather than tiering up while a ping-pong runs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryWait(SyscallTrace? trace = null)
    {
        using MappingAccess held = Hold("sem_trywait");
        return TryTake(Address(held), trace);
    }

    /// <summary>sem_trywait on the leased sem_t (a userspace atomic, no system call): false when the value is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryTake(IntPtr semaphore, SyscallTrace? trace)
    {
        SyscallResult result;
        do
        {
            result = Libc.sem_trywait(semaphore);
        }
        while (result.Errno == Errno.EINTR);
        if (result.Errno == Errno.EAGAIN)
        {
            trace?.Invoke($"sem_trywait({Pointer(semaphore)}) = -1 EAGAIN ({Errno.EAGAIN.Description()})");
            return false;
        }
        Syscall.Check(result, trace, "sem_trywait", _target, $"{Pointer(semaphore)}");
        return true;
    }

    /// <summary>
    /// Takes one, blocking up to <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/> for no limit).
    /// Returns false on timeout; throws <see cref="OperationCanceledException"/> as soon as the token is cancelled
    /// (the wait is interrupted with <see cref="ThreadInterrupt"/>'s signal). A Close on another thread (of the named
    /// semaphore, or of the mapping it lives in) ends the wait the same way, with <see cref="ObjectDisposedException"/>.
    /// </summary>
    // Hot path: compiled fully optimized from the first call rather than tiering up while a ping-pong runs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        Timeouts.Validate(timeout);
        // Held for the whole wait, so a Close on another thread never frees the sem_t under it, nor a Protect takes
        // away the access the C library wakes up to.
        using MappingAccess held = Hold("sem_wait", lasting: true);
        IntPtr semaphore = Address(held);
        SafeHandle waited = held.Held!;
        bool infinite = timeout == Timeout.InfiniteTimeSpan;
        if (infinite && !cancellationToken.CanBeCanceled)
        {
            // Nothing ends this wait but a post, or a Close on another thread (where a signal is free to tell it).
            using ThreadInterrupt? closable = ThreadInterrupt.TryArm(default, waited, trace, _target);
            SyscallResult result;
            do
            {
                HandleWaiters.ThrowIfClosed(waited, _target);
                result = Libc.sem_wait(semaphore);
            }
            while (result.Errno == Errno.EINTR);
            Syscall.Check(result, trace, "sem_wait", _target, $"{Pointer(semaphore)}");
            return true;
        }

        cancellationToken.ThrowIfCancellationRequested();
        // One that can be taken at once is, without a clock read or an interrupt to arm.
        if (TryTake(semaphore, trace))
        {
            return true;
        }
        using ThreadInterrupt? interrupt = ThreadInterrupt.TryArm(cancellationToken, waited, trace, _target);
        // One call waits the whole time, unless nothing else would end it in time: then slices, between which the
        // token is looked at (no real-time signal free to interrupt with), or a realtime deadline is taken afresh
        // (C libraries without sem_clockwait, where a clock jump would otherwise move the whole wait).
        bool sliced = !Libc.HasSemClockwait || interrupt is null;
        Timespec deadline = infinite ? default : Now(Libc.CLOCK_MONOTONIC).Add(timeout);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HandleWaiters.ThrowIfClosed(waited, _target);
            TimeSpan? slice = null;
            bool lastSlice = true;
            if (sliced)
            {
                TimeSpan remaining = infinite ? Timeout.InfiniteTimeSpan : Between(Now(Libc.CLOCK_MONOTONIC), deadline);
                lastSlice = !infinite && remaining <= WaitSlice;
                slice = lastSlice ? (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) : WaitSlice;
            }
            SyscallResult result = WaitOnce(semaphore, infinite ? null : deadline, slice, out string call, out Timespec until);
            if (!result.Failed)
            {
                Syscall.Check(result, trace, call, _target, $"{WaitArguments(semaphore, call, until)}");
                return true;
            }
            if (result.Errno is Errno.EINTR || (result.Errno == Errno.ETIMEDOUT && !lastSlice))
            {
                continue;
            }
            if (result.Errno == Errno.ETIMEDOUT)
            {
                trace?.Invoke($"{call}({WaitArguments(semaphore, call, until)}) = -1 ETIMEDOUT ({Errno.ETIMEDOUT.Description()})");
                return false;
            }
            Syscall.Check(result, trace, call, _target, $"{WaitArguments(semaphore, call, until)}");
        }
    }

    /// <summary>sem_destroy for a semaphore inside a mapping, once no process waits on it any more.</summary>
    public void Destroy(SyscallTrace? trace = null)
    {
        if (IsNamed)
        {
            throw new InvalidOperationException("A named semaphore is removed with Unlink, not destroyed.");
        }
        using MappingAccess held = Hold("sem_destroy");
        IntPtr semaphore = Address(held);
        Syscall.Check(Libc.sem_destroy(semaphore), trace, "sem_destroy", _target, $"{Pointer(semaphore)}");
    }

    /// <summary>sem_close for a named semaphore; for one inside a mapping, nothing (the mapping owns the memory).</summary>
    public void Close(SyscallTrace? trace = null) => _named?.Close(trace);

    public void Dispose() => Close();

    public override string ToString()
    {
        if (IsClosed)
        {
            return $"{Name ?? _target} (closed)";
        }
        if (_mapping is not null && (_mapping.Protection & MemoryProtection.ReadWrite) != MemoryProtection.ReadWrite)
        {
            return $"{_target} (not accessible: the mapping is {MemoryMapping.ProtectionText(_mapping.Protection)})";
        }
        return $"{Name ?? _target} (value {Value})";
    }

    /// <summary>
    /// A reference on what holds the sem_t for one <paramref name="call"/>: the sem_open mapping, or the shared
    /// mapping it lives in, which must be read-write now and stays so while it is held (EACCES otherwise, rather
    /// than SIGSEGV in the C library).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MappingAccess Hold(string call, bool lasting = false) =>
        _named is not null ? new MappingAccess(_named.Lease(_target), null) : _mapping!.AccessSemaphore(lasting, call, _target);

    private IntPtr Address(in MappingAccess held) => _named is not null ? held.Address : held.Address + (nint)_offset;

    private void ThrowClosed() => ClosedObject.Throw(_target);

    /// <summary>
    /// One blocking call: until <paramref name="slice"/> from now when given, otherwise until the monotonic
    /// <paramref name="deadline"/>, otherwise without a limit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SyscallResult WaitOnce(IntPtr semaphore, Timespec? deadline, TimeSpan? slice, out string call, out Timespec until)
    {
        if (slice is null && deadline is null)
        {
            call = "sem_wait";
            until = default;
            return Libc.sem_wait(semaphore);
        }
        if (Libc.HasSemClockwait)
        {
            call = "sem_clockwait";
            until = slice is { } length ? Now(Libc.CLOCK_MONOTONIC).Add(length) : deadline!.Value;
            return Libc.sem_clockwait(semaphore, Libc.CLOCK_MONOTONIC, in until);
        }
        // musl and glibc < 2.30 (always sliced): a realtime deadline per slice, so a clock jump distorts one slice.
        call = "sem_timedwait";
        until = Now(Libc.CLOCK_REALTIME).Add(slice!.Value);
        return Libc.sem_timedwait(semaphore, in until);
    }

    private static string WaitArguments(IntPtr semaphore, string call, Timespec until) => call switch
    {
        "sem_wait" => Pointer(semaphore),
        "sem_clockwait" => $"{Pointer(semaphore)}, CLOCK_MONOTONIC, {until}",
        _ => $"{Pointer(semaphore)}, {until}",
    };

    private static string ClockArgument() => Libc.HasSemClockwait ? "CLOCK_MONOTONIC, " : "";

    private static Timespec Now(int clock)
    {
        Libc.clock_gettime(clock, out Timespec now);
        return now;
    }

    private static TimeSpan Between(Timespec from, Timespec to) =>
        TimeSpan.FromTicks(((to.Seconds - from.Seconds) * 1_000_000_000 + (to.Nanoseconds - from.Nanoseconds)) / 100);

    private static void ValidateValue(int value, string paramName)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"A semaphore value is between 0 and SEM_VALUE_MAX ({MaxValue}).");
        }
    }
}

/// <summary>One named semaphore in /dev/shm, as listed.</summary>
public sealed class SemaphoreInfo : NamedObjectInfo
{
    internal SemaphoreInfo(string name, StatX status, int? value, string? problem) : base(name, status, problem) => Value = value;

    /// <summary>The value, or null when this user may not read the semaphore or it is not one (see <see cref="NamedObjectInfo.Problem"/>).</summary>
    public int? Value { get; }
    public override string Path => SharedMemory.Directory + "/sem." + Name[1..];

    public override string ToString() => $"{Name} (value {Value?.ToString() ?? "?"}, {Mode}, {Owner})";
}
