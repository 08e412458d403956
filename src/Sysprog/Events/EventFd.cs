using System.Globalization;
using System.Runtime.CompilerServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// An eventfd(2): a 64-bit counter in the kernel. Add increments it; a read returns the count and resets it to 0, or
/// in semaphore mode returns 1 and decrements it. Reads wait (cancellably) while it is 0, adds while it would pass
/// 0xfffffffffffffffe.
/// </summary>
public sealed class EventFd : FileDescriptorObject
{
    /// <summary>The largest value the counter holds.</summary>
    public const ulong MaxValue = 0xfffffffffffffffe;

    private EventFd(SafeFdHandle fd, bool semaphore, bool nonBlocking) : base(fd, nonBlocking: nonBlocking)
    {
        IsSemaphore = semaphore;
    }

    /// <summary>EFD_SEMAPHORE: each read takes 1 rather than everything.</summary>
    public bool IsSemaphore { get; }

    private protected override string Describe() => $"eventfd {Number}";

    /// <summary>The counter now, from /proc/self/fdinfo (nothing is read or reset).</summary>
    public ulong Count
    {
        get
        {
            using HandleLease lease = Lease();
            string count = ProcFile.Field($"/proc/self/fdinfo/{lease.Fd}", "eventfd-count")
                ?? throw new InvalidOperationException($"/proc/self/fdinfo/{lease.Fd} shows no eventfd-count.");
            return ulong.Parse(count, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
    }

    public static EventFd Create(uint initialValue = 0, bool semaphore = false, bool nonBlocking = false, bool inheritable = false,
        SyscallTrace? trace = null)
    {
        int flags = Libc.EFD_NONBLOCK | (inheritable ? 0 : Libc.EFD_CLOEXEC) | (semaphore ? Libc.EFD_SEMAPHORE : 0);
        string flagText = string.Join('|', new[] { semaphore ? "EFD_SEMAPHORE" : null, "EFD_NONBLOCK", inheritable ? null : "EFD_CLOEXEC" }.OfType<string>());
        var fd = new SafeFdHandle(Syscall.Check(Libc.eventfd(initialValue, flags), trace, "eventfd", "eventfd", $"{initialValue}, {flagText}"));
        return new EventFd(fd, semaphore, nonBlocking);
    }

    /// <summary>Uses an eventfd descriptor this process inherited (a child started with one passed by number).</summary>
    public static EventFd FromDescriptor(int fd, bool nonBlocking = false, SyscallTrace? trace = null)
    {
        SafeFdHandle handle = Adopt(fd, "anon_inode:[eventfd]", "an eventfd", trace);
        return new EventFd(handle, IsSemaphoreMode(fd), nonBlocking);
    }

    /// <summary>Takes over an eventfd passed to this process (over a socket), making it O_NONBLOCK as Sysprog's own are.</summary>
    internal static EventFd Adopt(SafeFdHandle handle, SyscallTrace? trace)
    {
        MakeNonBlocking(handle, "an eventfd", trace);
        return new EventFd(handle, IsSemaphoreMode(handle.Fd), nonBlocking: false);
    }

    /// <summary>Copies an eventfd out of another process with pidfd_getfd (needs ptrace permission over it).</summary>
    public static EventFd FromProcess(int processId, int fd, bool nonBlocking = false, SyscallTrace? trace = null)
    {
        int copied = TakeFromProcess(processId, fd, trace);
        return FromDescriptor(copied, nonBlocking, trace);
    }

    /// <summary>
    /// Adds <paramref name="value"/> (1 to <see cref="MaxValue"/>), waiting up to <paramref name="timeout"/> while it would
    /// overflow. False on timeout, and at once when it would overflow a non-blocking eventfd.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe bool Add(ulong value, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        if (value is 0 or > MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"An eventfd takes 1 to {MaxValue} (0xfffffffffffffffe) per write.");
        }
        Timeouts.Validate(timeout);
        var retry = new FdRetry(Handle, Libc.POLLOUT, IsNonBlocking ? TimeSpan.Zero : timeout, cancellationToken, Description);
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        while (true)
        {
            SyscallResult result = Libc.write(fd, (byte*)&value, sizeof(ulong));
            if (!result.Failed)
            {
                Syscall.CheckCount(result, trace, "write", Description, $"{fd}, [{value}], 8");
                return true;
            }
            if (!retry.AfterFailure(result, trace, "write", $"{fd}, [{value}], 8"))
            {
                return false;
            }
        }
    }

    /// <summary>Adds without waiting: one write(2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(ulong value = 1, SyscallTrace? trace = null) => Add(value, TimeSpan.Zero, default, trace) || ThrowOverflow(value);

    /// <summary>
    /// Reads the counter (or 1 in semaphore mode), waiting up to <paramref name="timeout"/> while it is 0; null on
    /// timeout, and at once when it is 0 and the eventfd is non-blocking.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ulong? Read(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null) =>
        ReadCounter(timeout, cancellationToken, trace);

    /// <summary>Reads without waiting; null when the counter is 0.</summary>
    public ulong? TryRead(SyscallTrace? trace = null) => ReadCounter(TimeSpan.Zero, default, trace);

    private bool ThrowOverflow(ulong value) =>
        throw new SysprogException(Errno.EAGAIN, "write", Description, $"Adding {value} would pass the counter's maximum ({MaxValue}).");

    private static bool IsSemaphoreMode(int fd)
    {
        // Kernels since 6.5 print it; before that, semaphore mode cannot be seen from outside and is taken as off.
        return ProcFile.Field($"/proc/self/fdinfo/{fd}", "eventfd-semaphore") == "1";
    }
}
