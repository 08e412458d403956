using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// The kernel's table of UNIX sockets over netlink (sock_diag, as ss -x reads it): each socket's name, its peer's
/// inode, its queues and its owner, which /proc/net/unix does not show.
/// </summary>
internal static class UnixDiag
{
    /// <summary>Every UNIX socket of this network namespace; null when the kernel has no UNIX sock_diag (CONFIG_UNIX_DIAG), so /proc/net/unix must do.</summary>
    public static List<SocketInfo>? Read(SyscallTrace? trace)
    {
        var request = new UnixDiagRequest
        {
            Family = Libc.AF_UNIX, States = uint.MaxValue, Show = Libc.UDIAG_SHOW_NAME | Libc.UDIAG_SHOW_PEER | Libc.UDIAG_SHOW_RQLEN | Libc.UDIAG_SHOW_UID,
        };
        List<(SocketInfo Socket, uint Peer)>? sockets = SockDiag.Dump(request,
            "sdiag_family=AF_UNIX, udiag_states=-1, udiag_show=UDIAG_SHOW_NAME|UDIAG_SHOW_PEER|UDIAG_SHOW_RQLEN|UDIAG_SHOW_UID", Socket, trace);
        if (sockets is null)
        {
            return null;
        }
        var names = sockets.Where(s => s.Socket.LocalAddress.Length > 0).ToDictionary(s => s.Socket.Inode, s => s.Socket.LocalAddress);
        return sockets.Select(s => s.Peer == 0 ? s.Socket : new SocketInfo(s.Socket) { PeerInode = s.Peer, PeerAddress = names.GetValueOrDefault(s.Peer) }).ToList();
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
