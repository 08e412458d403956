using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// time.h: the clocks, clock_gettime and clock_nanosleep.
internal static partial class Libc
{
    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_MONOTONIC = 1;

    /// <summary>clock_nanosleep's flag: the time is a deadline on the clock, not a duration.</summary>
    internal const int TIMER_ABSTIME = 1;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int clock_gettime(int clock, out Timespec now);

    /// <summary>Returns 0 or an error number (not -1 and errno); EINTR when a signal handler ran.</summary>
    [LibraryImport(LibcName)]
    internal static partial int clock_nanosleep(int clock, int flags, in Timespec request, IntPtr remaining);
}

[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Timespec Add(TimeSpan span)
    {
        long totalNanoseconds = Nanoseconds + span.Ticks * 100;
        return new Timespec { Seconds = Seconds + totalNanoseconds / 1_000_000_000, Nanoseconds = totalNanoseconds % 1_000_000_000 };
    }

    public override readonly string ToString() => $"{{tv_sec={Seconds}, tv_nsec={Nanoseconds}}}";
}
