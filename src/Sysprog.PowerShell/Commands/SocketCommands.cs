using System.Globalization;
using System.Management.Automation;
using System.Text;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Lets a string stand for a socket address: <c>@name</c>, <c>host:port</c>, or a path (relative to the current
/// location, as every path in PowerShell is); a SocketEndpoint (a received message's Sender) passes as it is.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SocketEndpointTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not string text || text.Length == 0)
        {
            return value;
        }
        try
        {
            return SocketEndpoint.IsPath(text)
                ? SocketEndpoint.Unix(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(text))
                : SocketEndpoint.Parse(text, SocketKind.Datagram);
        }
        catch (Exception e) when (e is ArgumentException or IOException && !ErrorMapping.IsInternal(e))
        {
            throw new ArgumentTransformationMetadataException(e.Message, e);
        }
    }
}

/// <summary>
/// What New-Socket and Connect-Socket share: the address, given as -Path (a socket file), -Name (an abstract name)
/// or -Address and -Port (resolved with getaddrinfo), the -Type, and -Inheritable.
/// </summary>
public abstract class SocketAddressCommandBase : SysprogCmdlet
{
    private protected const string ByPath = "Path";
    private protected const string ByName = "Name";
    private protected const string ByAddress = "Address";

    /// <summary>A UNIX socket file's path.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByPath, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SocketAddressCompleter))]
    public string Path { get; set; } = "";

    /// <summary>A name in the abstract namespace (Linux only: no file; written @name, the '@' is optional here).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByName)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SocketAddressCompleter))]
    public string Name { get; set; } = "";

    /// <summary>A host name or IP address. Default: every local address for New-Socket, the loopback address for Connect-Socket.</summary>
    [Parameter(ParameterSetName = ByAddress)]
    [ValidateNotNullOrEmpty]
    public string? Address { get; set; }

    /// <summary>The TCP or UDP port; 0 lets the kernel choose when binding.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByAddress)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>IPv4 or IPv6 only, when a host name has addresses of both.</summary>
    [Parameter(ParameterSetName = ByAddress)]
    [ValidateSet("IPv4", "IPv6")]
    public string? AddressFamily { get; set; }

    /// <summary>Stream (TCP, or a UNIX stream), Datagram (UDP, or UNIX datagrams) or SeqPacket (UNIX only: messages over a connection).</summary>
    [Parameter]
    public SocketKind Type { get; set; } = SocketKind.Stream;

    /// <summary>Leave FD_CLOEXEC clear, so programs started from here inherit the socket under the same number.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    /// <summary>
    /// SOCK_NONBLOCK (shared with every process that inherits the socket): receives, sends and accepts that would wait
    /// write a WouldBlock record instead.
    /// </summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    /// <summary>What the address parameters name; Internet ones resolved (every address, in the resolver's order).</summary>
    private protected IReadOnlyList<SocketEndpoint> Endpoints(bool forBinding) => ParameterSetName switch
    {
        ByPath => [SocketEndpoint.Unix(LiteralProviderPath(Path))],
        ByName => [SocketEndpoint.Abstract(Name.StartsWith('@') ? Name[1..] : Name)],
        _ => SocketEndpoint.Resolve(Address, Port.ToString(CultureInfo.InvariantCulture), Type,
            AddressFamily is null ? null : Enum.Parse<SocketFamily>(AddressFamily), forBinding, Trace),
    };

    /// <summary>The address as the user gave it, escaped (<see cref="NameEscaping"/>), for error targets and ShouldProcess.</summary>
    private protected string AddressText => ParameterSetName switch
    {
        ByPath => NameEscaping.Escape(Path),
        ByName => NameEscaping.Escape(Name.StartsWith('@') ? Name : "@" + Name),
        _ => $"{Address ?? "*"}:{Port}",
    };
}

/// <summary>New-Socket: socket(2), and with an address bind(2) (and listen(2) for streams and seqpackets): a server's socket.</summary>
[Cmdlet(VerbsCommon.New, "Socket", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByPath)]
[OutputType(typeof(Socket))]
public sealed class NewSocketCommand : SocketAddressCommandBase
{
    private const string UnboundSet = "Unbound";

    /// <summary>A socket with no address yet: a datagram sender (its first send binds it to an address of the kernel's choice).</summary>
    [Parameter(Mandatory = true, ParameterSetName = UnboundSet)]
    public SwitchParameter Unbound { get; set; }

