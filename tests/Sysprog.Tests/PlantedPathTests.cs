using System.Diagnostics;
using Sysprog.Interop;
using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// Paths in a sticky world-writable folder (as /tmp and /dev/shm are) where another user planted a symbolic link, a
/// FIFO or a file: every open of a user-given path refuses what the kernel's protected_symlinks, protected_fifos and
/// protected_regular rules would (whatever those sysctls say here), never waits on a FIFO, never spins, and never
/// changes the mode or contents of a file Sysprog did not create. The planting is done as nobody (setpriv) when the
/// tests run as root; the cases that need another user skip otherwise.
/// </summary>
public sealed class PlantedPathTests : IDisposable
{
    private const uint Nobody = 65534;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);
    private static readonly bool IsRoot = Libc.geteuid() == 0;
    private const string NeedsRoot = "planting as another user (nobody) needs root to switch to it";

    /// <summary>Sticky and world-writable, like /tmp, but this test's own.</summary>
    private readonly string _shared = Directory.CreateTempSubdirectory("sysprog-planted-").FullName;

    /// <summary>Only this user writes here: where the victims of a planted link live.</summary>
    private readonly string _private = Directory.CreateTempSubdirectory("sysprog-victims-").FullName;

    private readonly FdListing _fdsBefore = OpenFds.Snapshot();

    public PlantedPathTests() =>
        File.SetUnixFileMode(_shared, (UnixFileMode)0x3FF | UnixFileMode.StickyBit);

    public void Dispose()
    {
        Assert.Empty(OpenFds.OpenedSince(_fdsBefore));
        Directory.Delete(_shared, recursive: true);
        Directory.Delete(_private, recursive: true);
    }

    [Fact]
    public void Lock_DanglingSymbolicLink_IsANamedErrorAtOnce_NotASpin()
    {
        // Open gave ENOENT through the link, O_CREAT|O_EXCL gave EEXIST on the link itself, and the loop retried forever.
        string path = Path.Combine(_shared, "job.lock");
        File.CreateSymbolicLink(path, Path.Combine(_private, "nothing-here"));

        var clock = Stopwatch.StartNew();
        var refused = Assert.Throws<SysprogException>(() => FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero));
        Assert.Equal((Errno.EEXIST, "open", path), (refused.Errno, refused.Call, refused.Target));
        Assert.Contains("symbolic link to", refused.Message, StringComparison.Ordinal);
        Assert.Contains("never created through a symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < Soon, $"took {clock.Elapsed}");
        Assert.False(File.Exists(Path.Combine(_private, "nothing-here")));

        Peer.Result cli = Peer.Run("lock", path, "--timeout", "0", "--", "true");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("EEXIST", cli.Error, StringComparison.Ordinal);
        Assert.Contains("never created through a symbolic link", cli.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Lock_SymbolicLinkAnotherUserPlanted_IsRefused_NotFollowed()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("root's data\n");
        string path = Path.Combine(_shared, "job.lock");
        PlantAsNobody("ln", "-s", victim, path);

        var refused = Assert.Throws<SysprogException>(() => FileLock.Acquire(path, FileLockKind.Ofd, FileLockMode.Exclusive, TimeSpan.Zero));
        Assert.Equal((Errno.EACCES, "open"), (refused.Errno, refused.Call));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.Empty(FileLockInfo.List(victim));

        Peer.Result cli = Peer.Run("lock", path, "--timeout", "0", "--", "true");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("fs.protected_symlinks", cli.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Lock_FileAnotherUserPlanted_IsRefused()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string path = Path.Combine(_shared, "job.lock");
        PlantAsNobody("touch", path);

        var refused = Assert.Throws<SysprogException>(() => FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero));
        Assert.Equal((Errno.EACCES, "open"), (refused.Errno, refused.Call));
        AssertNamesRule(refused, "fs.protected_regular", "regular file");
    }

    [Fact]
    public void Lock_InASharedFolder_OwnFileAndOwnLink_StillWork()
    {
        string path = Path.Combine(_shared, "own.lock");
        using (FileLock? first = FileLock.Acquire(path, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero))
        {
            Assert.NotNull(first);
        }
        string link = Path.Combine(_shared, "own-link.lock");
        File.CreateSymbolicLink(link, path);
        using FileLock? second = FileLock.Acquire(link, FileLockKind.Flock, FileLockMode.Exclusive, TimeSpan.Zero);
        Assert.NotNull(second);
    }

    [Fact]
    public async Task ChildDescriptor_Fifo_IsRefusedWithoutWaiting()
    {
        // A FIFO with no reader made open(O_WRONLY) wait for one forever, and nothing could interrupt it.
        string path = Path.Combine(_shared, "out.txt");
        MakeFifo(path);

        // On a thread of its own, so a regression fails (TimeoutException) instead of hanging the run.
        SysprogException write = await Task.Run(() => Assert.Throws<SysprogException>(() => FileDescriptor.Open(path, FileAccess.Write))).WaitAsync(Soon);
        Assert.Equal((Errno.ENXIO, "open"), (write.Errno, write.Call));
        Assert.Contains("is a FIFO", write.Message, StringComparison.Ordinal);

        var read = Assert.Throws<SysprogException>(() => FileDescriptor.Open(path, FileAccess.Read));
        Assert.Equal(Errno.EINVAL, read.Errno);
        Assert.Contains("is a FIFO, and only a regular file or a character device", read.Message, StringComparison.Ordinal);

        Peer.Result cli = Peer.Run("spawn", "--fd", $"1={path}", "--", "true");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("is a FIFO", cli.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ChildDescriptor_FifoAnotherUserPlanted_IsRefusedByTheFifoRule()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string path = Path.Combine(_shared, "out.txt");
        PlantAsNobody("mkfifo", "-m", "666", path);
        // A reader, so a non-blocking open for writing would succeed: only the rule refuses it.
        using var reader = new SafeFdHandle(Syscall.Check(Libc.open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0), null, "open", path, $""));

        var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(path, FileAccess.Write));
        Assert.Equal((Errno.EACCES, "open"), (refused.Errno, refused.Call));
        AssertNamesRule(refused, "fs.protected_fifos", "FIFO");
        reader.Close(null);

        // Without a reader too: the rule, not the ENXIO of a FIFO nobody reads, is what refuses it.
        var alone = Assert.Throws<SysprogException>(() => FileDescriptor.Open(path, FileAccess.Write));
        AssertNamesRule(alone, "fs.protected_fifos", "FIFO");
    }

    [SkippableFact]
    public void ChildDescriptor_SymbolicLinkAnotherUserPlanted_NeverTruncatesItsTarget()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("root's data\n");
        string path = Path.Combine(_shared, "out.txt");
        PlantAsNobody("ln", "-s", victim, path);

        var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(path, FileAccess.Write));
        Assert.Equal((Errno.EACCES, "open"), (refused.Errno, refused.Call));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.Equal("root's data\n", File.ReadAllText(victim));

        Peer.Result cli = Peer.Run("spawn", "--fd", $"1={path}", "--", "echo", "overwritten");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("fs.protected_symlinks", cli.Error, StringComparison.Ordinal);
        Assert.Equal("root's data\n", File.ReadAllText(victim));
    }

    [SkippableFact]
    public void ChildDescriptor_FolderLinkAnotherUserPlanted_IsNotFollowed()
    {
        // /tmp/planted/out.txt, where "planted" is another user's link to a folder of root's: the last name is
        // root's own file there, so only the link on the way could stop the truncation.
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("root's data\n");
        string link = Path.Combine(_shared, "planted");
        PlantAsNobody("ln", "-s", _private, link);

        var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(Path.Combine(link, Path.GetFileName(victim)), FileAccess.Write));
        Assert.Equal((Errno.EACCES, "open", link), (refused.Errno, refused.Call, refused.Target));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.Equal("root's data\n", File.ReadAllText(victim));

        // A link of this user's own on the way is followed, as the kernel would.
        string own = Path.Combine(_shared, "own");
        File.CreateSymbolicLink(own, _private);
        using FileDescriptor read = FileDescriptor.Open(Path.Combine(own, Path.GetFileName(victim)), FileAccess.Read);
        Assert.Equal("regular file", read.Kind);
    }

    [SkippableFact]
    public void ChildDescriptor_OwnLinkToAFileAnotherUserPlanted_IsRefusedByTheRuleOfTheFolderTheFileIsIn()
    {
        // The link is this user's, in a folder only this user writes; the file it leads to is another user's, in a
        // shared folder: the kernel applies protected_regular where the file is, not where the link is.
        Skip.IfNot(IsRoot, NeedsRoot);
        string planted = Path.Combine(_shared, "out.txt");
        PlantAsNobody("sh", "-c", $"echo planted > '{planted}'");
        string link = Path.Combine(_private, "out.txt");
        File.CreateSymbolicLink(link, planted);

        var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(link, FileAccess.Write));
        Assert.Equal((Errno.EACCES, "open", link), (refused.Errno, refused.Call, refused.Target));
        AssertNamesRule(refused, "fs.protected_regular", "regular file");
        Assert.Contains($"In {_shared},", refused.Message, StringComparison.Ordinal);
        Assert.Equal("planted\n", File.ReadAllText(planted));
    }

    [SkippableFact]
    public void ChildDescriptor_OwnLinkToALinkAnotherUserPlanted_FollowsNeither()
    {
        // A link this user made may lead to one another user planted: that one is checked in its own folder too.
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("root's data\n");
        string planted = Path.Combine(_shared, "planted");
        PlantAsNobody("ln", "-s", victim, planted);
        foreach (string own in (string[])[Path.Combine(_private, "out.txt"), Path.Combine(_shared, "own.txt")])
        {
            File.CreateSymbolicLink(own, planted);
            var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(own, FileAccess.Write));
            Assert.Equal((Errno.EACCES, "open", planted), (refused.Errno, refused.Call, refused.Target));
            AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
            Assert.Equal("root's data\n", File.ReadAllText(victim));
        }

        // Relative, and further down a chain of this user's own links.
        string chain = Path.Combine(_private, "chain");
        File.CreateSymbolicLink(chain, Path.GetRelativePath(_private, Path.Combine(_private, "out.txt")));
        var far = Assert.Throws<SysprogException>(() => FileDescriptor.Open(chain, FileAccess.Write));
        AssertNamesRule(far, "fs.protected_symlinks", "symbolic link");
        Assert.Equal("root's data\n", File.ReadAllText(victim));
    }

    [SkippableFact]
    public void ChildDescriptor_TrustedLinkToASharedFolder_TheRuleAppliesInThatFolder()
    {
        // /var/tmp -> /tmp: the path names a folder only trusted users write, which is a link to a shared one.
        Skip.IfNot(IsRoot, NeedsRoot);
        string tmp = Path.Combine(_private, "tmp");
        File.CreateSymbolicLink(tmp, _shared);
        PlantAsNobody("sh", "-c", $"echo planted > '{Path.Combine(_shared, "out.txt")}'");
        string victim = Victim("root's data\n");
        PlantAsNobody("ln", "-s", victim, Path.Combine(_shared, "planted"));

        var file = Assert.Throws<SysprogException>(() => FileDescriptor.Open(Path.Combine(tmp, "out.txt"), FileAccess.Write));
        AssertNamesRule(file, "fs.protected_regular", "regular file");
        Assert.Equal("planted\n", File.ReadAllText(Path.Combine(_shared, "out.txt")));
        var link = Assert.Throws<SysprogException>(() => FileDescriptor.Open(Path.Combine(tmp, "planted"), FileAccess.Write));
        AssertNamesRule(link, "fs.protected_symlinks", "symbolic link");
        Assert.Equal("root's data\n", File.ReadAllText(victim));
    }

    [SkippableFact]
    public void ChildDescriptor_TrustedFolderLinkThroughALinkAnotherUserPlanted_IsNotFollowed()
    {
        // This user's link to a folder, whose target passes through a link another user planted in a shared folder:
        // the walk reads each link and checks the next one in its own folder, never letting the kernel follow a chain.
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("root's data\n");
        string planted = Path.Combine(_shared, "planted");
        PlantAsNobody("ln", "-s", _private, planted);
        string own = Path.Combine(_private, "own");
        File.CreateSymbolicLink(own, Path.Combine(planted, "."));

        var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(Path.Combine(own, Path.GetFileName(victim)), FileAccess.Write));
        Assert.Equal((Errno.EACCES, "open", planted), (refused.Errno, refused.Call, refused.Target));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.Equal("root's data\n", File.ReadAllText(victim));
    }

    [Fact]
    public async Task LinkLoops_AreELOOP_NotAHang()
    {
        string first = Path.Combine(_shared, "first");
        string second = Path.Combine(_shared, "second");
        File.CreateSymbolicLink(first, "second");
        File.CreateSymbolicLink(second, "first");
        SysprogException name = await Task.Run(() => Assert.Throws<SysprogException>(() => FileDescriptor.Open(first, FileAccess.Read))).WaitAsync(Soon);
        Assert.Equal(Errno.ELOOP, name.Errno);
        SysprogException folder = await Task.Run(() => Assert.Throws<SysprogException>(() => FileDescriptor.Open(Path.Combine(first, "x"), FileAccess.Read))).WaitAsync(Soon);
        Assert.Equal(Errno.ELOOP, folder.Errno);
    }

    [Fact]
    public void OwnLinks_RelativeAbsoluteAndThroughDotDot_AreFollowedAsTheKernelWould()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_private, "sub")).FullName;
        File.WriteAllText(Path.Combine(_private, "target.txt"), "found");
        File.CreateSymbolicLink(Path.Combine(sub, "up"), "..");
        File.CreateSymbolicLink(Path.Combine(_shared, "rel"), Path.GetRelativePath(_shared, Path.Combine(sub, "up", "target.txt")));
        File.CreateSymbolicLink(Path.Combine(_shared, "abs"), Path.Combine(sub, "up", "sub", "..", "target.txt"));
        foreach (string path in (string[])[Path.Combine(_shared, "rel"), Path.Combine(_shared, "abs"), Path.Combine(sub, "up", "target.txt")])
        {
            using FileDescriptor read = FileDescriptor.Open(path, FileAccess.Read);
            Assert.Equal("regular file", read.Kind);
            Assert.Equal(FileStatus.OfPath(Path.Combine(_private, "target.txt"))!.Value.Inode.ToString(System.Globalization.CultureInfo.InvariantCulture), read.Details["ino"]);
        }
    }

    [SkippableFact]
    public void ChildDescriptor_FileAnotherUserPlanted_IsNotTruncated()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string path = Path.Combine(_shared, "out.txt");
        PlantAsNobody("sh", "-c", $"echo planted > '{path}'");

        var refused = Assert.Throws<SysprogException>(() => FileDescriptor.Open(path, FileAccess.Write));
        AssertNamesRule(refused, "fs.protected_regular", "regular file");
        Assert.Equal("planted\n", File.ReadAllText(path));
        // Reading what another user left is what the kernel allows too.
        using FileDescriptor read = FileDescriptor.Open(path, FileAccess.Read);
        Assert.Equal("regular file", read.Kind);
    }

    [Fact]
    public void ChildDescriptor_OwnFilesLinksAndDevNull_OpenAsBefore()
    {
        string path = Path.Combine(_shared, "out.txt");
        File.WriteAllText(path, "old contents");
        using (FileDescriptor truncated = FileDescriptor.Open(path, FileAccess.Write))
        {
            Assert.StartsWith("O_WRONLY", truncated.StatusFlags, StringComparison.Ordinal);
            Assert.DoesNotContain("O_NONBLOCK", truncated.StatusFlags, StringComparison.Ordinal);
        }
        Assert.Equal(0, new FileInfo(path).Length);

        string target = Path.Combine(_private, "target.txt");
        File.WriteAllText(target, "through my own link");
        string link = Path.Combine(_shared, "link.txt");
        File.CreateSymbolicLink(link, target);
        using (FileDescriptor followed = FileDescriptor.Open(link, FileAccess.Read))
        {
            Assert.Equal("regular file", followed.Kind);
        }

        string created = Path.Combine(_shared, "new.txt");
        using (FileDescriptor made = FileDescriptor.Open(created, FileAccess.Write))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(created) & ~UnixFileMode.UserExecute);
        }
        using FileDescriptor devNull = FileDescriptor.Open("/dev/null", FileAccess.Write);
        Assert.Equal("character device", devNull.Kind);
    }

    [Fact]
    public async Task SharedLibrary_Fifo_IsRefusedWithoutWaiting()
    {
        // dlopen opens a path blocking: a FIFO there hung it until a writer came.
        string path = Path.Combine(_shared, "x");
        MakeFifo(path);
        SysprogException open = await Task.Run(() => Assert.Throws<SysprogException>(() => SharedLibrary.Open(path))).WaitAsync(Soon);
        Assert.Equal((Errno.EINVAL, "open"), (open.Errno, open.Call));
        Assert.Contains("is a FIFO, and only a regular file", open.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void SharedLibrary_SymbolicLinkAnotherUserPlanted_IsNotLoaded()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string path = Path.Combine(_shared, "libplanted.so");
        PlantAsNobody("ln", "-s", Victim("not a library"), path);
        var refused = Assert.Throws<SysprogException>(() => SharedLibrary.Open(path));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
    }

    [Fact]
    public void Fifo_SwappedAtTheNameAfterTheCheck_TheCheckedOneIsOpened()
    {
        // Open-Fifo looked at the path (statx), then opened it by name again: whatever was put there in between (here
        // a link to another FIFO) was opened instead. The swap happens as soon as the first call names the FIFO.
        string path = Path.Combine(_shared, "fifo");
        MakeFifo(path);
        ulong checkedInode = FileStatus.OfPath(path)!.Value.Inode;
        string other = Path.Combine(_private, "other-fifo");
        MakeFifo(other);
        string swap = Path.Combine(_shared, "swap");
        File.CreateSymbolicLink(swap, other);
        bool swapped = false;
        void SwapOnce(string line)
        {
            if (!swapped && line.Contains("fifo\"", StringComparison.Ordinal))
            {
                File.Move(swap, path, overwrite: true);
                swapped = true;
            }
        }

        using (PipeEnd reader = Fifo.Open(path, FileAccess.Read, nonBlocking: true, trace: SwapOnce)!)
        {
            Assert.True(swapped);
            Assert.Equal(checkedInode, reader.Inode);
            // The FIFO checked, which the swap unlinked; not the one the link leads to.
            Assert.Equal($"{path} (deleted)", ProcFile.ReadLink($"/proc/self/fd/{reader.Fd}", null));
        }
    }

    [SkippableFact]
    public void Fifo_SymbolicLinkAnotherUserPlanted_IsNotFollowed()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string roots = Path.Combine(_private, "root-fifo");
        MakeFifo(roots);
        string path = Path.Combine(_shared, "fifo");
        PlantAsNobody("ln", "-s", roots, path);
        var refused = Assert.Throws<SysprogException>(() => Fifo.Open(path, FileAccess.Read, nonBlocking: true));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");

        Peer.Result cli = Peer.Run("fifo", "read", path, "--nonblock");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("fs.protected_symlinks", cli.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Terminal_LinkAnotherUserPlanted_IsNotFollowed()
    {
        // Another user's link could name any terminal: Set-TerminalSize would resize it and signal its foreground group.
        Skip.IfNot(IsRoot, NeedsRoot);
        using Pty pty = Pty.Start("cat", [], rows: 30, columns: 100);
        string path = Path.Combine(_shared, "tty");
        PlantAsNobody("ln", "-s", pty.SecondaryPath, path);

        var refused = Assert.Throws<SysprogException>(() => Terminal.SetSize(path, 50, 50));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.Equal(new TerminalSize(30, 100), pty.Size);

        string own = Path.Combine(_shared, "own-tty");
        File.CreateSymbolicLink(own, pty.SecondaryPath);
        Assert.Equal(30, Terminal.GetSize(own).Rows);
    }

    [Fact]
    public async Task Terminal_Fifo_IsRefusedWithoutOpeningIt()
    {
        // Opening a FIFO to ask its size made this process its reader for a moment: a writer waiting in open(2) for
        // one went on, and then wrote into a FIFO nobody reads.
        string path = Path.Combine(_shared, "tty");
        MakeFifo(path);
        (Task<PipeEnd?> writer, int waiter) = await ThreadWait.StartOnThreadOfItsOwn(() => Fifo.Open(path, FileAccess.Write, timeout: Soon));
        ThreadWait.UntilSleepingIn(waiter, "wait_for_partner");

        var refused = Assert.Throws<SysprogException>(() => Terminal.GetSize(path));
        Assert.Equal((Errno.EINVAL, "open"), (refused.Errno, refused.Call));
        Assert.Contains("is a FIFO", refused.Message, StringComparison.Ordinal);
        // Still waiting for a reader: nothing opened the FIFO.
        ThreadWait.UntilSleepingIn(waiter, "wait_for_partner", TimeSpan.FromSeconds(5));
        Assert.False(writer.IsCompleted);

        using (PipeEnd reader = Fifo.Open(path, FileAccess.Read, nonBlocking: true)!)
        {
            using PipeEnd? written = await writer.WaitAsync(Soon);
        }
    }

    [SkippableFact]
    public void InotifyWatch_LinkAnotherUserPlanted_IsNotFollowed()
    {
        // inotify_add_watch follows links: another user's link in /tmp pointed the watch at whatever they chose.
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("root's data\n");
        string path = Path.Combine(_shared, "watched");
        PlantAsNobody("ln", "-s", victim, path);
        using Inotify inotify = Inotify.Create();

        var refused = Assert.Throws<SysprogException>(() => inotify.AddWatch(path));
        Assert.Equal((Errno.EACCES, "inotify_add_watch", path), (refused.Errno, refused.Call, refused.Target));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.Empty(inotify.Watches);

        // With IN_DONT_FOLLOW the link itself is watched, but one planted on the way is still not followed.
        InotifyWatch link = inotify.AddWatch(path, InotifyEvents.Attrib, InotifyWatchOptions.DontFollow);
        Assert.Equal(path, link.Path);
        string folderLink = Path.Combine(_shared, "folder");
        PlantAsNobody("ln", "-s", _private, folderLink);
        var onTheWay = Assert.Throws<SysprogException>(() => inotify.AddWatch(Path.Combine(folderLink, Path.GetFileName(victim)), InotifyEvents.Attrib, InotifyWatchOptions.DontFollow));
        Assert.Equal((Errno.EACCES, folderLink), (onTheWay.Errno, onTheWay.Target[..folderLink.Length]));
        AssertNamesRule(onTheWay, "fs.protected_symlinks", "symbolic link");
    }

    [Fact]
    public void InotifyWatch_IsOnWhatWasChecked_OwnLinksFollowedUnlessDontFollow()
    {
        string target = Path.Combine(_private, "target.txt");
        File.WriteAllText(target, "");
        string link = Path.Combine(_shared, "link");
        File.CreateSymbolicLink(link, target);
        using Inotify inotify = Inotify.Create();
        var trace = new List<string>();
        InotifyWatch followed = inotify.AddWatch(link, InotifyEvents.Attrib, trace: trace.Add);
        InotifyWatch itself = inotify.AddWatch(link, InotifyEvents.Attrib, InotifyWatchOptions.DontFollow, trace.Add);
        Assert.NotEqual(followed.Descriptor, itself.Descriptor);
        Assert.All(trace.Where(line => line.StartsWith("inotify_add_watch", StringComparison.Ordinal)),
            line => Assert.Contains("\"/proc/self/fd/", line, StringComparison.Ordinal));

        File.SetLastWriteTimeUtc(target, DateTime.UtcNow.AddDays(-1));
        InotifyEvent? changed = inotify.Read(Soon);
        Assert.Equal(followed.Descriptor, changed?.WatchDescriptor);
    }

    [SkippableFact]
    public void SharedLibrary_AnotherUsersFileInASharedFolder_IsNotLoaded()
    {
        // dlopen opens the name again after the check: another user's file in /tmp could be swapped for a FIFO (a
        // loader hung for good) or a link to other code in between, so it is refused as protected_regular would.
        Skip.IfNot(IsRoot, NeedsRoot);
        string? built = CPeer.BuildLibrary(_shared, "libbuilt.so", "int sysprog_planted_value(void) { return 7; }\n");
        Skip.If(built is null, "no C compiler (cc) on PATH: this test builds a library with it");
        string path = Path.Combine(_shared, "libplanted.so");
        PlantAsNobody("cp", built, path);

        var refused = Assert.Throws<SysprogException>(() => SharedLibrary.Open(path));
        Assert.Equal((Errno.EACCES, "open", path), (refused.Errno, refused.Call, refused.Target));
        Assert.Contains("could replace it between this check and its use", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"owned by nobody (uid {Nobody})", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SharedLibrary.Loaded(), library => library.Name == path);

        // This user's own library there loads, under the name it was given (not /proc/self/fd/N).
        using SharedLibrary own = SharedLibrary.Open(built!);
        Assert.Equal(built, own.Path);
        Assert.Equal(built, SharedLibrary.DescribeAddress(own.GetSymbol("sysprog_planted_value").Address)?.LibraryPath);
    }

    [SkippableFact]
    public void SharedLibrary_ReplacedBetweenTheCheckAndDlopen_IsRefusedAndClosed()
    {
        string? checkedLibrary = CPeer.BuildLibrary(_shared, "libswap.so", "int sysprog_swap_which(void) { return 1; }\n");
        Skip.If(checkedLibrary is null, "no C compiler (cc) on PATH: this test builds a library with it");
        string other = CPeer.BuildLibrary(_private, "libother.so", "int sysprog_swap_which(void) { return 2; }\n")!;
        bool swapped = false;
        void SwapOnce(string line)
        {
            if (!swapped && line.Contains("libswap.so\"", StringComparison.Ordinal))
            {
                File.Move(other, checkedLibrary, overwrite: true);
                swapped = true;
            }
        }

        var refused = Assert.Throws<SharedLibraryException>(() => SharedLibrary.Open(checkedLibrary, trace: SwapOnce));
        Assert.True(swapped);
        Assert.Contains("not the file checked", refused.Message, StringComparison.Ordinal);
        Assert.Null(SharedLibrary.OpenIfLoaded(checkedLibrary));
    }

    [SkippableFact]
    public void Sockets_ConnectAndSendTo_ALinkAnotherUserPlanted_AreRefused()
    {
        // connect and sendto follow links in a socket path: another user's link in /tmp sent root's connection or
        // datagrams to whatever socket they chose (a service's, which trusts root).
        Skip.IfNot(IsRoot, NeedsRoot);
        string serviceStream = Path.Combine(_private, "service.sock");
        string serviceDatagram = Path.Combine(_private, "notify.sock");
        using Socket listening = Socket.CreateBound(SocketEndpoint.Unix(serviceStream));
        using Socket receiving = Socket.CreateBound(SocketEndpoint.Unix(serviceDatagram), SocketKind.Datagram);
        string streamLink = Path.Combine(_shared, "app.sock");
        string datagramLink = Path.Combine(_shared, "notify.sock");
        PlantAsNobody("ln", "-s", serviceStream, streamLink);
        PlantAsNobody("ln", "-s", serviceDatagram, datagramLink);

        var connect = Assert.Throws<SysprogException>(() => Socket.CreateConnected(SocketEndpoint.Unix(streamLink), timeout: Soon));
        Assert.Equal((Errno.EACCES, "connect", streamLink), (connect.Errno, connect.Call, connect.Target));
        AssertNamesRule(connect, "fs.protected_symlinks", "symbolic link");
        Assert.Null(listening.Accept(TimeSpan.Zero));

        using Socket sender = Socket.Create(SocketFamily.Unix, SocketKind.Datagram);
        var send = Assert.Throws<SysprogException>(() => sender.Send("READY=1"u8, destination: SocketEndpoint.Unix(datagramLink)));
        Assert.Equal((Errno.EACCES, "sendmsg"), (send.Errno, send.Call));
        AssertNamesRule(send, "fs.protected_symlinks", "symbolic link");
        Assert.Null(receiving.Receive(TimeSpan.Zero));
    }

    [SkippableFact]
    public void Sockets_BindThroughAFolderLinkAnotherUserPlanted_IsRefused()
    {
        // bind follows links on the way to the socket file: another user's link to a folder of root's made root
        // create its socket file there.
        Skip.IfNot(IsRoot, NeedsRoot);
        string folderLink = Path.Combine(_shared, "run");
        PlantAsNobody("ln", "-s", _private, folderLink);

        var refused = Assert.Throws<SysprogException>(() => Socket.CreateBound(SocketEndpoint.Unix(Path.Combine(folderLink, "app.sock"))));
        Assert.Equal((Errno.EACCES, "bind"), (refused.Errno, refused.Call));
        AssertNamesRule(refused, "fs.protected_symlinks", "symbolic link");
        Assert.False(File.Exists(Path.Combine(_private, "app.sock")));
    }

    [Fact]
    public void Sockets_ThroughOwnLinks_ConnectToTheCheckedFile_AndAddressesStayTheNamesGiven()
    {
        string served = Path.Combine(_private, "served.sock");
        using Socket listening = Socket.CreateBound(SocketEndpoint.Unix(served));
        string link = Path.Combine(_shared, "link.sock");
        File.CreateSymbolicLink(link, served);
        var trace = new List<string>();
        using Socket client = Socket.CreateConnected(SocketEndpoint.Unix(link), timeout: Soon, trace: trace.Add)!;
        using Socket accepted = listening.Accept(Soon)!;
        Assert.Contains(trace, line => line.StartsWith("connect(", StringComparison.Ordinal) && line.Contains("sun_path=\"/proc/self/fd/", StringComparison.Ordinal));
        // What the kernel records is the server's own bound path, as with a connect by name.
        Assert.Equal(SocketEndpoint.Unix(served), client.RemoteEndpoint);
        Assert.Equal(SocketEndpoint.Unix(served), listening.LocalEndpoint);
    }

    [Fact]
    public void CliSendFile_Fifo_IsRefusedWithoutWaiting()
    {
        // sysprog unix send --file opened the path with File.OpenRead: a FIFO there hung it until a writer came.
        string path = Path.Combine(_shared, "data");
        MakeFifo(path);
        using Process cli = Peer.Start("unix", "send", "@sysprog-planted-nobody-listens", "--file", path, "x");
        bool exited = cli.WaitForExit(Soon);
        if (!exited)
        {
            cli.Kill();
        }
        Assert.True(exited, "sysprog unix send --file waited on a FIFO");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("is a FIFO", cli.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ChildProcess_WorkingDirectoryThroughAPlantedLink_AndAPlantedProgram_AreRefused()
    {
        // The child changed to its working directory by name, following another user's link; and a program another
        // user left in /tmp ran as root, though they could swap it for anything until the exec.
        Skip.IfNot(IsRoot, NeedsRoot);
        string link = Path.Combine(_shared, "work");
        PlantAsNobody("ln", "-s", _private, link);
        var folder = Assert.Throws<SysprogException>(() => ChildProcess.Start(new ChildProcessStartInfo("true") { WorkingDirectory = link }));
        Assert.Equal((Errno.EACCES, "posix_spawnp"), (folder.Errno, folder.Call));
        AssertNamesRule(folder, "fs.protected_symlinks", "symbolic link");

        string script = Path.Combine(_shared, "job.sh");
        string marker = Path.Combine(_private, "ran");
        PlantAsNobody("sh", "-c", $"printf '#!/bin/sh\\ntouch {marker}\\n' > '{script}' && chmod 755 '{script}'");
        var program = Assert.Throws<SysprogException>(() => ChildProcess.Start(new ChildProcessStartInfo(script)));
        Assert.Equal((Errno.EACCES, "posix_spawnp"), (program.Errno, program.Call));
        Assert.Contains("could replace it between this check and its use", program.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));

        Peer.Result cli = Peer.Run("spawn", "--cwd", link, "--", "true");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("fs.protected_symlinks", cli.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ChildProcess_WorkingDirectoryThroughOwnLink_IsTheFolderChecked()
    {
        string link = Path.Combine(_shared, "work");
        File.CreateSymbolicLink(link, _private);
        Peer.Result cli = Peer.Run("spawn", "--cwd", link, "--trace", "--", "/bin/pwd", "-P");
        Assert.Equal(0, cli.ExitCode);
        Assert.Equal(_private + "\n", cli.Output);
        Assert.Contains("fchdir(", cli.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ChangeModeOfCreated_NeverChangesALinkSwappedIn_OrItsTarget()
    {
        // New-Fifo and New-Socket did mkfifo/bind, then chmod by name: a symbolic link put there in between made its
        // target (a root-owned file) mode 0666.
        string victim = Victim("secret");
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string path = Path.Combine(_shared, "fifo");
        File.CreateSymbolicLink(path, victim);

        var refused = Assert.Throws<SysprogException>(() => PlantedPath.ChangeModeOfCreated(path, FileStatus.Fifo, (UnixFileMode)0x1B6, null));
        Assert.Equal((Errno.EPERM, "chmod"), (refused.Errno, refused.Call));
        Assert.Contains("is no longer the FIFO this process made: it is now a symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(victim));
    }

    [Fact]
    public void ChangeModeOfCreated_NeverChangesAFileWithAnotherLink()
    {
        // A hard link to another file (where fs.protected_hardlinks is off, anyone may link a file they do not own).
        string victim = Path.Combine(_private, "victim-fifo");
        MakeFifo(victim);
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string path = Path.Combine(_private, "fifo");
        Assert.Equal(0, Link(victim, path));

        var refused = Assert.Throws<SysprogException>(() => PlantedPath.ChangeModeOfCreated(path, FileStatus.Fifo, (UnixFileMode)0x1B6, null));
        Assert.Equal(Errno.EPERM, refused.Errno);
        Assert.Contains("with 2 link(s)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(victim));
    }

    [SkippableFact]
    public void ChangeModeOfCreated_NeverChangesWhatAnotherUserSwappedIn()
    {
        Skip.IfNot(IsRoot, NeedsRoot);
        string victim = Victim("secret");
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string path = Path.Combine(_shared, "sock");
        PlantAsNobody("ln", "-s", victim, path);

        var refused = Assert.Throws<SysprogException>(() => PlantedPath.ChangeModeOfCreated(path, FileStatus.Socket, (UnixFileMode)0x1B6, null));
        Assert.Contains($"a symbolic link owned by nobody (uid {Nobody})", refused.Message, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(victim));
    }

    [Fact]
    public void FifoAndSocketFiles_GetTheExactModeThroughTheirDescriptor()
    {
        const UnixFileMode everyone = (UnixFileMode)0x1B6;
        string fifo = Path.Combine(_shared, "fifo");
        Fifo.Create(fifo, everyone);
        Assert.Equal(everyone, File.GetUnixFileMode(fifo));

        string socketPath = Path.Combine(_shared, "sock");
        using (Socket socket = Socket.Create(SocketFamily.Unix, SocketKind.Stream))
        {
            socket.Bind(SocketEndpoint.Unix(socketPath), everyone);
            Assert.Equal(everyone, File.GetUnixFileMode(socketPath));
        }
        string narrow = Path.Combine(_shared, "narrow");
        using Socket owner = Socket.Create(SocketFamily.Unix, SocketKind.Stream);
        owner.Bind(SocketEndpoint.Unix(narrow), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(narrow));
    }

    private string Victim(string contents)
    {
        string victim = Path.Combine(_private, $"victim-{Guid.NewGuid():N}");
        File.WriteAllText(victim, contents);
        return victim;
    }

    private static void AssertNamesRule(SysprogException refused, string rule, string what)
    {
        Assert.Contains(rule, refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{what}", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"owned by nobody (uid {Nobody})", refused.Message, StringComparison.Ordinal);
        Assert.Contains("neither this user (root (uid 0)) nor the folder's owner", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Runs a command as nobody (no groups, no capabilities): the other local user who plants.</summary>
    private static void PlantAsNobody(params string[] command)
    {
        var info = new ProcessStartInfo("setpriv") { RedirectStandardError = true, UseShellExecute = false };
        foreach (string part in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", .. command])
        {
            info.ArgumentList.Add(part);
        }
        using Process planter = Process.Start(info)!;
        string error = planter.StandardError.ReadToEnd();
        Assert.True(planter.WaitForExit(Soon), "the planting command did not finish");
        Assert.True(planter.ExitCode == 0, $"planting as nobody ({string.Join(' ', command)}) failed: {error}");
    }

    private static void MakeFifo(string path) => Assert.Equal(0, Mkfifo(path, 0x180));

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, int mode);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string created);
}
