using System.Buffers;
using System.Globalization;
using System.Text;

namespace Sysprog;

/// <summary>
/// The one rule for writing down a name that any user chose (a file in /dev/shm or /dev/mqueue, a socket path, a
/// process name) and any other text that comes from the system (paths, command lines, strings of an ELF file): a name
/// is any bytes but NUL and '/', so it may be invalid UTF-8 or hold ESC and newlines, which a terminal would act on and
/// a table would split. Every listing, view, CLI line, trace line and error message shows the escaped form, and every
/// cmdlet and CLI command that takes a name reads it back, so what a listing shows can be passed back as it is.
/// </summary>
/// <remarks>
/// The escapes are C's (<c>ls -b</c> writes the same ones, in octal where these are hex): <c>\\</c> for a backslash,
/// <c>\n</c>, <c>\t</c>, <c>\r</c>, and <c>\xHH</c> (two hex digits) for any other control character (C0, DEL, C1 such
/// as U+009B, which terminals read as CSI; U+2028 and U+2029, which end lines) and for every byte that is not part of
/// valid UTF-8. Everything else is the UTF-8 text itself. A C1 or line-separator character is written as its UTF-8
/// bytes (U+009B is <c>\xc2\x9b</c>), so that each escape stands for exactly one byte. Between the double quotes of a
/// trace line or message (<see cref="Quote(string, int)"/>) a '"' is written <c>\x22</c> as well.
/// </remarks>
public static class NameEscaping
{
    /// <summary>The escaped form of raw name bytes.</summary>
    public static string Escape(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length);
        Append(text, raw, quoted: false);
        return text.ToString();
    }

    /// <summary>
    /// The escaped form of a name or path already decoded to text (a socket path the kernel gave as a string, a path
    /// read from /proc, a string from an ELF file). Text with nothing to escape is returned as it is, without a copy.
    /// </summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.AsSpan().IndexOfAny(NotPlain) < 0 ? text : Escape(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// The escaped form between double quotes, as strace writes a string argument in a trace line or a message: a '"'
    /// in it is written <c>\x22</c>, so the closing quote is the name's end. At most <paramref name="limit"/> bytes are
    /// shown, then <c>...</c> after the quote.
    /// </summary>
    public static string Quote(ReadOnlySpan<byte> raw, int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var text = new StringBuilder(Math.Min(raw.Length, limit) + 2).Append('"');
        Append(text, raw[..Math.Min(raw.Length, limit)], quoted: true);
        return text.Append(raw.Length > limit ? "\"..." : "\"").ToString();
    }

    /// <summary><see cref="Quote(ReadOnlySpan{byte}, int)"/> of text; <paramref name="limit"/> counts characters.</summary>
    public static string Quote(string text, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (text.Length <= limit && text.AsSpan().IndexOfAny(NotPlain) < 0 && !text.Contains('"'))
        {
            return $"\"{text}\"";
        }
        string shown = Quote(Encoding.UTF8.GetBytes(text.Length > limit ? text[..limit] : text));
        return text.Length > limit ? shown + "..." : shown;
    }

    /// <summary>
    /// The bytes an escaped name stands for. Characters that are not escapes stand for their UTF-8 bytes, so a name
    /// typed with a raw control character names the same object as its escaped form. A backslash must start one of the
    /// escapes above: a name with a backslash in it is written with <c>\\</c>.
    /// </summary>
    public static byte[] Unescape(string escaped) => Unescape(escaped, nameof(escaped));

    /// <summary>
    /// Where <paramref name="text"/> has a surrogate without its pair, if it has one. Such a string has no UTF-8
    /// form: marshalled to the kernel it quietly becomes U+FFFD, and so names another object or file.
    /// </summary>
    internal static int? LoneSurrogateAt(string text)
    {
        for (int i = 0, used; i < text.Length; i += used)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out _, out used) != OperationStatus.Done)
            {
                return i;
            }
        }
        return null;
    }

    /// <summary><see cref="Unescape(string)"/>, naming the caller's parameter when the name is refused.</summary>
    internal static byte[] Unescape(string escaped, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(escaped, parameterName);
        if (LoneSurrogateAt(escaped) is int at)
        {
            throw new ArgumentException($"The name has a lone UTF-16 surrogate at {at}, which no name can hold; write a byte as \\xHH instead.", parameterName);
        }
        if (!escaped.Contains('\\'))
        {
            return Encoding.UTF8.GetBytes(escaped);
        }
        var bytes = new List<byte>(escaped.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < escaped.Length;)
        {
            if (escaped[i] != '\\')
            {
                Rune.DecodeFromUtf16(escaped.AsSpan(i), out Rune rune, out int used);
                int length = rune.EncodeToUtf8(utf8);
                for (int k = 0; k < length; k++)
                {
                    bytes.Add(utf8[k]);
                }
                i += used;
                continue;
            }
            char next = i + 1 < escaped.Length ? escaped[i + 1] : '\0';
            switch (next)
            {
                case '\\': bytes.Add((byte)'\\'); i += 2; break;
                case 'n': bytes.Add((byte)'\n'); i += 2; break;
                case 't': bytes.Add((byte)'\t'); i += 2; break;
                case 'r': bytes.Add((byte)'\r'); i += 2; break;
                case 'x' when i + 4 <= escaped.Length
                    && byte.TryParse(escaped.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte value):
                    bytes.Add(value);
                    i += 4;
                    break;
                default:
                    string after = i + 1 < escaped.Length ? Escape(escaped.Substring(i + 1, 1)) : "";
                    throw new ArgumentException(
                        $"'\\{after}' at character {i + 1} of the name is not an escape: " +
                        @"a name writes a backslash as \\, and other bytes as \n, \t, \r or \xHH (two hex digits), the way listings show them.",
                        parameterName);
            }
        }
        return [.. bytes];
    }

    /// <summary>The escaped form of what a user typed: the same name written the way listings write it.</summary>
    public static string Canonical(string escaped) => Canonical(escaped, nameof(escaped));

    /// <summary><see cref="Canonical(string)"/>, naming the caller's parameter when the name is refused.</summary>
    internal static string Canonical(string escaped, string parameterName) => Escape(Unescape(escaped, parameterName));

    // What makes text need the slow path: a backslash, a control (C0, DEL, C1), a line or paragraph separator, and a
    // surrogate (a lone one stands for no character; a pair is simply checked rune by rune).
    private static readonly SearchValues<char> NotPlain = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7f, 0x21)).Concat(Enumerable.Range(0xd800, 0x800)).Select(c => (char)c))
        + "\\\u2028\u2029");

    private static void Append(StringBuilder text, ReadOnlySpan<byte> raw, bool quoted)
    {
        while (!raw.IsEmpty)
        {
            OperationStatus status = Rune.DecodeFromUtf8(raw, out Rune rune, out int consumed);
            if (status != OperationStatus.Done || NeedsEscape(rune) || quoted && rune.Value == '"')
            {
                // Invalid or truncated UTF-8, or a character to escape: each of the bytes it spans is written on its own.
                for (int i = 0; i < consumed; i++)
                {
                    AppendByte(text, raw[i]);
                }
            }
            else
            {
                text.Append(rune.ToString());
            }
            raw = raw[consumed..];
        }
    }

    /// <summary>Whether a character is a control that a terminal or a table would act on.</summary>
    private static bool NeedsEscape(Rune rune) =>
        rune.Value == '\\' || Rune.IsControl(rune) || rune.Value is 0x2028 or 0x2029;

    private static void AppendByte(StringBuilder text, byte value)
    {
        switch (value)
        {
            case (byte)'\\': text.Append(@"\\"); break;
            case (byte)'\n': text.Append(@"\n"); break;
            case (byte)'\t': text.Append(@"\t"); break;
            case (byte)'\r': text.Append(@"\r"); break;
            default: text.Append(CultureInfo.InvariantCulture, $"\\x{value:x2}"); break;
        }
    }
}
