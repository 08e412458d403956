using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// The kernel's table of UNIX sockets over netlink (sock_diag, as ss -x reads it): each socket's name, its peer's
/// inode, its queues and its owner, which /proc/net/unix does not show.
/// </summary>
internal static class UnixDiag
{
    private const string Target = "sock_diag";

    [StructLayout(LayoutKind.Sequential)]
    private struct Request
    {
        public NetlinkHeader Header;
        public UnixDiagRequest Body;
    }

    /// <summary>Every UNIX socket of this network namespace; null when the kernel has no UNIX sock_diag (CONFIG_UNIX_DIAG), so /proc/net/unix must do.</summary>
    public static unsafe List<SocketInfo>? Read(SyscallTrace? trace)
    {
        SyscallResult opened = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.NETLINK_SOCK_DIAG);
        if (opened.Errno is Errno.EPROTONOSUPPORT or Errno.EAFNOSUPPORT)
        {
            Syscall.Traced(opened, trace, "socket", $"AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_SOCK_DIAG");
            return null;
        }
        var netlink = new SafeFdHandle(Syscall.Check(opened, trace, "socket", Target, $"AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_SOCK_DIAG"));
        List<(SocketInfo Socket, uint Peer)>? sockets;
        try
        {
            sockets = Dump(netlink, trace);
        }
        finally
        {
            netlink.Close(trace);
        }
        if (sockets is null)
        {
            return null;
        }
        var names = sockets.Where(s => s.Socket.LocalAddress.Length > 0).ToDictionary(s => s.Socket.Inode, s => s.Socket.LocalAddress);
        return sockets.Select(s => s.Peer == 0 ? s.Socket : new SocketInfo(s.Socket) { PeerInode = s.Peer, PeerAddress = names.GetValueOrDefault(s.Peer) }).ToList();
    }

    /// <summary>One dump of every UNIX socket over the netlink socket; null when the kernel has no unix_diag handler.</summary>
    private static unsafe List<(SocketInfo Socket, uint Peer)>? Dump(SafeFdHandle netlink, SyscallTrace? trace)
    {
        using HandleLease lease = netlink.Lease(Target);
        var request = new Request
        {
            Header = { Length = (uint)sizeof(Request), Type = Libc.SOCK_DIAG_BY_FAMILY, Flags = Libc.NLM_F_REQUEST | Libc.NLM_F_DUMP, Sequence = 1 },
            Body = { Family = Libc.AF_UNIX, States = uint.MaxValue, Show = Libc.UDIAG_SHOW_NAME | Libc.UDIAG_SHOW_PEER | Libc.UDIAG_SHOW_RQLEN | Libc.UDIAG_SHOW_UID },
        };
        // The kernel's netlink address: family AF_NETLINK, port 0.
        byte* kernel = stackalloc byte[12];
        new Span<byte>(kernel, 12).Clear();
        *(ushort*)kernel = Libc.AF_NETLINK;
        Syscall.CheckCount(Libc.sendto(lease.Fd, &request, (nuint)sizeof(Request), 0, kernel, 12), trace, "sendto", Target,
            $"{lease.Fd}, {{SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST|NLM_F_DUMP, {{sdiag_family=AF_UNIX, udiag_states=-1, udiag_show=UDIAG_SHOW_NAME|UDIAG_SHOW_PEER|UDIAG_SHOW_RQLEN|UDIAG_SHOW_UID}}}}, {sizeof(Request)}, 0, {{sa_family=AF_NETLINK}}, 12");
        var sockets = new List<(SocketInfo Socket, uint Peer)>();
        byte[] buffer = new byte[32 * 1024];
        Errno error;
        while (true)
        {
            SyscallResult received;
            do
            {
                fixed (byte* start = buffer)
                {
                    received = Libc.recv(lease.Fd, start, (nuint)buffer.Length, 0);
                }
            }
            while (received.Errno == Errno.EINTR);
            int length = (int)Syscall.CheckCount(received, trace, "recv", Target, $"{lease.Fd}, ..., {buffer.Length}, 0");
            if (!Parse(buffer.AsSpan(0, length), sockets, out error))
            {
                break;
            }
        }
        // ENOENT: the kernel has no unix_diag handler (a module that could not be loaded).
        return error switch
        {
            Errno.None => sockets,
            Errno.ENOENT => null,
            _ => throw new SysprogException(error, "recv", Target),
        };
    }

    /// <summary>The messages of one datagram; false once the dump is done (NLMSG_DONE) or failed (then <paramref name="error"/>).</summary>
    private static bool Parse(ReadOnlySpan<byte> datagram, List<(SocketInfo, uint)> sockets, out Errno error)
    {
        error = Errno.None;
        int headerSize = Marshal.SizeOf<NetlinkHeader>();
        for (int offset = 0; offset + headerSize <= datagram.Length;)
        {
            NetlinkHeader header = MemoryMarshal.Read<NetlinkHeader>(datagram[offset..]);
            if (header.Length < headerSize || offset + header.Length > datagram.Length)
            {
                break;
            }
            ReadOnlySpan<byte> payload = datagram.Slice(offset + headerSize, (int)header.Length - headerSize);
            switch (header.Type)
            {
                case Libc.NLMSG_DONE:
                    return false;
                case Libc.NLMSG_ERROR:
                    error = (Errno)(-MemoryMarshal.Read<int>(payload));
                    return error == Errno.None;
                default:
                    sockets.Add(Socket(payload));
                    break;
            }
            offset += Libc.NetlinkAlign((int)header.Length);
        }
        return true;
    }

    private static (SocketInfo, uint Peer) Socket(ReadOnlySpan<byte> payload)
    {
        UnixDiagMessage message = MemoryMarshal.Read<UnixDiagMessage>(payload);
        string name = "";
        uint peer = 0;
        long? receiveQueue = null;
        long? sendQueue = null;
        uint? userId = null;
        int start = Marshal.SizeOf<UnixDiagMessage>();
        // struct rtattr: a 2-byte length (its own 4 bytes included) and a 2-byte type, then the data.
        for (int offset = start; offset + 4 <= payload.Length;)
        {
            ushort length = MemoryMarshal.Read<ushort>(payload[offset..]);
            ushort type = MemoryMarshal.Read<ushort>(payload[(offset + 2)..]);
            if (length < 4 || offset + length > payload.Length)
            {
                break;
            }
            ReadOnlySpan<byte> data = payload.Slice(offset + 4, length - 4);
            switch (type)
            {
                case Libc.UNIX_DIAG_NAME when data.Length > 0:
                    // Any user can bind any bytes (ESC, newline, invalid UTF-8): the name is shown escaped.
                    name = data[0] == 0 ? "@" + NameEscaping.Escape(data[1..]) : NameEscaping.Escape(data[..(data.IndexOf((byte)0) is int end and >= 0 ? end : data.Length)]);
                    break;
                case Libc.UNIX_DIAG_PEER when data.Length >= 4:
                    peer = MemoryMarshal.Read<uint>(data);
                    break;
                case Libc.UNIX_DIAG_RQLEN when data.Length >= 8:
                    receiveQueue = MemoryMarshal.Read<uint>(data);
                    sendQueue = MemoryMarshal.Read<uint>(data[4..]);
                    break;
                case Libc.UNIX_DIAG_UID when data.Length >= 4:
                    userId = MemoryMarshal.Read<uint>(data);
                    break;
            }
            offset += Libc.NetlinkAlign(length);
        }
        var socket = new SocketInfo(SocketProtocol.Unix, SocketFamily.Unix, (SocketKind)message.Type, SocketTable.StateName(message.State), name, null, null, null,
            receiveQueue, sendQueue, message.Inode, userId);
        return (socket, peer);
    }
}
