using Sysprog.Interop;

namespace Sysprog;

/// <summary>The kernel's table of UNIX sockets (/proc/net/unix): which paths some socket is bound to.</summary>
internal static class UnixSocketTable
{
    private const string TablePath = "/proc/net/unix";

    /// <summary>
    /// A socket file no socket is bound to: what a process that did not remove its socket file leaves. A socket bound
    /// through a relative path is listed under that path, so any bound path with the same file name counts as this
    /// one: a live socket file is never taken for a stale one.
    /// </summary>
    public static bool IsStaleSocketFile(string path)
    {
        if (FileStatus.OfPath(path) is not { } status || (status.Mode & FileStatus.TypeMask) != FileStatus.Socket)
        {
            return false;
        }
        string fileName = Path.GetFileName(path);
        return !BoundPaths().Any(bound => bound == path || Path.GetFileName(bound) == fileName);
    }

    /// <summary>The paths of bound UNIX sockets in this network namespace (the last column, which may hold spaces).</summary>
    private static IEnumerable<string> BoundPaths()
    {
        foreach (string line in ProcFile.ReadAllText(TablePath, null).Split('\n').Skip(1))
        {
            string[] fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 8 && fields[7].StartsWith('/'))
            {
                yield return fields[7];
            }
        }
    }
}
