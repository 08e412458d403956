using System.Diagnostics;
using Sysprog;

/// <summary>IpcInventory.Take over what bench/inventory.sh set up: the median and slowest of RUNS, and what was found.</summary>
internal static class InventoryBench
{
    public static int Run(string[] args)
    {
        int runs = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        string prefix = args[1];
        var times = new List<double>();
        IpcInventory? last = null;
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            last = IpcInventory.Take();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        List<IpcObject> mine = last!.Objects.Where(o => o.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Console.WriteLine($"IpcInventory.Take: median {times[times.Count / 2]:F0} ms, slowest {times[^1]:F0} ms over {runs} runs; " +
            $"{last.Objects.Count} objects ({mine.Count} the bench's, {mine.Count(o => o.IsOrphaned == true)} of them orphaned, " +
            $"{mine.Sum(o => o.Holders.Count)} holds), {last.InspectedProcessCount} processes inspected, {last.UninspectedProcesses.Count} not");
        return 0;
    }
}
