using System.Runtime.InteropServices;

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
    internal static partial int mq_open(string name, int flags, int mode, in MqAttributes attributes);

    [LibraryImport(LibrtName, EntryPoint = "mq_open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mq_open_existing(string name, int flags);

    [LibraryImport(LibrtName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mq_unlink(string name);

    [LibraryImport(LibrtName, SetLastError = true)]
    internal static partial int mq_getattr(int queue, out MqAttributes attributes);

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
