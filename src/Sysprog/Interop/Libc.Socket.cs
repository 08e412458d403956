using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/socket.h, sys/un.h, netinet/in.h (the calls and structures Sysprog needs from them). The constants are Linux's
// asm-generic ones, which x86-64 and arm64 share.
internal static partial class Libc
{
    internal const int AF_UNIX = 1;
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;

    internal const int SOCK_STREAM = 1;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_SEQPACKET = 5;
    internal const int SOCK_NONBLOCK = O_NONBLOCK;
    internal const int SOCK_CLOEXEC = O_CLOEXEC;

    internal const int SOL_SOCKET = 1;
    internal const int SO_REUSEADDR = 2;
    internal const int SO_TYPE = 3;
    internal const int SO_ERROR = 4;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_REUSEPORT = 15;
    internal const int SO_PASSCRED = 16;
    internal const int SO_PEERCRED = 17;
    internal const int SO_ACCEPTCONN = 30;
    internal const int SO_PROTOCOL = 38;
    internal const int SO_DOMAIN = 39;

    internal const int IPPROTO_TCP = 6;
    internal const int IPPROTO_UDP = 17;
    internal const int IPPROTO_IPV6 = 41;
    internal const int IPV6_V6ONLY = 26;

    /// <summary>Ancillary message types at SOL_SOCKET: descriptors, and the sender's pid, uid and gid.</summary>
    internal const int SCM_RIGHTS = 1;
    internal const int SCM_CREDENTIALS = 2;

    /// <summary>The most descriptors one SCM_RIGHTS message carries (SCM_MAX_FD).</summary>
    internal const int SCM_MAX_FD = 253;

    /// <summary>TCP urgent ("out-of-band") data: one byte, reported to poll and epoll as POLLPRI/EPOLLPRI.</summary>
    internal const int MSG_OOB = 0x1;
    internal const int MSG_PEEK = 0x2;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_TRUNC = 0x20;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_EOR = 0x80;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    internal const int SHUT_RD = 0;
    internal const int SHUT_WR = 1;
    internal const int SHUT_RDWR = 2;

    /// <summary>sizeof(sun_path): a filesystem path of at most 107 bytes plus its NUL, an abstract name of at most 107.</summary>
    internal const int UnixPathCapacity = 108;

    /// <summary>offsetof(struct sockaddr_un, sun_path).</summary>
    internal const int UnixPathOffset = 2;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int bind(int fd, byte* address, uint length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int listen(int fd, int backlog);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int accept4(int fd, byte* address, uint* length, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int connect(int fd, byte* address, uint length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int getsockname(int fd, byte* address, uint* length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int getpeername(int fd, byte* address, uint* length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int getsockopt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint sendmsg(int fd, MessageHeader* message, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint recvmsg(int fd, MessageHeader* message, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    /// <summary>CMSG_ALIGN: ancillary headers and data are aligned to size_t.</summary>
    internal static int ControlAlign(int length) => (length + nint.Size - 1) & ~(nint.Size - 1);

    /// <summary>CMSG_SPACE: the room one ancillary message with <paramref name="dataLength"/> bytes of data takes.</summary>
    internal static unsafe int ControlSpace(int dataLength) => ControlAlign(sizeof(ControlHeader)) + ControlAlign(dataLength);

    /// <summary>CMSG_LEN: the cmsg_len of one ancillary message with <paramref name="dataLength"/> bytes of data.</summary>
    internal static unsafe int ControlLength(int dataLength) => ControlAlign(sizeof(ControlHeader)) + dataLength;

    /// <summary>A socket type as socket(2) takes it, with its flags (SOCK_STREAM|SOCK_CLOEXEC), or accept4's flags alone.</summary>
    internal static string SocketTypeText(int type)
    {
        string? kind = (type & SocketTypeMask) switch
        {
            0 => null,
            SOCK_STREAM => "SOCK_STREAM",
            SOCK_DGRAM => "SOCK_DGRAM",
            SOCK_SEQPACKET => "SOCK_SEQPACKET",
            int other => other.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        string flags = TraceFormat.Flags(type & ~SocketTypeMask, SocketTypeFlagNames, "");
        return kind is null ? flags is "" ? "0" : flags : flags is "" ? kind : $"{kind}|{flags}";
    }

    // The kernel's SOCK_TYPE_MASK: the type proper; the bits above it are flags.
    private const int SocketTypeMask = 0xf;

    private static readonly (long, string)[] SocketTypeFlagNames = [(SOCK_CLOEXEC, "SOCK_CLOEXEC"), (SOCK_NONBLOCK, "SOCK_NONBLOCK")];

    internal static string FamilyText(int family) => family switch
    {
        AF_UNIX => "AF_UNIX",
        AF_INET => "AF_INET",
        AF_INET6 => "AF_INET6",
        _ => family.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    internal static string MessageFlagsText(int flags) => TraceFormat.Flags(flags, MessageFlagNames, "0");

    private static readonly (long, string)[] MessageFlagNames =
    [
        (MSG_OOB, "MSG_OOB"), (MSG_PEEK, "MSG_PEEK"), (MSG_CTRUNC, "MSG_CTRUNC"), (MSG_TRUNC, "MSG_TRUNC"), (MSG_DONTWAIT, "MSG_DONTWAIT"), (MSG_EOR, "MSG_EOR"),
        (MSG_NOSIGNAL, "MSG_NOSIGNAL"), (MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC"),
    ];
}

/// <summary>struct msghdr.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MessageHeader
{
    public byte* Name;
    public uint NameLength;
    public IoVec* Vectors;
    public nuint VectorCount;
    public byte* Control;
    public nuint ControlLength;
    public int Flags;
}

/// <summary>struct cmsghdr; its data follows at <see cref="Libc.ControlAlign"/>(sizeof(cmsghdr)).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ControlHeader
{
    public nuint Length;
    public int Level;
    public int Type;
}

/// <summary>struct ucred: SO_PEERCRED's answer and SCM_CREDENTIALS's data.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UnixCredentials
{
    public int ProcessId;
    public uint UserId;
    public uint GroupId;
}
