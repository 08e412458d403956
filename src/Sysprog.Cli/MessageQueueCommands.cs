using System.CommandLine;
using System.Text;
using Sysprog;

namespace Sysprog.Cli;

internal static class MessageQueueCommands
{
    public static Command Build(Option<bool> trace) => new("mq", "POSIX message queues.")
    {
        Create(trace), List(), Remove(trace), Send(trace), Receive(trace), Attributes(trace),
    };

    private static Command Create(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var maxMessages = new Option<long>("--max-messages") { Description = "mq_maxmsg.", DefaultValueFactory = _ => 10 };
        var messageSize = new Option<string>("--message-size") { Description = "mq_msgsize: 8192, 64KiB.", DefaultValueFactory = _ => "8192" };
        var mode = new Option<string>("--mode") { Description = "Octal permissions.", DefaultValueFactory = _ => "0600" };
        var command = new Command("create", "Create a queue (fails if the name exists).") { name, maxMessages, messageSize, mode };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using MessageQueue queue = MessageQueue.Create(r.GetValue(name)!, r.GetValue(maxMessages), Units.ParseByteSize(r.GetValue(messageSize)!),
                FileModes.ParseOctal(r.GetValue(mode)!), t);
            Console.WriteLine($"{queue.Name} max {queue.MaxMessages} messages of {queue.MaxMessageSize} bytes");
            queue.Close(t);
        }));
        return command;
    }

    private static Command List()
    {
        var pattern = new Argument<string?>("pattern") { Description = "Wildcard filter such as /job*.", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("list", "List the queues in /dev/mqueue.") { pattern, json };
        command.SetAction(r => Cli.Run(() =>
        {
            IReadOnlyList<MessageQueueInfo> found = MessageQueue.List(r.GetValue(pattern));
            if (r.GetValue(json))
            {
                Cli.WriteJson(found.Select(i => new
                {
                    i.Name, i.CurrentMessages, i.MaxMessages, i.MaxMessageSize, i.QueueBytes, Mode = i.Mode, i.Owner, i.OwnerId, i.Problem,
                }));
                return;
            }
            foreach (MessageQueueInfo info in found)
            {
                Console.WriteLine($"{info.Mode} {info.Owner,-10} {info.CurrentMessages,4}/{info.MaxMessages,-4} {info.MaxMessageSize,8} {info.QueueBytes,10} {info.Name}{Cli.ProblemSuffix(info)}");
            }
        }));
        return command;
    }

    private static Command Remove(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var command = new Command("remove", "Unlink a queue (mq_unlink).") { name };
        command.SetAction(r => Cli.Run(() => MessageQueue.Unlink(r.GetValue(name)!, Cli.Trace(r, trace))));
        return command;
    }

    private static Command Attributes(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("attributes", "Print mq_getattr: max messages, message size, current messages, flags.") { name, json };
        command.SetAction(r => Cli.Run(() =>
        {
            using MessageQueue queue = MessageQueue.Open(r.GetValue(name)!, FileAccess.Read, trace: Cli.Trace(r, trace));
            var attributes = new { queue.Name, queue.MaxMessages, queue.MaxMessageSize, queue.CurrentMessages, queue.IsNonBlocking };
            if (r.GetValue(json))
            {
                Cli.WriteJson(attributes);
            }
            else
            {
                Console.WriteLine($"{queue.Name}: {attributes.CurrentMessages}/{attributes.MaxMessages} messages of up to {attributes.MaxMessageSize} bytes");
            }
        }));
        return command;
    }

    private static Command Send(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var texts = new Argument<string[]>("text") { Description = "Messages to send (UTF-8), one per argument.", Arity = ArgumentArity.ZeroOrMore };
        var priority = new Option<int>("--priority") { Description = "0 (lowest) to 32767." };
        var timeout = new Option<string?>("--timeout") { Description = "Give up when the queue stays full this long; exit 124." };
        var count = new Option<int>("--count") { Description = "Send numbered messages 'PREFIX-<pid>-<n>' this many times instead of texts." };
        var prefix = new Option<string>("--prefix") { Description = "With --count.", DefaultValueFactory = _ => "message" };
        var command = new Command("send", "Send messages (mq_send), waiting while the queue is full.") { name, texts, priority, timeout, count, prefix };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            TimeSpan wait = Cli.Timeout(r, timeout);
            using MessageQueue queue = MessageQueue.Open(r.GetValue(name)!, FileAccess.Write, trace: t);
            IEnumerable<string> messages = r.GetValue(count) > 0
                ? Enumerable.Range(0, r.GetValue(count)).Select(i => $"{r.GetValue(prefix)}-{Environment.ProcessId}-{i}")
                : r.GetValue(texts) ?? [];
            foreach (string message in messages)
            {
                if (!queue.Send(Encoding.UTF8.GetBytes(message), r.GetValue(priority), wait, default, t))
                {
                    throw new TimeoutException($"{queue.Name} stayed full for {Units.FormatDuration(wait)}.");
                }
            }
        }));
        return command;
    }

    private static Command Receive(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var count = new Option<int>("--count") { Description = "Stop after this many messages (default: until --timeout or Ctrl+C)." };
        var timeout = new Option<string?>("--timeout") { Description = "Stop when no message came for this long; exit 124 if fewer than --count arrived." };
        var json = new Option<bool>("--json") { Description = "Write one JSON object per message (priority, length, text, receivedAt)." };
        var command = new Command("receive", "Receive messages, highest priority first, printing each.") { name, count, timeout, json };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = Cli.Timeout(r, timeout);
                int wanted = r.GetValue(count);
                using MessageQueue queue = MessageQueue.Open(r.GetValue(name)!, FileAccess.Read, trace: t);
                int received = 0;
                while (wanted <= 0 || received < wanted)
                {
                    MqMessage? message;
                    try
                    {
                        message = queue.Receive(wait, cancel.Token, t);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    if (message is null)
                    {
                        if (wanted > 0)
                        {
                            throw new TimeoutException($"{queue.Name}: {received} of {wanted} messages arrived; none for {Units.FormatDuration(wait)}.");
                        }
                        return;
                    }
                    received++;
                    Console.WriteLine(r.GetValue(json)
                        ? System.Text.Json.JsonSerializer.Serialize(new { message.Priority, message.Length, message.Text, message.ReceivedAt }, Cli.CompactJson)
                        : $"{message.Priority}\t{message.Text}");
                }
            });
        });
        return command;
    }
}
