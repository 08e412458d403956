using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// semaphore.h, time.h (clock_gettime for the wait deadlines).
internal static partial class Libc
{
    /// <summary>sizeof(sem_t) on 64-bit glibc and musl.</summary>
    internal const int SemaphoreSize = 32;
    internal const int SEM_VALUE_MAX = int.MaxValue;
    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_MONOTONIC = 1;

    [LibraryImport(LibpthreadName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial IntPtr sem_open(string name, int flags, int mode, uint value);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_close(IntPtr semaphore);

    [LibraryImport(LibpthreadName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int sem_unlink(string name);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_init(IntPtr semaphore, int processShared, uint value);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_destroy(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_post(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_wait(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_trywait(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_timedwait(IntPtr semaphore, in Timespec absoluteRealtime);

    /// <summary>glibc 2.30+ only; see <see cref="HasSemClockwait"/>.</summary>
    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_clockwait(IntPtr semaphore, int clock, in Timespec absolute);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_getvalue(IntPtr semaphore, out int value);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int clock_gettime(int clock, out Timespec now);

    /// <summary>Whether this libc has sem_clockwait (glibc 2.30+); musl and older glibc wait on CLOCK_REALTIME instead.</summary>
    internal static readonly bool HasSemClockwait = NativeLibrary.TryGetExport(Load(LibpthreadName), "sem_clockwait", out _);
}

[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;

    public readonly Timespec Add(TimeSpan span)
    {
        long totalNanoseconds = Nanoseconds + span.Ticks * 100;
        return new Timespec { Seconds = Seconds + totalNanoseconds / 1_000_000_000, Nanoseconds = totalNanoseconds % 1_000_000_000 };
    }

    public override readonly string ToString() => $"{{tv_sec={Seconds}, tv_nsec={Nanoseconds}}}";
}
