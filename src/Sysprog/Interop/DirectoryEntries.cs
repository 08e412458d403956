using System.Runtime.InteropServices;

namespace Sysprog.Interop;

/// <summary>
/// A directory's entries as readdir gives them, in their escaped form. .NET's own enumeration decodes names as UTF-8
/// and replaces invalid bytes with U+FFFD, so such an entry cannot be found again by the name it gives: every listing
/// of a folder that any user can write to reads it here instead.
/// </summary>
internal static class DirectoryEntries
{
    /// <summary>The escaped names of the entries, without "." and "..".</summary>
    public static unsafe List<string> Read(string directory, SyscallTrace? trace = null)
    {
        IntPtr stream = Libc.opendir(directory);
        if (stream == IntPtr.Zero)
        {
            Errno errno = (Errno)Marshal.GetLastPInvokeError();
            trace?.Invoke($"opendir({TraceFormat.Quote(directory)}) = NULL {errno.Symbol()} ({errno.Description()})");
            throw new SysprogException(errno, "opendir", directory);
        }
        trace?.Invoke($"opendir({TraceFormat.Quote(directory)}) = 0x{stream:x}");
        var names = new List<string>();
        try
        {
            while (true)
            {
                byte* entry = Libc.readdir(stream);
                if (entry == null)
                {
                    // readdir returns NULL at the end and on an error, which only errno tells apart (set to 0 before the call).
                    Errno errno = (Errno)Marshal.GetLastPInvokeError();
                    if (errno != Errno.None)
                    {
                        throw new SysprogException(errno, "readdir", directory);
                    }
                    break;
                }
                var name = new ReadOnlySpan<byte>(entry + Libc.DirentNameOffset, Libc.DirentNameMax + 1);
                name = name[..name.IndexOf((byte)0)];
                if (name is not [(byte)'.'] and not [(byte)'.', (byte)'.'])
                {
                    names.Add(NameEscaping.Escape(name));
                }
            }
            trace?.Invoke($"readdir({TraceFormat.Quote(directory)}): {names.Count} entries");
        }
        finally
        {
            // closedir closes the stream's descriptor: a call like any other, narrated.
            int closed = Libc.closedir(stream);
            trace?.Invoke($"closedir(0x{stream:x}) = {closed}");
        }
        return names;
    }
}
