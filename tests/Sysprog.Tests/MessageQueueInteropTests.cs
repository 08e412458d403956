using System.Diagnostics;
using System.Text;
using Xunit;

namespace Sysprog.Tests;

/// <summary>Messages between Sysprog and a C program using mq_send and mq_receive on the same queue.</summary>
public sealed class MessageQueueInteropTests : IDisposable
{
    private const string PeerSource = """
        #include <fcntl.h>
        #include <mqueue.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        /* usage: peer send NAME TEXT PRIORITY | peer receive NAME */
        int main(int argc, char **argv) {
            if (argc < 3) return 2;
            int sending = strcmp(argv[1], "send") == 0;
            mqd_t q = mq_open(argv[2], sending ? O_WRONLY : O_RDONLY);
            if (q == (mqd_t) -1) { perror("mq_open"); return 1; }
            if (sending) {
                if (mq_send(q, argv[3], strlen(argv[3]), (unsigned) atoi(argv[4])) != 0) { perror("mq_send"); return 1; }
            } else {
                struct mq_attr attr;
                mq_getattr(q, &attr);
                char *buffer = malloc(attr.mq_msgsize + 1);
                unsigned priority;
                ssize_t n = mq_receive(q, buffer, attr.mq_msgsize, &priority);
                if (n < 0) { perror("mq_receive"); return 1; }
                buffer[n] = 0;
                printf("%u %s\n", priority, buffer);
            }
            return mq_close(q) == 0 ? 0 : 1;
        }
        """;

    private static readonly Lazy<string?> CompiledPeer = new(() => CPeer.Compile("mqpeer", PeerSource, "-lrt"));
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkQueueIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    [SkippableFact]
    public void CSendsAndSysprogReceives_AndTheOtherWayRound()
    {
        string? peer = CompiledPeer.Value;
        Skip.If(peer is null, "no C compiler (cc) on PATH: the C interop tests compile a tiny mq_send/mq_receive peer with it");
        using MessageQueue queue = MessageQueue.Create(_name, 10, 256);
        CPeer.Run(peer!, "send", _name, "from C", "7");
        MqMessage message = queue.Receive(TimeSpan.FromSeconds(5))!;
        Assert.Equal(("from C", 7), (message.Text, message.Priority));
        Assert.True(queue.Send(Encoding.UTF8.GetBytes("from Sysprog"), 12, TimeSpan.FromSeconds(5)));
        Assert.Equal("12 from Sysprog", CPeer.Run(peer!, "receive", _name));
    }
}

/// <summary>Compiles and runs the small C peers of interop tests; null when there is no C compiler.</summary>
internal static class CPeer
{
    public static string? Compile(string name, string source, params string[] libraries)
    {
        if (Tools.Find("cc") is null)
        {
            return null;
        }
        string folder = Path.Combine(Path.GetTempPath(), $"sysprog-cpeer-{Environment.ProcessId}-{name}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        string binary = Path.Combine(folder, name);
        Build(source, folder, ["-O2", "-o", binary, "-pthread", .. libraries]);
        return binary;
    }

    /// <summary>Runs cc on C source given on its standard input (cc -x c - ARGUMENTS) in <paramref name="folder"/>; a failure fails the test with cc's errors.</summary>
    public static void Build(string source, string folder, params string[] arguments)
    {
        var info = new ProcessStartInfo(Tools.Find("cc")!) { WorkingDirectory = folder, RedirectStandardInput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "-x", "c", "-" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }
        using Process compiler = Process.Start(info)!;
        compiler.StandardInput.Write(source);
        compiler.StandardInput.Close();
        string errors = compiler.StandardError.ReadToEnd();
        compiler.WaitForExit();
        Assert.True(compiler.ExitCode == 0, $"cc {string.Join(' ', arguments)}: {errors}");
    }

    /// <summary>Builds a shared library from C source into <paramref name="folder"/>; null when there is no C compiler.</summary>
    public static string? BuildLibrary(string folder, string name, string source)
    {
        if (Tools.Find("cc") is null)
        {
            return null;
        }
        string path = Path.Combine(folder, name);
        Build(source, folder, "-shared", "-fPIC", "-o", path);
        return path;
    }

    /// <summary>
    /// A peer that opens the queue named by its argument, registers with mq_notify (SIGEV_NONE: registered, never
    /// told), says "ready" and sleeps; its command name is mqnotify-holder.
    /// </summary>
    public static string? NotifyRegistrant() => NotifyRegistrantPath.Value;

    // Compiled once per run: each compile's folder is deleted at exit, once.
    private static readonly Lazy<string?> NotifyRegistrantPath = new(() => Compile("mqnotify-holder", """
        #include <mqueue.h>
        #include <signal.h>
        #include <stdio.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            mqd_t q = mq_open(argv[1], O_RDONLY);
            struct sigevent none = { .sigev_notify = SIGEV_NONE };
            if (q == (mqd_t)-1 || mq_notify(q, &none) != 0) { perror("mq_notify"); return 1; }
            puts("ready"); fflush(stdout);
            sleep(60);
            return 0;
        }
        """, "-lrt"));

    public static string Run(string peer, params string[] arguments)
    {
        var info = new ProcessStartInfo(peer) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"C peer {string.Join(' ', arguments)}: {error}");
        return output.Trim();
    }
}
