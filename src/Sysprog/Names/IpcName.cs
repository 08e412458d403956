
namespace Sysprog;

/// <summary>Validates POSIX IPC names ("/demo") before any system call sees them.</summary>
public static class IpcName
{
    /// <summary>NAME_MAX: the longest name component, in bytes, that Linux accepts.</summary>
    public const int NameMax = 255;

    /// <summary>
    /// Returns the canonical form with one leading '/', written the way listings write it (<see cref="NameEscaping"/>).
    /// Accepts "demo" or "/demo", and escapes such as "x\xff" for a name that is not valid UTF-8; refuses an empty
    /// name, a '/' after the optional leading one, NUL, "." and "..", and names longer than <paramref name="maxBytes"/> bytes.
    /// </summary>
    public static string Normalize(string? name, int maxBytes = NameMax)
    {
        if (maxBytes is < 1 or > NameMax)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, $"A name limit is 1 to NAME_MAX ({NameMax}) bytes.");
        }
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("An IPC name is required, such as /demo.", nameof(name));
        }
        string bare = name[0] == '/' ? name[1..] : name;
        if (bare.Length == 0)
        {
            throw new ArgumentException($"'{name}' names nothing after the leading '/'; use a name such as /demo.", nameof(name));
        }
        if (bare.Contains('/'))
        {
            throw new ArgumentException($"'{name}' has a '/' after the leading one; a POSIX IPC name is a single component such as /demo.", nameof(name));
        }
        byte[] raw = NameEscaping.Unescape(bare, nameof(name));
        string shown = NameEscaping.Escape(raw);
        if (raw.Contains((byte)0))
        {
            throw new ArgumentException($"'{shown}' contains a NUL character.", nameof(name));
        }
        if (raw.Contains((byte)'/'))
        {
            throw new ArgumentException($"'{shown}' has a '/' (\\x2f) in it; a POSIX IPC name is a single component such as /demo.", nameof(name));
        }
        if (shown is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a usable IPC name.", nameof(name));
        }
        if (raw.Length > maxBytes)
        {
            throw new ArgumentException($"'{shown[..Math.Min(shown.Length, 40)]}...' is {raw.Length} bytes long; the limit is {maxBytes} (NAME_MAX).", nameof(name));
        }
        return "/" + shown;
    }

    /// <summary>The names among <paramref name="existing"/> that start with what the user typed so far, for tab completion.</summary>
    public static IEnumerable<string> Complete(IEnumerable<string> existing, string? typed)
    {
        ArgumentNullException.ThrowIfNull(existing);
        string bare = (typed ?? "").Trim('\'', '"');
        string prefix = bare.StartsWith('/') ? bare : "/" + bare;
        // POSIX names complete with or without their '/'; System V keys (0x0000162e) as typed.
        return existing.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) || bare.Length > 0 && n.StartsWith(bare, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
    }

    /// <summary>Whether a name given by a user is a wildcard pattern rather than one exact name.</summary>
    public static bool HasWildcards(string? pattern) => pattern is not null && pattern.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>
    /// A wildcard pattern (* and ?) over listed POSIX names, with or without the leading '/', read once for a whole
    /// listing; null or empty matches every name. A pattern no name could be written as (a bad escape, a lone surrogate)
    /// is refused here, before anything is listed: otherwise only a listing with a name to compare would refuse it.
    /// </summary>
    /// <exception cref="ArgumentException">The pattern is not a name written with the listings' escapes.</exception>
    public static NamePattern Pattern(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return NamePattern.Everything;
        }
        if (pattern[0] == '/')
        {
            return new NamePattern(pattern);
        }
        // Read as typed first, so that a refusal counts characters where the user wrote them.
        _ = NameEscaping.Unescape(pattern, nameof(pattern));
        return new NamePattern("/" + pattern);
    }
}
