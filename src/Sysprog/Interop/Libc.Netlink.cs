using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// linux/netlink.h, linux/sock_diag.h, linux/unix_diag.h: the kernel's socket table over netlink, which says what
// /proc/net/unix does not (each UNIX socket's peer and queues).
internal static partial class Libc
{
    internal const int AF_NETLINK = 16;
    internal const int NETLINK_SOCK_DIAG = 4;
    internal const ushort SOCK_DIAG_BY_FAMILY = 20;

    internal const ushort NLM_F_REQUEST = 0x1;
    internal const ushort NLM_F_DUMP = 0x300;
    internal const ushort NLMSG_ERROR = 0x2;
    internal const ushort NLMSG_DONE = 0x3;

    internal const uint UDIAG_SHOW_NAME = 0x1;
    internal const uint UDIAG_SHOW_PEER = 0x4;
    internal const uint UDIAG_SHOW_RQLEN = 0x10;
    internal const uint UDIAG_SHOW_UID = 0x40;

    // Attributes of a unix_diag_msg.
    internal const ushort UNIX_DIAG_NAME = 0;
    internal const ushort UNIX_DIAG_PEER = 2;
    internal const ushort UNIX_DIAG_RQLEN = 4;
    internal const ushort UNIX_DIAG_UID = 7;

    /// <summary>NLMSG_ALIGN and RTA_ALIGN: netlink messages and their attributes are 4-byte aligned.</summary>
    internal static int NetlinkAlign(int length) => (length + 3) & ~3;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint sendto(int fd, void* buffer, nuint length, int flags, void* address, uint addressLength);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial nint recv(int fd, void* buffer, nuint length, int flags);
}

/// <summary>struct nlmsghdr.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NetlinkHeader
{
    public uint Length;
    public ushort Type;
    public ushort Flags;
    public uint Sequence;
    public uint PortId;
}

/// <summary>struct unix_diag_req: which UNIX sockets to dump (all states) and what to show of each.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UnixDiagRequest
{
    public byte Family;
    public byte Protocol;
    public ushort Padding;
    public uint States;
    public uint Inode;
    public uint Show;
    public ulong Cookie;
}

/// <summary>struct unix_diag_msg: one socket; its attributes (struct rtattr each) follow.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UnixDiagMessage
{
    public byte Family;
    public byte Type;
    public byte State;
    public byte Padding;
    public uint Inode;
    public ulong Cookie;
}

/// <summary>struct inet_diag_sockid: the ports (big-endian), addresses (the first 4 bytes for IPv4), interface and cookie.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct InetDiagSocketId
{
    public ushort SourcePort;
    public ushort DestinationPort;
    public fixed byte Source[16];
    public fixed byte Destination[16];
    public uint Interface;
    public fixed uint Cookie[2];
}

/// <summary>struct inet_diag_req_v2: which TCP or UDP sockets of one family to dump (a mask of states).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct InetDiagRequest
{
    public byte Family;
    public byte Protocol;
    public byte Extensions;
    public byte Padding;
    public uint States;
    public InetDiagSocketId Id;
}

/// <summary>struct inet_diag_msg: one socket, with its queues (for a listener, the accept queue and the backlog), owner and inode.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct InetDiagMessage
{
    public byte Family;
    public byte State;
    public byte Timer;
    public byte Retransmits;
    public InetDiagSocketId Id;
    public uint Expires;
    public uint ReceiveQueue;
    public uint SendQueue;
    public uint Uid;
    public uint Inode;
}