    /// <summary>Unix (the default), IPv4 or IPv6, for an unbound socket.</summary>
    [Parameter(ParameterSetName = UnboundSet)]
    public SocketFamily Family { get; set; } = SocketFamily.Unix;

    /// <summary>The longest queue of connections not yet accepted (listen(2)'s backlog; capped by net.core.somaxconn).</summary>
    [Parameter(ParameterSetName = ByPath)]
    [Parameter(ParameterSetName = ByName)]
    [Parameter(ParameterSetName = ByAddress)]
    [ValidateRange(1, int.MaxValue)]
    public int Backlog { get; set; } = Socket.DefaultBacklog;

    /// <summary>The socket file's permissions, in octal: connecting needs write permission.</summary>
    [Parameter(ParameterSetName = ByPath)]
    [ValidateNotNullOrEmpty]
    public string Mode { get; set; } = "0600";

    /// <summary>Replace a stale socket file (one no socket is bound to). Nothing else is ever replaced.</summary>
    [Parameter(ParameterSetName = ByPath)]
    public SwitchParameter Force { get; set; }

    /// <summary>SO_REUSEADDR: bind a port whose last connections are still in TIME_WAIT, as a restarted server must.</summary>
    [Parameter(ParameterSetName = ByAddress)]
    public SwitchParameter ReuseAddress { get; set; }

    /// <summary>SO_REUSEPORT: let several sockets (of this user) bind the same address and port; the kernel spreads connections among them.</summary>
    [Parameter(ParameterSetName = ByAddress)]
    public SwitchParameter ReusePort { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == UnboundSet)
        {
            TryRun(Family, () => WriteObject(Handles.Track(Socket.Create(Family, Type, Inheritable, Trace, NonBlocking))));
            return;
        }
        string action = $"Bind a {Type} socket{(Type == SocketKind.Datagram ? "" : " and listen")}{(Force ? ", replacing a stale socket file" : "")}";
        if (!ShouldProcess(AddressText, action))
        {
            return;
        }
        TryRun(AddressText, () =>
        {
            SocketEndpoint endpoint = Endpoints(forBinding: true)[0];
            UnixFileMode mode = FileModes.ParseOctal(Mode, nameof(Mode));
            WriteObject(Handles.Track(Socket.CreateBound(endpoint, Type, Backlog, mode, Force, ReuseAddress, Inheritable, Trace, ReusePort, NonBlocking)));
        });
    }
}

/// <summary>Connect-Socket: socket(2) and connect(2), trying each address a host name resolves to.</summary>
[Cmdlet(VerbsCommunications.Connect, "Socket", DefaultParameterSetName = ByPath)]
[OutputType(typeof(Socket))]
public sealed class ConnectSocketCommand : SocketAddressCommandBase
{
    /// <summary>Default: wait until connected (a full listen queue, a slow handshake) or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(AddressText, () =>
        {
            Socket socket = Socket.CreateConnected(Endpoints(forBinding: false), Type, timeout, Cancellation, Inheritable, Trace, NonBlocking)
                ?? throw new TimeoutException($"{AddressText} accepted no connection within {Units.FormatDuration(timeout)}.");
            WriteObject(Handles.Track(socket));
        });
    }
}

/// <summary>New-SocketPair: socketpair(2), two connected UNIX sockets.</summary>
[Cmdlet(VerbsCommon.New, "SocketPair")]
[OutputType(typeof(SocketPair))]
public sealed class NewSocketPairCommand : SysprogCmdlet
{
    /// <summary>Stream (the default), Datagram or SeqPacket.</summary>
    [Parameter(Position = 0)]
    public SocketKind Type { get; set; } = SocketKind.Stream;

    /// <summary>Leave FD_CLOEXEC clear, so programs started from here inherit both sockets under the same numbers.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    /// <summary>SOCK_NONBLOCK on both: receives and sends that would wait write a WouldBlock record instead.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord() =>
        TryRun("socketpair", () => WriteObject(Handles.Track(Socket.CreatePair(Type, Inheritable, Trace, NonBlocking))));
}

/// <summary>Receive-SocketConnection: accept4(2) on a listening socket, with a timeout and Ctrl+C.</summary>
[Cmdlet(VerbsCommunications.Receive, "SocketConnection")]
[OutputType(typeof(Socket), typeof(WouldBlock))]
public sealed class ReceiveSocketConnectionCommand : SysprogCmdlet
{
    /// <summary>A listening socket (New-Socket with an address, of type Stream or SeqPacket).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public Socket InputObject { get; set; } = null!;

