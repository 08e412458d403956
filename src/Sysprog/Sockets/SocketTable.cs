using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>The protocols the socket listing covers.</summary>
public enum SocketProtocol
{
    Unix,
    Tcp,
    Udp,
}

/// <summary>A process that holds a socket: which descriptor of which process.</summary>
public sealed class SocketHolder(int processId, string? processName, int fd)
{
    public int ProcessId { get; } = processId;

    /// <summary>/proc/PID/comm; null when the process ended before it was read.</summary>
    public string? ProcessName { get; } = processName;

    public int Fd { get; } = fd;

    public override string ToString() => $"{ProcessName ?? "?"}/{ProcessId}:{Fd}";
}

/// <summary>One socket of the machine (of this network namespace), as the kernel's tables show it: what `ss` lists.</summary>
public sealed class SocketInfo
{
    internal SocketInfo(SocketProtocol protocol, SocketFamily family, SocketKind kind, string state, string local, string? peer, int? localPort,
        int? peerPort, long? receiveQueue, long? sendQueue, ulong inode, uint? userId)
    {
        Protocol = protocol;
        Family = family;
        Kind = kind;
        State = state;
        LocalAddress = local;
        PeerAddress = peer;
        LocalPort = localPort;
        PeerPort = peerPort;
        ReceiveQueue = receiveQueue;
        SendQueue = sendQueue;
        Inode = inode;
        UserId = userId;
    }

    /// <summary>A copy, for a with-like change of the init-only properties.</summary>
    internal SocketInfo(SocketInfo other) : this(other.Protocol, other.Family, other.Kind, other.State, other.LocalAddress, other.PeerAddress,
        other.LocalPort, other.PeerPort, other.ReceiveQueue, other.SendQueue, other.Inode, other.UserId)
    {
        PeerInode = other.PeerInode;
        Interface = other.Interface;
    }

    public SocketProtocol Protocol { get; }

    public SocketFamily Family { get; }

    public SocketKind Kind { get; }

    /// <summary>As ss names them: LISTEN, ESTAB, UNCONN, TIME-WAIT, CLOSE-WAIT, SYN-SENT...</summary>
    public string State { get; }

    /// <summary>A path, @name, or address:port ([address]:port for IPv6); empty for an unnamed UNIX socket.</summary>
    public string LocalAddress { get; }

    /// <summary>The peer's address: address:port for TCP and UDP, the peer's path or @name for a UNIX socket; null when unconnected, or when the UNIX peer has no name.</summary>
    public string? PeerAddress { get; internal init; }

    /// <summary>A connected UNIX socket's peer, by inode (socket:[N]): Get-Socket lists it, with its holders.</summary>
    public ulong? PeerInode { get; internal init; }

    public int? LocalPort { get; }

    /// <summary>
    /// The network interface a TCP or UDP socket is bound to (SO_BINDTODEVICE), which ss writes after a % in the local
    /// address (127.0.0.53%lo:53); null when it is bound to none, or where the kernel's table does not say (/proc/net).
    /// </summary>
    public string? Interface { get; internal init; }

    /// <summary>
    /// The local address as ss shows it: with the bound interface after a % before the port (127.0.0.53%lo:53,
    /// [fe80::1]%eth0:22); the local address as it is where the socket is bound to no interface.
    /// </summary>
    public string LocalAddressWithInterface
    {
        get
        {
            int portSeparator = LocalAddress.LastIndexOf(':');
            return Interface is null || LocalPort is null || portSeparator < 0
                ? LocalAddress
                : $"{LocalAddress[..portSeparator]}%{Interface}{LocalAddress[portSeparator..]}";
        }
    }

    public int? PeerPort { get; }

    /// <summary>Bytes waiting to be read (for a listening socket, connections waiting to be accepted); null where the table does not say.</summary>
    public long? ReceiveQueue { get; }

    /// <summary>Bytes not yet sent or acknowledged (for a listening socket, its backlog); null where the table does not say.</summary>
    public long? SendQueue { get; }

    /// <summary>The socket's inode: socket:[N] in /proc/PID/fd.</summary>
    public ulong Inode { get; }

    /// <summary>The owner; for UNIX sockets only where sock_diag says (Linux 5.3 or later).</summary>
    public uint? UserId { get; }

    public string? UserName => UserId is uint id ? Accounts.UserName(id) : null;

