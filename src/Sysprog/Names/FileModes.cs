namespace Sysprog;

/// <summary>Octal permission modes as users write them ("0600", "640", "0o644").</summary>
public static class FileModes
{
    /// <summary>rw------- : the default for every object Sysprog creates.</summary>
    public const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Parses "0600", "640" or "0o644"; an error names <paramref name="paramName"/> (a cmdlet's -Mode, say).</summary>
    public static UnixFileMode ParseOctal(string text, string paramName = "text")
    {
        ArgumentNullException.ThrowIfNull(text, paramName);
        string digits = text.Trim();
        if (digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }
        if (digits.Length is 0 or > 5 || !digits.All(c => c is >= '0' and <= '7'))
        {
            throw new ArgumentException($"'{text}' is not an octal mode such as 0600 or 644.", paramName);
        }
        int value = Convert.ToInt32(digits, 8);
        return value <= 0x0FFF ? (UnixFileMode)value : throw new ArgumentException($"'{text}' is above 07777.", paramName);
    }

    public static string ToOctal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x0FFF, 8).PadLeft(3, '0');

    /// <summary>ls-style "rw-r-----".</summary>
    public static string ToSymbolic(UnixFileMode mode)
    {
        Span<char> text = stackalloc char[9];
        int bits = (int)mode;
        const string letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
        {
            text[i] = (bits & (1 << (8 - i))) != 0 ? letters[i] : '-';
        }
        return new string(text);
    }

    internal static void Validate(UnixFileMode mode, string paramName)
    {
        if (((int)mode & ~0x0FFF) != 0)
        {
            throw new ArgumentOutOfRangeException(paramName, "0" + Convert.ToString((int)mode, 8), "A mode has permission bits only (07777 at most).");
        }
    }
}
