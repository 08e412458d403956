using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// net/if.h: network interfaces by index and name.
internal static partial class Libc
{
    /// <summary>IF_NAMESIZE: an interface name's bytes with its NUL.</summary>
    internal const int IF_NAMESIZE = 16;

    /// <summary>The name of the interface of this index in this network namespace, or NULL (ENXIO: none has it).</summary>
    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial byte* if_indextoname(uint index, byte* name);
}