    /// <summary>The processes that hold it, among those this user may inspect (all of them as root).</summary>
    public IReadOnlyList<SocketHolder> Holders { get; internal set; } = [];

    public override string ToString() => $"{Protocol.ToString().ToLowerInvariant()} {State} {LocalAddress}{(PeerAddress is null ? "" : $" -> {PeerAddress}")}";
}

/// <summary>What <see cref="SocketTable.List"/> keeps; every filter given must match.</summary>
public sealed record SocketQuery
{
    /// <summary>Unix, Tcp, Udp; empty for all.</summary>
    public IReadOnlyList<SocketProtocol> Protocols { get; init; } = [];

    /// <summary>States as ss names them (LISTEN, ESTAB...), case-insensitive; empty for all. LISTEN is ss's "state listening": listeners only.</summary>
    public IReadOnlyList<string> States { get; init; } = [];

    /// <summary>
    /// What ss -l lists: sockets in state LISTEN or UNCONN, the ones that wait for peers (listeners, bound UDP sockets,
    /// UNIX datagram sockets and UNIX sockets not yet connected).
    /// </summary>
    public bool Listening { get; init; }

    /// <summary>A local or peer port.</summary>
    public int? Port { get; init; }

    /// <summary>A wildcard pattern on UNIX socket addresses (/run/*.sock, @*).</summary>
    public string? Path { get; init; }

    /// <summary>Only sockets this process holds.</summary>
    public int? ProcessId { get; init; }
}

