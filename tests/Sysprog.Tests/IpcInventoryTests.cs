using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Sysprog.Tests;

/// <summary>The inventory: objects made here and by other processes, with the right holders; orphans; unlinked objects still held; System V objects; removal.</summary>
public sealed class IpcInventoryTests : IDisposable
{
    private readonly string _name = TestNames.New();
    private readonly List<Process> _peers = [];

    public void Dispose()
    {
        foreach (Process peer in _peers)
        {
            peer.Kill();
            peer.WaitForExit();
            peer.Dispose();
        }
        TestNames.UnlinkIfPresent(_name);
        TestNames.UnlinkSemaphoreIfPresent(_name);
        TestNames.UnlinkQueueIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    private static IpcObject Find(IpcInventory inventory, IpcObjectKind kind, string name) => inventory.Objects.Single(o => o.Kind == kind && o.Name == name);

    /// <summary>A shell that holds <paramref name="path"/> open on descriptor 3 until killed; started when it says so.</summary>
    private Process HoldOpen(string path)
    {
        var info = new ProcessStartInfo("sh", ["-c", $"exec 3<'{path}'; echo ready; exec sleep 60"]) { RedirectStandardOutput = true };
        Process peer = Process.Start(info)!;
        _peers.Add(peer);
        Assert.Equal("ready", peer.StandardOutput.ReadLine());
        return peer;
    }

    [Fact]
    public void Progress_CountsTheProcessesRead_OnTheCallersThread()
    {
        var told = new List<(int Read, int All, int Thread)>();

        IpcInventory inventory = IpcInventory.Take(progress: (read, all) => told.Add((read, all, Environment.CurrentManagedThreadId)));

        Assert.NotEmpty(told);
        Assert.Equal(0, told[0].Read);
        Assert.All(told, t => Assert.Equal(Environment.CurrentManagedThreadId, t.Thread));
        Assert.Single(told.Select(t => t.All).Distinct());
        Assert.Equal(told.Select(t => t.Read).Order(), told.Select(t => t.Read));
        // What was read or refused was among those told (one that ended meanwhile is neither), and this process was read.
        Assert.InRange(inventory.InspectedProcessCount + inventory.UninspectedProcesses.Count, 1, told[0].All);
    }

    [Fact]
    public void SharedMemory_IsHeldByItsDescriptorsAndMappings_AndOrphanedWhenTheyGo()
    {
        using (SharedMemory shm = SharedMemory.Create(_name, 8192))
        {
            using MemoryMapping map = shm.Map();
            Process peer = HoldOpen(SharedMemory.Directory + _name);

            IpcObject held = Find(IpcInventory.Take(), IpcObjectKind.SharedMemory, _name);

            Assert.Equal(8192, held.Size);
            Assert.False(held.IsOrphaned);
            // This process is the dotnet host running testhost.dll: a holder is named by what it runs, not "dotnet".
            string thisProgram = Path.GetFileNameWithoutExtension(Environment.GetCommandLineArgs()[0]);
            Assert.NotEqual("dotnet", thisProgram);
            Assert.Contains(new IpcHolder(Environment.ProcessId, thisProgram, IpcHold.Descriptor | IpcHold.Mapping), held.Holders);
            Assert.Contains(new IpcHolder(peer.Id, "sleep", IpcHold.Descriptor), held.Holders);
            peer.Kill();
            peer.WaitForExit();
        }

        IpcObject orphan = Find(IpcInventory.Take(), IpcObjectKind.SharedMemory, _name);

        Assert.Empty(orphan.Holders);
        Assert.True(orphan.IsOrphaned);
    }

    [Fact]
    public void AnUnlinkedObjectStillMapped_IsListedAsUnlinked_WithItsHolder_AndCannotBeRemovedAgain()
    {
        using SharedMemory shm = SharedMemory.Create(_name, 4096);
        using MemoryMapping map = shm.Map();
        SharedMemory.Unlink(_name);

        IpcObject unlinked = Find(IpcInventory.Take(), IpcObjectKind.SharedMemory, _name);

        Assert.True(unlinked.IsUnlinked);
        Assert.Equal(Environment.ProcessId, unlinked.Holders.Single().ProcessId);
        Assert.Contains("unlinked already", Assert.Throws<InvalidOperationException>(() => IpcInventory.Remove(unlinked)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnlinkedSemaphoreStillMapped_SaysItsNameIsGone_AndShowsWhatIsLeft_ThroughItsHolder()
    {
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 3, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        PosixSemaphore.Unlink(_name);

        IpcObject unlinked = IpcInventory.Take().Objects.Single(o => o.Kind == IpcObjectKind.Semaphore && o.IsUnlinked
            && o.Holders.Any(h => h.ProcessId == Environment.ProcessId));

        // This process maps it under the temporary name glibc's sem_open made it in (sem.XXXXXX), which is not its name.
        Assert.Equal(IpcInventory.UnlinkedSemaphoreName, unlinked.Name);
        Assert.StartsWith("/dev/shm/sem.", unlinked.Path, StringComparison.Ordinal);
        if (Capabilities.Has(Capabilities.SysAdmin) || Capabilities.Has(Capabilities.CheckpointRestore))
        {
            // Read through /proc/self/map_files, the mapped file itself.
            Assert.Equal((3L, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, (string?)null), (unlinked.Count, unlinked.UnixFileMode, unlinked.Problem));
        }
        else
        {
            Assert.Null(unlinked.Count);
            Assert.Contains("/proc/PID/map_files, which needs CAP_SYS_ADMIN", unlinked.Problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Semaphores_AreListedWithTheirValue_AndRemoved()
    {
        using (PosixSemaphore semaphore = PosixSemaphore.Create(_name, 3))
        {
            IpcObject listed = Find(IpcInventory.Take(), IpcObjectKind.Semaphore, _name);

            Assert.Equal(3, listed.Count);
            Assert.Equal(IpcHold.Mapping, listed.Holders.Single(h => h.ProcessId == Environment.ProcessId).How);
        }
        IpcInventory.Remove(Find(IpcInventory.Take(), IpcObjectKind.Semaphore, _name));

        Assert.DoesNotContain(IpcInventory.Take().Objects, o => o.Name == _name);
    }

    [SkippableFact]
    public void Queues_AreListedWithTheirMessages_AndRemoved()
    {
        MqueueFilesystem.SkipUnlessMounted();
        using (MessageQueue queue = MessageQueue.Create(_name, 4, 64))
        {
            queue.Send("one"u8.ToArray(), 0, TimeSpan.Zero);
            IpcInventory inventory = IpcInventory.Take();

            IpcObject listed = Find(inventory, IpcObjectKind.MessageQueue, _name);
            Assert.True(inventory.MessageQueuesListed);
            Assert.Equal(1, listed.Count);
            Assert.Equal(IpcHold.Descriptor, listed.Holders.Single(h => h.ProcessId == Environment.ProcessId).How);
        }
        IpcInventory.Remove(Find(IpcInventory.Take(), IpcObjectKind.MessageQueue, _name));

        Assert.DoesNotContain(IpcInventory.Take().Objects, o => o.Name == _name);
    }

    [SkippableFact]
    public void WithoutTheMqueueFilesystem_QueuesAreNotListed_AndTheCliSaysSo()
    {
        Skip.If(MessageQueue.IsMqueueFsMounted(), "the mqueue filesystem is mounted on /dev/mqueue, so queues are listed (the test above)");
        using MessageQueue queue = MessageQueue.Create(_name, 4, 64);

        IpcInventory inventory = IpcInventory.Take();
        Peer.Result result = Peer.Run("ipcs");

        Assert.False(inventory.MessageQueuesListed);
        Assert.DoesNotContain(inventory.Objects, o => o.Kind == IpcObjectKind.MessageQueue);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(IpcInventory.MessageQueuesNotListedWarning, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void SystemVObjects_AreListedByKeyAndId_AndRemovedWithIpcRmid()
    {
        int segment = IpcMake("-M", "4096", "Shared memory id");
        int set = IpcMake("-S", "2", "Semaphore id");
        int queue = IpcMake("-Q", null, "Message queue id");
        try
        {
            IpcInventory inventory = IpcInventory.Take();
            IpcObject shm = inventory.Objects.Single(o => o.Kind == IpcObjectKind.SysVSharedMemory && o.Id == segment);
            IpcObject sem = inventory.Objects.Single(o => o.Kind == IpcObjectKind.SysVSemaphoreSet && o.Id == set);
            IpcObject msg = inventory.Objects.Single(o => o.Kind == IpcObjectKind.SysVMessageQueue && o.Id == queue);

            Assert.Equal((4096L, 0L, true), (shm.Size!.Value, shm.Attachments!.Value, shm.IsOrphaned!.Value));
            Assert.Matches("^0x[0-9a-f]{8}$", shm.Name);
            Assert.Equal(2, sem.Count);
            Assert.Null(sem.IsOrphaned);
            Assert.Null(msg.IsOrphaned);
            IpcInventory.Remove(shm);
            IpcInventory.Remove(sem);
            IpcInventory.Remove(msg);

            Assert.DoesNotContain(IpcInventory.Take().Objects, o => o.Kind == IpcObjectKind.SysVSharedMemory && o.Id == segment);
            var failed = Assert.Throws<SysprogException>(() => IpcInventory.Remove(shm));
            Assert.Equal(("shmctl", Errno.EINVAL), (failed.Call, failed.Errno));
        }
        finally
        {
            Process.Start("ipcrm", ["-m", $"{segment}"])?.WaitForExit();
            Process.Start("ipcrm", ["-s", $"{set}"])?.WaitForExit();
            Process.Start("ipcrm", ["-q", $"{queue}"])?.WaitForExit();
        }
    }

    [SkippableFact]
    public void AQueueRegisteredForNotification_NamesTheRegisteredProcess()
    {
        MqueueFilesystem.SkipUnlessMounted();
        string? peer = CPeer.NotifyRegistrant();
        Skip.If(peer is null, "no C compiler (cc) on PATH: this test compiles a tiny mq_notify peer with it");
        using MessageQueue queue = MessageQueue.Create(_name, 4, 64);
        Process registered = Process.Start(new ProcessStartInfo(peer!, [_name]) { RedirectStandardOutput = true })!;
        _peers.Add(registered);
        Assert.Equal("ready", registered.StandardOutput.ReadLine());

        IpcObject listed = Find(IpcInventory.Take(), IpcObjectKind.MessageQueue, _name);

        Assert.Equal(IpcHold.Descriptor | IpcHold.Notification, listed.Holders.Single(h => h.ProcessId == registered.Id).How);
    }

    [Fact]
    public void ProcessesThisUserMayNotInspect_AreCounted_NotSkippedSilently()
    {
        Peer.Result result = Peer.RunUnprivileged([], "ipcs", "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+ processes could not be inspected \(EACCES: other users' processes", result.Error);
        Assert.NotNull(JsonSerializer.Deserialize<JsonElement[]>(result.Output));
    }

    [SkippableFact]
    public void ProcessesRefusedToAPtraceCapableProcess_AreNotBlamedOnItsUser()
    {
        Skip.IfNot(Capabilities.Has(Capabilities.SysPtrace), "this process lacks CAP_SYS_PTRACE: the case is another user's processes");
        IpcInventory inventory = IpcInventory.Take();
        Skip.If(inventory.UninspectedProcesses.Count == 0, "every process here could be inspected: nothing refused a CAP_SYS_PTRACE process");

        // As root in a container, pid 1 holds capabilities this process lacks: the ptrace check refuses it, not the uid.
        Assert.Contains("ptrace access check", inventory.UninspectedWarning);
        Assert.DoesNotContain("Run as root", inventory.UninspectedWarning);
        Assert.DoesNotContain("other users", inventory.UninspectedWarning);
    }

    [Fact]
    public void TheCli_ListsOrphansOnly_WithOrphaned()
    {
        using (SharedMemory.Create(_name, 4096))
        {
        }
        string held = TestNames.New();
        using SharedMemory holding = SharedMemory.Create(held, 4096);
        try
        {
            Peer.Result result = Peer.Run("ipcs", "--orphaned");

            Assert.Equal(0, result.ExitCode);
            Assert.Contains(_name + " ", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(held + " ", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            TestNames.UnlinkIfPresent(held);
        }
    }

    private static int IpcMake(string option, string? argument, string label)
    {
        var info = new ProcessStartInfo("ipcmk") { RedirectStandardOutput = true };
        info.ArgumentList.Add(option);
        if (argument is not null)
        {
            info.ArgumentList.Add(argument);
        }
        using Process made = Process.Start(info)!;
        string output = made.StandardOutput.ReadToEnd();
        made.WaitForExit();
        // "Shared memory id: 3"
        return int.Parse(output[(output.IndexOf(label, StringComparison.Ordinal) + label.Length + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
