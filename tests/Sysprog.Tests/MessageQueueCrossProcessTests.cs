using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Producers and consumers in separate processes (the sysprog CLI) sharing one queue.</summary>
public sealed class MessageQueueCrossProcessTests : IDisposable
{
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkQueueIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    [Fact]
    public void ThreeProducersTwoConsumers_EveryMessageArrivesExactlyOnce_InOrderPerProducer()
    {
        const int Producers = 3;
        const int PerProducer = 300;
        using MessageQueue queue = MessageQueue.Create(_name, 10, 128);
        List<Process> consumers = Enumerable.Range(0, 2).Select(_ => Peer.Start("mq", "receive", _name, "--timeout", "3s", "--json")).ToList();
        List<Process> producers = Enumerable.Range(0, Producers)
            .Select(p => Peer.Start("mq", "send", _name, "--count", PerProducer.ToString(CultureInfo.InvariantCulture), "--prefix", $"p{p}",
                "--priority", p.ToString(CultureInfo.InvariantCulture), "--timeout", "30s"))
            .ToList();
        foreach (Peer.Result producer in producers.Select(Peer.Finish))
        {
            Assert.True(producer.ExitCode == 0, producer.Error);
        }
        var received = new List<(string Text, int Priority)>();
        foreach (Peer.Result consumer in consumers.Select(Peer.Finish))
        {
            Assert.True(consumer.ExitCode == 0, consumer.Error);
            var stream = consumer.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Select(m => (Text: m.GetProperty("text").GetString()!, Priority: m.GetProperty("priority").GetInt32()))
                .ToList();
            // Within one consumer, each producer's messages (one priority each) come in the order sent.
            foreach (var byProducer in stream.GroupBy(m => m.Text[..m.Text.LastIndexOf('-')]))
            {
                var sequence = byProducer.Select(m => int.Parse(m.Text[(m.Text.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(sequence.Order(), sequence);
            }
            received.AddRange(stream);
        }
        Assert.Equal(Producers * PerProducer, received.Count);
        Assert.Equal(received.Count, received.Select(m => m.Text).Distinct().Count());
        Assert.All(received, m => Assert.StartsWith($"p{m.Priority}-", m.Text, StringComparison.Ordinal));
        Assert.Equal(0, queue.CurrentMessages);
    }

    [Fact]
    public void AProducerKilledMidRun_LosesNothingItAlreadySent()
    {
        using MessageQueue queue = MessageQueue.Create(_name, 10, 64);
        using Process producer = Peer.Start("mq", "send", _name, "--count", "1000", "--prefix", "killed");
        var clock = Stopwatch.StartNew();
        while (queue.CurrentMessages < 10 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            Thread.Sleep(10);
        }
        Assert.Equal(10, queue.CurrentMessages);
        producer.Kill();
        producer.WaitForExit();
        var texts = new List<string>();
        while (queue.Receive(TimeSpan.Zero) is MqMessage message)
        {
            texts.Add(message.Text);
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"killed-{producer.Id}-{i}"), texts);
    }

    [SkippableFact]
    public void Listing_WithoutTheMqueueFilesystem_SaysSoAndHowToMountIt()
    {
        // A private mount namespace without /dev/mqueue: needs root (unshare -m), so it skips, saying so, otherwise.
        Skip.IfNot(Environment.UserName == "root", "only root can make a mount namespace without the mqueue filesystem");
        // Every mqueue mount there: the run may be in a namespace that stacked its own on one it inherited.
        const string unmountAll = "while grep -q ' /dev/mqueue mqueue ' /proc/self/mounts; do umount /dev/mqueue || exit 99; done; exec \"$@\"";
        Peer.Result result = Peer.RunWith(["unshare", "-m", "sh", "-c", unmountAll, "sh"], "mq", "list");
        Assert.True(result.ExitCode != 99, $"could not unmount /dev/mqueue in a private mount namespace: {result.Error}");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("The mqueue filesystem is not mounted there", result.Error, StringComparison.Ordinal);
        Assert.Contains("mount -t mqueue none /dev/mqueue", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCli_CreatesSendsReceivesListsAndRemoves_AndATimedOutReceiveExitsNonZero()
    {
        Assert.Equal(0, Peer.Run("mq", "create", _name, "--max-messages", "10", "--message-size", "8192").ExitCode);
        Assert.Equal(0, Peer.Run("mq", "send", _name, "text", "--priority", "5").ExitCode);
        Peer.Result attributes = Peer.Run("mq", "attributes", _name, "--json");
        using (JsonDocument json = JsonDocument.Parse(attributes.Output))
        {
            Assert.Equal(1, json.RootElement.GetProperty("currentMessages").GetInt64());
            Assert.Equal(8192, json.RootElement.GetProperty("maxMessageSize").GetInt64());
        }
        Peer.Result received = Peer.Run("mq", "receive", _name, "--count", "1", "--timeout", "2s");
        Assert.Equal("5\ttext", received.Output.Trim());
        Peer.Result timedOut = Peer.Run("mq", "receive", _name, "--count", "3", "--timeout", "200ms", "--json");
        Assert.Equal(124, timedOut.ExitCode);
        Assert.Contains("0 of 3 messages arrived; none for 200ms", timedOut.Error, StringComparison.Ordinal);
        Peer.Result tooBig = Peer.Run("mq", "send", _name, new string('x', 8193));
        Assert.Equal(2, tooBig.ExitCode);
        Assert.Contains("8193 bytes", tooBig.Error, StringComparison.Ordinal);
        Assert.Equal(0, Peer.Run("mq", "remove", _name).ExitCode);
        Assert.Equal(1, Peer.Run("mq", "remove", _name).ExitCode);
    }
}
