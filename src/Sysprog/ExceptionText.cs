namespace Sysprog;

/// <summary>What a user is shown of a failure, by the cmdlets and the CLI alike.</summary>
public static class ExceptionText
{
    /// <summary>
    /// The exception's message, without the " (Parameter 'text')" .NET appends to an argument error: that names a
    /// C# parameter of the core, not the cmdlet's or the CLI's (the error's target and text already say what was wrong).
    /// </summary>
    public static string ForUser(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string message = exception.Message;
        if (exception is not ArgumentException { ParamName: string parameter })
        {
            return message;
        }
        string suffix = $" (Parameter '{parameter}')";
        int at = message.IndexOf(suffix, StringComparison.Ordinal);
        return at < 0 ? message : string.Concat(message.AsSpan(0, at), message.AsSpan(at + suffix.Length));
    }
}
