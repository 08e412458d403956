using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// dlfcn.h: explicit loading. dlerror's text is per thread, so every binding's caller reads it right after the call.
internal static partial class Libc
{
    internal const int RTLD_LAZY = 0x1;
    internal const int RTLD_NOW = 0x2;
    internal const int RTLD_NOLOAD = 0x4;
    internal const int RTLD_DEEPBIND = 0x8;
    internal const int RTLD_GLOBAL = 0x100;
    internal const int RTLD_NODELETE = 0x1000;

    /// <summary>The pseudo-handles of dlsym: the global scope in load order, and the objects after the caller's.</summary>
    internal const nint RTLD_DEFAULT = 0;
    internal const nint RTLD_NEXT = -1;

    internal const int RTLD_DI_LINKMAP = 2;
    internal const int RTLD_DI_ORIGIN = 6;
    internal const int RTLD_DI_TLS_MODID = 9;

    /// <summary>dladdr1's extra answer: the ElfW(Sym) of the symbol found.</summary>
    internal const int RTLD_DL_SYMENT = 1;

    [LibraryImport(LibdlName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint dlopen(string? file, int mode);

    [LibraryImport(LibdlName)]
    internal static partial int dlclose(nint handle);

    [LibraryImport(LibdlName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint dlsym(nint handle, string name);

    [LibraryImport(LibdlName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint dlvsym(nint handle, string name, string version);

    [LibraryImport(LibdlName)]
    internal static partial nint dlerror();

    [LibraryImport(LibdlName)]
    internal static unsafe partial int dladdr1(nint address, DlInfo* info, nint* extra, int flags);

    [LibraryImport(LibdlName)]
    internal static unsafe partial int dlinfo(nint handle, int request, void* argument);

    // link.h
    [LibraryImport(LibcName)]
    internal static unsafe partial int dl_iterate_phdr(delegate* unmanaged<DlPhdrInfo*, nuint, void*, int> callback, void* data);
}

[StructLayout(LayoutKind.Sequential)]
internal struct DlInfo
{
    public nint FileName;
    public nint FileBase;
    public nint SymbolName;
    public nint SymbolAddress;
}

/// <summary>The first fields of struct link_map, the ones the ABI promises.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LinkMap
{
    public nuint Address;
    public nint Name;
    public nint Dynamic;
    public nint Next;
    public nint Previous;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DlPhdrInfo
{
    public nuint Address;
    public nint Name;
    public nint ProgramHeaders;
    public ushort ProgramHeaderCount;
    public ulong Adds;
    public ulong Subs;
    public nuint TlsModuleId;
    public nint TlsData;
}
