using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace Sysprog.Cli.Demos;

/// <summary>
/// The sockets chapter (docs/demos/10-Sockets.Tests.ps1) replayed across real processes: message boundaries on
/// streams and datagrams, an open file passed from another process, TCP on loopback with bash as the client and ss
/// beside it, /proc/net/tcp's byte order, and getaddrinfo.
/// </summary>
internal static class SocketsDemo
{
    public static Command Build(Option<bool> trace)
    {
        var command = new Command("sockets", "Replay the sockets chapter: stream vs datagram boundaries, an open file passed between processes, TCP on loopback beside ss, byte order, getaddrinfo.");
        command.SetAction(r => Cli.Run(() => Run(DemoSupport.Trace(r, trace))));
        return command;
    }

    private static void Run(SyscallTrace? trace)
    {
        Boundaries(trace);
        PassAnOpenFile(trace);
        int port = Loopback(trace);
        Lookup(trace);
        Console.WriteLine($"\nThe listener on port {port} is closed; nothing is left behind.");
    }

    private static void Boundaries(SyscallTrace? trace)
    {
        string[] words = ["one", "two", "three"];
        DemoCommand.Step(1, "A UNIX stream socket pair: three sends, then one receive.");
        using (SocketPair stream = Socket.CreatePair(SocketKind.Stream, trace: trace))
        {
            foreach (string word in words)
            {
                stream.First.Send(Encoding.UTF8.GetBytes(word), trace: trace);
            }
            SocketMessage all = stream.Second.Receive(DemoSupport.Patience, default, trace) ?? throw new TimeoutException("Nothing arrived on the stream.");
            Console.WriteLine($"    One receive took all {all.Length} bytes: \"{all.Text}\". A stream is bytes; where a message ends is the program's business.");
        }

        DemoCommand.Step(2, "A UNIX datagram socket pair: three sends, three receives.");
        using SocketPair datagrams = Socket.CreatePair(SocketKind.Datagram, trace: trace);
        foreach (string word in words)
        {
            datagrams.First.Send(Encoding.UTF8.GetBytes(word), trace: trace);
        }
        foreach (string _ in words)
        {
            SocketMessage one = datagrams.Second.Receive(DemoSupport.Patience, default, trace) ?? throw new TimeoutException("A datagram did not arrive.");
            Console.WriteLine($"    \"{one.Text}\" ({one.Length} bytes), from pid {one.Credentials?.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}: each datagram whole and apart.");
        }
    }

    private static void PassAnOpenFile(SyscallTrace? trace)
    {
        DirectoryInfo folder = Directory.CreateTempSubdirectory("sysprog-demo-");
        string path = Path.Combine(folder.FullName, "letter.txt");
        string name = $"sysprog-demo-{Environment.ProcessId}";
        Process? sender = null;
        try
        {
            File.WriteAllText(path, "read me through a descriptor\n");
            DemoCommand.Step(3, $"Listen on @{name}; another process (this program again: unix send --file) opens {path} and sends it.");
            using Socket listener = Socket.CreateBound(SocketEndpoint.Abstract(name), trace: trace);
            sender = DemoCommand.Start(["unix", "send", $"@{name}", "a letter for you", "--file", path]);
            using Socket connection = listener.Accept(DemoSupport.Patience, default, trace) ?? throw new TimeoutException($"No connection on @{name}.");
            SocketMessage message = connection.Receive(DemoSupport.Patience, default, trace) ?? throw new TimeoutException("No message came.");
            sender.WaitForExit();
            try
            {
                var passed = (FileDescriptor)message.Descriptors.Single();
                Console.WriteLine($"    pid {message.Credentials?.ProcessId} sent \"{message.Text}\" and, by SCM_RIGHTS, its open file: here it is fd {passed.Fd}, a {passed.Kind}, {passed.Target}.");
                Console.WriteLine($"    The sender exited {sender.ExitCode}.");

                DemoCommand.Step(4, "Remove the file's name, then read through the descriptor: what crossed was the open file, not its name.");
                File.Delete(path);
                Console.WriteLine($"    {path} exists: {File.Exists(path)}");
                Console.WriteLine($"    read: \"{DemoSupport.ReadToEnd(passed, trace).TrimEnd('\n')}\"");
            }
            finally
            {
                foreach (IDisposable descriptor in message.Descriptors.OfType<IDisposable>())
                {
                    descriptor.Dispose();
                }
            }
        }
        finally
        {
            DemoSupport.Reap(sender);
            folder.Delete(recursive: true);
        }
    }

