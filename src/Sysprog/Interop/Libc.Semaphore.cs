using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Sysprog.Interop;

// semaphore.h (the clocks and clock_gettime of its deadlines are in Libc.Time.cs).
internal static partial class Libc
{
    /// <summary>sizeof(sem_t) on 64-bit glibc and musl.</summary>
    internal const int SemaphoreSize = 32;
    internal const int SEM_VALUE_MAX = int.MaxValue;

    [LibraryImport(LibpthreadName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial IntPtr sem_open([MarshalUsing(typeof(EscapedNameMarshaller))] string name, int flags, int mode, uint value);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_close(IntPtr semaphore);

    [LibraryImport(LibpthreadName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int sem_unlink([MarshalUsing(typeof(EscapedNameMarshaller))] string name);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_init(IntPtr semaphore, int processShared, uint value);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_destroy(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static partial int sem_post(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static partial int sem_wait(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static partial int sem_trywait(IntPtr semaphore);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_timedwait(IntPtr semaphore, in Timespec absoluteRealtime);

    /// <summary>glibc 2.30+ only; see <see cref="HasSemClockwait"/>.</summary>
    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_clockwait(IntPtr semaphore, int clock, in Timespec absolute);

    [LibraryImport(LibpthreadName, SetLastError = true)]
    internal static partial int sem_getvalue(IntPtr semaphore, out int value);

    /// <summary>Whether this libc has sem_clockwait (glibc 2.30+); musl and older glibc wait on CLOCK_REALTIME instead.</summary>
    internal static readonly bool HasSemClockwait = NativeLibrary.TryGetExport(Load(LibpthreadName), "sem_clockwait", out _);
}
