namespace Sysprog;

/// <summary>The ways two processes on one machine can talk, as the course's "choosing an IPC mechanism" compares them.</summary>
public enum IpcMechanism
{
    /// <summary>Two pipes (pipe2), one each way, inherited by the peer.</summary>
    Pipe,

    /// <summary>Two FIFOs (mkfifo) the peer opens by path.</summary>
    Fifo,

    /// <summary>A UNIX stream socket pair (socketpair(AF_UNIX, SOCK_STREAM)).</summary>
    UnixStream,

    /// <summary>A UNIX datagram socket pair (socketpair(AF_UNIX, SOCK_DGRAM)): reliable, ordered, with boundaries.</summary>
    UnixDatagram,

    /// <summary>A TCP connection on the loopback interface (127.0.0.1).</summary>
    Tcp,

    /// <summary>Two UDP sockets on the loopback interface, connected to each other.</summary>
    Udp,

    /// <summary>Two POSIX message queues (mq_open), one each way, opened by name.</summary>
    MessageQueue,

    /// <summary>POSIX shared memory (shm_open) holding a ring of slots each way, handed over with process-shared semaphores.</summary>
    SharedMemory,

    /// <summary>Two eventfds, one each way: a counter that carries no data.</summary>
    EventFd,

    /// <summary>SIGUSR1 to the peer, SIGUSR2 back (kill, pidfd_send_signal): a notification that carries no data.</summary>
    Signal,
}

/// <summary>What a mechanism offers besides speed: the trade-offs a user weighs beside the numbers.</summary>
/// <param name="Mechanism">The mechanism described.</param>
/// <param name="NamedBy">How the two processes find the same object.</param>
/// <param name="Lifetime">How long the object lasts: while a descriptor is open (process), or until removed or reboot (kernel).</param>
/// <param name="KeepsMessageBoundaries">Each read returns one message as it was sent (not a byte stream).</param>
/// <param name="HasPriorities">Messages can jump the queue by priority.</param>
/// <param name="PassesDescriptors">Open descriptors can be sent along (SCM_RIGHTS).</param>
/// <param name="CrossesHosts">The same code reaches another machine.</param>
/// <param name="CarriesData">Messages have contents (an eventfd or a signal is only a notification).</param>
public sealed record IpcMechanismTraits(
    IpcMechanism Mechanism,
    string NamedBy,
    string Lifetime,
    bool KeepsMessageBoundaries,
    bool HasPriorities,
    bool PassesDescriptors,
    bool CrossesHosts,
    bool CarriesData)
{
    /// <summary>The traits of <paramref name="mechanism"/>.</summary>
    public static IpcMechanismTraits Of(IpcMechanism mechanism) => mechanism switch
    {
        IpcMechanism.Pipe => new(mechanism, "inheritance", "process", false, false, false, false, true),
        IpcMechanism.Fifo => new(mechanism, "file path", "process", false, false, false, false, true),
        IpcMechanism.UnixStream => new(mechanism, "path or @name", "process", false, false, true, false, true),
        IpcMechanism.UnixDatagram => new(mechanism, "path or @name", "process", true, false, true, false, true),
        IpcMechanism.Tcp => new(mechanism, "address:port", "process", false, false, false, true, true),
        IpcMechanism.Udp => new(mechanism, "address:port", "process", true, false, false, true, true),
        IpcMechanism.MessageQueue => new(mechanism, "/name", "kernel", true, true, false, false, true),
        IpcMechanism.SharedMemory => new(mechanism, "/name", "kernel", true, false, false, false, true),
        IpcMechanism.EventFd => new(mechanism, "inheritance", "process", false, false, false, false, false),
        IpcMechanism.Signal => new(mechanism, "process id", "none", false, false, false, false, false),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, $"One of {string.Join(", ", Enum.GetNames<IpcMechanism>())}."),
    };
}
