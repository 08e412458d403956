using System.Diagnostics;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

public sealed class SocketTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(100);

    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-sock-").FullName;
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public void Dispose()
    {
        Directory.Delete(_folder, recursive: true);
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
    }

    private string PathIn(string name) => Path.Combine(_folder, name);

    /// <summary>This process's umask, as /proc/self/status shows it (reading it with umask(2) would change it for every thread).</summary>
    private static int Umask() => Convert.ToInt32(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("Umask:", StringComparison.Ordinal))["Umask:".Length..].Trim(), 8);

    private static string[] DescriptorsOf(ulong inode) => Directory.EnumerateFileSystemEntries("/proc/self/fd")
        .Where(p => new FileInfo(p).LinkTarget == $"socket:[{inode}]").ToArray();

    [Fact]
    public void ASocketPair_IsTwoBlockingCloseOnExecSockets_ThatReadEachOthersWrites_AndClosingLeavesNothing()
    {
        var trace = new List<string>();
        ulong first, second;
        using (SocketPair pair = Socket.CreatePair(trace: trace.Add))
        {
            Assert.Matches(@"^socketpair\(AF_UNIX, SOCK_STREAM\|SOCK_CLOEXEC, 0, \[\d+, \d+\]\) = 0$", trace[0]);
            Assert.Contains(trace, line => line.Contains("SO_PASSCRED", StringComparison.Ordinal));
            (first, second) = (pair.First.Inode, pair.Second.Inode);
            Assert.Single(DescriptorsOf(first));
            Assert.Equal(0, OpenFds.StatusFlags(pair.First.Fd) & 0x800);
            Assert.True(OpenFds.IsCloseOnExec(pair.Second.Fd));
            Assert.True(pair.First.LocalEndpoint.IsUnnamed);
            Assert.Equal(SocketFamily.Unix, pair.Second.Family);

            pair.First.Write("hello\n"u8, Long);
            Assert.Equal("hello\n"u8.ToArray(), pair.Second.ReadTo("\n"u8, Long));
            pair.Second.Write("back"u8, Long);
            Assert.Equal("back"u8.ToArray(), pair.First.ReadExactly(4, Long));
            Assert.Equal(Environment.ProcessId, pair.First.PeerCredentials!.ProcessId);
        }
        Assert.Empty(DescriptorsOf(first));
        Assert.Empty(DescriptorsOf(second));
    }

    [Fact]
    public void AServerAtAPath_HasTheModeAsked_AcceptsAConnection_KnowsItsPeer_AndRemovesItsFileOnClose()
    {
        string path = PathIn("server.sock");
        var trace = new List<string>();
        using (Socket server = Socket.CreateBound(SocketEndpoint.Unix(path), mode: (UnixFileMode)0x180, trace: trace.Add))
        {
            // The folder is reached first (the planted-path rule: open, and its real path read back); the mode is given
            // before bind and checked through a descriptor of the file in that folder after it; only a umask that
            // took bits of 0600 away needs the chmod (through that descriptor).
            // Each descriptor's status is read (statx) as it is opened (and the new socket's addresses, which name it): the socket's inode, the folder and the file checked, and this user (geteuid) is its owner.
            string[] mode = (Umask() & 0x180) == 0 ? ["fchmod", "bind", "openat", "statx", "geteuid", "close"] : ["fchmod", "bind", "openat", "statx", "geteuid", "chmod", "close"];
            Assert.Equal(["socket", "statx", "getsockname", "getpeername", "setsockopt", "open", "readlink", "statx", .. mode, "close", "listen", "fcntl", "fcntl"], trace.Select(l => l[..l.IndexOf('(')]));
            Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(path));
            Assert.True(server.IsListening);
            Assert.Equal(path, server.BoundPath);
            Assert.Equal(path, server.LocalEndpoint.Path);
            Assert.Equal($"UNIX stream socket {server.Fd} ({path})", server.Description);

            using Socket client = Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: Long)!;
            using Socket accepted = server.Accept(Long)!;
            Assert.Equal(path, client.RemoteEndpoint!.Path);
            Assert.True(accepted.RemoteEndpoint!.IsUnnamed || accepted.RemoteEndpoint.AbstractName is not null);
            SocketCredentials peer = accepted.PeerCredentials!;
            Assert.Equal((Environment.ProcessId, (uint)Libc_getuid()), (peer.ProcessId, peer.UserId));

            client.Write("ping"u8, Long);
            SocketMessage message = accepted.Receive(Long)!;
            Assert.Equal("ping", message.Text);
            Assert.Equal(Environment.ProcessId, message.Credentials!.ProcessId);
            client.Shutdown(SocketShutdown.Send);
            SocketMessage end = accepted.Receive(Long)!;
            Assert.True(end.IsEndOfStream);
            Assert.True(accepted.IsEnded);
        }
        Assert.False(File.Exists(path));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getuid")]
    private static extern uint Libc_getuid();

    [Fact]
    public void AnAcceptWithNothingToAccept_TimesOut_AndStopsPromptlyWhenCancelled()
    {
        using Socket server = Socket.CreateBound(SocketEndpoint.Unix(PathIn("idle.sock")));
        var clock = Stopwatch.StartNew();
        Assert.Null(server.Accept(Short));
        Assert.InRange(clock.Elapsed, Short * 0.9, Long);

        using var cancellation = new CancellationTokenSource();
        int waiter = 0;
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            waiter = ThreadWait.CurrentThreadId();
            try
            {
                server.Accept(Timeout.InfiniteTimeSpan, cancellation.Token);
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        thread.Start();
        SpinWait.SpinUntil(() => waiter != 0);
        ThreadWait.UntilBlockedIn(waiter, ThreadWait.Poll);
        cancellation.Cancel();
        Assert.True(thread.Join(TimeSpan.FromSeconds(5)));
        Assert.IsAssignableFrom<OperationCanceledException>(caught);
    }

    [Fact]
    public void AReceiveBlockedInTheKernel_WakesWithWhatIsSent()
    {
        using SocketPair pair = Socket.CreatePair();
        int waiter = 0;
        SocketMessage? received = null;
        var thread = new Thread(() =>
        {
            waiter = ThreadWait.CurrentThreadId();
            received = pair.Second.Receive(Timeout.InfiniteTimeSpan);
        });
        thread.Start();
        SpinWait.SpinUntil(() => waiter != 0);
        // No timeout and no token: one recvmsg that blocks, as in C.
        ThreadWait.UntilSleepingIn(waiter, "unix_stream_read_generic");
        pair.First.Send("wake"u8);
        Assert.True(thread.Join(Long));
        Assert.Equal("wake", received!.Text);
    }

    [Fact]
    public void AStaleSocketFile_IsReportedAsStale_AndReplacedOnlyWhenAsked_WhileOtherFilesAreNeverReplaced()
    {
        string path = PathIn("stale.sock");
        using (Socket left = Socket.CreateBound(SocketEndpoint.Unix(path)))
        {
            left.RemovesPathOnClose = false;
        }
        Assert.True(File.Exists(path));
        var inUse = Assert.Throws<SysprogException>(() => Socket.CreateBound(SocketEndpoint.Unix(path)));
        Assert.Equal((Errno.EADDRINUSE, "bind"), (inUse.Errno, inUse.Call));
        Assert.Contains("stale socket file", inUse.Message, StringComparison.Ordinal);
        SysprogException refused = Assert.Throws<SysprogException>(() => Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: Long));
        Assert.Equal(Errno.ECONNREFUSED, refused.Errno);
        Assert.Contains("stale", refused.Message, StringComparison.Ordinal);

        using (Socket replaced = Socket.CreateBound(SocketEndpoint.Unix(path), replaceStale: true))
        {
            // A live socket is not stale: replacing is refused.
            var live = Assert.Throws<SysprogException>(() => Socket.CreateBound(SocketEndpoint.Unix(path), replaceStale: true));
            Assert.Equal(Errno.EADDRINUSE, live.Errno);
            Assert.DoesNotContain("stale socket file", live.Message, StringComparison.Ordinal);
        }

        string file = PathIn("plain");
        File.WriteAllText(file, "keep me");
        var notASocket = Assert.Throws<SysprogException>(() => Socket.CreateBound(SocketEndpoint.Unix(file), replaceStale: true));
        Assert.Equal(Errno.EADDRINUSE, notASocket.Errno);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void TheSocketFileIsNotRemoved_WhenItNoLongerNamesThisSocket()
    {
        string path = PathIn("moved.sock");
        Socket server = Socket.CreateBound(SocketEndpoint.Unix(path));
        File.Delete(path);
        File.WriteAllText(path, "someone else's");
        server.Close();
        Assert.Equal("someone else's", File.ReadAllText(path));
    }

    [Fact]
    public void AnAbstractName_MakesNoFile_AndConnects()
    {
        string name = $"sysprog-test-{Guid.NewGuid():N}";
        using Socket server = Socket.CreateBound(SocketEndpoint.Abstract(name), SocketKind.SeqPacket);
        Assert.Equal("@" + name, server.LocalEndpoint.ToString());
        Assert.Contains($"@{name}", File.ReadAllText("/proc/net/unix"), StringComparison.Ordinal);
        using Socket client = Socket.CreateConnected(SocketEndpoint.ParseUnix("@" + name), SocketKind.SeqPacket, Long)!;
        using Socket accepted = server.Accept(Long)!;
        client.Send("one"u8);
        client.Send("two"u8);
        // Seqpacket keeps the messages apart.
        Assert.Equal("one", accepted.Receive(Long)!.Text);
        Assert.Equal("two", accepted.Receive(Long)!.Text);
    }

    [Fact]
    public void Datagrams_KeepTheirBoundaries_SayWhoSentThem_AndArriveWholeHoweverLarge()
    {
        string path = PathIn("dgram.sock");
        using Socket receiver = Socket.CreateBound(SocketEndpoint.Unix(path), SocketKind.Datagram);
        Assert.False(receiver.IsListening);
        using Socket sender = Socket.Create(SocketFamily.Unix, SocketKind.Datagram);
        var destination = SocketEndpoint.Unix(path);
        Assert.Equal(3, sender.Send("abc"u8, destination: destination));
        Assert.Equal(0, sender.Send(ReadOnlySpan<byte>.Empty, destination: destination));
        byte[] large = new byte[150_000];
        Random.Shared.NextBytes(large);
        sender.Send(large, destination: destination);

        SocketMessage first = receiver.Receive(Long)!;
        Assert.Equal("abc", first.Text);
        Assert.Equal(Environment.ProcessId, first.Credentials!.ProcessId);
        // SO_PASSCRED gave the unbound sender an address of its own (autobind), so it can be answered.
        Assert.NotNull(first.Sender!.AbstractName);
        Assert.Equal(first.Sender, sender.LocalEndpoint);
        Assert.Empty(receiver.Receive(Long)!.Data);
        SocketMessage whole = receiver.Receive(Long)!;
        Assert.False(whole.IsTruncated);
        Assert.Equal(large, whole.Data);
        Assert.Null(receiver.Receive(TimeSpan.Zero));

        receiver.Send("reply"u8, destination: first.Sender);
        Assert.Equal("reply", sender.Receive(Long)!.Text);
    }

    [Fact]
    public void Descriptors_ArriveAsTypedObjects_ThatWork_AndNoneIsLeft()
    {
        FdListing before = OpenFds.Snapshot();
        string shmName = TestNames.New();
        string mqName = TestNames.New();
        string file = PathIn("file.txt");
        File.WriteAllText(file, "file contents");
        try
        {
            using SocketPair pair = Socket.CreatePair();
            using SharedMemory named = SharedMemory.Create(shmName, 4096);
            using (MemoryMapping map = named.Map())
            {
                map.Write(0, "named"u8);
            }
            using SharedMemory anonymous = SharedMemory.CreateAnonymous("passed", 8192, MemorySeals.Shrink | MemorySeals.Grow);
            using MessageQueue queue = MessageQueue.Create(mqName, 4, 64);
            queue.Send("queued");
            using EventFd eventFd = EventFd.Create(5);
            using TimerFd timer = TimerFd.Create(TimerClock.Boottime);
            using Pipe pipe = Pipe.Create();
            using FileStream stream = File.OpenRead(file);
            using SocketPair inner = Socket.CreatePair(SocketKind.Datagram);

            var trace = new List<string>();
            pair.First.Send("objects"u8, [named, anonymous, queue, eventFd, timer, pipe, stream, inner.Second], trace: trace.Add);
            Assert.Matches(@"cmsg_type=SCM_RIGHTS, cmsg_data=\[(\d+, ){8}\d+\]", Assert.Single(trace));
            SocketMessage message = pair.Second.Receive(Long, trace: trace.Add)!;
            Assert.Equal("objects", message.Text);
            Assert.Equal(9, message.Descriptors.Count);
            try
            {
                var shm = Assert.IsType<SharedMemory>(message.Descriptors[0]);
                Assert.Equal((shmName, false, 4096L), (shm.Name, shm.IsAnonymous, shm.Size));
                using (MemoryMapping map = shm.Map())
                {
                    Assert.Equal("named"u8.ToArray(), map.AsSpan()[..5].ToArray());
                }
                var memfd = Assert.IsType<SharedMemory>(message.Descriptors[1]);
                Assert.Equal(("memfd:passed", true, 8192L, MemorySeals.Shrink | MemorySeals.Grow), (memfd.Name, memfd.IsAnonymous, memfd.Size, memfd.Seals));
                var mq = Assert.IsType<MessageQueue>(message.Descriptors[2]);
                Assert.Equal(mqName, mq.Name);
                Assert.Equal("queued", mq.Receive(Long)!.Text);
                Assert.Equal(5UL, Assert.IsType<EventFd>(message.Descriptors[3]).Read(Long));
                Assert.Equal(TimerClock.Boottime, Assert.IsType<TimerFd>(message.Descriptors[4]).Clock);
                var readEnd = Assert.IsType<PipeEnd>(message.Descriptors[5]);
                var writeEnd = Assert.IsType<PipeEnd>(message.Descriptors[6]);
                Assert.Equal((true, false, pipe.Inode), (readEnd.IsReadEnd, writeEnd.IsReadEnd, writeEnd.Inode));
                writeEnd.Write("through"u8, Long);
                Assert.Equal("through"u8.ToArray(), pipe.ReadEnd.ReadExactly(7, Long));
                var passedFile = Assert.IsType<FileDescriptor>(message.Descriptors[7]);
                Assert.Equal((file, "regular file", true, false), (passedFile.Target, passedFile.Kind, passedFile.CanRead, passedFile.CanWrite));
                Assert.Equal("file contents"u8.ToArray(), passedFile.ReadExactly(13, Long));
                Assert.Equal("13", passedFile.Details["pos"]);
                var socket = Assert.IsType<Socket>(message.Descriptors[8]);
                Assert.Equal((SocketKind.Datagram, inner.Second.Inode), (socket.Kind, socket.Inode));
                inner.First.Send("to the passed socket"u8);
                Assert.Equal("to the passed socket", socket.Receive(Long)!.Text);
            }
            finally
            {
                foreach (IDisposable descriptor in message.Descriptors.Cast<IDisposable>())
                {
                    descriptor.Dispose();
                }
            }
        }
        finally
        {
            TestNames.UnlinkIfPresent(shmName);
            TestNames.UnlinkQueueIfPresent(mqName);
        }
        Assert.Empty(OpenFds.OpenedSince(before));
    }

    [Fact]
    public void AStreamCarriesDescriptorsOnlyWithData_AndOnlyUnixSocketsCarryThem()
    {
        using SocketPair pair = Socket.CreatePair();
        using EventFd eventFd = EventFd.Create();
        Assert.Throws<ArgumentException>(() => pair.First.Send(ReadOnlySpan<byte>.Empty, [eventFd]));
        Assert.Throws<ArgumentException>(() => pair.First.Send("x"u8, ["not a descriptor"]));
        eventFd.Close();
        Assert.Throws<ObjectDisposedException>(() => pair.First.Send("x"u8, [eventFd]));
        Assert.Equal(0, pair.Second.BytesAvailable);
    }

    [Fact]
    public void SendingToAClosedPeer_IsEpipe_ThatSaysSo()
    {
        using SocketPair pair = Socket.CreatePair();
        pair.Second.Close();
        SysprogException e = Assert.Throws<SysprogException>(() => pair.First.Send("lost"u8));
        Assert.Equal((Errno.EPIPE, "sendmsg"), (e.Errno, e.Call));
        Assert.Contains("peer closed", e.Message, StringComparison.Ordinal);
        SysprogException write = Assert.Throws<SysprogException>(() => pair.First.Write("lost"u8, Long));
        Assert.Equal(Errno.EPIPE, write.Errno);
    }

    [Fact]
    public void ConnectingWhereNothingIs_NamesWhatIsMissing()
    {
        string path = PathIn("nothing.sock");
        SysprogException missing = Assert.Throws<SysprogException>(() => Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: Long));
        Assert.Equal((Errno.ENOENT, "connect", path), (missing.Errno, missing.Call, missing.Target));
        using Socket datagram = Socket.CreateBound(SocketEndpoint.Unix(path), SocketKind.Datagram);
        SysprogException kind = Assert.Throws<SysprogException>(() => Socket.CreateConnected(SocketEndpoint.Unix(path), SocketKind.Stream, Long));
        Assert.Equal(Errno.EPROTOTYPE, kind.Errno);
        Assert.Contains("another kind", kind.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConnectToAFullListenQueue_Waits_UntilItsTimeout()
    {
        string path = PathIn("full.sock");
        using Socket server = Socket.CreateBound(SocketEndpoint.Unix(path), backlog: 1);
        var queued = new List<Socket>();
        try
        {
            // A UNIX listen queue takes backlog + 1 connections; the next connect waits for room.
            var clock = Stopwatch.StartNew();
            while (Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: Short) is Socket connected)
            {
                queued.Add(connected);
                Assert.True(queued.Count < 10, "the listen queue never filled");
            }
            Assert.InRange(clock.Elapsed, Short * 0.9, Long);
            Assert.Equal(2, queued.Count);
            // One accepted makes room for one more: a connect with no time to wait gets in, where before the accept
            // it could not.
            using (Socket? early = Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: TimeSpan.Zero))
            {
                Assert.Null(early);
            }
            using (server.Accept(Long))
            {
            }
            using Socket? admitted = Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: TimeSpan.Zero);
            Assert.NotNull(admitted);
            using Socket? next = server.Accept(Long);
            Assert.NotNull(next);
        }
        finally
        {
            queued.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void AnEndpoint_RefusesNamesThatDoNotFit_BeforeAnyCall()
    {
        Assert.Throws<ArgumentException>(() => SocketEndpoint.Unix("/" + new string('a', 107)));
        Assert.Equal(107, Encoding.UTF8.GetByteCount(SocketEndpoint.Unix("/" + new string('a', 106)).Path!));
        Assert.Throws<ArgumentException>(() => SocketEndpoint.Abstract("a\0b"));
        Assert.Throws<ArgumentException>(() => SocketEndpoint.ParseUnix("@"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 70000));
        Assert.Equal("[::1]:80", SocketEndpoint.Internet(System.Net.IPAddress.IPv6Loopback, 80).ToString());
        using Socket unix = Socket.Create(SocketFamily.Unix, SocketKind.Stream);
        Assert.Throws<ArgumentException>(() => unix.Bind(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0)));
        using Socket datagram = Socket.Create(SocketFamily.Unix, SocketKind.Datagram);
        Assert.Throws<InvalidOperationException>(() => datagram.Listen());
    }

    [Fact]
    public void AnonymousSharedMemory_HasNoName_TakesSeals_AndExplainsWhatTheyForbid()
    {
        string[] shmBefore = Directory.GetFiles("/dev/shm");
        var trace = new List<string>();
        using SharedMemory memory = SharedMemory.CreateAnonymous("demo", 4096, trace: trace.Add);
        Assert.Equal(["memfd_create(\"demo\", MFD_CLOEXEC|MFD_ALLOW_SEALING) = " + memory.Fd, "ftruncate(" + memory.Fd + ", 4096) = 0"], trace);
        Assert.Equal(shmBefore, Directory.GetFiles("/dev/shm"));
        Assert.Null(memory.Path);
        Assert.Equal("/memfd:demo (deleted)", new FileInfo($"/proc/self/fd/{memory.Fd}").LinkTarget);
        Assert.Equal(MemorySeals.None, memory.Seals);

        using (MemoryMapping writable = memory.Map())
        {
            SysprogException busy = Assert.Throws<SysprogException>(() => memory.AddSeals(MemorySeals.Write));
            Assert.Equal(Errno.EBUSY, busy.Errno);
            Assert.Contains("writable shared mapping", busy.Message, StringComparison.Ordinal);
        }
        memory.AddSeals(MemorySeals.Shrink | MemorySeals.Seal, trace.Add);
        Assert.EndsWith("F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK) = 0", trace[^1]);
        SysprogException shrink = Assert.Throws<SysprogException>(() => memory.Resize(100));
        Assert.Equal((Errno.EPERM, "ftruncate"), (shrink.Errno, shrink.Call));
        Assert.Contains("sealed", shrink.Message, StringComparison.Ordinal);
        memory.Resize(8192);
        SysprogException sealedSeals = Assert.Throws<SysprogException>(() => memory.AddSeals(MemorySeals.Grow));
        Assert.Equal(Errno.EPERM, sealedSeals.Errno);

        string name = TestNames.New();
        try
        {
            using SharedMemory named = SharedMemory.Create(name, 4096);
            Assert.Equal(MemorySeals.Seal, named.Seals);
            SysprogException unsealable = Assert.Throws<SysprogException>(() => named.AddSeals(MemorySeals.Shrink));
            Assert.Contains("Only anonymous objects", unsealable.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestNames.UnlinkIfPresent(name);
        }
    }

    [Fact]
    public void Tcp_OnLoopback_BindsAPortTheKernelChooses_AcceptsAndCarriesAStream()
    {
        var trace = new List<string>();
        using Socket server = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), reuseAddress: true, trace: trace.Add);
        Assert.Equal(["socket", "statx", "getsockname", "getpeername", "setsockopt", "bind", "listen", "fcntl", "fcntl"], trace.Select(l => l[..l.IndexOf('(')]));
        Assert.Contains("SO_REUSEADDR", trace[4], StringComparison.Ordinal);
        int port = server.LocalEndpoint.Port;
        Assert.InRange(port, 1, 65535);
        using Socket client = Socket.CreateConnected(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, port), timeout: Long)!;
        using Socket accepted = server.Accept(Long)!;
        Assert.Equal($"127.0.0.1:{port}", client.RemoteEndpoint!.ToString());
        Assert.Equal(client.LocalEndpoint, accepted.RemoteEndpoint);
        Assert.Null(accepted.PeerCredentials);
        Assert.Equal($"IPv4 stream socket {accepted.Fd} (127.0.0.1:{port} -> {client.LocalEndpoint})", accepted.Description);
        client.Write("over tcp\n"u8, Long);
        Assert.Equal("over tcp\n"u8.ToArray(), accepted.ReadTo("\n"u8, Long));
        client.Close();
        Assert.True(accepted.Receive(Long)!.IsEndOfStream);

        SysprogException inUse = Assert.Throws<SysprogException>(() => Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, port)));
        Assert.Equal((Errno.EADDRINUSE, "bind", $"127.0.0.1:{port}"), (inUse.Errno, inUse.Call, inUse.Target));
        server.Close();
        SysprogException refused = Assert.Throws<SysprogException>(() => Socket.CreateConnected(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, port), timeout: Long));
        Assert.Equal(Errno.ECONNREFUSED, refused.Errno);
        Assert.Contains("Nothing listens", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Udp_OnLoopback_SaysWhoSentEachDatagram()
    {
        using Socket receiver = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), SocketKind.Datagram);
        using Socket sender = Socket.Create(SocketFamily.IPv4, SocketKind.Datagram);
        sender.Send("datagram"u8, destination: receiver.LocalEndpoint);
        SocketMessage message = receiver.Receive(Long)!;
        Assert.Equal("datagram", message.Text);
        // The sender was bound on its first send: to the wildcard address, and a port of the kernel's choice.
        Assert.Equal(("0.0.0.0", sender.LocalEndpoint.Port), (sender.LocalEndpoint.Address!.ToString(), message.Sender!.Port));
        Assert.Equal("127.0.0.1", message.Sender.Address!.ToString());
        Assert.Null(message.Credentials);
        using EventFd eventFd = EventFd.Create();
        Assert.Throws<ArgumentException>(() => sender.Send("x"u8, [eventFd], receiver.LocalEndpoint));
    }

    [SkippableFact]
    public void Ipv6Loopback_Works_WhereTheMachineHasIt()
    {
        Socket server;
        try
        {
            server = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.IPv6Loopback, 0));
        }
        catch (SysprogException e) when (e.Errno is Errno.EAFNOSUPPORT or Errno.EADDRNOTAVAIL)
        {
            Skip.If(true, $"No IPv6 loopback here: {e.Message}");
            return;
        }
        using (server)
        {
            using Socket client = Socket.CreateConnected(server.LocalEndpoint, timeout: Long)!;
            using Socket accepted = server.Accept(Long)!;
            Assert.Equal(SocketFamily.IPv6, accepted.Family);
            Assert.StartsWith("[::1]:", accepted.RemoteEndpoint!.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Resolution_GivesLoopbackAndWildcardAddresses_AndNamesItsErrors()
    {
        var trace = new List<string>();
        IReadOnlyList<SocketEndpoint> local = SocketEndpoint.Resolve("127.0.0.1", "http", trace: trace.Add);
        Assert.Equal("127.0.0.1:80", Assert.Single(local).ToString());
        Assert.Equal("getaddrinfo(\"127.0.0.1\", \"http\", {ai_family=AF_UNSPEC, ai_socktype=SOCK_STREAM}) = 0 [127.0.0.1:80]", Assert.Single(trace));
        Assert.Contains(SocketEndpoint.Resolve("localhost", "8080", family: SocketFamily.IPv4), e => e.ToString() == "127.0.0.1:8080");
        Assert.Contains(SocketEndpoint.Resolve(null, "0", SocketKind.Datagram, forBinding: true), e => e.ToString() is "0.0.0.0:0" or "[::]:0");

        AddressResolutionException e = Assert.Throws<AddressResolutionException>(() => SocketEndpoint.Resolve("127.0.0.1", "no-such-service-here"));
        Assert.Equal("EAI_SERVICE", e.Code);
        Assert.StartsWith("getaddrinfo(\"127.0.0.1\", \"no-such-service-here\") failed: EAI_SERVICE", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SocketEndpoint.Resolve("127.0.0.1", "80", SocketKind.SeqPacket));
    }

    [Fact]
    public void TheListing_ShowsThisProcessesSockets_WithTheirStates_AddressesAndHolders()
    {
        string path = PathIn("listed.sock");
        using Socket unix = Socket.CreateBound(SocketEndpoint.Unix(path));
        using Socket tcp = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0));
        using Socket client = Socket.CreateConnected(tcp.LocalEndpoint, timeout: Long)!;
        using Socket udp = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), SocketKind.Datagram);
        var trace = new List<string>();
        IReadOnlyList<SocketInfo> mine = SocketTable.List(new SocketQuery { ProcessId = Environment.ProcessId }, trace.Add);
        Assert.Contains(trace, line => line.StartsWith("/proc/*/fd of 1 processes read", StringComparison.Ordinal));

        SocketInfo listening = Assert.Single(mine, s => s.Inode == unix.Inode);
        Assert.Equal((SocketProtocol.Unix, SocketKind.Stream, "LISTEN", path), (listening.Protocol, listening.Kind, listening.State, listening.LocalAddress));
        SocketHolder holder = Assert.Single(listening.Holders);
        Assert.Equal((Environment.ProcessId, unix.Fd), (holder.ProcessId, holder.Fd));
        // sock_diag says what /proc/net/unix does not: queues (for a listener, waiting connections and the backlog), owner, peers.
        Assert.Equal(((long?)0, (long?)Socket.DefaultBacklog, (uint?)Libc_getuid()), (listening.ReceiveQueue, listening.SendQueue, listening.UserId));
        using (Socket unixClient = Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: Long)!)
        using (Socket unixServer = unix.Accept(Long)!)
        {
            unixClient.Write("12345"u8, Long);
            IReadOnlyList<SocketInfo> pair = SocketTable.List(new SocketQuery { ProcessId = Environment.ProcessId, Protocols = [SocketProtocol.Unix] });
            SocketInfo connecting = Assert.Single(pair, s => s.Inode == unixClient.Inode);
            SocketInfo served = Assert.Single(pair, s => s.Inode == unixServer.Inode);
            Assert.Equal(("ESTAB", path, (ulong?)unixServer.Inode), (connecting.State, connecting.PeerAddress, connecting.PeerInode));
            Assert.Equal(((ulong?)unixClient.Inode, (long?)5), (served.PeerInode, served.ReceiveQueue));
        }

        int port = tcp.LocalEndpoint.Port;
        SocketInfo server = Assert.Single(mine, s => s.Inode == tcp.Inode);
        Assert.Equal(("LISTEN", $"127.0.0.1:{port}", (int?)port, (long?)1), (server.State, server.LocalAddress, server.LocalPort, server.ReceiveQueue));
        SocketInfo connection = Assert.Single(mine, s => s.Inode == client.Inode);
        Assert.Equal(("ESTAB", $"127.0.0.1:{port}", client.LocalEndpoint.ToString()), (connection.State, connection.PeerAddress, connection.LocalAddress));
        Assert.Equal(Libc_getuid(), connection.UserId);
        Assert.Equal("UNCONN", Assert.Single(mine, s => s.Inode == udp.Inode).State);

        Assert.Equal([tcp.Inode], SocketTable.List(new SocketQuery { Protocols = [SocketProtocol.Tcp], States = ["listen"], Port = port }).Select(s => s.Inode));
        Assert.Equal([unix.Inode], SocketTable.List(new SocketQuery { Path = Path.Combine(_folder, "*.sock") }).Select(s => s.Inode));
        Assert.DoesNotContain(SocketTable.List(new SocketQuery { Protocols = [SocketProtocol.Udp] }), s => s.Protocol != SocketProtocol.Udp);
    }

    [Fact]
    public void ATcpListenersQueues_AreTheConnectionsWaiting_AndItsBacklog_AsSsShowsThem()
    {
        using Socket listener = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), backlog: 7);
        using Socket first = Socket.CreateConnected(listener.LocalEndpoint, timeout: Long)!;
        using Socket second = Socket.CreateConnected(listener.LocalEndpoint, timeout: Long)!;
        var trace = new List<string>();

        SocketInfo listed = Assert.Single(SocketTable.List(new SocketQuery { Protocols = [SocketProtocol.Tcp], ProcessId = Environment.ProcessId }, trace.Add),
            s => s.Inode == listener.Inode);

        // Send-Q is the backlog (sk_max_ack_backlog), which inet_diag gives and /proc/net/tcp prints as 0.
        Assert.Equal(("LISTEN", (long?)2, (long?)7), (listed.State, listed.ReceiveQueue, listed.SendQueue));
        Assert.Contains(trace, l => l.StartsWith("sendto(", StringComparison.Ordinal) && l.Contains("sdiag_family=AF_INET, sdiag_protocol=IPPROTO_TCP", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void ASocketBoundToAnInterface_NamesIt_AsSsWritesItAfterAPercent()
    {
        using var bound = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        try
        {
            // SO_BINDTODEVICE (25) at SOL_SOCKET, to the loopback interface.
            bound.SetRawSocketOption(1, 25, "lo\0"u8);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Skip.If(true, $"SO_BINDTODEVICE is refused here ({e.SocketErrorCode}): CAP_NET_RAW is needed on kernels before 5.7");
        }
        bound.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        using Socket unbound = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), SocketKind.Datagram);
        ulong inode = ulong.Parse(OpenFds.Target((int)bound.Handle)["socket:[".Length..^1], System.Globalization.CultureInfo.InvariantCulture);

        IReadOnlyList<SocketInfo> listed = SocketTable.List(new SocketQuery { Protocols = [SocketProtocol.Udp], ProcessId = Environment.ProcessId });

        // ss -u shows it as 127.0.0.1%lo:PORT.
        Assert.Equal("lo", Assert.Single(listed, s => s.Inode == inode).Interface);
        Assert.Null(Assert.Single(listed, s => s.Inode == unbound.Inode).Interface);
    }

    [Fact]
    public void Listening_IsWhatSsDashLLists_ListenersAndTheSocketsThatWaitUnconnected()
    {
        using Socket tcp = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0));
        using Socket connection = Socket.CreateConnected(tcp.LocalEndpoint, timeout: Long)!;
        using Socket udp = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), SocketKind.Datagram);
        using Socket unixListener = Socket.CreateBound(SocketEndpoint.Unix(PathIn("listening.sock")));
        using Socket unixDatagram = Socket.CreateBound(SocketEndpoint.Unix(PathIn("datagram.sock")), SocketKind.Datagram);
        using SocketPair pair = Socket.CreatePair();

        ulong[] listed = SocketTable.List(new SocketQuery { Listening = true, ProcessId = Environment.ProcessId }).Select(s => s.Inode).ToArray();

        // ss -l asks for LISTEN and CLOSE (UNCONN): a bound UDP or UNIX datagram socket waits for peers as a listener does.
        Assert.Subset(listed.ToHashSet(), new HashSet<ulong> { tcp.Inode, udp.Inode, unixListener.Inode, unixDatagram.Inode });
        Assert.DoesNotContain(connection.Inode, listed);
        Assert.DoesNotContain(pair.First.Inode, listed);
        // -State LISTEN is ss's "state listening": the listeners alone.
        Assert.Equal(new[] { tcp.Inode, unixListener.Inode }.Order(), SocketTable.List(new SocketQuery { States = ["LISTEN"], ProcessId = Environment.ProcessId })
            .Select(s => s.Inode).Where(new[] { tcp.Inode, udp.Inode, unixListener.Inode, unixDatagram.Inode }.Contains).Order());
    }

    [Fact]
    public void ReusePort_LetsTwoSocketsBindOnePort_AndOnlyWhenBothAskForIt()
    {
        var trace = new List<string>();
        using Socket first = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0), reusePort: true, trace: trace.Add);
        Assert.Contains("setsockopt(" + first.Fd + ", SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0", trace);
        var endpoint = first.LocalEndpoint;
        using Socket second = Socket.CreateBound(endpoint, reusePort: true);
        Assert.Equal(endpoint, second.LocalEndpoint);
        Assert.Equal(Errno.EADDRINUSE, Assert.Throws<SysprogException>(() => Socket.CreateBound(endpoint)).Errno);
    }

    [Fact]
    public void ConnectingToAFifo_IsRefused_SayingItIsAFifoNotASocket()
    {
        // What another user may have planted where a socket was expected: connect(2) refuses it like a socket no one
        // listens on, and the message says what is there instead of claiming a socket.
        string path = PathIn("planted");
        Fifo.Create(path);

        SysprogException refused = Assert.Throws<SysprogException>(() => Socket.CreateConnected(SocketEndpoint.Unix(path), timeout: Long));

        Assert.Equal(Errno.ECONNREFUSED, refused.Errno);
        Assert.Contains("it is a FIFO, not a socket", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("a socket is bound there", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAbstractNameWithControlCharactersOrBytesNoUtf8_ListedEscaped_IsReachedByItsEscapedForm()
    {
        // What another user can bind: a newline, then text shaped like a /proc/net/unix row, and ESC.
        string raw = $"sysprog-test-{Guid.NewGuid():N}\nu_str LISTEN 0 0 @forged\u001b[31m";
        using Socket listener = Socket.CreateBound(SocketEndpoint.Abstract(raw));
        string shown = listener.LocalEndpoint.ToString();
        Assert.DoesNotContain('\n', shown);
        Assert.Contains("\\nu_str", shown, StringComparison.Ordinal);

        SocketEndpoint passedBack = SocketEndpoint.ParseUnix(shown);
        using Socket client = Socket.CreateConnected(passedBack, timeout: TimeSpan.FromSeconds(10))!;

        Assert.Equal(raw, passedBack.AbstractName);
        Assert.Equal(shown, client.RemoteEndpoint!.ToString());
        Assert.Throws<ArgumentException>(() => SocketEndpoint.Abstract(@"a\q"));

        // Bytes that are no UTF-8, as any user may bind them: listed as \xHH, and that form reaches the socket.
        using Socket bytes = Socket.CreateBound(SocketEndpoint.Abstract($@"sysprog-test-{Guid.NewGuid():N}-\xff\xfe"));
        string bytesShown = bytes.LocalEndpoint.ToString();
        Assert.EndsWith(@"-\xff\xfe", bytesShown, StringComparison.Ordinal);
        using Socket bytesClient = Socket.CreateConnected(SocketEndpoint.ParseUnix(bytesShown), timeout: TimeSpan.FromSeconds(10))!;
        Assert.Equal(bytesShown, bytesClient.RemoteEndpoint!.ToString());
    }

    [Fact]
    public void ListeningUnixAddresses_AreThePathsAndNamesThatListen()
    {
        string path = PathIn("completed.sock");
        string name = $"sysprog-test-{Guid.NewGuid():N}";
        using Socket file = Socket.CreateBound(SocketEndpoint.Unix(path));
        using Socket named = Socket.CreateBound(SocketEndpoint.Abstract(name));
        using Socket datagram = Socket.CreateBound(SocketEndpoint.Unix(PathIn("datagram.sock")), SocketKind.Datagram);
        IReadOnlyList<string> listening = SocketTable.ListeningUnixAddresses();
        Assert.Contains(path, listening);
        Assert.Contains("@" + name, listening);
        Assert.DoesNotContain(PathIn("datagram.sock"), listening);
    }
}
