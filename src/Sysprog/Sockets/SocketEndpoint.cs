using System.Buffers.Binary;
using System.Net;
using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>The address families Sysprog's sockets speak: UNIX domain (AF_UNIX), IPv4 (AF_INET), IPv6 (AF_INET6).</summary>
public enum SocketFamily
{
    Unix = Libc.AF_UNIX,
    IPv4 = Libc.AF_INET,
    IPv6 = Libc.AF_INET6,
}

/// <summary>
/// How a socket carries data: a byte stream (SOCK_STREAM: TCP, or UNIX stream), separate datagrams (SOCK_DGRAM: UDP,
/// or UNIX datagram, which is reliable and ordered), or a connection of ordered, reliable messages (SOCK_SEQPACKET).
/// </summary>
public enum SocketKind
{
    Stream = Libc.SOCK_STREAM,
    Datagram = Libc.SOCK_DGRAM,
    SeqPacket = Libc.SOCK_SEQPACKET,
}

/// <summary>
/// A socket address: a UNIX socket's filesystem path, its abstract name (Linux only: no file, gone with the last
/// socket, written <c>@name</c>), or no name at all (an unbound or socketpair socket); or an IP address and port.
/// </summary>
public sealed class SocketEndpoint : IEquatable<SocketEndpoint>
{
    /// <summary>The most bytes a UNIX socket path (UTF-8, without its NUL) or abstract name may have: sun_path is 108.</summary>
    public const int MaxUnixNameBytes = Libc.UnixPathCapacity - 1;

    /// <summary>Room for any socket address (sizeof(struct sockaddr_storage)).</summary>
    internal const int StorageSize = 128;

    private SocketEndpoint(SocketFamily family, string? path, string? abstractName, IPAddress? address, int port)
    {
        Family = family;
        Path = path;
        AbstractName = abstractName;
        _abstractBytes = abstractName is null ? null : Encoding.UTF8.GetBytes(abstractName);
        Address = address;
        Port = port;
    }

    /// <summary>An abstract name as its bytes: any user may bind one that is no UTF-8, and those bytes are the name.</summary>
    private SocketEndpoint(byte[] abstractBytes)
    {
        Family = SocketFamily.Unix;
        AbstractName = Encoding.UTF8.GetString(abstractBytes);
        _abstractBytes = abstractBytes;
    }

    // The abstract name's bytes, which the sockaddr holds and ToString escapes (AbstractName decodes bytes that are no
    // UTF-8 as U+FFFD, so it alone cannot name such a socket).
    private readonly byte[]? _abstractBytes;

    /// <summary>The abstract name's bytes as the kernel has them; empty for another kind of address.</summary>
    internal ReadOnlySpan<byte> AbstractNameBytes => _abstractBytes;

    public SocketFamily Family { get; }

    /// <summary>A UNIX socket's filesystem path; null for an abstract or unnamed one.</summary>
    public string? Path { get; }

    /// <summary>
    /// A UNIX socket's abstract name, without the '@' it is written with; null otherwise. Bytes that are no UTF-8
    /// read as U+FFFD here; <see cref="ToString"/> escapes them (\xHH), and that form names the socket again.
    /// </summary>
    public string? AbstractName { get; }

    /// <summary>A UNIX socket with no name: unbound, one of a socketpair, or the connecting side of most connections.</summary>
    public bool IsUnnamed => Family == SocketFamily.Unix && Path is null && AbstractName is null;

    /// <summary>An Internet socket's IP address; null for a UNIX one.</summary>
    public IPAddress? Address { get; }

    /// <summary>An Internet socket's port; 0 for a UNIX one.</summary>
    public int Port { get; }

    /// <summary>A UNIX socket at a filesystem path (made absolute).</summary>
    public static SocketEndpoint Unix(string path) => Unix(path, nameof(path));

    private static SocketEndpoint Unix(string path, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(path, parameter);
        ValidateUnixName(path, $"The path {path}", parameter);
        string full = System.IO.Path.GetFullPath(path);
        ValidateUnixName(full, $"The path {full}", parameter);
        return new SocketEndpoint(SocketFamily.Unix, full, null, null, 0);
    }

    /// <summary>A UNIX socket in the abstract namespace (no '@': that is how it is written, not part of the name).</summary>
    public static SocketEndpoint Abstract(string name) => Abstract(name, nameof(name));

