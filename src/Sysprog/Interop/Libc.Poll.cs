using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// poll.h
internal static partial class Libc
{
    internal const short POLLIN = 0x001;
    internal const short POLLPRI = 0x002;
    internal const short POLLOUT = 0x004;
    internal const short POLLERR = 0x008;
    internal const short POLLHUP = 0x010;

    /// <summary>The peer shut down its sending side (or closed): asked for explicitly, never reported unasked.</summary>
    internal const short POLLRDHUP = 0x2000;
    internal const short POLLNVAL = 0x020;

    // The finer bits the kernel also sets in a SIGIO's si_band (POLL_IN is POLLIN|POLLRDNORM, POLL_OUT
    // POLLOUT|POLLWRNORM|POLLWRBAND, POLL_MSG adds POLLMSG, POLL_PRI is POLLPRI|POLLRDBAND): named, so a band reads whole.
    internal const short POLLRDNORM = 0x040;
    internal const short POLLRDBAND = 0x080;
    internal const short POLLWRNORM = 0x100;
    internal const short POLLWRBAND = 0x200;
    internal const short POLLMSG = 0x400;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    internal static string PollEventsText(short events) =>
        TraceFormat.Flags(events, PollEventNames, "0");

    private static readonly (long, string)[] PollEventNames =
        [(POLLIN, "POLLIN"), (POLLPRI, "POLLPRI"), (POLLOUT, "POLLOUT"), (POLLERR, "POLLERR"), (POLLHUP, "POLLHUP"), (POLLNVAL, "POLLNVAL"),
         (POLLRDNORM, "POLLRDNORM"), (POLLRDBAND, "POLLRDBAND"), (POLLWRNORM, "POLLWRNORM"), (POLLWRBAND, "POLLWRBAND"), (POLLMSG, "POLLMSG"), (POLLRDHUP, "POLLRDHUP")];
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short ReturnedEvents;
}