    private static int Loopback(SyscallTrace? trace)
    {
        DemoCommand.Step(5, "A TCP server on 127.0.0.1, port 0: the kernel picks the port.");
        using Socket listener = Socket.CreateBound(SocketEndpoint.Internet(IPAddress.Loopback, 0), trace: trace);
        int port = listener.LocalEndpoint.Port;
        Console.WriteLine($"    listening on {listener.LocalEndpoint}");

        DemoCommand.Step(6, "bash connects through /dev/tcp, sends ping and waits for the answer.");
        using Pipe output = Pipe.Create(trace: trace);
        ChildProcess? bash = null;
        try
        {
            bash = ChildProcess.Start(new ChildProcessStartInfo("bash", ["-c", $"exec 3<>/dev/tcp/127.0.0.1/{port} && echo ping >&3 && read answer <&3 && echo \"$answer\""])
            {
                Descriptors = new Dictionary<int, IDescriptorObject> { [1] = output.WriteEnd },
            }, trace);
            output.WriteEnd.Close(trace);
            using Socket connection = listener.Accept(DemoSupport.Patience, default, trace) ?? throw new TimeoutException("bash did not connect.");
            byte[] ping = connection.ReadTo("\n"u8, DemoSupport.Patience, default, trace) ?? throw new TimeoutException("bash sent nothing.");
            ThreadSyscall waiting = DemoSupport.WaitUntilBlocked(bash.ProcessId, ["read"]);
            int clientPort = connection.RemoteEndpoint!.Port;
            Console.WriteLine($"    bash pid {bash.ProcessId} connected from port {clientPort}, sent \"{Encoding.UTF8.GetString(ping).TrimEnd('\n')}\" and sleeps in {waiting.Call}");

            DemoCommand.Step(7, "The connection as ss shows it, and as sock_diag gives it to this program.");
            foreach (string line in Ss($"-tnH state established ( sport = :{port} or dport = :{port} )"))
            {
                Console.WriteLine($"    ss: {line}");
            }
            foreach (SocketInfo socket in SocketTable.List(new SocketQuery { Protocols = [SocketProtocol.Tcp], Port = port }, trace))
            {
                Console.WriteLine($"    sysprog sockets: {socket}  {string.Join(' ', socket.Holders)}");
            }

            DemoCommand.Step(8, "/proc/net/tcp shows the listener's address as the kernel keeps it: network byte order.");
            byte[] bytes = IPAddress.Loopback.GetAddressBytes();
            string local = $"{BitConverter.ToUInt32(bytes):X8}:{port:X4}";
            string? row = File.ReadLines("/proc/net/tcp").FirstOrDefault(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var address, _, "0A", ..] && address == local);
            Console.WriteLine($"    {row?.Trim() ?? $"(no row {local} in /proc/net/tcp)"}");
            Console.WriteLine($"    127.0.0.1 is the bytes {Convert.ToHexString(bytes)} in network order, printed as one {(BitConverter.IsLittleEndian ? "little" : "big")}-endian word: " +
                $"{local[..8]}; port {port} is 0x{port:X4}; 0A is LISTEN.");

            DemoCommand.Step(9, "Answer pong: bash reads it, prints it and exits.");
            connection.Write("pong\n", null, DemoSupport.Patience, default, trace);
            string printed = DemoSupport.ReadToEnd(output.ReadEnd, trace).TrimEnd('\n');
            Console.WriteLine($"    bash printed \"{printed}\" and ended with {bash.WaitForExit(DemoSupport.Patience, default, trace)}.");
        }
        finally
        {
            DemoSupport.Reap(bash);
        }
        return port;
    }

    private static void Lookup(SyscallTrace? trace)
    {
        DemoCommand.Step(10, "getaddrinfo(\"localhost\", \"http\"): a host name from /etc/hosts (or DNS), a service from /etc/services.");
        foreach (SocketEndpoint endpoint in SocketEndpoint.Resolve("localhost", "http", trace: trace))
        {
            Console.WriteLine($"    {endpoint} ({endpoint.Family})");
        }
    }

    /// <summary>ss's lines for a filter, or a line saying it is not installed.</summary>
    private static IEnumerable<string> Ss(string arguments)
    {
        Process ss;
        try
        {
            ss = Process.Start(new ProcessStartInfo("ss", arguments) { RedirectStandardOutput = true, UseShellExecute = false })!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return ["(ss is not installed here)"];
        }
        using (ss)
        {
            string output = ss.StandardOutput.ReadToEnd();
            ss.WaitForExit();
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        }
    }
}
