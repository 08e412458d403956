using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>Which direction <see cref="Socket.Shutdown"/> ends.</summary>
public enum SocketShutdown
{
    /// <summary>SHUT_RD: nothing more is received.</summary>
    Receive = Libc.SHUT_RD,

    /// <summary>SHUT_WR: nothing more is sent; the peer reads the end of the stream. The usual "I am done" of a client.</summary>
    Send = Libc.SHUT_WR,

    /// <summary>SHUT_RDWR: both.</summary>
    Both = Libc.SHUT_RDWR,
}

/// <summary>
/// A socket: UNIX domain (a filesystem path, an abstract name, or unnamed) or Internet (IPv4, IPv6); stream,
/// datagram or seqpacket. Connected stream sockets read and write as streams (Read-/Write-FileDescriptor); every
/// kind sends and receives messages, which on UNIX sockets carry descriptors (SCM_RIGHTS) and the sender's
/// credentials (SCM_CREDENTIALS: Sysprog turns SO_PASSCRED on for every UNIX socket it makes).
/// <para>
/// The socket stays blocking in the kernel, so a child handed one gets the socket it expects; calls that must not
/// wait ask per call (MSG_DONTWAIT, RWF_NOWAIT). A socket made non-blocking (SOCK_NONBLOCK, or
/// <see cref="FileDescriptorObject.SetNonBlocking"/>) is O_NONBLOCK for every process that shares it, and its
/// receives, sends and accepts return at once where they would wait. A listening socket is O_NONBLOCK, so that
/// accepts wait with poll. A
/// socket that bound a filesystem path removes the socket file when it is closed (if the path still names that file),
/// unless <see cref="RemovesPathOnClose"/> is cleared.
/// </para>
/// </summary>
public sealed unsafe class Socket : StreamDescriptor
{
    /// <summary>The listen queue length when none is given; the kernel caps it at net.core.somaxconn.</summary>
    public const int DefaultBacklog = 128;

    /// <summary>What one receive takes from a stream socket, and at least what it offers a datagram.</summary>
    public const int ReceiveChunk = 64 * 1024;

    // Room for the most descriptors one message carries and the sender's credentials.
    private static readonly int ControlCapacity = Libc.ControlSpace(Libc.SCM_MAX_FD * sizeof(int)) + Libc.ControlSpace(Unsafe.SizeOf<UnixCredentials>());

    private string? _boundPath;
    private ulong _boundPathInode;
    private byte[] _receiveBuffer = [];

    private Socket(SafeFdHandle fd, SocketFamily family, SocketKind kind, ulong inode, bool nonBlocking = false) : base(fd, keptBlocking: true, nonBlocking)
    {
        Family = family;
        Kind = kind;
        Inode = inode;
    }

    public SocketFamily Family { get; }

    public SocketKind Kind { get; }

