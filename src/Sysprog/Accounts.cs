using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>User and group names for ids, through NSS (getpwuid_r, getgrgid_r), cached per process.</summary>
internal static class Accounts
{
    private static readonly ConcurrentDictionary<uint, string> UserNames = new();
    private static readonly ConcurrentDictionary<uint, string> GroupNames = new();

    public static string UserName(uint uid) => UserNames.GetOrAdd(uid, LookUpUser);

    public static string GroupName(uint gid) => GroupNames.GetOrAdd(gid, LookUpGroup);

    /// <summary>
    /// Whether group <paramref name="gid"/> is user <paramref name="uid"/>'s private group (the user-private-group
    /// convention: named as the user, and listing no other member), so that its write permission reaches no one else.
    /// A group NSS cannot describe in a 4 KiB buffer (a long member list) is not.
    /// </summary>
    public static unsafe bool IsPrivateGroupOf(uint gid, uint uid)
    {
        string user = UserName(uid);
        Group entry;
        Group* result = null;
        byte* buffer = stackalloc byte[4096];
        if (Libc.getgrgid_r(gid, &entry, buffer, 4096, &result) != 0 || result == null || Marshal.PtrToStringUTF8((IntPtr)entry.Name) != user)
        {
            return false;
        }
        for (byte** member = entry.Members; member != null && *member != null; member++)
        {
            if (Marshal.PtrToStringUTF8((IntPtr)(*member)) != user)
            {
                return false;
            }
        }
        return true;
    }

    private static unsafe string LookUpUser(uint uid)
    {
        Passwd entry;
        Passwd* result = null;
        byte* buffer = stackalloc byte[4096];
        int rc = Libc.getpwuid_r(uid, &entry, buffer, 4096, &result);
        return rc == 0 && result != null ? Marshal.PtrToStringUTF8((IntPtr)entry.Name) ?? uid.ToString() : uid.ToString();
    }

    private static unsafe string LookUpGroup(uint gid)
    {
        Group entry;
        Group* result = null;
        byte* buffer = stackalloc byte[4096];
        int rc = Libc.getgrgid_r(gid, &entry, buffer, 4096, &result);
        return rc == 0 && result != null ? Marshal.PtrToStringUTF8((IntPtr)entry.Name) ?? gid.ToString() : gid.ToString();
    }
}
