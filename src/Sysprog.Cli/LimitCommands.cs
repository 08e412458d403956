using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>The limits on IPC objects: sysctls, resource limits, /dev/shm, the IPC namespace, with hints.</summary>
internal static class LimitCommands
{
    public static Command BuildLimits(Option<bool> trace)
    {
        var ipc = new Option<bool>("--ipc") { Description = "The limits on IPC objects (the only ones listed so far, so the default)." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("limits", "List the limits on POSIX and System V IPC objects with their usage, and hints where one is likely to bite (a 64 MiB /dev/shm, an unmounted mqueue filesystem, a private IPC namespace).")
        {
            ipc, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            IReadOnlyList<IpcLimit> limits = IpcLimits.Read(Cli.Trace(r, trace));
            if (r.GetValue(json))
            {
                Cli.WriteJson(limits);
                return;
            }
            foreach (IGrouping<string, IpcLimit> area in limits.GroupBy(l => l.Area))
            {
                Console.WriteLine(area.Key);
                foreach (IpcLimit limit in area)
                {
                    string used = limit.Used?.ToString(CultureInfo.InvariantCulture) ?? "";
                    Console.WriteLine($"  {limit.Name,-26} {limit.Value,-44} {used,10}");
                }
            }
            foreach (IpcLimit limit in limits.Where(l => l.Hint is not null))
            {
                Console.WriteLine();
                Console.WriteLine($"{limit.Name}: {limit.Hint}");
            }
        }));
        return command;
    }
}
