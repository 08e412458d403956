using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// netdb.h: host and service name resolution.
internal static partial class Libc
{
    internal const int AI_PASSIVE = 0x1;
    internal const int AI_CANONNAME = 0x2;
    internal const int AI_NUMERICHOST = 0x4;
    internal const int AI_NUMERICSERV = 0x400;
    internal const int AI_ADDRCONFIG = 0x20;

    // getaddrinfo's own error numbers (glibc and musl agree); EAI_SYSTEM means: look at errno.
    internal const int EAI_SYSTEM = -11;

    /// <summary>Returns 0 or an EAI_* code; the list it gives is freed with freeaddrinfo.</summary>
    [LibraryImport(LibcName, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int getaddrinfo(string? node, string? service, AddressInfo* hints, AddressInfo** result);

    [LibraryImport(LibcName)]
    internal static unsafe partial void freeaddrinfo(AddressInfo* list);

    [LibraryImport(LibcName)]
    internal static partial nint gai_strerror(int code);

    internal static string AddressInfoErrorName(int code) => code switch
    {
        -1 => "EAI_BADFLAGS", -2 => "EAI_NONAME", -3 => "EAI_AGAIN", -4 => "EAI_FAIL", -5 => "EAI_NODATA", -6 => "EAI_FAMILY",
        -7 => "EAI_SOCKTYPE", -8 => "EAI_SERVICE", -9 => "EAI_ADDRFAMILY", -10 => "EAI_MEMORY", -11 => "EAI_SYSTEM", -12 => "EAI_OVERFLOW",
        _ => $"EAI {code}",
    };
}

/// <summary>struct addrinfo (the same layout in glibc and musl on 64-bit Linux).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct AddressInfo
{
    public int Flags;
    public int Family;
    public int SocketType;
    public int Protocol;
    public uint AddressLength;
    public byte* Address;
    public byte* CanonicalName;
    public AddressInfo* Next;
}
