using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// Named pipes: mkfifo, and opens with the real open semantics. A blocking open waits for the other side (a reader
/// for a writer, a writer for a reader), for at most a timeout and cancellably: Sysprog's signal interrupts the
/// open. A non-blocking open for reading succeeds at once; for writing without a reader it fails with ENXIO. The end
/// it gives is O_NONBLOCK on its own open file description (FIFOs take no RWF_NOWAIT), which no other process shares.
/// </summary>
public static class Fifo
{
    /// <summary>
    /// mkfifo with the exact <paramref name="mode"/>, whatever the umask: the mode is changed through a descriptor of
    /// the FIFO just made, never by a second lookup of the name that another user could redirect meanwhile. An existing
    /// path is EEXIST.
    /// </summary>
    public static FileInfo Create(string path, UnixFileMode mode = FileModes.OwnerReadWrite, SyscallTrace? trace = null)
    {
        string full = PathArguments.Full(path);
        FileModes.Validate(mode, nameof(mode));
        string shown = NameEscaping.Escape(full);
        SyscallResult result = Libc.mkfifo(full, (int)mode);
        string? detail = result.Errno == Errno.EEXIST ? "Something of that name exists already; a FIFO is never made over it." : null;
        Syscall.Check(result, trace, "mkfifo", shown, $"{Quote(full)}, {Octal((int)mode)}", detail);
        ExclusiveCreation.CompleteOrUndo(
            () => PlantedPath.ChangeModeOfCreated(full, FileStatus.Fifo, mode, trace),
            () => { },
            () => Syscall.Check(Libc.unlink(full), trace, "unlink", shown, $"{Quote(full)}"));
        return new FileInfo(full);
    }

    /// <summary>True when <paramref name="path"/> names a FIFO (following symbolic links).</summary>
    public static bool IsFifo(string path) => FileStatus.OfPath(PathArguments.Full(path), followLinks: true) is { } status && (status.Mode & FileStatus.TypeMask) == FileStatus.Fifo;

    /// <summary>
    /// Opens the FIFO at <paramref name="path"/> for reading or writing. Unless <paramref name="nonBlocking"/>, waits
    /// up to <paramref name="timeout"/> for the other side to open it: null on timeout. Anything but a FIFO is refused
    /// before it is opened.
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
        StatX status = FileStatus.OfPath(full, trace, followLinks: true)
            ?? throw new SysprogException(Errno.ENOENT, "statx", shown, "There is no FIFO of that name; New-Fifo (mkfifo) makes one.");
        if ((status.Mode & FileStatus.TypeMask) != FileStatus.Fifo)
        {
            throw new ArgumentException($"{shown} is not a FIFO (mode {Convert.ToString(status.Mode, 8)}); only FIFOs are opened here.", nameof(path));
        }
        bool forReading = access == FileAccess.Read;
        int flags = (forReading ? Libc.O_RDONLY : Libc.O_WRONLY) | (inheritable ? 0 : Libc.O_CLOEXEC) | (nonBlocking ? Libc.O_NONBLOCK : 0);
        string flagText = Libc.OpenFlagsText(flags);
        int fd;
        if (nonBlocking)
        {
            SyscallResult result = Libc.open(full, flags, 0);
            string? detail = result.Errno == Errno.ENXIO
                ? "No process has the FIFO open for reading, and a non-blocking open for writing does not wait for one (a blocking open does)."
                : null;
            fd = Syscall.Check(result, trace, "open", shown, $"{Quote(full)}, {flagText}", detail);
        }
        else if (OpenWaiting(full, flags, flagText, wait, cancellationToken, trace) is int opened)
        {
            fd = opened;
        }
        else
        {
            return null;
        }
        var handle = new SafeFdHandle(fd);
        try
        {
            StatX opened = FileStatus.OfFd(handle, shown);
            if ((opened.Mode & FileStatus.TypeMask) != FileStatus.Fifo)
            {
                throw new ArgumentException($"{shown} was replaced by something that is not a FIFO while it was being opened.", nameof(path));
            }
            if (!nonBlocking)
            {
                Syscall.Check(Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK), trace, "fcntl", shown, $"{fd}, F_SETFL, {Libc.OpenFlagsText(flags | Libc.O_NONBLOCK)}");
            }
            return new PipeEnd(handle, opened.Inode, forReading, full, keptBlocking: false, packetMode: false);
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

    /// <summary>A blocking open(2), interrupted by Sysprog's signal when the token or the timeout fires; null on timeout.</summary>
    private static int? OpenWaiting(string path, int flags, string flagText, TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        if (BlockingCall.Run((path, flags), static open => Libc.open(open.path, open.flags, 0), timeout, cancellationToken, trace, NameEscaping.Escape(path)) is not SyscallResult result)
        {
            trace?.Invoke($"open({Quote(path)}, {flagText}) = -1 EINTR (timed out after {Units.FormatDuration(timeout)})");
            return null;
        }
        return Syscall.Check(result, trace, "open", NameEscaping.Escape(path), $"{Quote(path)}, {flagText}");
    }
}
