using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// A Sysprog object that owns one file descriptor: what a socket can pass to another process (SCM_RIGHTS), and what
/// a child process can be given.
/// </summary>
public interface IDescriptorObject
{
    /// <summary>The descriptor, or -1 once closed.</summary>
    int Fd { get; }

    /// <summary>How it is named in messages and listings.</summary>
    string Description { get; }

    internal SafeFdHandle DescriptorHandle { get; }
}

/// <summary>A descriptor object that poll/epoll can watch (eventfd, timerfd, signalfd, queue, pipe end, socket).</summary>
public interface IPollable : IDescriptorObject
{
    /// <summary>Reads and writes on it never wait: where they would, they return at once, "would block" (EAGAIN).</summary>
    bool IsNonBlocking { get; }

    /// <summary>Makes reads and writes stop waiting, or wait again (O_NONBLOCK; see each kind for where the flag lives).</summary>
    void SetNonBlocking(bool nonBlocking, SyscallTrace? trace = null);
}
