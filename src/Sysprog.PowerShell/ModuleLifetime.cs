using System.Management.Automation;
using System.Runtime.InteropServices;

namespace Sysprog.PowerShell;

/// <summary>Refuses to load anywhere but Linux; closes what the session left open when the module is removed.</summary>
public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            throw new PlatformNotSupportedException($"Sysprog binds Linux system calls; this is {RuntimeInformation.OSDescription}.");
        }
    }

    /// <summary>Runs on the removing runspace's thread, so it closes what that runspace opened and nothing else.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => SysprogCmdlet.HandlesOfThisRunspace.CloseAll();
}
