using System.CommandLine;
using System.Text;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>UNIX domain sockets from the shell: a listener, a client, one-message send and receive with passed descriptors.</summary>
internal static class SocketCommands
{
    public static Command BuildUnix(Option<bool> trace) => new("unix", "UNIX domain sockets: paths, @abstract names, descriptors passed between processes.")
    {
        Listen(trace), Connect(trace), Send(trace), Receive(trace),
    };

    public static Command BuildSockets(Option<bool> trace)
    {
        var processId = new Option<int?>("--pid") { Description = "Only the sockets this process holds." };
        var protocols = new Option<SocketProtocol[]>("--protocol") { Description = "unix, tcp or udp (repeatable). Default: all.", AllowMultipleArgumentsPerToken = true };
        var states = new Option<string[]>("--state") { Description = "LISTEN, ESTAB, UNCONN, TIME-WAIT... (repeatable)." };
        var listening = new Option<bool>("--listening") { Description = "What ss -l lists: listeners, and sockets that wait for peers unconnected (bound UDP, UNIX datagram; state LISTEN or UNCONN)." };
        var port = new Option<int?>("--port") { Description = "A local or peer port." };
        var path = new Option<string?>("--path") { Description = "UNIX addresses matching this wildcard pattern." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("sockets", "List the machine's sockets with the processes that hold them, like ss -xtuap (sock_diag joined with /proc/PID/fd).")
        {
            processId, protocols, states, listening, port, path, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            var query = new SocketQuery
            {
                Protocols = r.GetValue(protocols) ?? [], States = r.GetValue(states) ?? [], Listening = r.GetValue(listening), Port = r.GetValue(port),
                Path = r.GetValue(path), ProcessId = r.GetValue(processId),
            };
            IReadOnlyList<SocketInfo> sockets = SocketTable.List(query, Cli.Trace(r, trace));
            if (r.GetValue(json))
            {
                Cli.WriteJson(sockets.Select(s => new
                {
                    protocol = s.Protocol, family = s.Family, kind = s.Kind, state = s.State, local = s.LocalAddress, @interface = s.Interface, peer = s.PeerAddress, peerInode = s.PeerInode,
                    receiveQueue = s.ReceiveQueue, sendQueue = s.SendQueue, inode = s.Inode, uid = s.UserId,
                    holders = s.Holders.Select(h => new { pid = h.ProcessId, name = h.ProcessName, fd = h.Fd }),
                }));
                return;
            }
            Console.WriteLine($"{"Proto",-5} {"State",-10} {"Recv-Q",6} {"Send-Q",6} {"Local",-30} {"Peer",-24} Process");
            foreach (SocketInfo s in sockets)
            {
                Console.WriteLine($"{s.Protocol.ToString().ToLowerInvariant(),-5} {s.State,-10} {s.ReceiveQueue,6} {s.SendQueue,6} {s.LocalAddressWithInterface,-30} {s.PeerAddress ?? (s.PeerInode is ulong peer ? $"socket:[{peer}]" : ""),-24} {string.Join(", ", s.Holders)}");
            }
        }));
        return command;
    }

    private static Argument<string> AddressArgument() =>
        new("address") { Description = "A socket path, or @name for the abstract namespace (no file)." };

    private static Option<SocketKind> KindOption() =>
        new("--type") { Description = "stream (the default), seqpacket or datagram.", DefaultValueFactory = _ => SocketKind.Stream };

    private static Command Listen(Option<bool> trace)
    {
        Argument<string> address = AddressArgument();
        Option<SocketKind> kind = KindOption();
        var mode = new Option<string>("--mode") { Description = "The socket file's permissions, in octal.", DefaultValueFactory = _ => "0600" };
        var force = new Option<bool>("--force") { Description = "Replace a stale socket file (one no socket is bound to); nothing else is ever replaced." };
        var command = new Command("listen", "Bind ADDRESS and print what arrives, like nc -lU: one connection's stream until it ends, or datagrams until Ctrl+C.")
        {
            address, kind, mode, force,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                using Socket server = Socket.CreateBound(SocketEndpoint.ParseUnix(r.GetValue(address)!), r.GetValue(kind), mode: FileModes.ParseOctal(r.GetValue(mode)!),
                    replaceStale: r.GetValue(force), trace: t);
                Console.Error.WriteLine($"listening on {server.LocalEndpoint}");
                using Socket connection = server.Kind == SocketKind.Datagram ? server : server.Accept(Timeout.InfiniteTimeSpan, cancel.Token, t)!;
                if (connection != server)
                {
                    Console.Error.WriteLine($"connection from {connection.PeerCredentials}");
                }
                using Stream stdout = Console.OpenStandardOutput();
                while (connection.Receive(Timeout.InfiniteTimeSpan, cancel.Token, t) is { IsEndOfStream: false } message)
                {
                    stdout.Write(message.Data);
                    stdout.Flush();
                    CloseAll(message);
                }
            });
        });
        return command;
    }

    private static Command Connect(Option<bool> trace)
    {
        Argument<string> address = AddressArgument();
        Option<SocketKind> kind = KindOption();
        var timeout = new Option<string?>("--timeout") { Description = "Wait at most this long for the connection (a full listen queue). Default: wait." };
        var command = new Command("connect", "Connect to ADDRESS and copy stdin to it and what comes back to stdout, like nc -U; stdin's end shuts the sending side down.")
        {
            address, kind, timeout,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                SocketEndpoint endpoint = SocketEndpoint.ParseUnix(r.GetValue(address)!);
                using Socket socket = Socket.CreateConnected(endpoint, r.GetValue(kind), Cli.Timeout(r, timeout), cancel.Token, trace: t)
                    ?? throw new TimeoutException($"{endpoint} accepted no connection within {r.GetValue(timeout)}.");
                var copyBack = new Thread(() =>
                {
                    using Stream stdout = Console.OpenStandardOutput();
                    try
                    {
                        while (socket.Receive(Timeout.InfiniteTimeSpan, cancel.Token, t) is { IsEndOfStream: false } message)
                        {
                            stdout.Write(message.Data);
                            stdout.Flush();
                            CloseAll(message);
                        }
                    }
                    catch (Exception e) when (e is OperationCanceledException or SysprogException or ObjectDisposedException)
                    {
                        // The connection or the session ended: nothing more to copy.
                    }
                }) { IsBackground = true };
                copyBack.Start();
                using Stream stdin = Console.OpenStandardInput();
                byte[] buffer = new byte[StreamDescriptor.ChunkSize];
                int count;
                while ((count = stdin.Read(buffer, 0, buffer.Length)) > 0)
                {
                    socket.Send(buffer.AsSpan(0, count), timeout: Timeout.InfiniteTimeSpan, cancellationToken: cancel.Token, trace: t);
                }
                if (socket.Kind != SocketKind.Datagram)
                {
                    socket.Shutdown(SocketShutdown.Send, t);
                    copyBack.Join();
                }
            });
        });
        return command;
    }

    private static Command Send(Option<bool> trace)
    {
        Argument<string> address = AddressArgument();
        var text = new Argument<string[]>("text") { Description = "The message, its words joined by spaces (no newline is added).", Arity = ArgumentArity.OneOrMore };
        Option<SocketKind> kind = KindOption();
        var files = new Option<string[]>("--file") { Description = "Pass this file, opened read-only as the planted-path rule allows: a regular file or a character device (repeatable)." };
        var memfd = new Option<string?>("--memfd") { Description = "Pass anonymous shared memory (memfd) holding this text, sealed against shrinking, growing and writing." };
        var shm = new Option<string[]>("--shm") { Description = "Pass this shared memory object, opened read-write (repeatable)." };
        var mq = new Option<string[]>("--mq") { Description = "Pass this message queue, opened for sending and receiving (repeatable)." };
        var timeout = new Option<string?>("--timeout") { Description = "Wait at most this long to connect and send. Default: wait." };
        var command = new Command("send", "Send one message to ADDRESS (connecting first, unless --type datagram), with descriptors passed along (SCM_RIGHTS).")
        {
            address, text, kind, files, memfd, shm, mq, timeout,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = Cli.Timeout(r, timeout);
                SocketEndpoint endpoint = SocketEndpoint.ParseUnix(r.GetValue(address)!);
                var passed = new List<IDisposable>();
                try
                {
                    foreach (string path in r.GetValue(files) ?? [])
                    {
                        passed.Add(FileDescriptor.Open(path, FileAccess.Read, t));
                    }
                    if (r.GetValue(memfd) is string contents)
                    {
                        byte[] bytes = Encoding.UTF8.GetBytes(contents);
                        SharedMemory memory = SharedMemory.CreateAnonymous("sysprog-send", Math.Max(bytes.Length, 1), trace: t);
                        passed.Add(memory);
                        // Closed with the trace, not by a using: the munmap must be narrated, and the write seal
                        // below is refused (EBUSY) while a writable shared mapping exists.
                        MemoryMapping map = memory.Map(trace: t);
                        try
                        {
                            map.Write(0, bytes);
                        }
                        finally
                        {
                            map.Close(t);
                        }
                        memory.AddSeals(MemorySeals.Shrink | MemorySeals.Grow | MemorySeals.Write, t);
                    }
                    foreach (string name in r.GetValue(shm) ?? [])
                    {
                        passed.Add(SharedMemory.Open(name, trace: t));
                    }
                    foreach (string name in r.GetValue(mq) ?? [])
                    {
                        passed.Add(MessageQueue.Open(name, trace: t));
                    }
                    SocketKind socketKind = r.GetValue(kind);
                    Socket socket = socketKind == SocketKind.Datagram
                        ? Socket.Create(SocketFamily.Unix, socketKind, trace: t)
                        : Socket.CreateConnected(endpoint, socketKind, wait, cancel.Token, trace: t) ?? throw new TimeoutException($"{endpoint} accepted no connection within {r.GetValue(timeout)}.");
                    try
                    {
                        byte[] message = Encoding.UTF8.GetBytes(string.Join(' ', r.GetValue(text)!));
                        int sent = socket.Send(message, passed, socketKind == SocketKind.Datagram ? endpoint : null, wait, cancel.Token, t);
                        if (sent < message.Length)
                        {
                            throw new TimeoutException($"{endpoint} took {sent} of {message.Length} bytes within {r.GetValue(timeout)}.");
                        }
                    }
                    finally
                    {
                        socket.Close(t);
                    }
                }
                finally
                {
                    // Closed with the trace where the object takes one: every close is narrated.
                    passed.ForEach(p =>
                    {
                        switch (p)
                        {
                            case SharedMemory memory: memory.Close(t); break;
                            case FileDescriptorObject handle: handle.Close(t); break;
                            default: p.Dispose(); break;
                        }
                    });
                }
            });
        });
        return command;
    }

    private static Command Receive(Option<bool> trace)
    {
        Argument<string> address = AddressArgument();
        Option<SocketKind> kind = KindOption();
        var count = new Option<int>("--count") { Description = "Messages to receive before exiting.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<string?>("--timeout") { Description = "Wait at most this long for each connection and message; exit 124. Default: wait." };
        var mode = new Option<string>("--mode") { Description = "The socket file's permissions, in octal.", DefaultValueFactory = _ => "0600" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per message." };
        var command = new Command("receive",
            "Bind ADDRESS (and accept one connection, unless --type datagram) and print each message received: its data, its sender's pid, uid and gid, and every descriptor passed with it, by kind and target.")
        {
            address, kind, count, timeout, mode, json,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = Cli.Timeout(r, timeout);
                using Socket server = Socket.CreateBound(SocketEndpoint.ParseUnix(r.GetValue(address)!), r.GetValue(kind), mode: FileModes.ParseOctal(r.GetValue(mode)!), trace: t);
                Console.Error.WriteLine($"listening on {server.LocalEndpoint}");
                using Socket connection = server.Kind == SocketKind.Datagram
                    ? server
                    : server.Accept(wait, cancel.Token, t) ?? throw new TimeoutException($"No connection came within {r.GetValue(timeout)}.");
                for (int received = 0; received < r.GetValue(count); received++)
                {
                    SocketMessage message = connection.Receive(wait, cancel.Token, t) ?? throw new TimeoutException($"No message came within {r.GetValue(timeout)}.");
                    try
                    {
                        Print(message, r.GetValue(json));
                    }
                    finally
                    {
                        CloseAll(message);
                    }
                    if (message.IsEndOfStream)
                    {
                        break;
                    }
                }
            });
        });
        return command;
    }

    private static void Print(SocketMessage message, bool json)
    {
        var descriptors = message.Descriptors.Select(d => new
        {
            kind = d.GetType().Name,
            fd = ((IDescriptorObject)d).Fd,
            description = ((IDescriptorObject)d).Description,
            target = LinkOf(((IDescriptorObject)d).Fd),
            size = (d as SharedMemory)?.Size,
            seals = (d as SharedMemory)?.Seals.ToString(),
            contents = d is SharedMemory memory ? Contents(memory) : null,
        }).ToArray();
        var credentials = message.Credentials is { } c ? new { pid = c.ProcessId, uid = c.UserId, gid = c.GroupId, user = c.UserName } : null;
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                length = message.Length, text = message.Text, endOfStream = message.IsEndOfStream, truncated = message.IsTruncated,
                descriptorsLost = message.DescriptorsLost, sender = message.Sender?.ToString(), credentials, descriptors,
            }, Cli.CompactJson));
            return;
        }
        if (message.IsEndOfStream)
        {
            Console.WriteLine("(end of stream)");
            return;
        }
        Console.WriteLine($"{message.Length} bytes{(message.Credentials is null ? "" : $" from {Shown(message.Credentials.ToString()!)}")}{(message.Sender is { IsUnnamed: false } s ? $" at {Shown(s.ToString())}" : "")}: {NameEscaping.Escape(message.Text)}");
        foreach (var d in descriptors)
        {
            Console.WriteLine($"  fd {d.fd}: {d.kind} {Shown(d.description)} -> {Shown(d.target)}{(d.size is long size ? $", {size} bytes, seals {d.seals}: {Shown(d.contents ?? "")}" : "")}");
        }
    }

    /// <summary>
    /// Text the sender chose (the file a passed descriptor leads to, a memfd's or an abstract address's name, what a
    /// passed object holds), as the terminal may be given it: escaped as names are when it holds any control
    /// character, so none reaches the terminal raw (ESC sequences, a newline forging a line). Text without one is left
    /// as it is, since what the core already escaped has none and must not be escaped twice.
    /// </summary>
    private static string Shown(string text) =>
        text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029') ? NameEscaping.Escape(text) : text;

    /// <summary>What a passed shared memory object holds, up to its first NUL, as text: what a demo shows it received.</summary>
    private static string Contents(SharedMemory memory)
    {
        if (memory.Size == 0)
        {
            return "";
        }
        using MemoryMapping map = Cli.Warned(memory.Map(MemoryProtection.Read, length: Math.Min(memory.Size, 4096)));
        ReadOnlySpan<byte> bytes = map.AsReadOnlySpan();
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    private static string LinkOf(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static void CloseAll(SocketMessage message)
    {
        foreach (IDisposable descriptor in message.Descriptors.Cast<IDisposable>())
        {
            descriptor.Dispose();
        }
    }
}
