using System.CommandLine;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>The page cache: residency reports how much of files is cached (like fincore), after optional advice (posix_fadvise).</summary>
internal static class FileCacheCommands
{
    public static Command BuildResidency(Option<bool> trace)
    {
        var files = new Argument<string[]>("file") { Description = "Regular files.", Arity = ArgumentArity.OneOrMore };
        var advise = new Option<FileAdvice?>("--advise") { Description = "First give this advice for the whole file: willneed (read it in), dontneed (drop its clean pages), sequential, random, noreuse, normal." };
        var map = new Option<bool>("--map") { Description = "Also print the runs of resident and missing pages." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("residency", "Show how much of each file is in the page cache (mincore over an untouched mapping), like fincore; --advise applies posix_fadvise first.")
        {
            files, advise, map, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            var results = new List<FileResidency>();
            foreach (string file in r.GetValue(files)!)
            {
                if (r.GetValue(advise) is FileAdvice advice)
                {
                    FileCache.Advise(file, advice, 0, 0, t);
                }
                results.Add(FileCache.Residency(file, 0, 0, t));
            }
            if (r.GetValue(json))
            {
                Cli.WriteJson(results.Select(f => new { f.Path, f.FileSize, f.Pages, f.ResidentPages, f.ResidentBytes, f.Percent, Ranges = r.GetValue(map) ? f.Ranges : null }));
                return;
            }
            Console.WriteLine($"{"RES",10} {"PAGES",8} {"SIZE",10} {"%",6} FILE");
            foreach (FileResidency f in results)
            {
                Console.WriteLine($"{MemorySize.Describe(f.ResidentBytes),10} {f.Pages,8} {MemorySize.Describe(f.FileSize),10} {f.Percent,6:0.0} {NameEscaping.Escape(f.Path)}");
                if (r.GetValue(map))
                {
                    foreach (PageRange range in f.Ranges)
                    {
                        Console.WriteLine($"    pages {range.FirstPage}-{range.FirstPage + range.PageCount - 1} {(range.Resident ? "resident" : "not resident")}");
                    }
                }
            }
        }));
        return command;
    }
}
