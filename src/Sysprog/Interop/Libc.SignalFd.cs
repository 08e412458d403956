using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/signalfd.h
internal static partial class Libc
{
    internal const int SFD_NONBLOCK = O_NONBLOCK;
    internal const int SFD_CLOEXEC = O_CLOEXEC;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int signalfd(int fd, in SigSet mask, int flags);
}

/// <summary>The C library's sigset_t (128 bytes in glibc and musl); the kernel reads the first 64 bits, one per signal.</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
internal struct SigSet
{
    public ulong Signals;
}

/// <summary>struct signalfd_siginfo: 128 bytes on every architecture.</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
internal struct SignalFdSigInfo
{
    public uint Signal;
    public int Errno;
    public int Code;
    public uint Pid;
    public uint Uid;
    public int Fd;
    public uint Tid;
    public uint Band;
    public uint Overrun;
    public uint TrapNo;
    public int Status;
    public int Int;
    public ulong Ptr;
    public ulong Utime;
    public ulong Stime;
    public ulong Addr;

    public override readonly string ToString() => $"{{ssi_signo={Sysprog.Signals.Name((int)Signal)}, ssi_pid={Pid}, ssi_uid={Uid}}}";
}
