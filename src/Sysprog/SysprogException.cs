namespace Sysprog;

/// <summary>
/// A system call failed. The message names the call, the object and the errno:
/// <c>shm_open("/demo") failed: EEXIST (File exists)</c>.
/// </summary>
public sealed class SysprogException : IOException
{
    public SysprogException(Errno errno, string call, string target, string? detail = null, Exception? innerException = null)
        // An EMFILE or EFBIG that was this process's limit names it, whichever call met it (ResourceShortage.Explain).
        : base(Format(errno, call, target, detail = ResourceShortage.Explain(errno, detail)), innerException)
    {
        Errno = errno;
        Call = call;
        Target = target;
        Detail = detail;
        HResult = (int)errno;
    }

    /// <summary>The errno the call returned.</summary>
    public Errno Errno { get; }

    /// <summary>The C name of the failed call (<c>shm_open</c>).</summary>
    public string Call { get; }

    /// <summary>
    /// The object the call was made on: an IPC name, a path, or a mapping's description, written the way listings write
    /// names (<see cref="NameEscaping"/>), so a name holding ESC or a newline cannot act on the terminal or forge a line.
    /// </summary>
    public string Target { get; }

    /// <summary>What a user can do about it, when there is something to say (limits, hints).</summary>
    public string? Detail { get; }

    private static string Format(Errno errno, string call, string target, string? detail)
    {
        string shownTarget = target.StartsWith('/') ? $"\"{target}\"" : target;
        string message = $"{call}({shownTarget}) failed: {errno.Symbol()} ({errno.Description()})";
        return detail is null ? message : $"{message}. {detail}";
    }
}
