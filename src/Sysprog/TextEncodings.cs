using System.Text;

namespace Sysprog;

/// <summary>Encodings by the names PowerShell users know from -Encoding; none writes a byte order mark.</summary>
public static class TextEncodings
{
    /// <summary>The names <see cref="Parse"/> knows, as -Encoding completes them (it also takes utf-8, utf16le and the like).</summary>
    public static readonly IReadOnlyList<string> Names = ["utf8", "unicode", "bigendianunicode", "utf32", "ascii", "latin1"];

    /// <summary>The encoding a name stands for (utf8 when none); an error names <paramref name="paramName"/> (a cmdlet's -Encoding, say).</summary>
    public static Encoding Parse(string? name, string paramName = "name") => (name ?? "utf8").ToUpperInvariant().Replace("-", "", StringComparison.Ordinal) switch
    {
        "UTF8" or "UTF8NOBOM" or "DEFAULT" => new UTF8Encoding(false),
        "UNICODE" or "UTF16" or "UTF16LE" => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        "BIGENDIANUNICODE" or "UTF16BE" => new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
        "UTF32" => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
        "ASCII" => Encoding.ASCII,
        "LATIN1" or "ISO88591" => Encoding.Latin1,
        _ => throw new ArgumentException($"'{name}' is not an encoding Sysprog knows: use {string.Join(", ", Names.Take(Names.Count - 1))} or {Names[^1]}.", paramName),
    };

    /// <summary>
    /// How many bytes at the end of <paramref name="bytes"/> begin a character that has not fully arrived (a UTF-8
    /// sequence cut short, an odd byte of UTF-16, a lone high surrogate), so a reader can wait for the rest.
    /// </summary>
    public static int IncompleteTail(Encoding encoding, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        switch (encoding)
        {
            case UTF8Encoding:
                // A lead byte within the last three whose sequence runs past the end.
                for (int back = 1; back <= Math.Min(3, bytes.Length); back++)
                {
                    byte b = bytes[^back];
                    if ((b & 0xC0) == 0x80)
                    {
                        continue;
                    }
                    int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                    return length > back ? back : 0;
                }
                return 0;
            case UnicodeEncoding:
            {
                int odd = bytes.Length % 2;
                if (bytes.Length - odd < 2)
                {
                    return odd;
                }
                ReadOnlySpan<byte> last = bytes.Slice(bytes.Length - odd - 2, 2);
                bool bigEndian = encoding.CodePage == 1201;
                char unit = (char)(bigEndian ? last[0] << 8 | last[1] : last[1] << 8 | last[0]);
                return odd + (char.IsHighSurrogate(unit) ? 2 : 0);
            }
            case UTF32Encoding:
                return bytes.Length % 4;
            default:
                return 0;
        }
    }
}
