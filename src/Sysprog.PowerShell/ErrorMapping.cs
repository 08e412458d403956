using System.Management.Automation;

namespace Sysprog.PowerShell;

/// <summary>Exceptions from the core to (ErrorId, ErrorCategory): a pure table, tested without building ErrorRecords.</summary>
public static class ErrorMapping
{
    /// <summary>
    /// Failures the core reports on bad input or a failed call. Anything else is a bug and stays terminating, and so
    /// is an argument, state or lookup error raised inside .NET rather than by Sysprog (LINQ's Single(), a span sliced
    /// out of range): it must reach the user as what it is, never as a named error. PowerShell's own exceptions carry
    /// their own ErrorRecord and are taken as they come.
    /// </summary>
    public static bool IsExpected(Exception exception) => exception is SysprogException or ArgumentException or IOException
        or UnauthorizedAccessException or InvalidOperationException or TimeoutException or FormatException or OperationCanceledException
        or ItemNotFoundException or KeyNotFoundException
        && !IsInternal(exception);

    /// <summary>An exception that escaped from inside .NET (see <see cref="ExceptionOrigin"/>); not one of PowerShell's, which name their error.</summary>
    public static bool IsInternal(Exception exception) => exception is not IContainsErrorRecord && ExceptionOrigin.IsInternal(exception);

    /// <summary>
    /// "ShmOpen.EEXIST" for a failed shm_open; a kind-of-failure id otherwise. An internal exception gets no named
    /// category: its id is its type, as PowerShell gives an exception no cmdlet expected.
    /// </summary>
    public static (string ErrorId, ErrorCategory Category) Classify(Exception exception) => exception switch
    {
        _ when IsInternal(exception) => (exception.GetType().FullName!, ErrorCategory.NotSpecified),
        SysprogException e => ($"{PascalCase(e.Call)}.{e.Errno.Symbol().Replace(' ', '_')}", Category(e.Errno)),
        NameNotFoundException => ("NameNotFound", ErrorCategory.ObjectNotFound),
        AddressResolutionException e => ($"Getaddrinfo.{e.Code}", e.Code is "EAI_AGAIN" or "EAI_FAIL" or "EAI_SYSTEM" ? ErrorCategory.ConnectionError : ErrorCategory.ObjectNotFound),
        ElfFormatException => ("ElfFormat", ErrorCategory.InvalidData),
        SharedLibraryException e => e.IsNotFound ? ($"{PascalCase(e.Call)}.NotFound", ErrorCategory.ObjectNotFound)
            : e.LoaderMessage?.Contains("Permission denied", StringComparison.Ordinal) == true ? ($"{PascalCase(e.Call)}.PermissionDenied", ErrorCategory.PermissionDenied)
            : ($"{PascalCase(e.Call)}.Failed", ErrorCategory.InvalidData),
        KeyNotFoundException => ("NotFound", ErrorCategory.ObjectNotFound),
        FileNotFoundException => ("FileNotFound", ErrorCategory.ObjectNotFound),
        ItemNotFoundException => ("ItemNotFound", ErrorCategory.ObjectNotFound),
        // The other side is gone: a terminal whose program ended before the output matched.
        EndOfStreamException => ("EndOfStream", ErrorCategory.ReadError),
        ArgumentException => ("InvalidArgument", ErrorCategory.InvalidArgument),
        FormatException => ("InvalidArgument", ErrorCategory.InvalidArgument),
        UnauthorizedAccessException => ("AccessDenied", ErrorCategory.PermissionDenied),
        ObjectDisposedException => ("ObjectClosed", ErrorCategory.InvalidOperation),
        // The object is in the wrong state for the call (a Monotonic timer armed at a date, a queue watched twice).
        InvalidOperationException => ("InvalidOperation", ErrorCategory.InvalidOperation),
        TimeoutException => ("Timeout", ErrorCategory.OperationTimeout),
        OperationCanceledException => ("Stopped", ErrorCategory.OperationStopped),
        _ => ("Failed", ErrorCategory.NotSpecified),
    };

    public static ErrorCategory Category(Errno errno) => errno switch
    {
        Errno.ENOENT or Errno.ESRCH => ErrorCategory.ObjectNotFound,
        Errno.EEXIST => ErrorCategory.ResourceExists,
        Errno.EACCES or Errno.EPERM or Errno.EROFS => ErrorCategory.PermissionDenied,
        Errno.EINVAL or Errno.ENAMETOOLONG or Errno.EBADF or Errno.EFAULT => ErrorCategory.InvalidArgument,
        // The path names the wrong kind of file for the call: not a terminal, a pipe where a seek is needed, a file
        // where a directory is, a directory where a file is, a loop of symbolic links.
        Errno.ENOTTY or Errno.ESPIPE or Errno.ENOTDIR or Errno.EISDIR or Errno.ELOOP => ErrorCategory.InvalidArgument,
        Errno.ETIMEDOUT => ErrorCategory.OperationTimeout,
        Errno.EAGAIN or Errno.EBUSY or Errno.ETXTBSY => ErrorCategory.ResourceBusy,
        Errno.EMFILE or Errno.ENFILE or Errno.ENOSPC or Errno.ENOMEM or Errno.EFBIG or Errno.EOVERFLOW or Errno.EMSGSIZE or Errno.ENOBUFS => ErrorCategory.LimitsExceeded,
        Errno.EDQUOT => ErrorCategory.QuotaExceeded,
        Errno.EDEADLK => ErrorCategory.DeadlockDetected,
        Errno.ENOSYS or Errno.EOPNOTSUPP or Errno.ENODEV => ErrorCategory.NotImplemented,
        Errno.EINTR or Errno.ECANCELED => ErrorCategory.OperationStopped,
        // The other side is not there: no reader of a pipe being written, no reader yet for a FIFO opened to write.
        Errno.EPIPE => ErrorCategory.WriteError,
        Errno.ENXIO or Errno.ECONNREFUSED or Errno.ECONNRESET or Errno.ECONNABORTED or Errno.ENOTCONN or Errno.EISCONN or Errno.ESHUTDOWN
            or Errno.ENETUNREACH or Errno.EHOSTUNREACH or Errno.ENETDOWN or Errno.EDESTADDRREQ => ErrorCategory.ConnectionError,
        Errno.EADDRINUSE => ErrorCategory.ResourceExists,
        Errno.EADDRNOTAVAIL or Errno.EAFNOSUPPORT or Errno.EPROTOTYPE or Errno.ENOTSOCK or Errno.ENOPROTOOPT => ErrorCategory.InvalidArgument,
        Errno.EPROTONOSUPPORT or Errno.ESOCKTNOSUPPORT => ErrorCategory.NotImplemented,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>The text shown in place of the exception's, when it must differ: see <see cref="ExceptionText.ForUser"/>.</summary>
    public static string? UserMessage(Exception exception) =>
        IsInternal(exception) ? null : ExceptionText.ForUser(exception) is string text && text != exception.Message ? text : null;

    /// <summary>shm_open → ShmOpen.</summary>
    public static string PascalCase(string cName) =>
        string.Concat(cName.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
}
