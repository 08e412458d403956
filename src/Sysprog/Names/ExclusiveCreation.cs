using System.Runtime.ExceptionServices;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// The one way a name just created with O_EXCL is finished (fchmod, ftruncate) or, when a step fails, undone:
/// this process's handle is closed and the name unlinked, so no half-made object is left behind. The error a user
/// sees is always the step's own; an unlink that fails as well is added to it, never put in its place.
/// </summary>
internal static class ExclusiveCreation
{
    public static void CompleteOrUndo(Action complete, Action close, Action unlink)
    {
        try
        {
            complete();
        }
        catch (Exception original)
        {
            close();
            SysprogException? undoFailure = null;
            try
            {
                unlink();
            }
            catch (SysprogException e)
            {
                undoFailure = e;
            }
            if (undoFailure is null)
            {
                throw;
            }
            if (original is SysprogException failed)
            {
                string detail = $"Removing the half-made object failed too, so the name is still there: {undoFailure.Message}";
                throw new SysprogException(failed.Errno, failed.Call, failed.Target, failed.Detail is null ? detail : $"{failed.Detail} {detail}", undoFailure);
            }
            original.Data["Sysprog.UndoFailure"] = undoFailure.Message;
            ExceptionDispatchInfo.Throw(original);
        }
    }

    /// <summary>fchmod to the exact mode asked for, which the umask narrowed at creation.</summary>
    public static void ChangeMode(SafeFdHandle fd, string name, UnixFileMode mode, SyscallTrace? trace)
    {
        using HandleLease lease = fd.Lease(name);
        Syscall.Check(Libc.fchmod(lease.Fd, (int)mode), trace, "fchmod", name, $"{lease.Fd}, {Octal((int)mode)}");
    }
}
