using Xunit;
using Xunit.Abstractions;

namespace Sysprog.Tests;

/// <summary>
/// 'sysprog demo io-models' and 'sysprog demo other-ipc' run end to end: each step's outcome as the demo prints it,
/// across the peers it starts, and nothing left behind.
/// </summary>
public sealed class ChapterDemoIoModelsAndOtherIpcTests(ITestOutputHelper output)
{
    [Fact]
    public void TheIoModelsDemo_ShowsEachModelAcrossProcesses()
    {
        Peer.Result result = Peer.Run("demo", "io-models");
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("would block (EAGAIN), at once", result.Output, StringComparison.Ordinal);
        Assert.Contains("after a write of \"hello\": 5 bytes, \"hello\"", result.Output, StringComparison.Ordinal);
        // The eventfds passed as 3 to 7, the second and the fourth signalled: both mechanisms find fds 4 and 6.
        Assert.Matches(@"poll peer pid \d+ \(exit code 0\) found: fd 4: IN \(anon_inode:\[eventfd\]\); fd 6: IN ", result.Output);
        Assert.Matches(@"epoll peer pid \d+ \(exit code 0\) found: fd 4: IN \(anon_inode:\[eventfd\]\); fd 6: IN ", result.Output);
        Assert.Matches(@"\| poll\(\[\{fd=\d+, events=POLLIN\}(, \{fd=\d+, events=POLLIN(, revents=POLLIN)?\}){5}\], 6, -1\) = 2", result.Output);
        Assert.Matches(@"\| epoll_wait\(\d+, \[\{events=EPOLLIN, data=1\}, \{events=EPOLLIN, data=3\}\], ", result.Output);
        Assert.Contains("level-triggered: reported 2 time(s) in 2 waits (exit code 0)", result.Output, StringComparison.Ordinal);
        Assert.Contains("edge-triggered: reported 1 time(s) in 2 waits (exit code 124)", result.Output, StringComparison.Ordinal);
        Assert.Contains("first wait: 1 ready; second: 0 ready, though the eventfd still holds 1", result.Output, StringComparison.Ordinal);
        Assert.Contains("re-armed with EPOLL_CTL_MOD: 1 ready again", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"SIGIO blocked from its start: ready \d+ signalfd", result.Output);
        Assert.Matches(@"the receiver's signalfd read: SIGIO: fd (\d+) POLLIN\|POLLRDNORM \(POLL_IN\)\n.*\(fd \1 is the read end's number", result.Output);
        Assert.Matches(@"its thread: epoll_p?wait2?\(\d+<anon_inode:\[eventpoll\]>", result.Output);
        for (int i = 0; i < 3; i++)
        {
            Assert.Contains($"client {i} got back \"hello from client {i}\"", result.Output, StringComparison.Ordinal);
        }
        Assert.Contains("server: stopped: 3 messages echoed", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"server pid \d+: exit code 0", result.Output);
    }

    [Fact]
    public void TheIoModelsDemo_WithTrace_PrintsItsCallsOnStderr()
    {
        Peer.Result result = Peer.Run("demo", "io-models", "--trace");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Matches(@"(?m)^read\(\d+, \.\.\., 64\) = -1 EAGAIN", result.Error);
        Assert.Matches(@"(?m)^fcntl\(\d+, F_SETOWN_EX, \{type=F_OWNER_PID, pid=\d+\}\) = 0$", result.Error);
        Assert.Matches(@"(?m)^epoll_ctl\(\d+, EPOLL_CTL_MOD, \d+, \{events=EPOLLIN\|EPOLLONESHOT, data=0\}\) = 0$", result.Error);
    }

    [Fact]
    public void TheOtherIpcDemo_ShowsLocksBetweenProcessesAndAnotherProcesssMemory()
    {
        Peer.Result result = Peer.Run("demo", "other-ipc");
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.Error);
        string folder = System.Text.RegularExpressions.Regex.Match(result.Output, @"exclusive flock on (/\S+)/demo\.lock").Groups[1].Value;
        Assert.NotEmpty(folder);
        Assert.Matches(@"peer pid (\d+) is asleep in flock\(\d+<\S+/demo\.lock>, 0x2\)(?s:.*)/proc/locks: FLOCK WRITE waiting \(->\) by pid \1 ", result.Output);
        Assert.Matches(@"locked: Flock exclusive lock on the whole file of \S+ \(pid \d+\)\n\s+peer pid \d+: exit code 0", result.Output);
        Assert.Matches(@"shared: locked: Flock shared lock .*; granted beside the other reader \(exit code 0\)", result.Output);
        Assert.Matches(@"exclusive \(exit code 124\): sysprog: Could not lock .* held by process \d+\.", result.Output);
        Assert.Contains("found SYSPROG_DEMO_SECRET=open sesame at 0x", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"poke \(exit code 0\): 11 bytes at 0x[0-9a-f]+ of process \d+", result.Output);
        Assert.Matches(@"/proc/\d+/environ now says SYSPROG_DEMO_SECRET=shut sesame", result.Output);
        Assert.False(Directory.Exists(folder), $"{folder} is left behind");
    }
}
