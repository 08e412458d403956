using System.Net;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// The kernel's tables of TCP and UDP sockets over netlink (inet_diag, as ss -t and -u read them). They say what
/// /proc/net/tcp does not: a listener's Send-Q is its backlog (listen's argument, capped by somaxconn), where the
/// /proc table prints 0.
/// </summary>
internal static class InetDiag
{
    /// <summary>
    /// TCP states 1 to 11 and 12 (TCP_NEW_SYN_RECV, connection requests, reported as SYN-RECV): what /proc/net/tcp
    /// lists. Bit 13 (TCP_BOUND_INACTIVE, Linux 6.7) would add sockets only bound, which it does not.
    /// </summary>
    private const uint ListedStates = 0x1FFE;

    /// <summary>The sockets of one protocol and family; null when the kernel has no inet_diag handler for them, so /proc/net must do.</summary>
    public static List<SocketInfo>? Read(SocketProtocol protocol, SocketFamily family, SyscallTrace? trace)
    {
        byte familyCode = (byte)(family == SocketFamily.IPv6 ? Libc.AF_INET6 : Libc.AF_INET);
        byte protocolCode = (byte)(protocol == SocketProtocol.Tcp ? Libc.IPPROTO_TCP : Libc.IPPROTO_UDP);
        var request = new InetDiagRequest { Family = familyCode, Protocol = protocolCode, States = ListedStates };
        var interfaces = new Dictionary<uint, string?>();
        return SockDiag.Dump(request,
            $"sdiag_family={(family == SocketFamily.IPv6 ? "AF_INET6" : "AF_INET")}, sdiag_protocol={(protocol == SocketProtocol.Tcp ? "IPPROTO_TCP" : "IPPROTO_UDP")}, idiag_states=0x{ListedStates:x}",
            message => Socket(protocol, family, message, interfaces), trace);
    }

    /// <summary>An interface's name by its index (if_indextoname), once per index; null for one gone meanwhile.</summary>
    private static unsafe string? InterfaceName(uint index, Dictionary<uint, string?> known)
    {
        if (!known.TryGetValue(index, out string? name))
        {
            byte* buffer = stackalloc byte[Libc.IF_NAMESIZE];
            byte* found = Libc.if_indextoname(index, buffer);
            known[index] = name = found == null ? null : NameEscaping.Escape(new ReadOnlySpan<byte>(found, new ReadOnlySpan<byte>(found, Libc.IF_NAMESIZE).IndexOf((byte)0)));
        }
        return name;
    }

    private static unsafe SocketInfo Socket(SocketProtocol protocol, SocketFamily family, ReadOnlySpan<byte> payload, Dictionary<uint, string?> interfaces)
    {
        InetDiagMessage message = MemoryMarshal.Read<InetDiagMessage>(payload);
        int addressLength = family == SocketFamily.IPv6 ? 16 : 4;
        int localPort = (ushort)IPAddress.NetworkToHostOrder((short)message.Id.SourcePort);
        int peerPort = (ushort)IPAddress.NetworkToHostOrder((short)message.Id.DestinationPort);
        var local = new IPAddress(new ReadOnlySpan<byte>(message.Id.Source, addressLength));
        var peer = new IPAddress(new ReadOnlySpan<byte>(message.Id.Destination, addressLength));
        bool connected = peerPort != 0;
        // A UDP socket's state is TCP_ESTABLISHED once connected and TCP_CLOSE otherwise, which ss names ESTAB and UNCONN.
        return new SocketInfo(protocol, family, protocol == SocketProtocol.Tcp ? SocketKind.Stream : SocketKind.Datagram, SocketTable.StateName(message.State),
            SocketEndpoint.Internet(local, localPort).ToString(), connected ? SocketEndpoint.Internet(peer, peerPort).ToString() : null, localPort,
            connected ? peerPort : null, message.ReceiveQueue, message.SendQueue, message.Inode, message.Uid)
        {
            Interface = message.Id.Interface == 0 ? null : InterfaceName(message.Id.Interface, interfaces),
        };
    }
}
