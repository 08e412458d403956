using System.Runtime.InteropServices;

namespace Sysprog;

/// <summary>
/// Keeps SIGXFSZ from ending the process. A write or ftruncate past RLIMIT_FSIZE sends it, and its default action
/// kills: a session with a lowered limit died at its first large write instead of getting the EFBIG the call also
/// returns (which then names the limit, see <see cref="ResourceShortage.Explain"/>). The signal is caught (the
/// runtime's handler, the action cancelled) rather than ignored: a caught signal is reset to its default by exec, so
/// children still get the ordinary action, while SIG_IGN would pass to every child started from the session.
/// </summary>
public static class FileSizeSignal
{
    private const int SIGXFSZ = 25;
    private static readonly object Gate = new();
    private static PosixSignalRegistration? _registration;

    /// <summary>Whether SIGXFSZ is caught: set once by the module's import and by the sysprog tool, for the process's life.</summary>
    public static bool IsCaught => _registration is not null;

    /// <summary>Catches SIGXFSZ for the rest of the process's life (once; later calls do nothing).</summary>
    public static void Catch()
    {
        lock (Gate)
        {
            _registration ??= PosixSignalRegistration.Create((PosixSignal)SIGXFSZ, context => context.Cancel = true);
        }
    }
}
