using System.Globalization;

namespace Sysprog;

/// <summary>Sizes ("4096", "64KiB", "1M") and durations ("500ms", "2s", "1m") as written on a command line.</summary>
public static class Units
{
    /// <summary>Binary multiples: K, KB and KiB all mean 1024.</summary>
    public static long ParseByteSize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        int split = 0;
        while (split < trimmed.Length && (char.IsAsciiDigit(trimmed[split]) || trimmed[split] == '-'))
        {
            split++;
        }
        if (split == 0 || !long.TryParse(trimmed.AsSpan(0, split), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            throw new FormatException($"'{text}' is not a size such as 4096, 64KiB or 1MiB.");
        }
        long multiplier = trimmed[split..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => throw new FormatException($"'{text}' has an unknown unit; use B, KiB, MiB, GiB or TiB."),
        };
        return checked(number * multiplier);
    }

    /// <summary>"250us", "500ms", "2s", "1.5s", "1m", "1h"; a bare number is seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        int split = 0;
        while (split < trimmed.Length && (char.IsAsciiDigit(trimmed[split]) || trimmed[split] is '.' or '-'))
        {
            split++;
        }
        if (split == 0 || !double.TryParse(trimmed.AsSpan(0, split), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture, out double number))
        {
            throw new FormatException($"'{text}' is not a duration such as 500ms, 2s or 1m.");
        }
        double milliseconds = trimmed[split..].Trim() switch
        {
            "us" => number / 1000,
            "ms" => number,
            "" or "s" => number * 1000,
            "m" or "min" => number * 60_000,
            "h" => number * 3_600_000,
            _ => throw new FormatException($"'{text}' has an unknown unit; use us, ms, s, m or h."),
        };
        if (milliseconds < 0 || double.IsNaN(milliseconds) || milliseconds > TimeSpan.FromDays(1).TotalMilliseconds)
        {
            throw new FormatException($"'{text}' is out of range: a duration is between 0 and 24h.");
        }
        return TimeSpan.FromMilliseconds(milliseconds);
    }

    /// <summary>The shortest of "250ms", "2s", "1.5s", "2m".</summary>
    public static string FormatDuration(TimeSpan duration) => duration.TotalMilliseconds switch
    {
        < 1000 => $"{duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms",
        < 60_000 => $"{duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
        _ => $"{duration.TotalMinutes.ToString("0.###", CultureInfo.InvariantCulture)}m",
    };
}
