using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// Named pipes: mkfifo, and opens with the real open semantics. A blocking open waits for the other side (a reader
/// for a writer, a writer for a reader), for at most a timeout and cancellably: Sysprog's signal interrupts the
/// open. A non-blocking open for reading succeeds at once; for writing without a reader it fails with ENXIO, and
/// the end stays non-blocking (<see cref="FileDescriptorObject.IsNonBlocking"/>): its reads and writes never wait.
/// The end it gives is O_NONBLOCK in the kernel either way, on its own open file description (FIFOs take no
/// RWF_NOWAIT), which no other process shares.
/// </summary>
public static class Fifo
{
    /// <summary>
    /// mkfifo with the exact <paramref name="mode"/>, whatever the umask: the mode is changed through a descriptor of
    /// the FIFO just made, never by a second lookup of the name that another user could redirect meanwhile. The FIFO
    /// is made in its folder as reached by the planted-path rule (mkfifoat), so a link another user planted on the way
    /// is not followed. An existing path is EEXIST.
    /// </summary>
    public static FileInfo Create(string path, UnixFileMode mode = FileModes.OwnerReadWrite, SyscallTrace? trace = null)
    {
        string full = PathArguments.Full(path);
        FileModes.Validate(mode, nameof(mode));
        string shown = NameEscaping.Escape(full);
        using NameInFolder at = PlantedPath.FolderOf(full, trace);
        using (HandleLease lease = at.Folder.Lease(at.FolderPath))
        {
            SyscallResult result = Libc.mkfifoat(lease.Fd, at.Name, (int)mode);
            string? detail = result.Errno == Errno.EEXIST ? "Something of that name exists already; a FIFO is never made over it." : null;
            Syscall.Check(result, trace, "mkfifoat", shown, $"{lease.Fd}, {Quote(at.Name)}, {Octal((int)mode)}", detail);
        }
        ExclusiveCreation.CompleteOrUndo(
            () => PlantedPath.ChangeModeOfCreated(at, FileStatus.Fifo, mode, trace),
            () => { },
            () =>
            {
                using HandleLease lease = at.Folder.Lease(at.FolderPath);
                Syscall.Check(Libc.unlinkat(lease.Fd, at.Name, 0), trace, "unlinkat", shown, $"{lease.Fd}, {Quote(at.Name)}, 0");
            });
        at.Close(trace);
        return new FileInfo(full);
    }

    /// <summary>True when <paramref name="path"/> names a FIFO (following symbolic links).</summary>
    public static bool IsFifo(string path) => FileStatus.OfPath(PathArguments.Full(path), followLinks: true) is { } status && (status.Mode & FileStatus.TypeMask) == FileStatus.Fifo;

    /// <summary>
    /// Opens the FIFO at <paramref name="path"/> for reading or writing. Unless <paramref name="nonBlocking"/>, waits
    /// up to <paramref name="timeout"/> for the other side to open it: null on timeout. A non-blocking end stays so:
    /// its reads and writes never wait either. What stands at the path is
    /// taken first as an O_PATH descriptor, by the planted-path rule and without opening it (no side of a FIFO taken),
    /// and anything but a FIFO is refused then; the open is of that very FIFO (/proc/self/fd/N), so nothing swapped
    /// in at the name after the check is ever opened.
    /// </summary>
    public static unsafe PipeEnd? Open(string path, FileAccess access, bool nonBlocking = false, TimeSpan? timeout = null, bool inheritable = false,
        CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        string full = PathArguments.Full(path);
        if (access is not (FileAccess.Read or FileAccess.Write))
        {
            throw new ArgumentException("A FIFO end is opened for reading or for writing, not both: open one of each.", nameof(access));
        }
        TimeSpan wait = timeout ?? Timeout.InfiniteTimeSpan;
        Timeouts.Validate(wait);
        string shown = NameEscaping.Escape(full);
        OpenedPath node;
        try
        {
            node = PlantedPath.Open(full, Libc.O_PATH, 0, AcceptedFileTypes.Any, trace);
        }
        catch (SysprogException e) when (e.Errno == Errno.ENOENT)
        {
            throw new SysprogException(Errno.ENOENT, e.Call, shown, $"{(e.Detail is null ? "" : e.Detail + " ")}There is no FIFO of that name; New-Fifo (mkfifo) makes one.", e);
        }
        using SafeFdHandle checkedFifo = node.Fd;
        if ((node.Status.Mode & FileStatus.TypeMask) != FileStatus.Fifo)
        {
            throw new ArgumentException($"{shown} is a {FileStatus.KindOf(node.Status.Mode & FileStatus.TypeMask)}, not a FIFO; only FIFOs are opened here.", nameof(path));
        }
        bool forReading = access == FileAccess.Read;
        int flags = (forReading ? Libc.O_RDONLY : Libc.O_WRONLY) | (inheritable ? 0 : Libc.O_CLOEXEC) | (nonBlocking ? Libc.O_NONBLOCK : 0);
        SafeFdHandle handle;
        if (nonBlocking)
        {
            handle = PlantedPath.Reopen(checkedFifo, full, flags, trace,
                "No process has the FIFO open for reading, and a non-blocking open for writing does not wait for one (a blocking open does).");
        }
        else if (OpenWaiting(checkedFifo, full, flags, wait, cancellationToken, trace) is int opened)
        {
            handle = new SafeFdHandle(opened);
        }
        else
        {
            return null;
        }
        try
        {
            if (!nonBlocking)
            {
                int fd = handle.Fd;
                Syscall.Check(Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK), trace, "fcntl", shown, $"{fd}, F_SETFL, {Libc.OpenFlagsText(flags | Libc.O_NONBLOCK)}");
            }
            checkedFifo.Close(trace);
            return new PipeEnd(handle, node.Status.Inode, forReading, full, keptBlocking: false, packetMode: false, nonBlocking);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Why an <see cref="Open"/> gave null: no process came to the other side in time.</summary>
    public static string DescribeTimeout(string path, FileAccess access, TimeSpan timeout) =>
        $"No process opened {NameEscaping.Escape(PathArguments.Full(path))} for {(access == FileAccess.Read ? "writing" : "reading")} within {Units.FormatDuration(timeout)}.";

    /// <summary>
    /// A blocking open(2) of the FIFO <paramref name="checkedFifo"/> names (/proc/self/fd/N), interrupted by Sysprog's
    /// signal when the token or the timeout fires; null on timeout.
    /// </summary>
    private static int? OpenWaiting(SafeFdHandle checkedFifo, string full, int flags, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        string shown = NameEscaping.Escape(full);
        using HandleLease lease = checkedFifo.Lease(shown);
        string fifo = PlantedPath.DescriptorPath(lease.Fd);
        if (BlockingCall.Run((fifo, flags), static open => Libc.open(open.fifo, open.flags, 0), null, timeout, cancellationToken, trace, shown) is not SyscallResult result)
        {
            trace?.Invoke($"open({Quote(fifo)}, {Libc.OpenFlagsText(flags)}) = -1 EINTR (timed out after {Units.FormatDuration(timeout)})");
            return null;
        }
        return Syscall.Check(result, trace, "open", shown, $"{Quote(fifo)}, {Libc.OpenFlagsText(flags)}", result.Errno == Errno.ENOENT ? PlantedPath.NeedsProc : null);
    }
}
