using Sysprog.Interop;

namespace Sysprog;

/// <summary>The clock a timer runs on.</summary>
public enum TimerClock
{
    /// <summary>CLOCK_REALTIME: wall-clock time; follows clock changes; the only one for absolute arming at a date.</summary>
    Realtime = 0,

    /// <summary>CLOCK_MONOTONIC: never jumps, stops while the machine is suspended.</summary>
    Monotonic = 1,

    /// <summary>CLOCK_BOOTTIME: like Monotonic, but keeps counting during suspend.</summary>
    Boottime = 7,
}

/// <summary>A timerfd(2): a timer whose expirations are read from a descriptor as a count.</summary>
public sealed class TimerFd : FileDescriptorObject
{
    private TimerFd(SafeFdHandle fd, TimerClock clock, bool nonBlocking) : base(fd, nonBlocking: nonBlocking) => Clock = clock;

    public TimerClock Clock { get; }

    private protected override string Describe() => $"timerfd {Number} ({Clock})";

    /// <summary>Time left to the next expiration; zero when disarmed (timerfd_gettime).</summary>
    public TimeSpan Remaining => Get().Value.ToTimeSpan();

    /// <summary>The period after the first expiration; zero for a one-shot timer.</summary>
    public TimeSpan Interval => Get().Interval.ToTimeSpan();

    public bool IsArmed => Remaining > TimeSpan.Zero;

    /// <summary>
    /// timerfd_create on <paramref name="clock"/>; with <paramref name="nonBlocking"/> a read before the first expiry
    /// returns null at once ("would block") instead of waiting.
    /// </summary>
    public static TimerFd Create(TimerClock clock = TimerClock.Monotonic, bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        if (!Enum.IsDefined(clock))
        {
            throw new ArgumentOutOfRangeException(nameof(clock), clock, "Realtime, Monotonic or Boottime.");
        }
        int flags = Libc.TFD_NONBLOCK | (inheritable ? 0 : Libc.TFD_CLOEXEC);
        var fd = new SafeFdHandle(Syscall.Check(Libc.timerfd_create((int)clock, flags), trace, "timerfd_create", "timerfd",
            $"{ClockName(clock)}, TFD_NONBLOCK{(inheritable ? "" : "|TFD_CLOEXEC")}"));
        return new TimerFd(fd, clock, nonBlocking);
    }

    /// <summary>Takes over a timerfd passed to this process (over a socket), making it O_NONBLOCK as Sysprog's own are.</summary>
    internal static TimerFd Adopt(SafeFdHandle handle, SyscallTrace? trace)
    {
        MakeNonBlocking(handle, "a timerfd", trace);
        string? clockId = ProcFile.Field($"/proc/self/fdinfo/{handle.Fd}", "clockid");
        TimerClock clock = int.TryParse(clockId, out int id) && Enum.IsDefined((TimerClock)id) ? (TimerClock)id : TimerClock.Monotonic;
        return new TimerFd(handle, clock, nonBlocking: false);
    }

    /// <summary>Arms the timer: first expiry after <paramref name="initialDelay"/>, then every <paramref name="interval"/> (zero: once).</summary>
    public void Arm(TimeSpan initialDelay, TimeSpan interval = default, SyscallTrace? trace = null)
    {
        if (initialDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(initialDelay), initialDelay, "The first expiry must be in the future (Disarm stops a timer).");
        }
        ValidateInterval(interval);
        Set(0, Timespecs.From(initialDelay), interval, trace);
    }

    /// <summary>Arms the timer to expire at a wall-clock time (TFD_TIMER_ABSTIME); Realtime timers only.</summary>
    public void ArmAt(DateTimeOffset when, TimeSpan interval = default, SyscallTrace? trace = null)
    {
        if (Clock != TimerClock.Realtime)
        {
            throw new InvalidOperationException($"Arming at a date needs a Realtime timer; this one runs on {Clock}, whose zero is not a date.");
        }
        ValidateInterval(interval);
        long ticks = (when - DateTimeOffset.UnixEpoch).Ticks;
        if (ticks <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(when), when, "The time must be after 1970.");
        }
        Set(Libc.TFD_TIMER_ABSTIME, new Timespec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 }, interval, trace);
    }

    public void Disarm(SyscallTrace? trace = null) => Set(0, default, TimeSpan.Zero, trace);

    /// <summary>Expirations since the last read, waiting up to <paramref name="timeout"/> for one; null on timeout, and at once when none came and the timer is non-blocking.</summary>
    public ulong? Read(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null) =>
        ReadCounter(timeout, cancellationToken, trace);

    private void Set(int flags, Timespec value, TimeSpan interval, SyscallTrace? trace)
    {
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        var spec = new TimerSpec { Value = value, Interval = Timespecs.From(interval) };
        Syscall.Check(Libc.timerfd_settime(fd, flags, in spec, out _), trace, "timerfd_settime", Description,
            $"{fd}, {(flags == 0 ? "0" : "TFD_TIMER_ABSTIME")}, {{it_interval={spec.Interval}, it_value={spec.Value}}}");
    }

    private TimerSpec Get()
    {
        using HandleLease lease = Lease();
        Syscall.Check(Libc.timerfd_gettime(lease.Fd, out TimerSpec current), null, "timerfd_gettime", Description, $"");
        return current;
    }

    private static void ValidateInterval(TimeSpan interval)
    {
        if (interval < TimeSpan.Zero || interval > Timeouts.Max)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, $"An interval is between 0 (one-shot) and {Timeouts.Max.TotalDays} days.");
        }
    }

    private static string ClockName(TimerClock clock) => clock switch
    {
        TimerClock.Realtime => "CLOCK_REALTIME",
        TimerClock.Boottime => "CLOCK_BOOTTIME",
        _ => "CLOCK_MONOTONIC",
    };
}

internal static class Timespecs
{
    public static Timespec From(TimeSpan span) =>
        new() { Seconds = span.Ticks / TimeSpan.TicksPerSecond, Nanoseconds = span.Ticks % TimeSpan.TicksPerSecond * 100 };

    public static TimeSpan ToTimeSpan(this Timespec value) => TimeSpan.FromTicks(value.Seconds * TimeSpan.TicksPerSecond + value.Nanoseconds / 100);
}
