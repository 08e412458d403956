using System.Text;

namespace Sysprog;

/// <summary>Encodings by the names PowerShell users know from -Encoding; none writes a byte order mark.</summary>
public static class TextEncodings
{
    public static Encoding Parse(string? name) => (name ?? "utf8").ToUpperInvariant().Replace("-", "", StringComparison.Ordinal) switch
    {
        "UTF8" or "UTF8NOBOM" or "DEFAULT" => new UTF8Encoding(false),
        "UNICODE" or "UTF16" or "UTF16LE" => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        "BIGENDIANUNICODE" or "UTF16BE" => new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
        "UTF32" => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
        "ASCII" => Encoding.ASCII,
        "LATIN1" or "ISO88591" => Encoding.Latin1,
        _ => throw new ArgumentException($"'{name}' is not an encoding Sysprog knows: use utf8, unicode, bigendianunicode, utf32, ascii or latin1.", nameof(name)),
    };
}
