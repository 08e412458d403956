using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>Makes one entry of a sock_diag answer from its message (the family's *_diag_msg and its attributes).</summary>
internal delegate T SockDiagReader<T>(ReadOnlySpan<byte> message);

/// <summary>
/// The kernel's socket tables over netlink (NETLINK_SOCK_DIAG), as ss reads them: one SOCK_DIAG_BY_FAMILY dump
/// request per table, answered by a message per socket. UnixDiag and InetDiag make the requests and read the answers.
/// </summary>
internal static class SockDiag
{
    private const string Target = "sock_diag";

    [StructLayout(LayoutKind.Sequential)]
    private struct Request<TBody>
        where TBody : unmanaged
    {
        public NetlinkHeader Header;
        public TBody Body;
    }

    /// <summary>
    /// Dumps one table: every socket <paramref name="body"/> asks for, each read by <paramref name="read"/>. Null when
    /// the kernel cannot answer (no NETLINK_SOCK_DIAG, or no handler for the family or protocol: a module such as
    /// unix_diag or udp_diag not built or not loadable), so the /proc/net table must stand in.
    /// </summary>
    public static unsafe List<T>? Dump<TBody, T>(TBody body, string bodyText, SockDiagReader<T> read, SyscallTrace? trace)
        where TBody : unmanaged
    {
        SyscallResult opened = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.NETLINK_SOCK_DIAG);
        if (opened.Errno is Errno.EPROTONOSUPPORT or Errno.EAFNOSUPPORT)
        {
            Syscall.Traced(opened, trace, "socket", $"AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_SOCK_DIAG");
            return null;
        }
        var netlink = new SafeFdHandle(Syscall.Check(opened, trace, "socket", Target, $"AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_SOCK_DIAG"));
        try
        {
            using HandleLease lease = netlink.Lease(Target);
            var request = new Request<TBody>
            {
                Header = { Length = (uint)sizeof(Request<TBody>), Type = Libc.SOCK_DIAG_BY_FAMILY, Flags = Libc.NLM_F_REQUEST | Libc.NLM_F_DUMP, Sequence = 1 },
                Body = body,
            };
            // The kernel's netlink address: family AF_NETLINK, port 0.
            byte* kernel = stackalloc byte[12];
            new Span<byte>(kernel, 12).Clear();
            *(ushort*)kernel = Libc.AF_NETLINK;
            Syscall.CheckCount(Libc.sendto(lease.Fd, &request, (nuint)sizeof(Request<TBody>), 0, kernel, 12), trace, "sendto", Target,
                $"{lease.Fd}, {{SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST|NLM_F_DUMP, {{{bodyText}}}}}, {sizeof(Request<TBody>)}, 0, {{sa_family=AF_NETLINK}}, 12");
            var entries = new List<T>();
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
                if (!Parse(buffer.AsSpan(0, length), entries, read, out error))
                {
                    break;
                }
            }
            // ENOENT: no handler for the family or protocol (a module that could not be loaded).
            return error switch
            {
                Errno.None => entries,
                Errno.ENOENT => null,
                _ => throw new SysprogException(error, "recv", Target),
            };
        }
        finally
        {
            netlink.Close(trace);
        }
    }

    /// <summary>The messages of one datagram; false once the dump is done (NLMSG_DONE) or failed (then <paramref name="error"/>).</summary>
    private static bool Parse<T>(ReadOnlySpan<byte> datagram, List<T> entries, SockDiagReader<T> read, out Errno error)
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
                    entries.Add(read(payload));
                    break;
            }
            offset += Libc.NetlinkAlign((int)header.Length);
        }
        return true;
    }
}
