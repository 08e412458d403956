using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// signal.h: sigaction(2) and tgkill(2), for interrupting a thread blocked in a call that nothing else can wake.
internal static partial class Libc
{
    internal const int SA_SIGINFO = 4;
    internal const int SA_RESTART = 0x10000000;
    internal static readonly IntPtr SIG_DFL = 0;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int sigaction(int signal, SigAction* action, SigAction* oldAction);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int tgkill(int processId, int threadId, int signal);
}

/// <summary>The C library's struct sigaction (the same layout in glibc and musl on 64-bit Linux).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SigAction
{
    public IntPtr Handler;
    public SigSet Mask;
    public int Flags;
    public IntPtr Restorer;
}
