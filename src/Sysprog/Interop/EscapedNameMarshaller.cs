using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Sysprog.Interop;

/// <summary>
/// Passes a name in its escaped form (<see cref="NameEscaping"/>) to libc as the bytes it stands for, so that an
/// object whose name is not valid UTF-8, as listed, can be opened and removed. Only names and paths that Sysprog built
/// from canonical names go through it: a path a user typed keeps its backslashes as they are.
/// </summary>
[CustomMarshaller(typeof(string), MarshalMode.ManagedToUnmanagedIn, typeof(EscapedNameMarshaller))]
internal static unsafe class EscapedNameMarshaller
{
    public static byte* ConvertToUnmanaged(string managed)
    {
        byte[] bytes = NameEscaping.Unescape(managed);
        byte* native = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(native, bytes.Length));
        native[bytes.Length] = 0;
        return native;
    }

    public static void Free(byte* unmanaged) => NativeMemory.Free(unmanaged);
}
