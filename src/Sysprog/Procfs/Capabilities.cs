using System.Globalization;

namespace Sysprog;

/// <summary>This process's effective capabilities (CapEff in /proc/self/status): root in a container may lack some.</summary>
internal static class Capabilities
{
    public const int DacOverride = 1;
    public const int FileOwner = 3;
    public const int IpcLock = 14;
    public const int SysPtrace = 19;
    public const int SysAdmin = 21;
    public const int SysNice = 23;
    public const int SysResource = 24;
    public const int CheckpointRestore = 40;

    public static bool Has(int capability)
    {
        try
        {
            string? mask = ProcFile.Field("/proc/self/status", "CapEff");
            return mask is not null && (ulong.Parse(mask, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << capability)) != 0;
        }
        catch (Exception e) when (e is SysprogException or FormatException)
        {
            return false;
        }
    }
}