    /// <summary>The socket's inode, as /proc/PID/fd shows it (socket:[N]) and Get-Socket lists it.</summary>
    public ulong Inode { get; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    /// <summary>The socket file this socket bound, which <see cref="FileDescriptorObject.Close"/> removes; null when it bound none or keeps it.</summary>
    public string? BoundPath => _boundPath;

    /// <summary>Whether closing removes the socket file this socket bound (true unless cleared): set it false before passing the socket on.</summary>
    public bool RemovesPathOnClose { get; set; } = true;

    /// <summary>The address it is bound to (getsockname): unnamed for an unbound UNIX socket, port 0 for an unbound Internet one.</summary>
    public SocketEndpoint LocalEndpoint => Address(Libc.getsockname, "getsockname", Description)!;

    /// <summary>The peer's address (getpeername); null while not connected.</summary>
    public SocketEndpoint? RemoteEndpoint => Address(Libc.getpeername, "getpeername", Description);

    /// <summary>Listening for connections (SO_ACCEPTCONN).</summary>
    public bool IsListening => GetOption(Libc.SO_ACCEPTCONN, "SO_ACCEPTCONN") != 0;

    /// <summary>
    /// Who is on the other side of a connected UNIX socket (SO_PEERCRED): the process that connected, or listened, or
    /// made the socketpair, as it was at that moment. Null for an unconnected or Internet socket.
    /// </summary>
    public unsafe SocketCredentials? PeerCredentials
    {
        get
        {
            if (Family != SocketFamily.Unix)
            {
                return null;
            }
            UnixCredentials credentials;
            uint length = (uint)sizeof(UnixCredentials);
            using HandleLease lease = Lease();
            Syscall.Check(Libc.getsockopt(lease.Fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, &credentials, &length), null, "getsockopt", Description,
                $"{lease.Fd}, SOL_SOCKET, SO_PEERCRED");
            return credentials.ProcessId == 0 ? null : new SocketCredentials(credentials);
        }
    }

    /// <summary>Bytes the kernel holds for sending and receiving (SO_SNDBUF, SO_RCVBUF), as it reports them (twice what was asked).</summary>
    public int SendBufferSize => GetOption(Libc.SO_SNDBUF, "SO_SNDBUF");

    public int ReceiveBufferSize => GetOption(Libc.SO_RCVBUF, "SO_RCVBUF");

    /// <summary>
    /// A new socket (socket(2), close-on-exec unless <paramref name="inheritable"/>, SOCK_NONBLOCK with
    /// <paramref name="nonBlocking"/>), neither bound nor connected.
    /// </summary>
    public static Socket Create(SocketFamily family, SocketKind kind, bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        Validate(family, kind);
        int type = (int)kind | (inheritable ? 0 : Libc.SOCK_CLOEXEC) | (nonBlocking ? Libc.SOCK_NONBLOCK : 0);
        SyscallResult result = Libc.socket((int)family, type, 0);
        string? detail = result.Errno switch
        {
            Errno.EAFNOSUPPORT => $"This kernel has no {family} sockets (IPv6 may be disabled: net.ipv6.conf.all.disable_ipv6, or ipv6.disable=1).",
            Errno.EPROTONOSUPPORT or Errno.ESOCKTNOSUPPORT => $"{family} sockets have no {kind} kind.",
            _ => null,
        };
        string what = $"{family} {kind} socket";
        var fd = new SafeFdHandle(Syscall.Check(result, trace, "socket", what,
            $"{Libc.FamilyText((int)family)}, {Libc.SocketTypeText(type)}, 0", detail));
        return Wrap(fd, family, kind, trace, nonBlocking);
    }

    /// <summary>
    /// Both ends of a connected pair of UNIX sockets (socketpair(2)), the socket counterpart of a pipe: each end reads
    /// what the other writes.
    /// </summary>
    public static unsafe SocketPair CreatePair(SocketKind kind = SocketKind.Stream, bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        Validate(SocketFamily.Unix, kind);
        int type = (int)kind | (inheritable ? 0 : Libc.SOCK_CLOEXEC) | (nonBlocking ? Libc.SOCK_NONBLOCK : 0);
        int* fds = stackalloc int[2];
        Syscall.Check(Libc.socketpair(Libc.AF_UNIX, type, 0, fds), trace, "socketpair", $"Unix {kind} socket pair",
            $"AF_UNIX, {Libc.SocketTypeText(type)}, 0, [{fds[0]}, {fds[1]}]");
        var second = new SafeFdHandle(fds[1]);
        Socket first;
        try
        {
            first = Wrap(new SafeFdHandle(fds[0]), SocketFamily.Unix, kind, trace, nonBlocking);
        }
        catch
        {
            second.Dispose();
            throw;
        }
        try
        {
            return new SocketPair(first, Wrap(second, SocketFamily.Unix, kind, trace, nonBlocking));
        }
        catch
        {
            first.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket bound to <paramref name="endpoint"/>, and for streams and seqpackets listening with
    /// <paramref name="backlog"/>: a server's socket. See <see cref="Bind"/> for <paramref name="mode"/> and
    /// <paramref name="replaceStale"/>, and <see cref="SetReuseAddress"/> and <see cref="SetReusePort"/>. With
    /// <paramref name="nonBlocking"/> its accepts and receives return at once where they would wait.
    /// </summary>
    public static Socket CreateBound(SocketEndpoint endpoint, SocketKind kind = SocketKind.Stream, int backlog = DefaultBacklog,
        UnixFileMode mode = FileModes.OwnerReadWrite, bool replaceStale = false, bool reuseAddress = false, bool inheritable = false, SyscallTrace? trace = null,
        bool reusePort = false, bool nonBlocking = false)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ValidateBacklog(backlog);
        Socket socket = Create(endpoint.Family, kind, inheritable, trace, nonBlocking);
        try
        {
            if (reuseAddress)
            {
                socket.SetReuseAddress(true, trace);
            }
            if (reusePort)
            {
                socket.SetReusePort(true, trace);
            }
            socket.Bind(endpoint, mode, replaceStale, trace);
            if (kind != SocketKind.Datagram)
            {
                socket.Listen(backlog, trace);
            }
            return socket;
        }
        catch
        {
            socket.Close(trace);
            throw;
        }
    }

    /// <summary>
    /// A socket connected to <paramref name="endpoint"/> (see <see cref="Connect"/>); null when <paramref name="timeout"/>
    /// passed first. A <paramref name="nonBlocking"/> socket is made SOCK_NONBLOCK, so the connect is C's non-blocking
    /// one (EINPROGRESS, then poll for POLLOUT and SO_ERROR), still waited for up to the timeout.
    /// </summary>
    public static Socket? CreateConnected(SocketEndpoint endpoint, SocketKind kind = SocketKind.Stream, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default, bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Socket socket = Create(endpoint.Family, kind, inheritable, trace, nonBlocking);
        try
        {
            if (socket.Connect(endpoint, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken, trace))
            {
                return socket;
            }
            socket.Close(trace);
            return null;
        }
        catch
        {
            socket.Close(trace);
            throw;
        }
    }

    /// <summary>
    /// A socket connected to the first of <paramref name="candidates"/> that accepts (the addresses a name resolved
    /// to, in the resolver's order), all within one <paramref name="timeout"/>: null when it passed first. When every
    /// one refuses, the last one's error.
    /// </summary>
    public static Socket? CreateConnected(IReadOnlyList<SocketEndpoint> candidates, SocketKind kind = SocketKind.Stream, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default, bool inheritable = false, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("Give at least one address to connect to.", nameof(candidates));
        }
        TimeSpan wait = timeout ?? Timeout.InfiniteTimeSpan;
        Timeouts.Validate(wait);
        long deadline = FdWait.Deadline(wait);
        for (int i = 0; ; i++)
        {
            try
            {
                return CreateConnected(candidates[i], kind, FdWait.Remaining(deadline), cancellationToken, inheritable, trace, nonBlocking);
            }
            catch (SysprogException e) when (e.Call == "connect" && i < candidates.Count - 1)
            {
                trace?.Invoke($"# {candidates[i]} refused ({e.Errno.Symbol()}); trying {candidates[i + 1]}");
            }
        }
    }

    /// <summary>
    /// Binds the socket to <paramref name="endpoint"/>. A filesystem path gets the exact <paramref name="mode"/>
    /// (connecting needs write permission on it) and is removed again on <see cref="FileDescriptorObject.Close"/>:
    /// fchmod before bind, which Linux gives the socket file (less the umask), then, where the umask took bits away,
    /// a change through a checked descriptor of the file just made, never a second lookup by name. A path
    /// that exists is never replaced, except a stale socket file (a socket file no socket is bound to, left by a
    /// process that did not remove it) when <paramref name="replaceStale"/>.
    /// </summary>
    public unsafe void Bind(SocketEndpoint endpoint, UnixFileMode mode = FileModes.OwnerReadWrite, bool replaceStale = false, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ThrowUnlessFamily(endpoint);
        FileModes.Validate(mode, nameof(mode));
        if (endpoint.IsUnnamed)
        {
            throw new ArgumentException("Bind to a path, an abstract name (@name) or an IP address and port; an unnamed UNIX socket is one that is not bound.", nameof(endpoint));
        }
        byte* address = stackalloc byte[SocketEndpoint.StorageSize];
        int length = endpoint.Write(new Span<byte>(address, SocketEndpoint.StorageSize));
        using HandleLease lease = Lease();
        // The folder, reached by the planted-path rule. bind takes the path itself, which is what the socket's address
        // then says (getsockname, a peer's getpeername, Get-Socket), so it is bound by name; the socket file is then
        // looked for in this folder, where its mode is set, and a bind that went elsewhere (a folder swapped meanwhile)
        // is undone.
        using NameInFolder? at = endpoint.Path is string reached ? FolderForBind(reached, endpoint, trace) : null;
        if (at is not null)
        {
            Syscall.Check(Libc.fchmod(lease.Fd, (int)mode), trace, "fchmod", Description, $"{lease.Fd}, {Octal((int)mode)}");
        }
        SyscallResult result = Libc.bind(lease.Fd, address, (uint)length);
        if (result.Errno == Errno.EADDRINUSE && at is not null && endpoint.Path is string stalePath && replaceStale && SocketTable.IsStaleSocketFile(stalePath))
        {
            Syscall.Traced(result, trace, "bind", $"{lease.Fd}, {{sa_family=AF_UNIX, sun_path={Quote(stalePath)}}}, {length}");
            using (HandleLease folder = at.Folder.Lease(at.FolderPath))
            {
                Syscall.Check(Libc.unlinkat(folder.Fd, at.Name, 0), trace, "unlinkat", stalePath, $"{folder.Fd}, {Quote(at.Name)}, 0");
            }
            result = Libc.bind(lease.Fd, address, (uint)length);
        }
        Syscall.Check(result, trace, "bind", endpoint.ToString(), $"{lease.Fd}, {AddressText(endpoint)}, {length}", result.Failed ? ExplainBind(result.Errno, endpoint) : null);
        if (at is not null && endpoint.Path is string path)
        {
            ExclusiveCreation.CompleteOrUndo(
                () => _boundPathInode = PlantedPath.ChangeModeOfCreated(at, FileStatus.Socket, mode, trace).Inode,
                () => { },
                () => Syscall.Check(Libc.unlink(path), trace, "unlink", path, $"{Quote(path)}"));
            _boundPath = path;
            at.Close(trace);
        }
        Redescribe();
    }

    /// <summary>The folder a socket file is bound in, by the planted-path rule; a path that cannot be reached fails as bind would.</summary>
    private static NameInFolder FolderForBind(string path, SocketEndpoint endpoint, SyscallTrace? trace)
    {
        try
        {
            return PlantedPath.FolderOf(path, trace);
        }
        catch (SysprogException e)
        {
            throw PlantedPath.AsFailureOf(e, "bind", endpoint.ToString(), e.Errno == Errno.ENOENT && e.Detail is null ? ExplainBind(Errno.ENOENT, endpoint) : null);
        }
    }

    private static string? ExplainBind(Errno errno, SocketEndpoint endpoint) => (errno, endpoint.Family) switch
    {
        (Errno.EADDRINUSE, SocketFamily.Unix) when endpoint.Path is string path && SocketTable.IsStaleSocketFile(path) =>
            $"{path} is a stale socket file: no socket is bound to it (the process that made it did not remove it). Remove it, or replace it (-Force).",
        (Errno.EADDRINUSE, SocketFamily.Unix) when endpoint.Path is string path =>
            $"{path} exists: a socket in use, or a file that is not a socket. A socket is never bound over it.",
        (Errno.EADDRINUSE, SocketFamily.Unix) => $"Another socket has the abstract name {endpoint}.",
        (Errno.EADDRINUSE, _) => $"Another socket is bound to {endpoint} (or a recent connection's TIME_WAIT holds it: -ReuseAddress).",
        (Errno.EACCES, SocketFamily.Unix) => "Making the socket file needs write and search permission on its folder.",
        (Errno.EACCES, _) => $"Ports below {UnprivilegedPortStart} need CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start).",
        (Errno.EADDRNOTAVAIL, _) => $"{endpoint.Address} is not an address of this machine.",
        (Errno.ENOENT, _) => "The folder of the path does not exist.",
        _ => null,
    };

    private static long UnprivilegedPortStart => ProcFile.Sysctl("net.ipv4.ip_unprivileged_port_start") ?? 1024;

    /// <summary>Listens for connections (listen(2)) and makes the socket O_NONBLOCK, so that accepts wait with poll, cancellably.</summary>
    public void Listen(int backlog = DefaultBacklog, SyscallTrace? trace = null)
    {
        ValidateBacklog(backlog);
        if (Kind == SocketKind.Datagram)
        {
            throw new InvalidOperationException($"{Description} is a datagram socket: it does not listen, it receives from anyone once bound.");
        }
        using HandleLease lease = Lease();
        Syscall.Check(Libc.listen(lease.Fd, backlog), trace, "listen", Description, $"{lease.Fd}, {backlog}");
        ForceNonBlockingInKernel(trace);
    }

    /// <summary>
    /// Takes the next connection from the listen queue (accept4, close-on-exec), waiting up to <paramref name="timeout"/>
    /// for one: a connected socket, or null on timeout (at once, when none is queued, on a non-blocking listener).
    /// The connection is SOCK_NONBLOCK with <paramref name="nonBlocking"/>.
    /// </summary>
    public unsafe Socket? Accept(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null, bool nonBlocking = false)
    {
        Timeouts.Validate(timeout);
        var retry = new FdRetry(Handle, Libc.POLLIN, IsNonBlocking ? TimeSpan.Zero : timeout, cancellationToken, Description);
        int acceptFlags = Libc.SOCK_CLOEXEC | (nonBlocking ? Libc.SOCK_NONBLOCK : 0);
        if (retry.IsUnbounded)
        {
            // The listener is O_NONBLOCK: a wait with no end waits in poll, so that it costs two calls, not three.
            retry.WaitUntilReady(trace);
        }
        byte* address = stackalloc byte[SocketEndpoint.StorageSize];
        using HandleLease lease = Lease();
        while (true)
        {
            uint length = SocketEndpoint.StorageSize;
            SyscallResult result = Libc.accept4(lease.Fd, address, &length, acceptFlags);
            if (!result.Failed)
            {
                SocketEndpoint? peer = SocketEndpoint.Read(new ReadOnlySpan<byte>(address, (int)length), (int)length);
                int fd = Syscall.Check(result, trace, "accept4", Description, $"{lease.Fd}, {AddressText(peer)}, [{length}], {Libc.SocketTypeText(acceptFlags)}");
                return Wrap(new SafeFdHandle(fd), Family, Kind, trace, nonBlocking);
            }
            if (result.Errno == Errno.EINVAL)
            {
                Syscall.Check(result, trace, "accept4", Description, $"{lease.Fd}, ..., {Libc.SocketTypeText(acceptFlags)}", "The socket is not listening (Listen, or New-Socket with an address, first).");
            }
            if (!retry.AfterFailure(result, trace, "accept4", $"{lease.Fd}, ..., {Libc.SocketTypeText(acceptFlags)}"))
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, waiting up to <paramref name="timeout"/> (a full listen queue, a slow
    /// TCP handshake) and cancellably: false on timeout. A datagram socket just sets its default destination.
    /// </summary>
    public unsafe bool Connect(SocketEndpoint endpoint, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ThrowUnlessFamily(endpoint);
        Timeouts.Validate(timeout);
        byte[] address = new byte[SocketEndpoint.StorageSize];
        SafeFdHandle? socketFile = CheckedSocketFile(endpoint, "connect", trace);
        using var closeSocketFile = SafeFdHandle.CloseAtEnd(socketFile, trace);
        // This method's own descriptor, open until it returns: no other thread can close it.
        SocketEndpoint through = socketFile is null ? endpoint : SocketEndpoint.Unix(PlantedPath.DescriptorPath(socketFile.Fd));
        int length = through.Write(address);
        long deadline = FdWait.Deadline(timeout);
        using HandleLease lease = Lease();
        int fd = lease.Fd;
        SyscallResult? attempt = BlockingCall.Run((fd, address, length), static connecting =>
        {
            fixed (byte* start = connecting.address)
            {
                return Libc.connect(connecting.fd, start, (uint)connecting.length);
            }
        }, Handle, timeout, cancellationToken, trace, Description);
        if (attempt is not SyscallResult result)
        {
            trace?.Invoke($"connect({fd}, {AddressText(through)}, {length}) = -1 EINTR (timed out after {Units.FormatDuration(timeout)})");
            return false;
        }
        if (result.Errno is Errno.EALREADY or Errno.EINPROGRESS)
        {
            // Another signal cut a TCP handshake short, which then goes on in the background: wait for its outcome.
            Syscall.Traced(result, trace, "connect", $"{fd}, {AddressText(through)}, {length}");
            if (!FdWait.WaitReady(Handle, Libc.POLLOUT, deadline, cancellationToken, trace, Description))
            {
                return false;
            }
            int pending = GetOption(Libc.SO_ERROR, "SO_ERROR");
            result = pending == 0 ? 0 : SyscallResult.FromErrorNumber(pending);
        }
        Syscall.Check(result, trace, "connect", endpoint.ToString(), $"{fd}, {AddressText(through)}, {length}",
            result.Failed ? ExplainConnect(result.Errno, endpoint) : null);
        Redescribe();
        return true;
    }

    /// <summary>
    /// The socket file a UNIX path names, as an O_PATH descriptor reached by the planted-path rule, for connect and
    /// sendto to be given /proc/self/fd/N instead of the path: the kernel follows links in a socket path, and another
    /// user's link in /tmp could send this process's connection or datagrams to any socket it may write to (a
    /// service's, as root). Null for other addresses. What it is stays for the call to say (ECONNREFUSED for a file
    /// that is no socket), and a path that cannot be reached fails as <paramref name="call"/> would have.
    /// </summary>
    private static SafeFdHandle? CheckedSocketFile(SocketEndpoint endpoint, string call, SyscallTrace? trace)
    {
        if (endpoint.Path is not string path)
        {
            return null;
        }
        try
        {
            return PlantedPath.Open(path, Libc.O_PATH, 0, AcceptedFileTypes.Any, trace).Fd;
        }
        catch (SysprogException e)
        {
            throw PlantedPath.AsFailureOf(e, call, endpoint.ToString(), e.Errno == Errno.ENOENT && e.Detail is null ? $"There is no socket file at {endpoint}." : null);
        }
    }

    private string? ExplainConnect(Errno errno, SocketEndpoint endpoint) => errno switch
    {
        Errno.ENOENT => $"There is no socket file at {endpoint}.",
        Errno.ECONNREFUSED when endpoint.Path is string path && SocketTable.IsStaleSocketFile(path) =>
            $"{path} is a stale socket file: no socket is bound to it any more.",
        // A FIFO or a file another user put at the path refuses the same way: say what is there, not "a socket".
        Errno.ECONNREFUSED when endpoint.Path is string path && FileStatus.OfPath(path) is { } status && (status.Mode & FileStatus.TypeMask) != FileStatus.Socket =>
            $"Nothing can listen at {endpoint}: it is a {FileStatus.KindOf(status.Mode & FileStatus.TypeMask)}, not a socket.",
        Errno.ECONNREFUSED when Family == SocketFamily.Unix => $"Nothing listens at {endpoint} (a socket is bound there, but is not listening).",
        Errno.ECONNREFUSED => $"Nothing listens at {endpoint}.",
        Errno.EPROTOTYPE => $"The socket at {endpoint} is of another kind than {Kind}: connect with the kind it was made with.",
        Errno.EACCES when endpoint.Path is not null => "Connecting needs write permission on the socket file, and search permission on its folders.",
        Errno.EAGAIN => $"The listen queue of {endpoint} is full.",
        Errno.ENETUNREACH or Errno.EHOSTUNREACH => $"No route to {endpoint.Address}.",
        Errno.EISCONN => $"{Description} is connected already.",
        _ => null,
    };

    /// <summary>
    /// Sends <paramref name="data"/> as one message (a datagram or seqpacket), or on a stream all of it, waiting up to
    /// <paramref name="timeout"/> while the other side takes no more: the bytes sent, fewer than asked only when a
    /// stream's send timed out (or, on a non-blocking socket, would block) part way. <paramref name="descriptors"/> (Sysprog objects, pipes, socket pairs, .NET
    /// SafeFileHandles or FileStreams) travel with it (SCM_RIGHTS): the receiver gets its own descriptors of the same
    /// open files. <paramref name="destination"/> is for unconnected datagram sockets. 0 with nothing sent on timeout,
    /// and at once where a non-blocking socket would wait.
    /// </summary>
    public unsafe int Send(ReadOnlySpan<byte> data, IEnumerable<object>? descriptors = null, SocketEndpoint? destination = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        TimeSpan wait = timeout ?? Timeout.InfiniteTimeSpan;
        Timeouts.Validate(wait);
        if (destination is not null)
        {
            ThrowUnlessFamily(destination);
        }
        List<(SafeHandle Handle, string Name)> passed = descriptors is null ? NoDescriptors : PassedDescriptors.HandlesOf(descriptors, nameof(descriptors));
        if (passed.Count > Libc.SCM_MAX_FD)
        {
            throw new ArgumentException($"One message carries at most {Libc.SCM_MAX_FD} descriptors (SCM_MAX_FD); this one has {passed.Count}.", nameof(descriptors));
        }
        if (passed.Count > 0 && Family != SocketFamily.Unix)
        {
            throw new ArgumentException("Only UNIX sockets carry descriptors.", nameof(descriptors));
        }
        if (passed.Count > 0 && data.IsEmpty && Kind == SocketKind.Stream)
        {
            throw new ArgumentException("A stream socket carries descriptors only along with data: send at least one byte with them.", nameof(data));
        }
        if (Kind == SocketKind.Stream && destination is not null)
        {
            throw new ArgumentException("A stream socket sends to the peer it is connected to; only datagram sockets take a destination.", nameof(destination));
        }
        byte* address = stackalloc byte[SocketEndpoint.StorageSize];
        // A datagram to a UNIX path goes to the socket file the planted-path rule reached, as a connect does.
        SafeFdHandle? destinationFile = destination is null ? null : CheckedSocketFile(destination, "sendmsg", trace);
        using var closeDestinationFile = SafeFdHandle.CloseAtEnd(destinationFile, trace);
        SocketEndpoint? sentTo = destinationFile is null ? destination : SocketEndpoint.Unix(PlantedPath.DescriptorPath(destinationFile.Fd));
        int addressLength = sentTo?.Write(new Span<byte>(address, SocketEndpoint.StorageSize)) ?? 0;
        int controlLength = passed.Count == 0 ? 0 : Libc.ControlSpace(passed.Count * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
        PassedLeases? leases = passed.Count == 0 ? null : new PassedLeases(passed);
        try
        {
            if (leases is not null)
            {
                new Span<byte>(control, controlLength).Clear();
                var header = (ControlHeader*)control;
                header->Length = (nuint)Libc.ControlLength(passed.Count * sizeof(int));
                header->Level = Libc.SOL_SOCKET;
                header->Type = Libc.SCM_RIGHTS;
                leases.WriteNumbers((int*)(control + Libc.ControlAlign(sizeof(ControlHeader))));
            }
            using HandleLease lease = Lease();
            var message = new OutgoingMessage(lease.Fd, (nint)address, addressLength, (nint)control, controlLength);
            string? callText = trace is null ? null : SendText(lease.Fd, sentTo, leases, data.Length);
            long deadline = FdWait.Deadline(wait);
            int sent = 0;
            fixed (byte* start = data)
            {
                var bytes = (nint)start;
                do
                {
                    int length = data.Length - sent;
                    // Only the first piece of a stream carries the descriptors.
                    SyscallResult? result = SendWaiting(message with { Data = bytes + sent, Length = length }, IsNonBlocking ? TimeSpan.Zero : FdWait.Remaining(deadline),
                        cancellationToken, trace);
                    if (result is not SyscallResult done)
                    {
                        trace?.Invoke($"sendmsg({callText}) = -1 EAGAIN ({(IsNonBlocking || wait == TimeSpan.Zero ? "would block" : $"timed out after {Units.FormatDuration(wait)}")}; {sent} of {data.Length} bytes sent)");
                        break;
                    }
                    sent += (int)Syscall.CheckCount(done, trace, "sendmsg", destination?.ToString() ?? Description, $"{callText}",
                        done.Failed ? ExplainSend(done.Errno, data.Length, destination) : null);
                    message = message with { Control = 0, ControlLength = 0 };
                }
                while (Kind == SocketKind.Stream && sent < data.Length);
            }
            return sent;
        }
        finally
        {
            leases?.Dispose();
        }
    }

    private static readonly List<(SafeHandle Handle, string Name)> NoDescriptors = [];

    private static string SendText(int fd, SocketEndpoint? destination, PassedLeases? leases, int length) =>
        $"{fd}, {{msg_name={(destination is null ? "NULL" : AddressText(destination))}, msg_iov=[{length} bytes]" +
        (leases is null ? "" : $", msg_control=[{{cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data={leases}}}]") + "}, MSG_NOSIGNAL";

    private string? ExplainSend(Errno errno, int length, SocketEndpoint? destination) => errno switch
    {
        Errno.EPIPE => NoReaderLeft,
        Errno.EMSGSIZE => $"A {Kind} message of {length} bytes is larger than this socket sends at once (SO_SNDBUF {SendBufferSize} bytes).",
        Errno.ENOTCONN or Errno.EDESTADDRREQ => $"{Description} is not connected: connect it, or give a destination.",
        Errno.ECONNREFUSED when destination is not null => $"Nothing receives at {destination}.",
        Errno.ECONNREFUSED => "The peer's socket is closed.",
        Errno.ENOENT => $"There is no socket file at {destination}.",
        Errno.ETOOMANYREFS => "Descriptors in flight, passed and not yet received, reached the limit (RLIMIT_NOFILE of the sender).",
        _ => null,
    };

    private protected override string NoReaderLeft => "The peer closed its end, or shut it down for reading.";

    /// <summary>One sendmsg, trying without waiting first; then waiting in the call itself, interruptibly, since a datagram's receiver being full is something poll does not see.</summary>
    private unsafe SyscallResult? SendWaiting(OutgoingMessage message, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        if (timeout == Timeout.InfiniteTimeSpan && !cancellationToken.CanBeCanceled)
        {
            return BlockingCall.Run(message, static waiting => waiting.Send(Libc.MSG_NOSIGNAL), Handle, timeout, cancellationToken, trace, Description);
        }
        SyscallResult attempt = message.Send(Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
        if (attempt.Errno != Errno.EAGAIN)
        {
            return attempt;
        }
        if (timeout == TimeSpan.Zero)
        {
            return null;
        }
        return BlockingCall.Run(message, static waiting => waiting.Send(Libc.MSG_NOSIGNAL), Handle, timeout, cancellationToken, trace, Description);
    }

    /// <summary>What one sendmsg needs, pinned by the caller for the length of the send.</summary>
    private readonly unsafe record struct OutgoingMessage(int Fd, nint Address, int AddressLength, nint Control, int ControlLength)
    {
        public nint Data { get; init; }

        public int Length { get; init; }

        public SyscallResult Send(int flags)
        {
            var vector = new IoVec { Base = Data, Length = (nuint)Length };
            var header = new MessageHeader
            {
                Name = AddressLength == 0 ? null : (byte*)Address,
                NameLength = (uint)AddressLength,
                Vectors = &vector,
                VectorCount = 1,
                Control = ControlLength == 0 ? null : (byte*)Control,
                ControlLength = (nuint)ControlLength,
            };
            return Libc.sendmsg(Fd, &header, flags);
        }
    }

    /// <summary>
    /// Receives one message (a datagram or seqpacket whole, or what a stream has, up to <see cref="ReceiveChunk"/>
    /// bytes), waiting up to <paramref name="timeout"/> for one: null on timeout. Descriptors that came with it are
    /// this process's now (close-on-exec), each as a typed object; the sender's credentials come on UNIX sockets with
    /// SO_PASSCRED. On a stream, an empty message with <see cref="SocketMessage.IsEndOfStream"/> means the peer closed.
    /// A non-blocking socket returns null at once when nothing is there.
    /// </summary>
    public unsafe SocketMessage? Receive(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        lock (ReadGate)
        {
            if (TakeAllBuffered() is byte[] buffered)
            {
                // Bytes a stream read took ahead of this receive come first, so none are lost or reordered.
                return new SocketMessage(buffered, null, null, [], isTruncated: false, descriptorsLost: false, isEndOfStream: false);
            }
            Timeouts.Validate(timeout);
            var retry = new FdRetry(Handle, Libc.POLLIN, IsNonBlocking ? TimeSpan.Zero : timeout, cancellationToken, Description);
            bool blockInKernel = retry.IsUnbounded && Kind == SocketKind.Stream;
            if (retry.IsUnbounded && !blockInKernel)
            {
                // A message's size is asked for before it is received, so it has to be there first.
                retry.WaitUntilReady(trace);
            }
            byte* address = stackalloc byte[SocketEndpoint.StorageSize];
            byte* control = stackalloc byte[ControlCapacity];
            using HandleLease lease = Lease();
            int fd = lease.Fd;
            int flags = Libc.MSG_CMSG_CLOEXEC | (blockInKernel ? 0 : Libc.MSG_DONTWAIT) | (Kind == SocketKind.Stream ? 0 : Libc.MSG_TRUNC);
            using ThreadInterrupt? closable = retry.ArmForClose(blockInKernel, trace);
            while (true)
            {
                int capacity = Kind == SocketKind.Stream ? ReceiveChunk : Math.Max(ReceiveChunk, NextMessageSize(fd));
                if (_receiveBuffer.Length < capacity)
                {
                    _receiveBuffer = new byte[capacity];
                }
                SyscallResult result;
                MessageHeader header;
                fixed (byte* start = _receiveBuffer)
                {
                    var vector = new IoVec { Base = (nint)start, Length = (nuint)capacity };
                    header = new MessageHeader
                    {
                        Name = address, NameLength = SocketEndpoint.StorageSize, Vectors = &vector, VectorCount = 1,
                        Control = control, ControlLength = (nuint)ControlCapacity,
                    };
                    result = Libc.recvmsg(fd, &header, flags);
                }
                if (result.Failed)
                {
                    if (!retry.AfterFailure(result, trace, "recvmsg", $"{fd}, ..., {Libc.MessageFlagsText(flags)}"))
                    {
                        return null;
                    }
                    continue;
                }
                // The descriptors are owned before anything else can fail, so none leaks.
                List<SafeFdHandle> handles = ControlMessages.TakeDescriptors(control, (int)header.ControlLength, out SocketCredentials? credentials);
                int received = (int)Math.Min(result.Value, capacity);
                byte[] data = _receiveBuffer.AsSpan(0, received).ToArray();
                SocketEndpoint? sender = header.NameLength > 0 ? SocketEndpoint.Read(new ReadOnlySpan<byte>(address, (int)header.NameLength), (int)header.NameLength) : null;
                trace?.Invoke($"recvmsg({fd}, {{msg_name={AddressText(sender)}, msg_iov=[{Data(data)}], " +
                    $"msg_control={ControlMessages.Describe(handles, credentials)}, msg_flags={Libc.MessageFlagsText(header.Flags)}}}, " +
                    $"{Libc.MessageFlagsText(flags)}) = {result.Value}");
                IReadOnlyList<object> descriptors = PassedDescriptors.Adopt(handles, trace);
                bool ended = result.Value == 0 && (Kind == SocketKind.Stream
                    || Kind == SocketKind.SeqPacket && handles.Count == 0 && credentials is null && PeerHungUp(fd));
                SetEnded(ended);
                return new SocketMessage(data, sender, credentials, descriptors, isTruncated: (header.Flags & Libc.MSG_TRUNC) != 0,
                    descriptorsLost: (header.Flags & Libc.MSG_CTRUNC) != 0, isEndOfStream: ended, originalLength: (int)result.Value);
            }
        }
    }

    /// <summary>
    /// Whether an empty seqpacket read was the end of the connection rather than an empty message: the peer hung up,
    /// and the read carried nothing (a message from a socket with SO_PASSCRED always carries credentials).
    /// </summary>
    private static unsafe bool PeerHungUp(int fd)
    {
        var poll = new PollFd { Fd = fd, Events = Libc.POLLRDHUP };
        return Libc.poll(&poll, 1, 0) == 1 && (poll.ReturnedEvents & (Libc.POLLRDHUP | Libc.POLLHUP)) != 0;
    }

    /// <summary>FIONREAD of a datagram or seqpacket socket: the size of the next message, so the buffer can take it whole.</summary>
    private static unsafe int NextMessageSize(int fd)
    {
        int size = 0;
        Libc.ioctl(fd, Libc.FIONREAD, &size);
        return size;
    }

    /// <summary>
    /// Sends one byte of TCP urgent data (send with MSG_OOB): the peer's poll and epoll report it as Priority
    /// (POLLPRI, EPOLLPRI) until it reads it with <see cref="ReceiveUrgent"/>. TCP keeps one urgent byte at a time: a
    /// second sent before the first is read takes its place, and the first joins the ordinary stream.
    /// </summary>
    public unsafe void SendUrgent(byte value, SyscallTrace? trace = null)
    {
        using HandleLease lease = Lease();
        ThrowUnlessTcp();
        SyscallResult result = Libc.send(lease.Fd, &value, 1, Libc.MSG_OOB | Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
        Syscall.CheckCount(result, trace, "send", Description, $"{lease.Fd}, {Data([value])}, 1, MSG_OOB|MSG_NOSIGNAL|MSG_DONTWAIT",
            result.Errno switch
            {
                Errno.EAGAIN => $"{Description} has no room to send now.",
                Errno.EPIPE => NoReaderLeft,
                Errno.ENOTCONN => $"{Description} is not connected.",
                _ => null,
            });
    }

    /// <summary>
    /// Takes the TCP urgent byte waiting for this socket (recv with MSG_OOB), without waiting: null when there is none
    /// (EINVAL: none was sent, or it was read already; EAGAIN: it is announced but has not arrived).
    /// </summary>
    public unsafe byte? ReceiveUrgent(SyscallTrace? trace = null)
    {
        using HandleLease lease = Lease();
        ThrowUnlessTcp();
        byte value;
        SyscallResult result = Libc.recv(lease.Fd, &value, 1, Libc.MSG_OOB | Libc.MSG_DONTWAIT);
        if (result.Errno is Errno.EINVAL or Errno.EAGAIN)
        {
            Syscall.Traced(result, trace, "recv", $"{lease.Fd}, ..., 1, MSG_OOB|MSG_DONTWAIT");
            return null;
        }
        Syscall.CheckCount(result, trace, "recv", Description, $"{lease.Fd}, {Data([value])}, 1, MSG_OOB|MSG_DONTWAIT");
        return value;
    }

    private void ThrowUnlessTcp()
    {
        if (Family == SocketFamily.Unix || Kind != SocketKind.Stream)
        {
            throw new InvalidOperationException($"{Description} is not a TCP socket: only TCP carries urgent (out-of-band) data.");
        }
    }

    /// <summary>Ends one or both directions (shutdown(2)), for every process that has the socket, unlike close.</summary>
    public void Shutdown(SocketShutdown how, SyscallTrace? trace = null)
    {
        if (!Enum.IsDefined(how))
        {
            throw new ArgumentOutOfRangeException(nameof(how), how, "Receive, Send or Both.");
        }
        using HandleLease lease = Lease();
        SyscallResult result = Libc.shutdown(lease.Fd, (int)how);
        Syscall.Check(result, trace, "shutdown", Description, $"{lease.Fd}, {how switch { SocketShutdown.Receive => "SHUT_RD", SocketShutdown.Send => "SHUT_WR", _ => "SHUT_RDWR" }}",
            result.Errno == Errno.ENOTCONN ? $"{Description} is not connected." : null);
    }

    /// <summary>SO_REUSEADDR: bind a port whose last connection is still in TIME_WAIT (Internet), as servers that restart do.</summary>
    public void SetReuseAddress(bool reuse, SyscallTrace? trace = null) => SetOption(Libc.SO_REUSEADDR, "SO_REUSEADDR", reuse ? 1 : 0, trace);

    /// <summary>SO_REUSEPORT: several sockets of one user bind the same address and port, and the kernel spreads connections or datagrams among them.</summary>
    public void SetReusePort(bool reuse, SyscallTrace? trace = null) => SetOption(Libc.SO_REUSEPORT, "SO_REUSEPORT", reuse ? 1 : 0, trace);

    private unsafe void SetOption(int option, string name, int value, SyscallTrace? trace)
    {
        using HandleLease lease = Lease();
        Syscall.Check(Libc.setsockopt(lease.Fd, Libc.SOL_SOCKET, option, &value, sizeof(int)), trace, "setsockopt", Description,
            $"{lease.Fd}, SOL_SOCKET, {name}, [{value}], 4");
    }

    private unsafe int GetOption(int option, string name)
    {
        int value = 0;
        uint length = sizeof(int);
        using HandleLease lease = Lease();
        Syscall.Check(Libc.getsockopt(lease.Fd, Libc.SOL_SOCKET, option, &value, &length), null, "getsockopt", Description, $"{lease.Fd}, SOL_SOCKET, {name}");
        return value;
    }

    private unsafe delegate int AddressCall(int fd, byte* address, uint* length);

    /// <summary>getsockname or getpeername; <paramref name="target"/> names the socket, since its description is made from these.</summary>
    private unsafe SocketEndpoint? Address(AddressCall call, string name, string target, SyscallTrace? trace = null)
    {
        byte* address = stackalloc byte[SocketEndpoint.StorageSize];
        uint length = SocketEndpoint.StorageSize;
        using HandleLease lease = Handle.Lease(target);
        SyscallResult result = call(lease.Fd, address, &length);
        if (result.Errno == Errno.ENOTCONN)
        {
            Syscall.Traced(result, trace, name, $"{lease.Fd}, ..., [{SocketEndpoint.StorageSize}]");
            return null;
        }
        Syscall.Check(result, trace, name, target, $"{lease.Fd}, ..., [{SocketEndpoint.StorageSize} => {length}]");
        return SocketEndpoint.Read(new ReadOnlySpan<byte>(address, (int)length), (int)length);
    }

    /// <summary>Takes over a socket passed to this process; null for a family or kind Sysprog does not speak (netlink, raw).</summary>
    internal static Socket? Adopt(SafeFdHandle handle, ulong inode, SyscallTrace? trace)
    {
        int family = GetOption(handle, Libc.SO_DOMAIN);
        int kind = GetOption(handle, Libc.SO_TYPE);
        if (!Enum.IsDefined((SocketFamily)family) || !Enum.IsDefined((SocketKind)kind))
        {
            return null;
        }
        var socket = new Socket(handle, (SocketFamily)family, (SocketKind)kind, inode);
        if (socket.IsListening)
        {
            socket.ForceNonBlockingInKernel(trace);
        }
        return socket;
    }

    private static unsafe int GetOption(SafeFdHandle handle, int option)
    {
        int value = 0;
        uint length = sizeof(int);
        using HandleLease lease = handle.Lease("socket");
        Syscall.Check(Libc.getsockopt(lease.Fd, Libc.SOL_SOCKET, option, &value, &length), null, "getsockopt", $"socket {lease.Fd}", $"");
        return value;
    }

    /// <summary>The object for a new descriptor; a UNIX socket gets SO_PASSCRED, so every message it receives says who sent it.</summary>
    private static Socket Wrap(SafeFdHandle fd, SocketFamily family, SocketKind kind, SyscallTrace? trace, bool nonBlocking)
    {
        Socket socket;
        try
        {
            socket = new Socket(fd, family, kind, FileStatus.OfFd(fd, "socket", trace).Inode, nonBlocking);
            // Made now, with the trace: failure messages and the narration name the socket from its first call on.
            socket.DescribeNow(trace);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
        if (family == SocketFamily.Unix)
        {
            try
            {
                socket.SetOption(Libc.SO_PASSCRED, "SO_PASSCRED", 1, trace);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        return socket;
    }

    private protected override void OnClosed(SyscallTrace? trace)
    {
        if (_boundPath is not string path || !RemovesPathOnClose)
        {
            return;
        }
        _boundPath = null;
        // Only the file this socket made: a path that was removed and made again by someone else stays.
        if (FileStatus.OfPath(path) is { } status && (status.Mode & FileStatus.TypeMask) == FileStatus.Socket && status.Inode == _boundPathInode)
        {
            Syscall.Traced(Libc.unlink(path), trace, "unlink", $"{Quote(path)}");
        }
    }

    private protected override string Describe() => Describe(null);

    private protected override string Describe(SyscallTrace? trace)
    {
        string name = $"{(Family == SocketFamily.Unix ? "UNIX" : Family.ToString())} {Kind.ToString().ToLowerInvariant()} socket {Number}";
        try
        {
            string local = Address(Libc.getsockname, "getsockname", name, trace)!.ToString();
            return Address(Libc.getpeername, "getpeername", name, trace) is SocketEndpoint remote ? $"{name} ({local} -> {remote})" : local == "(unnamed)" ? name : $"{name} ({local})";
        }
        catch (Exception e) when (e is SysprogException or ObjectDisposedException)
        {
            return name;
        }
    }

    private protected override string ReadRefusal => $"{Description} cannot be read.";

    private protected override string WriteRefusal => $"{Description} cannot be written.";

    private void ThrowUnlessFamily(SocketEndpoint endpoint)
    {
        if (endpoint.Family != Family)
        {
            throw new ArgumentException($"{endpoint} is an {endpoint.Family} address, and {Description} is an {Family} socket.", nameof(endpoint));
        }
    }

    private static void Validate(SocketFamily family, SocketKind kind)
    {
        if (!Enum.IsDefined(family))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "Unix, IPv4 or IPv6.");
        }
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Stream, Datagram or SeqPacket.");
        }
        if (family != SocketFamily.Unix && kind == SocketKind.SeqPacket)
        {
            throw new ArgumentException("SeqPacket sockets are UNIX sockets here (SCTP is not offered).", nameof(kind));
        }
    }

    private static void ValidateBacklog(int backlog)
    {
        if (backlog < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(backlog), backlog, "A listen queue holds at least 1 connection.");
        }
    }

    internal static string AddressText(SocketEndpoint? endpoint) => endpoint switch
    {
        null => "NULL",
        { Family: SocketFamily.Unix, Path: string path } => $"{{sa_family=AF_UNIX, sun_path={Quote(path)}}}",
        { Family: SocketFamily.Unix, AbstractName: not null } => $"{{sa_family=AF_UNIX, sun_path=@{NameEscaping.Quote(endpoint.AbstractNameBytes)}}}",
        { Family: SocketFamily.Unix } => "{sa_family=AF_UNIX}",
        { Family: SocketFamily.IPv4 } => $"{{sa_family=AF_INET, sin_port=htons({endpoint.Port}), sin_addr=inet_addr({Quote(endpoint.Address!.ToString())})}}",
        _ => $"{{sa_family=AF_INET6, sin6_port=htons({endpoint.Port}), sin6_addr={Quote(endpoint.Address!.ToString())}}}",
    };
}
