using System.Diagnostics;
using Sysprog;

/// <summary>FileLockInfo.List over what bench/locks.sh set up: the median (and its CPU time, which a loaded machine does not inflate) and slowest of RUNS, and the holders found.</summary>
internal static class LockBench
{
    public static int Run(string[] args)
    {
        int runs = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        string folder = args[1];
        var times = new List<double>();
        var cpuTimes = new List<double>();
        IReadOnlyList<FileLockInfo>? last = null;
        using Process self = Process.GetCurrentProcess();
        for (int i = 0; i < runs; i++)
        {
            self.Refresh();
            TimeSpan cpu = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            last = FileLockInfo.List();
            times.Add(clock.Elapsed.TotalMilliseconds);
            self.Refresh();
            cpuTimes.Add((self.TotalProcessorTime - cpu).TotalMilliseconds);
        }
        times.Sort();
        cpuTimes.Sort();
        List<FileLockInfo> mine = last!.Where(l => l.Path?.StartsWith(folder + "/", StringComparison.Ordinal) == true).ToList();
        Console.WriteLine($"FileLockInfo.List: median {times[times.Count / 2]:F1} ms (CPU {cpuTimes[runs / 2]:F1} ms), slowest {times[^1]:F1} ms over {runs} runs; " +
            $"{last!.Count} locks ({mine.Count} the bench's, held by {mine.Sum(l => l.HeldBy.Count)} processes in all)");
        return 0;
    }
}
