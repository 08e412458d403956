using System.Runtime.InteropServices;

namespace Sysprog.Interop;

// sys/wait.h, and kill(2) from signal.h for the children Sysprog starts.
internal static partial class Libc
{
    internal const int WNOHANG = 1;
    internal const int WEXITED = 4;

    /// <summary>waitid's idtype for a pidfd (Linux 5.4): waits for exactly the process the descriptor refers to.</summary>
    internal const int P_PIDFD = 3;

    internal const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int waitpid(int processId, out int status, int options);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static unsafe partial int waitid(int idType, int id, ChildSignalInfo* info, int options);

    [LibraryImport(LibcName, SetLastError = true)]
    internal static partial int kill(int processId, int signal);
}

/// <summary>The SIGCHLD fields of siginfo_t (128 bytes; the union starts at 16 on 64-bit Linux).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct ChildSignalInfo
{
    [FieldOffset(0)] public int Signal;
    [FieldOffset(8)] public int Code;
    [FieldOffset(16)] public int ProcessId;
    [FieldOffset(20)] public uint UserId;
    [FieldOffset(24)] public int Status;
}
