using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// pwd.h, grp.h: through NSS, so LDAP and systemd users resolve too, unlike a parse of /etc/passwd.
internal static partial class Libc
{
    [LibraryImport(LibcName)]
    internal static unsafe partial int getpwuid_r(uint uid, Passwd* entry, byte* buffer, nuint size, Passwd** result);

    [LibraryImport(LibcName)]
    internal static unsafe partial int getgrgid_r(uint gid, Group* entry, byte* buffer, nuint size, Group** result);
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Passwd
{
    public byte* Name;
    public byte* Password;
    public uint Uid;
    public uint Gid;
    public byte* Gecos;
    public byte* Directory;
    public byte* Shell;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Group
{
    public byte* Name;
    public byte* Password;
    public uint Gid;
    public byte** Members;
}
