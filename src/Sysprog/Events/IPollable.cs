using Sysprog.Interop;

namespace Sysprog;

/// <summary>A Sysprog object backed by a file descriptor that poll/epoll can watch (eventfd, timerfd, signalfd, queue).</summary>
public interface IPollable
{
    /// <summary>The descriptor, or -1 once closed.</summary>
    int Fd { get; }

    /// <summary>How it is named in messages and listings.</summary>
    string Description { get; }

    internal SafeFdHandle PollHandle { get; }
}
