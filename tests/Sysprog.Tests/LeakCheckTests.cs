using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>The leak check of the test classes' Dispose (<see cref="OpenFds.OpenedSince"/>) sees each kind of descriptor Sysprog opens.</summary>
public sealed class LeakCheckTests
{
    [Fact]
    public void EachKindOfDescriptor_IsReportedWhileOpen_AndNotOnceClosed()
    {
        FdListing before = OpenFds.Snapshot();
        using var pipe = Pipe.Create();
        using var pair = Socket.CreatePair();
        using var eventFd = EventFd.Create();
        using var inotify = Inotify.Create();
        using var child = ChildProcess.Start(new ChildProcessStartInfo("true"));
        using var pty = Pty.Start("true");
        child.WaitForExit(TimeSpan.FromSeconds(10));

        string[] open = OpenFds.OpenedSince(before);

        Assert.Contains(open, Reported(pipe.ReadEnd.Fd, $"pipe:[{pipe.Inode}]"));
        Assert.Contains(open, Reported(pipe.WriteEnd.Fd, $"pipe:[{pipe.Inode}]"));
        Assert.Contains(open, Reported(pair.First.Fd, $"socket:[{pair.First.Inode}]"));
        Assert.Contains(open, Reported(eventFd.Fd, "anon_inode:[eventfd]"));
        Assert.Contains(open, Reported(inotify.Fd, "anon_inode:inotify"));
        Assert.Contains(open, Reported(child.Fd, "anon_inode:[pidfd]"));
        Assert.Contains(open, Reported(pty.Fd, "/dev/ptmx"));

        pty.WaitForExit(TimeSpan.FromSeconds(10));
        foreach (IDisposable each in new IDisposable[] { pipe, pair, eventFd, inotify, child, pty })
        {
            each.Dispose();
        }
        Assert.Empty(OpenFds.OpenedSince(before));
    }

    /// <summary>A report's line for descriptor <paramref name="fd"/> on <paramref name="target"/>, with or without fdinfo's identity after it.</summary>
    private static Predicate<string> Reported(int fd, string target) =>
        line => line == $"{fd} -> {target}" || line.StartsWith($"{fd} -> {target} (", StringComparison.Ordinal);

    [Fact]
    public void AHandleLeftToTheFinalizer_IsReported()
    {
        FdListing before = OpenFds.Snapshot();

        DropUndisposed();

        Assert.Equal(["1 Sysprog handle(s) left undisposed, closed by the finalizer"], OpenFds.OpenedSince(before));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void DropUndisposed() => _ = EventFd.Create();

    /// <summary>The leak check compares all of the process's descriptors; a test class running beside another would be blamed for its descriptors.</summary>
    [Fact]
    public void TestClasses_RunOneAtATime()
    {
        string settings = Path.Combine(AppContext.BaseDirectory, "xunit.runner.json");
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(settings));
        Assert.False(json.RootElement.GetProperty("parallelizeTestCollections").GetBoolean());
    }
}
