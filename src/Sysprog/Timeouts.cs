using System.Runtime.CompilerServices;

namespace Sysprog;

/// <summary>The one rule for every blocking call's timeout: 0 to <see cref="Max"/>, or infinite.</summary>
public static class Timeouts
{
    /// <summary>The longest wait accepted; anything longer is taken for a mistake (use an infinite timeout instead).</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(24);

    /// <summary>Refuses negative timeouts (other than <see cref="Timeout.InfiniteTimeSpan"/>) and ones beyond <see cref="Max"/>.</summary>
    // Inlined into every wait (the throw is not), so a wait pays two comparisons for it from its first call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Validate(TimeSpan timeout, string paramName = "timeout")
    {
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout > Max))
        {
            ThrowOutOfRange(timeout, paramName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(TimeSpan timeout, string paramName) =>
        throw new ArgumentOutOfRangeException(paramName, timeout, $"A timeout is between 0 and {Max.TotalDays} days, or infinite.");
}
