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
