using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>inotify over real file operations: event kinds and paths, rename pairing, watch lifetime, overflow, poll sets, limits.</summary>
public sealed class InotifyTests : IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-inotify-").FullName;
    private readonly FdListing _fdsBefore = OpenFds.Snapshot();
    private readonly Inotify _inotify = Inotify.Create();

    public void Dispose()
    {
        _inotify.Dispose();
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        Directory.Delete(_folder, recursive: true);
    }

    private List<InotifyEvent> ReadAll()
    {
        var events = new List<InotifyEvent>();
        while (_inotify.Read(TimeSpan.Zero) is InotifyEvent next)
        {
            events.Add(next);
        }
        return events;
    }

    [Fact]
    public void FileOperations_ComeAsTypedEvents_WithTheWatchAndName()
    {
        InotifyWatch watch = _inotify.AddWatch(_folder);
        string file = Path.Combine(_folder, "a.txt");

        File.WriteAllText(file, "x");
        File.SetUnixFileMode(file, UnixFileMode.UserRead);
        Directory.CreateDirectory(Path.Combine(_folder, "sub"));
        File.Delete(file);

        List<InotifyEvent> events = ReadAll();
        Assert.Equal(
            ["CREATE a.txt", "MODIFY a.txt", "CLOSE_WRITE,CLOSE a.txt", "ATTRIB a.txt", "CREATE,ISDIR sub", "DELETE a.txt"],
            events.Select(e => $"{e.EventNames} {e.Name}"));
        Assert.All(events, e => Assert.Same(watch, e.Watch));
        Assert.Equal(file, events[0].Path);
        Assert.True(events[4].IsDirectory);
        Assert.Equal(InotifyEvents.Create, events[4].Events);
    }

    [Fact]
    public void ARename_IsAPairWithOneCookie_AndTheMovedToNamesWhereItCameFrom()
    {
        string other = Directory.CreateDirectory(Path.Combine(_folder, "other")).FullName;
        _inotify.AddWatch(_folder, InotifyEvents.Move);
        _inotify.AddWatch(other, InotifyEvents.Move);
        File.WriteAllText(Path.Combine(_folder, "a"), "");

        File.Move(Path.Combine(_folder, "a"), Path.Combine(_folder, "b"));
        File.Move(Path.Combine(_folder, "b"), Path.Combine(other, "c"));

        List<InotifyEvent> events = ReadAll();
        Assert.Equal(["MOVED_FROM a", "MOVED_TO b", "MOVED_FROM b", "MOVED_TO c"], events.Select(e => $"{e.EventNames} {e.Name}"));
        Assert.Equal(events[0].Cookie, events[1].Cookie);
        Assert.Equal(events[2].Cookie, events[3].Cookie);
        Assert.NotEqual(0u, events[0].Cookie);
        Assert.NotEqual(events[0].Cookie, events[2].Cookie);
        Assert.Equal(Path.Combine(_folder, "a"), events[1].MovedFrom);
        Assert.Equal(Path.Combine(_folder, "b"), events[3].MovedFrom);
        Assert.Equal(Path.Combine(other, "c"), events[3].Path);
        Assert.Null(events[0].MovedFrom);
    }

    [Fact]
    public void AMoveFromOutside_HasNoOrigin()
    {
        string outside = Directory.CreateTempSubdirectory("sysprog-inotify-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "in"), "");
            _inotify.AddWatch(_folder, InotifyEvents.Move);

            File.Move(Path.Combine(outside, "in"), Path.Combine(_folder, "in"));

            InotifyEvent arrived = Assert.Single(ReadAll());
            Assert.Equal(InotifyEvents.MovedTo, arrived.Events);
            Assert.Null(arrived.MovedFrom);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void RemovingAWatch_EndsIt_WithAnIgnoredEvent()
    {
        InotifyWatch watch = _inotify.AddWatch(_folder);
        var lines = new List<string>();

        _inotify.RemoveWatch(watch, lines.Add);
        File.WriteAllText(Path.Combine(_folder, "after"), "");

        Assert.False(watch.IsActive);
        Assert.Empty(_inotify.Watches);
        Assert.Equal($"inotify_rm_watch({_inotify.Fd}, {watch.Descriptor}) = 0", Assert.Single(lines));
        InotifyEvent ignored = Assert.Single(ReadAll());
        Assert.Equal(InotifyEvents.Ignored, ignored.Events);
        Assert.Same(watch, ignored.Watch);
        Assert.Throws<InvalidOperationException>(() => _inotify.RemoveWatch(watch));
    }

    [Fact]
    public void DeletingAWatchedFile_EndsItsWatch_AndRemovingItThenSaysTheKernelDidAlready()
    {
        string file = Path.Combine(_folder, "watched");
        File.WriteAllText(file, "");
        InotifyWatch watch = _inotify.AddWatch(file, InotifyEvents.DeleteSelf | InotifyEvents.Attrib);

        File.Delete(file);

        var failed = Assert.Throws<SysprogException>(() => _inotify.RemoveWatch(watch));
        Assert.Equal(Errno.EINVAL, failed.Errno);
        Assert.Contains("ended this watch already", failed.Message, StringComparison.Ordinal);
        // The last link went: the inode's link count changes (ATTRIB), it is deleted, then the watch ends.
        Assert.Equal(["ATTRIB", "DELETE_SELF", "IGNORED"], ReadAll().Select(e => e.EventNames));
        Assert.False(watch.IsActive);
    }

    [Fact]
    public void AddingAWatchedPathAgain_ReplacesItsEvents_OrWithMaskAddExtendsThem_OrWithMaskCreateFails()
    {
        InotifyWatch first = _inotify.AddWatch(_folder, InotifyEvents.Create);

        InotifyWatch replaced = _inotify.AddWatch(_folder, InotifyEvents.Delete);
        Assert.Same(first, replaced);
        Assert.Equal(InotifyEvents.Delete, replaced.Events);
        InotifyWatch extended = _inotify.AddWatch(_folder, InotifyEvents.Create, InotifyWatchOptions.MaskAdd);
        Assert.Equal(InotifyEvents.Create | InotifyEvents.Delete, extended.Events);
        var refused = Assert.Throws<SysprogException>(() => _inotify.AddWatch(_folder, InotifyEvents.Create, InotifyWatchOptions.MaskCreate));
        Assert.Equal(Errno.EEXIST, refused.Errno);

        File.WriteAllText(Path.Combine(_folder, "x"), "");
        File.Delete(Path.Combine(_folder, "x"));
        Assert.Equal(["CREATE", "DELETE"], ReadAll().Select(e => e.EventNames));
        Assert.Single(_inotify.Watches);
    }

    [Fact]
    public void AOneShotWatch_ReportsOnce_ThenEnds()
    {
        InotifyWatch watch = _inotify.AddWatch(_folder, InotifyEvents.Create, InotifyWatchOptions.OneShot);

        File.WriteAllText(Path.Combine(_folder, "1"), "");
        File.WriteAllText(Path.Combine(_folder, "2"), "");

        Assert.Equal(["CREATE 1", "IGNORED "], ReadAll().Select(e => $"{e.EventNames} {e.Name}"));
        Assert.False(watch.IsActive);
    }

    [Fact]
    public void OnlyDir_RefusesAFile_WithENOTDIR_Explained()
    {
        string file = Path.Combine(_folder, "plain");
        File.WriteAllText(file, "");

        var refused = Assert.Throws<SysprogException>(() => _inotify.AddWatch(file, InotifyEvents.All, InotifyWatchOptions.OnlyDir));

        Assert.Equal(Errno.ENOTDIR, refused.Errno);
        Assert.Equal("inotify_add_watch", refused.Call);
        Assert.Contains("OnlyDir", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFullQueue_DropsEvents_AndSaysSoOnce_AtTheEnd()
    {
        _inotify.AddWatch(_folder, InotifyEvents.Modify);
        string[] files = [Path.Combine(_folder, "a"), Path.Combine(_folder, "b")];
        using FileStream a = File.OpenWrite(files[0]);
        using FileStream b = File.OpenWrite(files[1]);

        // Alternating between two files, so that the kernel cannot merge an event with the one queued before it.
        for (int i = 0; i < _inotify.QueueLimit + 100; i++)
        {
            FileStream target = i % 2 == 0 ? a : b;
            target.WriteByte(1);
            target.Flush();
        }

        List<InotifyEvent> events = ReadAll();
        Assert.Equal(_inotify.QueueLimit, events.Count(e => e.Events == InotifyEvents.Modify));
        InotifyEvent overflow = Assert.Single(events, e => e.IsOverflow);
        Assert.Same(overflow, events[^1]);
        Assert.Equal(-1, overflow.WatchDescriptor);
        Assert.Null(overflow.Path);
        Assert.Equal(1, _inotify.OverflowCount);
    }

    [Fact]
    public void EventsReadAhead_MakeTheInstanceReadyInAPollSet_ThoughTheKernelHasNoneLeft()
    {
        _inotify.AddWatch(_folder, InotifyEvents.Create);
        using EventFd idle = EventFd.Create();
        File.WriteAllText(Path.Combine(_folder, "1"), "");
        File.WriteAllText(Path.Combine(_folder, "2"), "");
        Assert.Equal("1", _inotify.Read(TimeSpan.Zero)!.Name);
        Assert.Equal(1, _inotify.BufferedCount);

        IReadOnlyList<ReadyHandle> ready = PollSet.WaitFor([idle, _inotify], Readiness.Readable, all: false, Soon);

        ReadyHandle inotify = Assert.Single(ready);
        Assert.Same(_inotify, inotify.Handle);
        Assert.Equal("2", _inotify.Read(TimeSpan.Zero)!.Name);
        Assert.Empty(PollSet.WaitFor([idle, _inotify], Readiness.Readable, all: false, TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public void WaitingForAll_WithEventsReadAhead_DoesNotReportThemAgainAndAgain()
    {
        _inotify.AddWatch(_folder, InotifyEvents.Create);
        using EventFd later = EventFd.Create();
        File.WriteAllText(Path.Combine(_folder, "1"), "");
        File.WriteAllText(Path.Combine(_folder, "2"), "");
        _inotify.Read(TimeSpan.Zero);
        var lines = new List<string>();

        IReadOnlyList<ReadyHandle> ready = PollSet.WaitFor([later, _inotify], Readiness.Readable, all: true, TimeSpan.FromMilliseconds(100), trace: lines.Add);

        Assert.Empty(ready);
        // One wait that returns the read-ahead instance at once, then one that sleeps out the timeout: no spinning.
        Assert.InRange(lines.Count(l => l.StartsWith("epoll_wait(", StringComparison.Ordinal)), 2, 3);
    }

    [Fact]
    public async Task AReaderBlockedOnAnEmptyInstance_WakesForTheFirstEvent()
    {
        _inotify.AddWatch(_folder, InotifyEvents.Create);
        (Task<InotifyEvent?> reader, int readerThread) = await ThreadWait.StartOnThreadOfItsOwn(() => _inotify.Read(Soon));
        ThreadWait.UntilBlockedIn(readerThread, ThreadWait.Poll);

        File.WriteAllText(Path.Combine(_folder, "woken"), "");

        Assert.Equal("woken", (await reader)?.Name);
    }

    [Fact]
    public void ReadAvailable_ReturnsEverythingReadTogether()
    {
        _inotify.AddWatch(_folder, InotifyEvents.Create);
        for (int i = 0; i < 5; i++)
        {
            File.WriteAllText(Path.Combine(_folder, $"{i}"), "");
        }

        Assert.Equal(["0", "1", "2", "3", "4"], _inotify.ReadAvailable(Soon).Select(e => e.Name));
        Assert.Empty(_inotify.ReadAvailable(TimeSpan.Zero));
    }

    [Theory]
    [InlineData(InotifyEvents.None, InotifyWatchOptions.None, "at least one event")]
    [InlineData(InotifyEvents.Ignored, InotifyWatchOptions.None, "reported, never asked for")]
    [InlineData(InotifyEvents.QueueOverflow | InotifyEvents.Create, InotifyWatchOptions.None, "reported, never asked for")]
    [InlineData(InotifyEvents.Create, InotifyWatchOptions.MaskAdd | InotifyWatchOptions.MaskCreate, "choose one")]
    [InlineData(InotifyEvents.Create, (InotifyWatchOptions)0x40000000, "Unknown watch options")]
    public void BadWatches_AreRefusedBeforeAnyCall(InotifyEvents events, InotifyWatchOptions options, string reason)
    {
        var lines = new List<string>();

        var refused = Assert.ThrowsAny<ArgumentException>(() => _inotify.AddWatch(_folder, events, options, lines.Add));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        Assert.Empty(lines);
    }

    [Fact]
    public void AClosedInstance_EndsItsWatches_AndRefusesMore()
    {
        InotifyWatch watch = _inotify.AddWatch(_folder);

        _inotify.Close();

        Assert.False(watch.IsActive);
        Assert.Throws<ObjectDisposedException>(() => _inotify.AddWatch(_folder));
        Assert.Throws<ObjectDisposedException>(() => _inotify.Read(TimeSpan.Zero));
    }

    [Theory]
    [InlineData(0x8u, "CLOSE_WRITE,CLOSE")]
    [InlineData(0x40000010u, "CLOSE_NOWRITE,CLOSE,ISDIR")]
    [InlineData(0x40000100u, "CREATE,ISDIR")]
    [InlineData(0x8800u, "IGNORED,MOVE_SELF")]
    [InlineData(0x2001u, "ACCESS,UNMOUNT")]
    public void EventNames_AreWhatInotifywaitPrints(uint mask, string expected) =>
        Assert.Equal(expected, new InotifyEvent(null, 1, mask, 0, null, null, null).EventNames);

    [Theory]
    [InlineData("create,DELETE", InotifyEvents.Create | InotifyEvents.Delete)]
    [InlineData("IN_CLOSE_WRITE|in_moved_to", InotifyEvents.CloseWrite | InotifyEvents.MovedTo)]
    [InlineData("close,move", InotifyEvents.Close | InotifyEvents.Move)]
    [InlineData("Changes", InotifyEvents.Changes)]
    [InlineData("all", InotifyEvents.All)]
    public void EventLists_ParseFromTheKernelsNamesOrTheEnums(string text, InotifyEvents expected) =>
        Assert.Equal(expected, InotifyEvent.ParseEvents(text));

    [Theory]
    [InlineData("bogus")]
    [InlineData("4")]
    public void UnknownEventNames_AreRefused(string text) =>
        Assert.Throws<FormatException>(() => InotifyEvent.ParseEvents(text));

    [Fact]
    public void TheCli_PrintsEachEvent_AsJson()
    {
        Process watcher = Peer.Start("watch", _folder, "--events", "create,moved_to", "--count", "2", "--json");
        Assert.StartsWith($"watching {_folder} (wd 1)", watcher.StandardError.ReadLine(), StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_folder, "made"), "");
        File.Move(Path.Combine(_folder, "made"), Path.Combine(_folder, "moved"));

        Peer.Result result = Peer.Finish(watcher);
        Assert.Equal(0, result.ExitCode);
        JsonElement[] events = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["CREATE", "MOVED_TO"], events.Select(e => e.GetProperty("eventNames").GetString()));
        Assert.Equal(Path.Combine(_folder, "moved"), events[1].GetProperty("path").GetString());
        Assert.Equal("moved", events[1].GetProperty("name").GetString());
    }

    [Fact]
    public void TheCli_NamesTheInstanceLimit_WhenItIsHit()
    {
        Peer.Result result = InAUserNamespace("user.max_inotify_instances", 0, "watch", _folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("inotify_init1(inotify) failed: EMFILE", result.Error, StringComparison.Ordinal);
        Assert.Contains("as many inotify instances as this user namespace allows: user.max_inotify_instances = 0 (fs.inotify.max_user_instances = ",
            result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCli_NamesTheWatchLimit_WhenItIsHit()
    {
        string second = Directory.CreateDirectory(Path.Combine(_folder, "second")).FullName;

        Peer.Result result = InAUserNamespace("user.max_inotify_watches", 1, "watch", _folder, second);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"inotify_add_watch(\"{second}\") failed: ENOSPC", result.Error, StringComparison.Ordinal);
        Assert.Contains("as many inotify watches as this user namespace allows: user.max_inotify_watches = 1 (fs.inotify.max_user_watches = ",
            result.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the CLI in a new user namespace whose inotify limit is lowered: the limits are counted per user
    /// namespace (and in each parent), so this hits one without touching the machine's.
    /// </summary>
    private static Peer.Result InAUserNamespace(string sysctl, int limit, params string[] arguments) =>
        Peer.RunWith(["unshare", "--user", "--map-root-user", "sh", "-c", $"echo {limit} > /proc/sys/{sysctl.Replace('.', '/')} && exec \"$0\" \"$@\""], arguments);
}