/// <summary>
/// The machine's sockets, from the kernel's tables (sock_diag netlink as ss reads them, or /proc/net/unix, tcp, tcp6,
/// udp, udp6 where the kernel has no handler: this network namespace), joined with every process's /proc/PID/fd for
/// the processes that hold each one.
/// </summary>
public static class SocketTable
{
    /// <summary>The sockets the query keeps, UNIX first, then TCP and UDP, each in the kernel's order.</summary>
    public static IReadOnlyList<SocketInfo> List(SocketQuery? query = null, SyscallTrace? trace = null)
    {
        query ??= new SocketQuery();
        if (query.Port is int port && port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(query), port, "A port is 0 to 65535.");
        }
        // Read before any table is: a path no socket could have is refused even where there is no socket to compare.
        NamePattern? path = query.Path is null ? null : new NamePattern(query.Path, nameof(SocketQuery.Path));
        var sockets = new List<SocketInfo>();
        bool Wanted(SocketProtocol protocol) => query.Protocols.Count == 0 || query.Protocols.Contains(protocol);
        if (Wanted(SocketProtocol.Unix))
        {
            sockets.AddRange(UnixDiag.Read(trace) ?? ReadUnix(trace));
        }
        foreach ((SocketProtocol protocol, string file, SocketFamily family) in InternetTables)
        {
            if (Wanted(protocol))
            {
                sockets.AddRange(InetDiag.Read(protocol, family, trace) ?? (File.Exists(file) ? ReadInternet(protocol, file, family, trace) : []));
            }
        }
        sockets.RemoveAll(s => !Matches(s, query, path));
        if (sockets.Count == 0)
        {
            // Nothing is left to find holders for: no process need be read.
            return sockets;
        }
        Dictionary<ulong, List<SocketHolder>> holders = Holders(query.ProcessId, trace);
        foreach (SocketInfo socket in sockets)
        {
            socket.Holders = holders.TryGetValue(socket.Inode, out List<SocketHolder>? held) ? held : [];
        }
        if (query.ProcessId is int processId)
        {
            sockets.RemoveAll(s => !s.Holders.Any(h => h.ProcessId == processId));
        }
        return sockets;
    }

    private static bool Matches(SocketInfo socket, SocketQuery query, NamePattern? path) =>
        (query.States.Count == 0 || query.States.Any(state => string.Equals(state, socket.State, StringComparison.OrdinalIgnoreCase)))
        && (!query.Listening || socket.State is "LISTEN" or "UNCONN")
        && (query.Port is not int port || socket.LocalPort == port || socket.PeerPort == port)
        && (path is null || socket.Protocol == SocketProtocol.Unix && path.Matches(socket.LocalAddress));

    private static readonly (SocketProtocol, string, SocketFamily)[] InternetTables =
    [
        (SocketProtocol.Tcp, "/proc/net/tcp", SocketFamily.IPv4), (SocketProtocol.Tcp, "/proc/net/tcp6", SocketFamily.IPv6),
        (SocketProtocol.Udp, "/proc/net/udp", SocketFamily.IPv4), (SocketProtocol.Udp, "/proc/net/udp6", SocketFamily.IPv6),
    ];

    /// <summary>A UNIX socket's state as ss names it, from its sk_state (TCP's numbers: ESTABLISHED, CLOSE, LISTEN).</summary>
    internal static string StateName(int code) => code == 7 ? "UNCONN" : TcpStates.GetValueOrDefault(code, code.ToString(CultureInfo.InvariantCulture));

    private static IEnumerable<SocketInfo> ReadUnix(SyscallTrace? trace) => ParseUnix(ProcFile.ReadAllBytes(UnixTable, trace).Span);

    /// <summary>
    /// /proc/net/unix, "Num RefCount Protocol Flags Type St Inode Path", as the kernel's unix_seq_show prints it: a row is
    /// "%pK: %08X %08X %08X %04X %02X %5lu", then a space and the bound address's bytes as they are (a NUL as '@'), then
    /// a newline. The path may itself hold newlines, so a row starts only at a line that begins with those fixed columns;
    /// any other line is the previous row's path going on after a newline ("a\nfake" is one socket, never a forged
    /// row). A path holding a whole well-formed row (at most 108 bytes, sun_path) still reads as two rows: the table
    /// cannot tell that apart, which is why sock_diag (UnixDiag), which gives each address with its length, comes first.
    /// </summary>
    internal static List<SocketInfo> ParseUnix(ReadOnlySpan<byte> table)
    {
        var sockets = new List<SocketInfo>();
        (int Flags, SocketKind Kind, string State, ulong Inode, List<byte> Path)? row = null;
        int header = table.IndexOf((byte)'\n');
        ReadOnlySpan<byte> rest = header < 0 ? [] : table[(header + 1)..];
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            Match start = UnixRowStart.Match(System.Text.Encoding.Latin1.GetString(line));
            if (start.Success)
            {
                Add(row);
                int flags = int.Parse(start.Groups["flags"].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var kind = (SocketKind)int.Parse(start.Groups["type"].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                string state = (flags & AcceptingConnections) != 0 ? "LISTEN" : start.Groups["state"].Value switch
                {
                    "01" => "UNCONN",
                    "02" => "CONNECTING",
                    "03" => "ESTAB",
                    "04" => "DISCONNECTING",
                    string other => other,
                };
                ulong inode = ulong.Parse(start.Groups["inode"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
                row = (flags, kind, state, inode, [.. line[Math.Min(start.Length + 1, line.Length)..]]);
            }
            else if (row is not null)
            {
                row.Value.Path.Add((byte)'\n');
                row.Value.Path.AddRange(line);
            }
        }
        Add(row);
        return sockets;

        // Abstract names show with '@' for their leading NUL, as the kernel and ss write them.
        void Add((int Flags, SocketKind Kind, string State, ulong Inode, List<byte> Path)? found)
        {
            if (found is { } r)
            {
                string path = NameEscaping.Escape(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(r.Path));
                sockets.Add(new SocketInfo(SocketProtocol.Unix, SocketFamily.Unix, r.Kind, r.State, path, null, null, null, null, null, r.Inode, null));
            }
        }
    }

    // The fixed columns that begin every row: the socket's (hashed) address, 8 hex digits on 32-bit kernels, then the rest.
    private static readonly Regex UnixRowStart = new(
        @"\A[0-9a-f]{8,16}: [0-9A-F]{8} [0-9A-F]{8} (?<flags>[0-9A-F]{8}) (?<type>[0-9A-F]{4}) (?<state>[0-9A-F]{2}) +(?<inode>[0-9]+)(?= |\z)",
        RegexOptions.CultureInvariant);

    private const string UnixTable = "/proc/net/unix";

    /// <summary>__SO_ACCEPTCON in /proc/net/unix's Flags: the socket listens.</summary>
    private const int AcceptingConnections = 0x10000;

    // /proc/net/tcp and udp: "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...".
    private static IEnumerable<SocketInfo> ReadInternet(SocketProtocol protocol, string file, SocketFamily family, SyscallTrace? trace)
    {
        foreach (string line in ProcFile.ReadAllText(file, trace).Split('\n').Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 10 || !ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                continue;
            }
            (string local, int localPort) = Endpoint(fields[1], family);
            (string remote, int remotePort) = Endpoint(fields[2], family);
            int code = int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            string state = protocol == SocketProtocol.Udp ? (code == 1 ? "ESTAB" : "UNCONN") : TcpStates.GetValueOrDefault(code, fields[3]);
            string[] queues = fields[4].Split(':');
            bool connected = remotePort != 0;
            yield return new SocketInfo(protocol, family, protocol == SocketProtocol.Tcp ? SocketKind.Stream : SocketKind.Datagram, state, local,
                connected ? remote : null, localPort, connected ? remotePort : null, Hex(queues[1]), Hex(queues[0]), inode,
                uint.Parse(fields[7], CultureInfo.InvariantCulture));
        }
    }

    private static readonly Dictionary<int, string> TcpStates = new()
    {
        [1] = "ESTAB", [2] = "SYN-SENT", [3] = "SYN-RECV", [4] = "FIN-WAIT-1", [5] = "FIN-WAIT-2", [6] = "TIME-WAIT", [7] = "UNCONN",
        [8] = "CLOSE-WAIT", [9] = "LAST-ACK", [10] = "LISTEN", [11] = "CLOSING",
    };

    private static long Hex(string text) => long.Parse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>"0100007F:0050" (the address as the kernel's 32-bit words, each in this machine's byte order; the port in hex).</summary>
    private static (string Text, int Port) Endpoint(string field, SocketFamily family)
    {
        int colon = field.IndexOf(':');
        ReadOnlySpan<char> hex = field.AsSpan(0, colon);
        Span<byte> bytes = stackalloc byte[hex.Length / 2];
        for (int word = 0; word < hex.Length / 8; word++)
        {
            uint value = uint.Parse(hex.Slice(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[(word * 4)..], value);
        }
        int port = int.Parse(field.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return (SocketEndpoint.Internet(new IPAddress(bytes), port).ToString(), port);
    }

    /// <summary>socket:[N] descriptors of every process this user may inspect (or of one), by inode.</summary>
    private static Dictionary<ulong, List<SocketHolder>> Holders(int? processId, SyscallTrace? trace)
    {
        var holders = new Dictionary<ulong, List<SocketHolder>>();
        int inspected = 0;
        int denied = 0;
        foreach (int pid in processId is int one ? [one] : ProcFile.ProcessIds())
        {
            string? name = ProcFile.ProcessName(pid);
            ProcessInspection result = ProcFile.Inspect(() =>
            {
                foreach ((string path, string link) in ProcFile.Descriptors(pid))
                {
                    if (link.StartsWith("socket:[", StringComparison.Ordinal)
                        && ulong.TryParse(link.AsSpan(8, link.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
                    {
                        int fd = int.Parse(Path.GetFileName(path), CultureInfo.InvariantCulture);
                        (holders.TryGetValue(inode, out List<SocketHolder>? list) ? list : holders[inode] = []).Add(new SocketHolder(pid, name, fd));
                    }
                }
            });
            inspected += result == ProcessInspection.Done ? 1 : 0;
            denied += result == ProcessInspection.Denied ? 1 : 0;
        }
        trace?.Invoke($"/proc/*/fd of {inspected} processes read" + (denied > 0 ? $"; {denied} could not be (EACCES: another user's, needs root)" : ""));
        return holders;
    }

    /// <summary>The addresses of listening UNIX sockets (paths and @names), from /proc/net/unix alone: quick enough for Tab completion.</summary>
    public static IReadOnlyList<string> ListeningUnixAddresses() =>
        ReadUnix(null).Where(s => s.State == "LISTEN" && s.LocalAddress.Length > 0).Select(s => s.LocalAddress).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A socket file no socket is bound to: what a process that did not remove its socket file leaves. A socket bound
    /// through a relative path is listed under that path, so any bound path with the same file name counts as this
    /// one: a live socket file is never taken for a stale one.
    /// </summary>
    internal static bool IsStaleSocketFile(string path)
    {
        if (FileStatus.OfPath(path) is not { } status || (status.Mode & FileStatus.TypeMask) != FileStatus.Socket)
        {
            return false;
        }
        string fileName = NameEscaping.Escape(Path.GetFileName(path));
        return !(UnixDiag.Read(null) ?? ReadUnix(null)).Any(socket => socket.LocalAddress.Length > 0 && !socket.LocalAddress.StartsWith('@')
            && Path.GetFileName(socket.LocalAddress) == fileName);
    }
}