    /// <summary>Connections to accept, one after another.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>Default: wait for each connection until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    /// <summary>The connections accepted are SOCK_NONBLOCK (accept4): their receives and sends write a WouldBlock record instead of waiting.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(InputObject, () =>
        {
            for (int accepted = 0; accepted < Count; accepted++)
            {
                if (InputObject.Accept(timeout, Cancellation, Trace, NonBlocking) is not Socket connection)
                {
                    WriteObject(WouldBlockInstead(InputObject, timeout) ? new WouldBlock(InputObject, "accept")
                        : throw new TimeoutException($"No connection came to {InputObject.Description} within {Units.FormatDuration(timeout)}."));
                    return;
                }
                WriteObject(Handles.Track(connection));
            }
        });
    }
}

/// <summary>Send-SocketMessage: sendmsg(2), one message per input, with descriptors (SCM_RIGHTS).</summary>
[Cmdlet(VerbsCommunications.Send, "SocketMessage")]
[OutputType(typeof(WouldBlock))]
public sealed class SendSocketMessageCommand : StreamCommandBase
{
    /// <summary>A connected socket, or a datagram socket with -Destination.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public Socket Socket { get; set; } = null!;

    /// <summary>Text (encoded with -Encoding, nothing added) or a byte[]: one message per input. Default: an empty message.</summary>
    [Parameter(Position = 1, ValueFromPipeline = true)]
    [AllowEmptyString]
    [AllowNull]
    public object? Value { get; set; }

    /// <summary>
    /// Descriptors to pass with each message: shared memory, queues, pipes or their ends, sockets, eventfds, timerfds,
    /// FileStreams. The receiver gets its own descriptors of the same open files.
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public object[] Descriptor { get; set; } = [];

    /// <summary>Where an unconnected datagram socket sends: a path, @name, host:port, or a received message's Sender.</summary>
    [Parameter]
    [SocketEndpointTransformation]
    [ValidateNotNull]
    public SocketEndpoint? Destination { get; set; }

    /// <summary>TCP urgent data (send with MSG_OOB): one byte, which the peer's poll and epoll report as Priority.</summary>
    [Parameter]
    public SwitchParameter OutOfBand { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        byte[] data = BytesOf(Value, suffix: "");
        if (OutOfBand)
        {
            if (data.Length != 1 || Descriptor.Length > 0 || Destination is not null)
            {
                WriteError(ToErrorRecord(new ArgumentException("-OutOfBand sends one byte of TCP urgent data: give a -Value of exactly one byte, and no -Descriptor or -Destination.",
                    nameof(Value)), Socket));
                return;
            }
            TryRun(Socket, () => Socket.SendUrgent(data[0], Trace));
            return;
        }
        object[] descriptors = Descriptor.Select(d => d is PSObject o ? o.BaseObject : d).ToArray();
        TryRun(Socket, () =>
        {
            int sent = Socket.Send(data, descriptors, Destination, timeout, Cancellation, Trace);
            if (sent < data.Length)
            {
                WriteObject(WouldBlockInstead(Socket, timeout) ? new WouldBlock(Socket, "send", sent)
                    : throw new TimeoutException($"{Socket.Description} took {sent} of {data.Length} bytes within {Units.FormatDuration(timeout)}."));
            }
        });
    }
}

/// <summary>Receive-SocketMessage: recvmsg(2), messages with their sender, credentials and descriptors.</summary>
[Cmdlet(VerbsCommunications.Receive, "SocketMessage", DefaultParameterSetName = ByCount)]
[OutputType(typeof(SocketMessage), typeof(WouldBlock))]
public sealed class ReceiveSocketMessageCommand : SysprogCmdlet
{
    private const string ByCount = "Count";
    private const string Following = "Wait";

    /// <summary>A connected or bound socket.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public Socket InputObject { get; set; } = null!;

    /// <summary>Messages to receive (fewer when a stream ends first).</summary>
    [Parameter(ParameterSetName = ByCount)]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>Keep receiving, writing each message as it comes, until the stream ends, Ctrl+C, or -TimeoutSeconds pass without one.</summary>
    [Parameter(Mandatory = true, ParameterSetName = Following)]
    public SwitchParameter Wait { get; set; }

