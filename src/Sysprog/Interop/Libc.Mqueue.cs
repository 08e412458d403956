using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Sysprog.Interop;

// mqueue.h. On Linux an mqd_t is a file descriptor: it can be polled, and mq_close is close(2).
internal static partial class Libc
{
    /// <summary>The kernel's ceilings, which even privileged callers cannot pass (HARD_MSGMAX, HARD_MSGSIZEMAX).</summary>
    internal const long HardMessageCountMax = 65536;
    internal const long HardMessageSizeMax = 16 * 1024 * 1024;

    /// <summary>sysconf(_SC_MQ_PRIO_MAX) on Linux: priorities are 0 to 32767.</summary>
    internal const int MqPriorityMax = 32768;

    [LibraryImport(LibrtName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mq_open([MarshalUsing(typeof(EscapedNameMarshaller))] string name, int flags, int mode, in MqAttributes attributes);

    [LibraryImport(LibrtName, EntryPoint = "mq_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mq_open_existing([MarshalUsing(typeof(EscapedNameMarshaller))] string name, int flags);

    [LibraryImport(LibrtName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mq_unlink([MarshalUsing(typeof(EscapedNameMarshaller))] string name);

    [LibraryImport(LibrtName, SetLastError = true)]
    internal static partial int mq_getattr(int queue, out MqAttributes attributes);

    // sigev_notify values (signal.h).
    internal const int SIGEV_SIGNAL = 0;
    internal const int SIGEV_THREAD = 2;

    /// <summary>Registers (or, with null, unregisters) this process for the queue's next arrival on an empty queue.</summary>
    [LibraryImport(LibrtName, SetLastError = true)]
    internal static unsafe partial int mq_notify(int queue, SigEvent* notification);

    [LibraryImport(LibrtName, SetLastError = true)]
    internal static partial int mq_setattr(int queue, in MqAttributes attributes, out MqAttributes previous);

    [LibraryImport(LibrtName, SetLastError = true)]
    internal static unsafe partial int mq_timedsend(int queue, byte* body, nuint length, uint priority, Timespec* absoluteRealtime);

    [LibraryImport(LibrtName, SetLastError = true)]
    internal static unsafe partial nint mq_timedreceive(int queue, byte* buffer, nuint length, out uint priority, Timespec* absoluteRealtime);
}

/// <summary>struct mq_attr: four longs and reserved space.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MqAttributes
{
    public long Flags;
    public long MaxMessages;
    public long MessageSize;
    public long CurrentMessages;
    private long _reserved0;
    private long _reserved1;
    private long _reserved2;
    private long _reserved3;
}

/// <summary>struct sigevent (64 bytes on Linux): how mq_notify delivers, by signal or on a thread the C library starts.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct SigEvent
{
    /// <summary>sigev_value: passed to the thread function, or carried in the signal's si_value.</summary>
    [FieldOffset(0)]
    public IntPtr Value;

    [FieldOffset(8)]
    public int Signal;

    [FieldOffset(12)]
    public int Notify;

    /// <summary>sigev_notify_function, for SIGEV_THREAD: void (*)(union sigval).</summary>
    [FieldOffset(16)]
    public IntPtr Function;

    /// <summary>sigev_notify_attributes: pthread_attr_t*, or NULL for the defaults.</summary>
    [FieldOffset(24)]
    public IntPtr Attributes;
}

