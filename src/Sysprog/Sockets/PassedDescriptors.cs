using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// Descriptors crossing a socket (SCM_RIGHTS): what can be sent, and what a received descriptor becomes, a typed
/// object of the kind it is, found from its /proc/self/fd link, its file type and its filesystem.
/// </summary>
internal static class PassedDescriptors
{
    /// <summary>The descriptors of the objects to send, named for messages; a Pipe or SocketPair sends both its ends.</summary>
    public static List<(SafeHandle Handle, string Name)> HandlesOf(IEnumerable<object>? items, string parameter)
    {
        var handles = new List<(SafeHandle, string)>();
        foreach (object item in items ?? [])
        {
            switch (item)
            {
                case IDescriptorObject descriptor:
                    handles.Add((descriptor.DescriptorHandle, descriptor.Description));
                    break;
                case Pipe pipe:
                    handles.AddRange(HandlesOf([pipe.ReadEnd, pipe.WriteEnd], parameter));
                    break;
                case SocketPair pair:
                    handles.AddRange(HandlesOf([pair.First, pair.Second], parameter));
                    break;
                case FileStream stream:
                    handles.Add((stream.SafeFileHandle, stream.Name));
                    break;
                case SafeFileHandle file:
                    handles.Add((file, "file handle"));
                    break;
                case null:
                    throw new ArgumentNullException(parameter, "A descriptor to pass is null.");
                default:
                    throw new ArgumentException(
                        $"A {item.GetType().Name} has no descriptor to pass: pass Sysprog objects (shared memory, queues, pipes, sockets, eventfds...), FileStreams or SafeFileHandles.",
                        parameter);
            }
        }
        return handles;
    }

    /// <summary>Each received descriptor as its object. One that cannot be typed is still returned, as a <see cref="FileDescriptor"/>: none is lost or leaked.</summary>
    public static IReadOnlyList<object> Adopt(List<SafeFdHandle> handles, SyscallTrace? trace)
    {
        if (handles.Count == 0)
        {
            return [];
        }
        var adopted = new object[handles.Count];
        for (int i = 0; i < handles.Count; i++)
        {
            adopted[i] = AdoptOne(handles[i], trace);
        }
        return adopted;
    }

    private static object AdoptOne(SafeFdHandle handle, SyscallTrace? trace)
    {
        int fd = handle.Fd;
        string link = ProcFile.ReadLink($"/proc/self/fd/{fd}", null);
        StatX status = FileStatus.OfFd(handle, link, trace);
        int type = status.Mode & FileStatus.TypeMask;
        int flags = Syscall.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), null, "fcntl", link, $"{fd}, F_GETFL");
        bool readOnly = (flags & Libc.O_ACCMODE) == Libc.O_RDONLY;
        string name = link.EndsWith(DeletedSuffix, StringComparison.Ordinal) ? link[..^DeletedSuffix.Length] : link;
        try
        {
            switch (type)
            {
                case FileStatus.Socket:
                    return (object?)Socket.Adopt(handle, status.Inode, trace) ?? FileDescriptor.Adopt(handle, link, status);
                case FileStatus.Fifo:
                    bool isFifo = link.StartsWith('/');
                    if (isFifo)
                    {
                        // FIFOs take no RWF_NOWAIT, so Sysprog's waits on them need O_NONBLOCK.
                        FileDescriptorObject.MakeNonBlocking(handle, link, trace);
                    }
                    return new PipeEnd(handle, status.Inode, readOnly, isFifo ? name : null, keptBlocking: !isFifo && (flags & Libc.O_NONBLOCK) == 0,
                        packetMode: (flags & Libc.O_DIRECT) != 0);
            }
            switch (link)
            {
                case "anon_inode:[eventfd]":
                    return EventFd.Adopt(handle, trace);
                case "anon_inode:[timerfd]":
                    return TimerFd.Adopt(handle, trace);
            }
            if (Libc.fstatfs(fd, out FileSystemStatus fileSystem) == 0 && fileSystem.Type == Libc.MQUEUE_MAGIC)
            {
                return MessageQueue.Adopt(handle, name);
            }
            if (type == FileStatus.Regular && name.StartsWith(MemfdPrefix, StringComparison.Ordinal))
            {
                return SharedMemory.Adopt(handle, name[1..], readOnly, isAnonymous: true, trace);
            }
            if (type == FileStatus.Regular && name.StartsWith(SharedMemory.Directory + "/", StringComparison.Ordinal)
                && !name.StartsWith(SharedMemory.Directory + "/sem.", StringComparison.Ordinal))
            {
                return SharedMemory.Adopt(handle, name[SharedMemory.Directory.Length..], readOnly, isAnonymous: false, trace);
            }
        }
        catch (SysprogException)
        {
            // A kind whose own checks failed (an mq_getattr refused) is still a descriptor this process now holds.
        }
        return FileDescriptor.Adopt(handle, link, status);
    }

    private const string DeletedSuffix = " (deleted)";

    private const string MemfdPrefix = "/memfd:";
}

/// <summary>Ancillary data of a received message (cmsg): the descriptors (SCM_RIGHTS) and the credentials (SCM_CREDENTIALS).</summary>
internal static class ControlMessages
{
    /// <summary>Owns every received descriptor at once, so that none leaks whatever happens next.</summary>
    public static unsafe List<SafeFdHandle> TakeDescriptors(byte* control, int length, out SocketCredentials? credentials)
    {
        var handles = new List<SafeFdHandle>();
        credentials = null;
        int headerSize = Libc.ControlAlign(sizeof(ControlHeader));
        for (int offset = 0; offset + headerSize <= length;)
        {
            var header = (ControlHeader*)(control + offset);
            int messageLength = (int)header->Length;
            if (messageLength < headerSize || offset + messageLength > length)
            {
                break;
            }
            byte* data = control + offset + headerSize;
            int dataLength = messageLength - headerSize;
            if (header->Level == Libc.SOL_SOCKET && header->Type == Libc.SCM_RIGHTS)
            {
                for (int i = 0; i < dataLength / sizeof(int); i++)
                {
                    handles.Add(new SafeFdHandle(((int*)data)[i]));
                }
            }
            else if (header->Level == Libc.SOL_SOCKET && header->Type == Libc.SCM_CREDENTIALS && dataLength >= sizeof(UnixCredentials))
            {
                credentials = new SocketCredentials(*(UnixCredentials*)data);
            }
            offset += Libc.ControlAlign(messageLength);
        }
        return handles;
    }

    /// <summary>As strace shows msg_control.</summary>
    public static string Describe(List<SafeFdHandle> handles, SocketCredentials? credentials)
    {
        var parts = new List<string>();
        if (handles.Count > 0)
        {
            parts.Add($"{{cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[{string.Join(", ", handles.Select(h => h.Fd))}]}}");
        }
        if (credentials is not null)
        {
            parts.Add($"{{cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, cmsg_data={{pid={credentials.ProcessId}, uid={credentials.UserId}, gid={credentials.GroupId}}}}}");
        }
        return "[" + string.Join(", ", parts) + "]";
    }
}