    private static SocketEndpoint Abstract(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, parameter);
        // Any user can bind an abstract name with a newline, ESC or bytes that are no UTF-8 in it, and listings show it
        // escaped (\n, \x1b, \xff, a backslash as \\): the escaped form passed back names the same socket, as with
        // the other names (NameEscaping).
        byte[] bytes = NameEscaping.Unescape(name, parameter);
        if (bytes.AsSpan().Contains((byte)0))
        {
            throw new ArgumentException($"The abstract name @{name} contains a NUL character.", parameter);
        }
        if (bytes.Length > MaxUnixNameBytes)
        {
            throw new ArgumentException(
                $"The abstract name @{name} is {bytes.Length} bytes; a UNIX socket address holds at most {MaxUnixNameBytes} (sun_path).", parameter);
        }
        return new SocketEndpoint(bytes);
    }

    /// <summary>An IP address and port (0 to 65535; 0 asks the kernel to choose when binding).</summary>
    public static SocketEndpoint Internet(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 0 to 65535.");
        }
        SocketFamily family = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? SocketFamily.IPv6 : SocketFamily.IPv4;
        return new SocketEndpoint(family, null, null, address, port);
    }

    /// <summary>
    /// Resolves <paramref name="host"/> (a name or a numeric address; null for the wildcard address, which binding
    /// servers want, with <paramref name="forBinding"/>, or loopback otherwise) and <paramref name="service"/> (a port
    /// number or a name from /etc/services) with getaddrinfo, for a socket of <paramref name="kind"/>: every address,
    /// in the order the resolver prefers (RFC 6724, /etc/gai.conf). <paramref name="family"/> narrows it to IPv4 or IPv6.
    /// </summary>
    public static unsafe IReadOnlyList<SocketEndpoint> Resolve(string? host, string service, SocketKind kind = SocketKind.Stream, SocketFamily? family = null,
        bool forBinding = false, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        if (service.Contains('\0'))
        {
            throw new ArgumentException("A service name contains no NUL character.", nameof(service));
        }
        if (host is not null && (host.Length == 0 || host.Contains('\0')))
        {
            throw new ArgumentException("A host name is not empty and contains no NUL character (null is the wildcard or loopback address).", nameof(host));
        }
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Stream or Datagram.");
        }
        if (family is SocketFamily known && !Enum.IsDefined(known))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "IPv4 or IPv6, or null for either.");
        }
        if (family == SocketFamily.Unix)
        {
            throw new ArgumentException("UNIX socket addresses are paths or @names; nothing resolves them.", nameof(family));
        }
        if (kind == SocketKind.SeqPacket)
        {
            throw new ArgumentException("Internet sockets here are Stream (TCP) or Datagram (UDP).", nameof(kind));
        }
        var hints = new AddressInfo
        {
            Family = (int?)family ?? 0,
            SocketType = (int)kind,
            Flags = forBinding && host is null ? Libc.AI_PASSIVE : 0,
        };
        AddressInfo* list = null;
        int code = Libc.getaddrinfo(host, service, &hints, &list);
        Errno errno = code == Libc.EAI_SYSTEM ? (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : Errno.None;
        if (code != 0)
        {
            string name = Libc.AddressInfoErrorName(code);
            string description = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(Libc.gai_strerror(code)) ?? name;
            trace?.Invoke($"getaddrinfo({TraceFormat.Quote(host ?? "NULL")}, {TraceFormat.Quote(service)}) = {name} ({description})");
            throw new AddressResolutionException(name, description, host, service, errno);
        }
        var found = new List<SocketEndpoint>();
        try
        {
            for (AddressInfo* entry = list; entry != null; entry = entry->Next)
            {
                if (Read(new ReadOnlySpan<byte>(entry->Address, (int)entry->AddressLength), (int)entry->AddressLength) is SocketEndpoint endpoint
                    && !found.Contains(endpoint))
                {
                    found.Add(endpoint);
                }
            }
        }
        finally
        {
            Libc.freeaddrinfo(list);
        }
        trace?.Invoke($"getaddrinfo({TraceFormat.Quote(host ?? "NULL")}, {TraceFormat.Quote(service)}, {{ai_family={(family is null ? "AF_UNSPEC" : Libc.FamilyText((int)family))}, " +
            $"ai_socktype={Libc.SocketTypeText((int)kind)}}}) = 0 [{string.Join(", ", found)}]");
        return found;
    }

    /// <summary>
    /// Any address as users write it: <c>@name</c> (abstract), <c>host:port</c> or <c>[IPv6]:port</c> (resolved,
    /// the first address for <paramref name="kind"/>), or else a UNIX socket path (a path with a ':' in it needs a '/').
    /// </summary>
    public static SocketEndpoint Parse(string text, SocketKind kind = SocketKind.Stream, SyscallTrace? trace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (text.StartsWith('@') || IsPath(text))
        {
            return ParseUnix(text);
        }
        int colon = text.LastIndexOf(':');
        string host = text[..colon].Trim('[', ']');
        if (colon == text.Length - 1 || host.Length == 0)
        {
            throw new ArgumentException($"{text} has no port after its ':', or no host before it.", nameof(text));
        }
        return Resolve(host, text[(colon + 1)..], kind, trace: trace)[0];
    }

    /// <summary>Whether <see cref="Parse"/> takes <paramref name="text"/> for a UNIX socket path (not @name, not host:port).</summary>
    public static bool IsPath(string text) =>
        !string.IsNullOrEmpty(text) && !text.StartsWith('@') && (text.Contains('/') || text.LastIndexOf(':') <= 0);

    /// <summary>A UNIX address as users write it: <c>@name</c> for the abstract namespace, anything else a path.</summary>
    public static SocketEndpoint ParseUnix(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return text.StartsWith('@') ? Abstract(text[1..], nameof(text)) : Unix(text, nameof(text));
    }

    private static void ValidateUnixName(string name, string what, string parameter)
    {
        if (name.Contains('\0'))
        {
            throw new ArgumentException($"{what} contains a NUL character.", parameter);
        }
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxUnixNameBytes)
        {
            throw new ArgumentException(
                $"{what} is {bytes} bytes; a UNIX socket address holds at most {MaxUnixNameBytes} (sun_path). Use a shorter path, or an abstract name (@name).",
                parameter);
        }
    }

    private string? _text;

    /// <summary>Made once: error targets and equality use it on every call that names the endpoint. A path or abstract name is escaped (<see cref="NameEscaping"/>).</summary>
    public override string ToString() => _text ??= Family switch
    {
        SocketFamily.Unix => Path is not null ? NameEscaping.Escape(Path) : _abstractBytes is not null ? "@" + NameEscaping.Escape(_abstractBytes) : "(unnamed)",
        SocketFamily.IPv6 => $"[{Address}]:{Port}",
        _ => $"{Address}:{Port}",
    };

    public bool Equals(SocketEndpoint? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as SocketEndpoint);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    /// <summary>Writes the sockaddr into <paramref name="storage"/>; returns its length (what bind and connect take).</summary>
    internal int Write(Span<byte> storage)
    {
        storage.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(storage, (ushort)Family);
        switch (Family)
        {
            case SocketFamily.Unix when Path is not null:
                // A path is NUL-terminated; the length counts the NUL, as SUN_LEN does.
                return Libc.UnixPathOffset + Encoding.UTF8.GetBytes(Path, storage[Libc.UnixPathOffset..]) + 1;
            case SocketFamily.Unix when _abstractBytes is not null:
                // An abstract name starts with a NUL and is exactly as long as the length says: no terminator.
                _abstractBytes.CopyTo(storage[(Libc.UnixPathOffset + 1)..]);
                return Libc.UnixPathOffset + 1 + _abstractBytes.Length;
            case SocketFamily.Unix:
                return Libc.UnixPathOffset;
            case SocketFamily.IPv4:
                BinaryPrimitives.WriteUInt16BigEndian(storage[2..], (ushort)Port);
                Address!.TryWriteBytes(storage[4..8], out _);
                return 16;
            default:
                BinaryPrimitives.WriteUInt16BigEndian(storage[2..], (ushort)Port);
                Address!.TryWriteBytes(storage[8..24], out _);
                BinaryPrimitives.WriteUInt32LittleEndian(storage[24..], (uint)Address.ScopeId);
                return 28;
        }
    }

    /// <summary>The address a kernel call filled in (getsockname, getpeername, accept, recvmsg); null for a family Sysprog does not speak.</summary>
    internal static SocketEndpoint? Read(ReadOnlySpan<byte> storage, int length)
    {
        if (length < 2)
        {
            // recvmsg on a connected socket, or from an unnamed UNIX sender, may leave no address at all.
            return new SocketEndpoint(SocketFamily.Unix, null, null, null, 0);
        }
        switch ((int)BinaryPrimitives.ReadUInt16LittleEndian(storage))
        {
            case Libc.AF_UNIX:
                ReadOnlySpan<byte> name = storage[Libc.UnixPathOffset..Math.Min(length, Libc.UnixPathOffset + Libc.UnixPathCapacity)];
                if (name.IsEmpty)
                {
                    return new SocketEndpoint(SocketFamily.Unix, null, null, null, 0);
                }
                if (name[0] == 0)
                {
                    return new SocketEndpoint(name[1..].ToArray());
                }
                int end = name.IndexOf((byte)0);
                return new SocketEndpoint(SocketFamily.Unix, Encoding.UTF8.GetString(end < 0 ? name : name[..end]), null, null, 0);
            case Libc.AF_INET:
                return new SocketEndpoint(SocketFamily.IPv4, null, null, new IPAddress(storage[4..8]), BinaryPrimitives.ReadUInt16BigEndian(storage[2..]));
            case Libc.AF_INET6:
                var address = new IPAddress(storage[8..24], BinaryPrimitives.ReadUInt32LittleEndian(storage[24..]));
                return new SocketEndpoint(SocketFamily.IPv6, null, null, address, BinaryPrimitives.ReadUInt16BigEndian(storage[2..]));
            default:
                return null;
        }
    }
}
