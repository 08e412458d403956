namespace Sysprog;

/// <summary>
/// Receives one strace-style line per system call, with its real arguments and result:
/// <c>shm_open("/demo", O_RDWR|O_CREAT|O_EXCL, 0600) = 7</c>. Optional on every core call that makes one.
/// </summary>
public delegate void SyscallTrace(string line);
