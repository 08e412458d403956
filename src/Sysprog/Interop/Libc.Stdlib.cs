using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// stdlib.h
internal static partial class Libc
{
    /// <summary>With a NULL buffer the result is malloc'd: release it with <see cref="free"/>.</summary>
    [LibraryImport(LibcName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint realpath(string path, nint resolved);

    [LibraryImport(LibcName)]
    internal static partial void free(nint pointer);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial nint malloc(nuint size);
}
