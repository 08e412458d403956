namespace Sysprog;

/// <summary>Two connected UNIX sockets (socketpair(2)): each end reads what the other sends. Hand one to another process.</summary>
public sealed class SocketPair : IDisposable
{
    internal SocketPair(Socket first, Socket second) => (First, Second) = (first, second);

    public Socket First { get; }

    public Socket Second { get; }

    public SocketKind Kind => First.Kind;

    public bool IsClosed => First.IsClosed && Second.IsClosed;

    /// <summary>Closes both ends (either may be closed already).</summary>
    public void Close(SyscallTrace? trace = null)
    {
        First.Close(trace);
        Second.Close(trace);
    }

    public void Dispose() => Close();

    public override string ToString() =>
        IsClosed ? $"UNIX {Kind.ToString().ToLowerInvariant()} socket pair (closed)" : $"UNIX {Kind.ToString().ToLowerInvariant()} socket pair (fds {First.Fd}, {Second.Fd})";
}
