using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// Who besides this user could shrink a file or shared memory object this process maps (New-MemoryMap, and sem_open
/// for Open-Semaphore): a page of the mapping past a new end raises SIGBUS at the next touch, which ends the process,
/// and nothing in it can catch that. Decided on the object's own status, from the descriptor that is mapped:
/// <list type="bullet">
/// <item>its owner, unless that is this user or root (root can end this process anyway; the owner can always
/// truncate, giving themselves write permission first if need be);</item>
/// <item>every user, when it has a name (a link count above 0) and is writable by others (mode o+w);</item>
/// <item>the users of its group, when it has a name and is group-writable, unless the group is this user's private
/// group (named as the user, no other member);</item>
/// </list>
/// and no one at all when it is no regular file (a device), or is sealed against shrinking (F_SEAL_SHRINK). A
/// descriptor with no name left (a memfd, an unlinked file) is reachable only by the processes that hold it: its mode
/// lets no one new open it. Processes of this same user that hold it can shrink it too; that is not a risk of another
/// user, and is not reported.
/// </summary>
internal static class ShrinkRisk
{
    /// <summary>The warning for the object <paramref name="fd"/> is a descriptor of, named <paramref name="what"/>; null when no one else can shrink it.</summary>
    public static string? Of(SafeFdHandle fd, string what, SyscallTrace? trace)
    {
        StatX status = FileStatus.OfFd(fd, what, trace);
        if ((status.Mode & FileStatus.TypeMask) != FileStatus.Regular)
        {
            return null;
        }
        using HandleLease lease = fd.Lease(what);
        // Files that take no seals (EINVAL) have none.
        SyscallResult seals = Syscall.Traced(Libc.fcntl(lease.Fd, Libc.F_GET_SEALS, 0), trace, "fcntl", $"{lease.Fd}, F_GET_SEALS");
        return Describe(what, status, !seals.Failed && ((int)seals.Value & Libc.F_SEAL_SHRINK) != 0, Syscall.EffectiveUserId(trace), Accounts.IsPrivateGroupOf);
    }

    /// <summary>The warning for an object of <paramref name="status"/> as this user (<paramref name="self"/>) sees it; null when no one else can shrink it.</summary>
    internal static string? Describe(string what, in StatX status, bool sealedAgainstShrinking, uint self, Func<uint, uint, bool> isPrivateGroupOf)
    {
        if ((status.Mode & FileStatus.TypeMask) != FileStatus.Regular || sealedAgainstShrinking)
        {
            return null;
        }
        var who = new List<string>();
        if (status.Uid != self && status.Uid != 0)
        {
            who.Add($"its owner, {PlantedPath.Owner(status.Uid)}");
        }
        bool named = status.LinkCount > 0;
        string mode = Convert.ToString(status.Mode & 0xFFF, 8).PadLeft(4, '0');
        if (named && (status.Mode & Libc.S_IWOTH) != 0)
        {
            who.Add($"every user (it is mode {mode})");
        }
        else if (named && (status.Mode & S_IWGRP) != 0 && !isPrivateGroupOf(status.Gid, self))
        {
            who.Add($"the users of group {Accounts.GroupName(status.Gid)} (it is mode {mode})");
        }
        return who.Count == 0 ? null
            : $"{what} can be shrunk by {string.Join(" and ", who)}: touching a mapped page past its new end would raise SIGBUS, which ends this process. " +
              "Map only what no one else can shrink: your own object, mode 0600, or shared memory sealed against shrinking (Add-SharedMemorySeal).";
    }

    private const int S_IWGRP = 0x10;
}
