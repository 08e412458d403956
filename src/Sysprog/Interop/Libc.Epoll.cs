using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/epoll.h
internal static partial class Libc
{
    internal const int EPOLL_CLOEXEC = O_CLOEXEC;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLPRI = 0x002;
    internal const uint EPOLLOUT = 0x004;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;
    internal const uint EPOLLRDHUP = 0x2000;
    internal const uint EPOLLEXCLUSIVE = 1u << 28;
    internal const uint EPOLLONESHOT = 1u << 30;
    internal const uint EPOLLET = 1u << 31;

    internal static string EpollEventsText(uint events) => TraceFormat.Flags(events, EpollEventNames, "0");

    private static readonly (long, string)[] EpollEventNames =
    [
        (EPOLLIN, "EPOLLIN"), (EPOLLPRI, "EPOLLPRI"), (EPOLLOUT, "EPOLLOUT"), (EPOLLERR, "EPOLLERR"), (EPOLLHUP, "EPOLLHUP"), (EPOLLRDHUP, "EPOLLRDHUP"),
        (EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"), (EPOLLONESHOT, "EPOLLONESHOT"), (EPOLLET, "EPOLLET"),
    ];

    // struct epoll_event { uint32_t events; uint64_t data; } is packed on x86-64 (12 bytes) and naturally aligned
    // elsewhere (16 bytes), so it is handled as bytes with the layout chosen at run time.
    internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    internal static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int epoll_ctl(int epfd, int operation, int fd, byte* ev);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeoutMilliseconds);

    internal static unsafe void WriteEpollEvent(byte* ev, uint events, ulong data)
    {
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
    }

    internal static unsafe (uint Events, ulong Data) ReadEpollEvent(byte* ev) => (*(uint*)ev, *(ulong*)(ev + EpollDataOffset));
}
