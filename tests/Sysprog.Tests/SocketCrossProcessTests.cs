using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Descriptors and credentials crossing between this process and a `sysprog unix` peer.</summary>
public sealed class SocketCrossProcessTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private static string NewAbstractName() => $"sysprog-test-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40];

    /// <summary>
    /// Until a socket listens at the abstract name (__SO_ACCEPTCON, 00010000, in /proc/net/unix's Flags): a connect
    /// now cannot be refused. Bound is not enough: the peer binds, then listens, and a connect in between is refused.
    /// </summary>
    private static void UntilListening(string name, Process peer)
    {
        var clock = Stopwatch.StartNew();
        while (!File.ReadLines("/proc/net/unix").Any(l => l.EndsWith($" @{name}", StringComparison.Ordinal) && l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3] == "00010000"))
        {
            if (peer.HasExited)
            {
                Assert.Fail($"the peer exited ({peer.ExitCode}): {peer.StandardError.ReadToEnd()}");
            }
            Assert.True(clock.Elapsed < Long, $"@{name} never listened");
            Thread.Sleep(5);
        }
    }

    [Fact]
    public void APeerReceives_SealedMemoryAnEventFdAndAPipeEnd_AndKnowsWhoSentThem()
    {
        string name = NewAbstractName();
        Process peer = Peer.Start("unix", "receive", "@" + name, "--json", "--timeout", "60s");
        UntilListening(name, peer);
        using SharedMemory memory = SharedMemory.CreateAnonymous("cross", 4096);
        using (MemoryMapping map = memory.Map())
        {
            map.WriteString(0, "from the test");
        }
        memory.AddSeals(MemorySeals.Shrink | MemorySeals.Grow | MemorySeals.Write);
        using EventFd eventFd = EventFd.Create();
        using Pipe pipe = Pipe.Create();
        using (Socket socket = Socket.CreateConnected(SocketEndpoint.Abstract(name), timeout: Long)!)
        {
            Assert.Equal(peer.Id, socket.PeerCredentials!.ProcessId);
            socket.Send("three objects"u8, [memory, eventFd, pipe.WriteEnd], timeout: Long);
        }
        Peer.Result result = Peer.Finish(peer);
        Assert.True(result.ExitCode == 0, result.Error);
        using JsonDocument message = JsonDocument.Parse(result.Output);
        JsonElement root = message.RootElement;
        Assert.Equal("three objects", root.GetProperty("text").GetString());
        Assert.Equal(Environment.ProcessId, root.GetProperty("credentials").GetProperty("pid").GetInt32());
        JsonElement[] descriptors = root.GetProperty("descriptors").EnumerateArray().ToArray();
        Assert.Equal(["SharedMemory", "EventFd", "PipeEnd"], descriptors.Select(d => d.GetProperty("kind").GetString()));
        Assert.Equal("/memfd:cross (deleted)", descriptors[0].GetProperty("target").GetString());
        Assert.Equal("Shrink, Grow, Write", descriptors[0].GetProperty("seals").GetString());
        Assert.Equal("from the test", descriptors[0].GetProperty("contents").GetString());
        Assert.Equal($"pipe:[{pipe.Inode}]", descriptors[2].GetProperty("target").GetString());
    }

    [Fact]
    public void APeerSends_MemoryAndAFile_ThatArriveUsableHere_FromThePeersPid()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, "a file the peer opened");
        string name = NewAbstractName();
        try
        {
            using Socket server = Socket.CreateBound(SocketEndpoint.Abstract(name), SocketKind.SeqPacket);
            Process peer = Peer.Start("unix", "send", "@" + name, "--type", "seqpacket", "--memfd", "peer's text", "--file", file, "hello", "from", "the", "peer");
            int peerId = peer.Id;
            using Socket connection = server.Accept(Long)!;
            Assert.Equal(peerId, connection.PeerCredentials!.ProcessId);
            SocketMessage message = connection.Receive(Long)!;
            Peer.Result result = Peer.Finish(peer);
            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Equal("hello from the peer", message.Text);
            Assert.Equal(peerId, message.Credentials!.ProcessId);
            // The CLI passes its --file descriptors first, then the memfd.
            using var passedFile = Assert.IsType<FileDescriptor>(message.Descriptors[0]);
            using var memory = Assert.IsType<SharedMemory>(message.Descriptors[1]);
            Assert.Equal(MemorySeals.Shrink | MemorySeals.Grow | MemorySeals.Write, memory.Seals);
            using (MemoryMapping map = memory.Map())
            {
                Assert.Equal(MemoryProtection.Read, map.Protection);
                Assert.Equal("peer's text", map.ReadString(0, 11));
            }
            Assert.Equal("a file the peer opened"u8.ToArray(), passedFile.ReadAvailable(Long));
            // The peer closed its end after sending: the connection ends.
            Assert.True(connection.Receive(Long)!.IsEndOfStream);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void TheCliListsThisProcessesSockets_WithThisProcessAsTheirHolder()
    {
        string name = NewAbstractName();
        using Socket server = Socket.CreateBound(SocketEndpoint.Abstract(name));
        Peer.Result result = Peer.Run("sockets", "--pid", $"{Environment.ProcessId}", "--protocol", "unix", "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        using JsonDocument listing = JsonDocument.Parse(result.Output);
        JsonElement socket = Assert.Single(listing.RootElement.EnumerateArray(), s => s.GetProperty("local").GetString() == "@" + name);
        Assert.Equal(("LISTEN", "stream"), (socket.GetProperty("state").GetString(), socket.GetProperty("kind").GetString()));
        JsonElement holder = Assert.Single(socket.GetProperty("holders").EnumerateArray());
        Assert.Equal((Environment.ProcessId, server.Fd), (holder.GetProperty("pid").GetInt32(), holder.GetProperty("fd").GetInt32()));
    }
}
