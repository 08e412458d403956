namespace Sysprog;

/// <summary>Size limits checked before any system call.</summary>
public static class MemorySize
{
    /// <summary>128 TiB: the x86-64 user address space (arm64 allows 256 TiB, but no single mapping gets near either).</summary>
    public const long MaxMappable = 1L << 47;

    internal static void ValidateLength(long length, string paramName)
    {
        if (length <= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, length, "A size must be at least 1 byte.");
        }
        if (length > MaxMappable)
        {
            throw new ArgumentOutOfRangeException(paramName, length, $"{length} bytes is beyond the {MaxMappable} byte (128 TiB) user address space.");
        }
    }

    /// <summary>"4 KiB", "1.5 MiB": for messages.</summary>
    public static string Describe(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} bytes" : $"{value:0.##} {units[unit]}";
    }
}
