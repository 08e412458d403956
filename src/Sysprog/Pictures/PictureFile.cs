using System.Text;

namespace Sysprog;

/// <summary>Where a picture is saved: the cmdlets' -Path and the CLI's --svg write through here alike.</summary>
public static class PictureFile
{
    /// <summary>
    /// Writes <paramref name="content"/> (an SVG) as UTF-8 to <paramref name="path"/>, created mode 0600 or truncated,
    /// through <see cref="FileDescriptor.Open"/>: a regular file only, never a wait on a FIFO, and never another
    /// user's link or file in a shared folder such as /tmp. Failures name the call and errno.
    /// </summary>
    public static void Write(string path, string content, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        using FileDescriptor output = FileDescriptor.Open(path, FileAccess.Write, trace);
        output.Write(new UTF8Encoding(false).GetBytes(content), Timeout.InfiniteTimeSpan, cancellationToken, trace);
        output.Close(trace);
    }
}
