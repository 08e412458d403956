using System.Management.Automation;
using System.Runtime.InteropServices;

namespace Sysprog.PowerShell;

/// <summary>Refuses to load anywhere but Linux; keeps SIGXFSZ from ending the session; closes what the session left open when the module is removed.</summary>
public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            throw new PlatformNotSupportedException($"Sysprog binds Linux system calls; this is {RuntimeInformation.OSDescription}.");
        }
        // A write past RLIMIT_FSIZE must fail with EFBIG, not end the session with SIGXFSZ.
        FileSizeSignal.Catch();
    }

    /// <summary>Runs on the removing runspace's thread, so it closes what that runspace opened and nothing else.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => SysprogCmdlet.HandlesOfThisRunspace.CloseAll();
}
