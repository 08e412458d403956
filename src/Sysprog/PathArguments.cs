namespace Sysprog;

/// <summary>
/// The one rule for a file path given to the core: not null, not empty, without NUL (which the kernel would take for
/// the end of the path, so "a\0b" would name "a") and without a lone surrogate (which has no UTF-8 form, so would
/// name another file). Checked before any call, so a bad path is an argument error naming the parameter, never an
/// error from inside .NET's path handling.
/// </summary>
internal static class PathArguments
{
    public static void Validate(string path, string paramName = "path")
    {
        ArgumentException.ThrowIfNullOrEmpty(path, paramName);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A path cannot contain NUL.", paramName);
        }
        if (NameEscaping.LoneSurrogateAt(path) is int at)
        {
            throw new ArgumentException($"The path has a lone UTF-16 surrogate at {at}, which no file name can hold.", paramName);
        }
    }

    /// <summary>The absolute form of a <see cref="Validate">valid</see> path, relative ones taken from the current directory.</summary>
    public static string Full(string path, string paramName = "path")
    {
        Validate(path, paramName);
        return Path.GetFullPath(path);
    }
}
