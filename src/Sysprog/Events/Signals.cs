using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>Linux signal numbers and names (x86-64 and arm64 share them).</summary>
public static class Signals
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9,
        SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18,
        SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27,
        SIGWINCH = 28, SIGIO = 29, SIGPWR = 30, SIGSYS = 31, SIGRTMIN = 34, SIGRTMAX = 64;

    private static readonly string[] Names =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
        "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    /// <summary>SIGUSR1, SIGRTMIN+3.</summary>
    public static string Name(int signal) => signal switch
    {
        > 0 and < 32 => Names[signal],
        SIGRTMIN => "SIGRTMIN",
        > SIGRTMIN and <= SIGRTMAX => $"SIGRTMIN+{signal - SIGRTMIN}",
        _ => $"signal {signal}",
    };

    /// <summary>Accepts 10, USR1, SIGUSR1, sigusr1, RTMIN+2; an error names <paramref name="paramName"/> (a cmdlet's -Signal, say).</summary>
    public static int Parse(string text, string paramName = "text")
    {
        ArgumentException.ThrowIfNullOrEmpty(text, paramName);
        string trimmed = text.Trim();
        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number is > 0 and <= SIGRTMAX)
        {
            return number;
        }
        string name = trimmed.ToUpperInvariant();
        name = name.StartsWith("SIG", StringComparison.Ordinal) ? name : "SIG" + name;
        int index = Array.IndexOf(Names, name);
        if (index > 0)
        {
            return index;
        }
        if (name == "SIGRTMIN")
        {
            return SIGRTMIN;
        }
        if (name.StartsWith("SIGRTMIN+", StringComparison.Ordinal) && int.TryParse(name[9..], NumberStyles.None, CultureInfo.InvariantCulture, out int offset)
            && SIGRTMIN + offset <= SIGRTMAX)
        {
            return SIGRTMIN + offset;
        }
        throw new ArgumentException($"'{text}' is not a signal: give a name such as USR1 or SIGTERM, or a number from 1 to {SIGRTMAX}.", paramName);
    }

    /// <summary>Each thread's blocked-signal mask (SigBlk in /proc/self/task/*/status), one bit per signal from bit 0 for signal 1.</summary>
    internal static IEnumerable<ulong> BlockedByEachThread(SyscallTrace? trace)
    {
        foreach (string task in DirectoryEntries.Read("/proc/self/task", trace))
        {
            string? mask;
            try
            {
                mask = ProcFile.Field($"/proc/self/task/{task}/status", "SigBlk", trace);
            }
            catch (SysprogException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
            {
                // A thread that ended while being looked at blocks nothing any more. Any other failure (EMFILE) is
                // not taken for that: a thread skipped would make the signals seem blocked everywhere.
                continue;
            }
            if (mask is not null)
            {
                yield return ulong.Parse(mask, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
    }
}
