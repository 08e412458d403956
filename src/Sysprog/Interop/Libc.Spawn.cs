using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// spawn.h: posix_spawn and its attribute and file-action objects, which the C library defines opaquely (glibc: 336
// and 80 bytes); Sysprog allocates them larger and only ever passes pointers.
internal static partial class Libc
{
    internal const int SpawnObjectSize = 1024;

    internal const short POSIX_SPAWN_SETPGROUP = 0x02;
    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSCHEDULER = 0x20;
    internal const short POSIX_SPAWN_SETSID = 0x80;

    /// <summary>Returns 0 or an error number (not -1 and errno).</summary>
    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int posix_spawnp(out int processId, string file, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, string path, int flags, int mode);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawn_file_actions_addclose(void* fileActions, int fd);

    /// <summary>glibc 2.34 and later (see <see cref="HasSpawnCloseFrom"/>): closes every descriptor from <paramref name="lowestFd"/> up, at that point in the list.</summary>
    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawn_file_actions_addclosefrom_np(void* fileActions, int lowestFd);

    /// <summary>Whether this libc has posix_spawn_file_actions_addclosefrom_np (glibc 2.34+; not musl, not older glibc).</summary>
    internal static readonly bool HasSpawnCloseFrom = NativeLibrary.TryGetExport(Load(LibcName), "posix_spawn_file_actions_addclosefrom_np", out _);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newFd);

    /// <summary>fchdir in the child to a descriptor of this process's (glibc 2.29, musl 1.1.24): the folder that was checked, not its name again.</summary>
    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawn_file_actions_addfchdir_np(void* fileActions, int fd);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_init(void* attributes);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_setpgroup(void* attributes, int processGroup);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_setschedpolicy(void* attributes, int policy);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_setschedparam(void* attributes, in SchedParam parameters);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_setsigdefault(void* attributes, in SigSet signals);

    [LibraryImport(LibcName)]
    internal static unsafe partial int posix_spawnattr_setsigmask(void* attributes, in SigSet signals);
}

