using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/timerfd.h
internal static partial class Libc
{
    internal const int CLOCK_BOOTTIME = 7;
    internal const int TFD_NONBLOCK = O_NONBLOCK;
    internal const int TFD_CLOEXEC = O_CLOEXEC;
    internal const int TFD_TIMER_ABSTIME = 1;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int timerfd_create(int clock, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int timerfd_settime(int fd, int flags, in TimerSpec value, out TimerSpec previous);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int timerfd_gettime(int fd, out TimerSpec current);
}

/// <summary>struct itimerspec.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TimerSpec
{
    public Timespec Interval;
    public Timespec Value;
}
