using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>The IPC objects on the machine with their holders (ipcs), and the limits on them (limits --ipc).</summary>
internal static class IpcCommands
{
    public static Command BuildIpcs(Option<bool> trace)
    {
        var orphaned = new Option<bool>("--orphaned") { Description = "Only objects no process holds." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("ipcs", "List every POSIX and System V IPC object with the processes that hold it (descriptors, mappings, attachments, mq_notify), and which are orphaned.")
        {
            orphaned, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            IpcInventory inventory = IpcInventory.Take(Cli.Trace(r, trace));
            IpcObject[] objects = inventory.Objects.Where(o => !r.GetValue(orphaned) || o.IsOrphaned == true).ToArray();
            if (inventory.UninspectedWarning is string uninspected)
            {
                Console.Error.WriteLine(uninspected);
            }
            if (!inventory.MessageQueuesListed)
            {
                Console.Error.WriteLine(IpcInventory.MessageQueuesNotListedWarning);
            }
            if (r.GetValue(json))
            {
                Cli.WriteJson(objects.Select(o => new
                {
                    o.Kind, o.Name, o.Id, o.Size, o.Count, Mode = o.Mode, o.OwnerId, o.Owner, o.ChangeTime, o.Path, o.Problem,
                    o.Attachments, o.IsUnlinked, o.IsMarkedForDestruction, o.IsOrphaned, o.Holders,
                }));
                return;
            }
            Console.WriteLine($"{"KIND",-18} {"NAME",-28} {"ID",7} {"SIZE",12} {"COUNT",7} {"MODE",-5} {"OWNER",-10} {"STATE",-9} HOLDERS");
            foreach (IpcObject o in objects)
            {
                string state = o.Problem is not null ? "problem" : o.IsUnlinked ? "unlinked" : o.IsMarkedForDestruction ? "removing" : o.IsOrphaned switch { true => "orphaned", false => "held", null => "" };
                Console.WriteLine($"{o.Kind,-18} {o.Name,-28} {o.Id,7} {o.Size,12} {o.Count,7} {o.Mode,-5} {o.Owner,-10} {state,-9} " +
                    string.Join(", ", o.Holders.Select(h => $"{h.ProcessName}[{h.ProcessId}]:{h.How}")));
            }
        }));
        return command;
    }

    /// <summary>The IPC limits, grouped by area, then the hints (sysprog limits without a pid).</summary>
    public static void WriteIpcLimits(IReadOnlyList<IpcLimit> limits, bool json)
    {
        if (json)
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
    }
}