    /// <summary>Default: wait for each message until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        TryRun(InputObject, () =>
        {
            if (Wait)
            {
                WriteUntilEnd(() => Receive(timeout), message => message.IsEndOfStream, follow: true, InputObject, timeout);
                return;
            }
            for (int received = 0; received < Count; received++)
            {
                if (Receive(timeout) is not SocketMessage message)
                {
                    WriteObject(WouldBlockInstead(InputObject, timeout) ? new WouldBlock(InputObject, "receive") : throw NothingToRead(InputObject.Description, timeout));
                    return;
                }
                if (message.IsEndOfStream)
                {
                    return;
                }
                WriteObject(message);
            }
        });
    }

    /// <summary>One message; its descriptors are tracked, so removing the module closes any the session left open.</summary>
    private SocketMessage? Receive(TimeSpan timeout)
    {
        SocketMessage? message = InputObject.Receive(timeout, Cancellation, Trace);
        foreach (IDisposable descriptor in message?.Descriptors.Cast<IDisposable>() ?? [])
        {
            Handles.Track(descriptor);
        }
        if (message is { DescriptorsLost: true })
        {
            WriteWarning($"The kernel dropped descriptors sent with a message from {InputObject.Description} (MSG_CTRUNC): this session has no free descriptor numbers (RLIMIT_NOFILE).");
        }
        return message;
    }
}

/// <summary>Disconnect-Socket: shutdown(2), which ends a direction for every process holding the socket.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "Socket", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class DisconnectSocketCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public Socket InputObject { get; set; } = null!;

    /// <summary>Send (the peer reads the end of the stream: "I am done"), Receive, or Both (the default).</summary>
    [Parameter(Position = 1)]
    public SocketShutdown Direction { get; set; } = SocketShutdown.Both;

    protected override void ProcessRecord()
    {
        if (ShouldProcess(InputObject.Description, $"Shut down ({Direction})"))
        {
            TryRun(InputObject, () => InputObject.Shutdown(Direction, Trace));
        }
    }
}

/// <summary>Close-Socket: closes sockets, or both sockets of a pair; a socket that bound a path removes its socket file.</summary>
[Cmdlet(VerbsCommon.Close, "Socket")]
[OutputType(typeof(void))]
public sealed class CloseSocketCommand : ClosePairableCommandBase<SocketPair, Socket>
{
    private protected override string Takes => "sockets and socket pairs";

    private protected override void ClosePair(SocketPair pair) => pair.Close(Trace);
}

/// <summary>Add-SharedMemorySeal: fcntl(F_ADD_SEALS) on anonymous shared memory; seals are forever.</summary>
[Cmdlet(VerbsCommon.Add, "SharedMemorySeal", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SharedMemory))]
public sealed class AddSharedMemorySealCommand : SysprogCmdlet
{
    /// <summary>Anonymous shared memory (New-SharedMemory -Anonymous, or received over a socket).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public SharedMemory InputObject { get; set; } = null!;

    /// <summary>Shrink, Grow, Write, FutureWrite, Seal (no more seals).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public MemorySeals[] Seal { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        MemorySeals seals = Seal.Aggregate(MemorySeals.None, (all, seal) => all | seal);
        if (!ShouldProcess(InputObject.Name, $"Add seals {seals} (they can never be removed)"))
        {
            return;
        }
        TryRun(InputObject, () =>
        {
            InputObject.AddSeals(seals, Trace);
            if (PassThru)
            {
                WriteObject(InputObject);
            }
        });
    }
}

/// <summary>Get-Socket: the machine's sockets (/proc/net/unix, tcp, udp) with the processes that hold them, like ss -p.</summary>
[Cmdlet(VerbsCommon.Get, "Socket")]
[OutputType(typeof(SocketInfo))]
public sealed class GetSocketCommand : SysprogCmdlet
{
    /// <summary>Unix, Tcp, Udp; default all.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public SocketProtocol[] Protocol { get; set; } = [];

    /// <summary>States as ss names them: LISTEN, ESTAB, UNCONN, TIME-WAIT, CLOSE-WAIT, SYN-SENT...</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] State { get; set; } = [];

    /// <summary>What ss -l lists: listeners, and sockets that wait for peers unconnected (state LISTEN or UNCONN).</summary>
    [Parameter]
    public SwitchParameter Listening { get; set; }

    /// <summary>A local or peer TCP or UDP port.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int? Port { get; set; }

    /// <summary>UNIX socket addresses matching this wildcard pattern (/run/*.sock, @*).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Only the sockets this process holds.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ValidateRange(1, int.MaxValue)]
    public int? ProcessId { get; set; }

    protected override void ProcessRecord()
    {
        var query = new SocketQuery { Protocols = Protocol, States = State, Listening = Listening, Port = Port, Path = Path, ProcessId = ProcessId };
        TryRun(ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "sockets", () => WriteObject(SocketTable.List(query, Trace), enumerateCollection: true));
    }
}
