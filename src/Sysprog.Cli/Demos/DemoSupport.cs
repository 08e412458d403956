using System.CommandLine;
using System.Diagnostics;

namespace Sysprog.Cli.Demos;

/// <summary>What the chapter demos share: their trace, the proof that another process sleeps in a call, and reaping.</summary>
internal static class DemoSupport
{
    /// <summary>How long a demo waits for another process to reach a state before it gives up (a loaded machine).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>With --trace, each system call under the step that made it, indented as the screenplay demo prints them.</summary>
    public static SyscallTrace? Trace(ParseResult result, Option<bool> trace) =>
        result.GetValue(trace) ? line => Console.WriteLine($"    | {line}") : null;

    /// <summary>
    /// Waits until a thread of <paramref name="processId"/> sleeps (state S) in one of <paramref name="syscalls"/>, read
    /// from /proc/PID/task/*/syscall: the proof that the other side is blocked in the kernel, not just started. Returns
    /// that thread's call, decoded strace-style. <paramref name="which"/>, when given, must accept the call too.
    /// </summary>
    public static ThreadSyscall WaitUntilBlocked(int processId, string[] syscalls, Func<ThreadSyscall, bool>? which = null) =>
        WaitUntilBlocked(processId, syscalls, which, ended: null);

    /// <summary>The same for a child of this process, failing at once when it ends instead of blocking.</summary>
    public static ThreadSyscall WaitUntilBlocked(ChildProcess child, string[] syscalls, Func<ThreadSyscall, bool>? which = null) =>
        WaitUntilBlocked(child.ProcessId, syscalls, which, ended: () => child.HasExited
            ? new InvalidOperationException($"pid {child.ProcessId} ended ({child.Exit}) instead of blocking in {string.Join(" or ", syscalls)}")
            : null);

    private static ThreadSyscall WaitUntilBlocked(int processId, string[] syscalls, Func<ThreadSyscall, bool>? which, Func<Exception?>? ended)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (ended?.Invoke() is Exception gone)
            {
                throw gone;
            }
            ThreadSyscall? blocked = ProcessSyscalls.Read(processId)
                .FirstOrDefault(t => t.State == 'S' && t.Activity == ThreadActivity.InSyscall && syscalls.Contains(t.Name) && (which is null || which(t)));
            if (blocked is not null)
            {
                return blocked;
            }
            if (waited.Elapsed > Patience)
            {
                throw new TimeoutException($"Process {processId} did not block in {string.Join(" or ", syscalls)} within {Patience.TotalSeconds:0} s.");
            }
            Thread.Sleep(10);
        }
    }

    /// <summary>
    /// Whether a thread asleep in open or openat is opening <paramref name="path"/>. Sysprog opens a FIFO through
    /// /proc/self/fd/N (a descriptor of the checked file), so that name is followed in the sleeper's own /proc; and a
    /// .NET process has a thread of its own asleep opening the runtime's debugger FIFO, which proves nothing.
    /// </summary>
    public static bool IsOpening(ThreadSyscall call, string path)
    {
        int start = call.Call.IndexOf('"', StringComparison.Ordinal);
        int end = start < 0 ? -1 : call.Call.IndexOf('"', start + 1);
        if (end < 0)
        {
            return false;
        }
        string opened = call.Call[(start + 1)..end];
        if (opened.StartsWith("/proc/self/", StringComparison.Ordinal))
        {
            try
            {
                opened = File.ResolveLinkTarget($"/proc/{call.ProcessId}/{opened["/proc/self/".Length..]}", returnFinalTarget: false)?.FullName ?? opened;
            }
            catch (IOException)
            {
                return false;  // the descriptor or the process has gone meanwhile
            }
        }
        return opened == path;
    }

    /// <summary>Kills and reaps a child the demo left running (a failed step), so no process outlives the demo.</summary>
    public static void Reap(ChildProcess? child)
    {
        if (child is null || child.IsClosed)
        {
            return;
        }
        if (child.Exit is null && !child.HasExited)
        {
            child.Signal(Signals.SIGKILL);
        }
        child.WaitForExit(Patience);
        child.Dispose();
    }

    /// <summary>Kills a peer started with <see cref="DemoCommand.Start"/> that is still running, and waits for it.</summary>
    public static void Reap(Process? peer)
    {
        if (peer is null)
        {
            return;
        }
        if (!peer.HasExited)
        {
            peer.Kill();
        }
        peer.WaitForExit();
        peer.Dispose();
    }

    /// <summary>Reads a stream descriptor to its end (every write end closed, the peer gone).</summary>
    public static string ReadToEnd(StreamDescriptor source, SyscallTrace? trace)
    {
        var text = new System.Text.StringBuilder();
        while (source.ReadAvailableText(null, Patience, default, trace) is string chunk && chunk.Length > 0)
        {
            text.Append(chunk);
        }
        return source.IsEnded ? text.ToString() : throw new TimeoutException($"{source.Description} did not end within {Patience.TotalSeconds:0} s.");
    }
}
