using System.Diagnostics;
using System.Globalization;
using Sysprog;

/// <summary>
/// The ELF reader against readelf, side by side: PAIRS pairs, each one run of `readelf --dyn-syms -W FILE` (the whole
/// process, as a user runs it, output to /dev/null) and one in-process read of the same file's .dynsym with every
/// symbol and version made into objects, the order alternating pair by pair. Prints both medians and the median of
/// the per-pair ratios (reader / readelf).
/// </summary>
internal static class ElfBench
{
    public static int Run(string[] args)
    {
        int pairs = int.Parse(args[0], CultureInfo.InvariantCulture);
        string file = args[1];
        string readelf = args.Length > 2 ? args[2] : "readelf";
        int symbols = ElfFile.Open(file, ElfSymbolTables.Dynamic).Symbols.Count;
        var ours = new List<double>();
        var theirs = new List<double>();
        var ratios = new List<double>();
        for (int i = 0; i < pairs; i++)
        {
            double reader;
            double tool;
            if (i % 2 == 0)
            {
                reader = TimeReader(file);
                tool = TimeReadelf(readelf, file);
            }
            else
            {
                tool = TimeReadelf(readelf, file);
                reader = TimeReader(file);
            }
            ours.Add(reader);
            theirs.Add(tool);
            ratios.Add(reader / tool);
        }
        Console.WriteLine($"{file}: {symbols} dynamic symbols; over {pairs} pairs: ElfFile.Open(Dynamic) median {Median(ours):F3} ms, " +
            $"readelf --dyn-syms median {Median(theirs):F3} ms, median ratio {Median(ratios):F3}");
        return 0;
    }

    private static double TimeReader(string file)
    {
        var clock = Stopwatch.StartNew();
        ElfFile elf = ElfFile.Open(file, ElfSymbolTables.Dynamic);
        double elapsed = clock.Elapsed.TotalMilliseconds;
        GC.KeepAlive(elf);
        return elapsed;
    }

    private static double TimeReadelf(string readelf, string file)
    {
        var info = new ProcessStartInfo(readelf) { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("--dyn-syms");
        info.ArgumentList.Add("-W");
        info.ArgumentList.Add(file);
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(info)!;
        process.StandardOutput.BaseStream.CopyTo(Stream.Null);
        process.WaitForExit();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
