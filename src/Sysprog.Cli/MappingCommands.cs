using System.CommandLine;
using Sysprog;

namespace Sysprog.Cli;

internal static class MappingCommands
{
    public static Command BuildMap(Option<bool> trace)
    {
        var path = new Argument<string>("path") { Description = "The file to map read-only and print." };
        var offset = new Option<long>("--offset") { Description = "Page-aligned offset into the file." };
        var length = new Option<long?>("--length") { Description = "Bytes to map (default: to the end of the file)." };
        var command = new Command("map", "Map a file read-only and print it through memory alone (no read(2)).") { path, offset, length };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using MemoryMapping view = Cli.Warned(MemoryMapping.MapFile(r.GetValue(path)!, MemoryProtection.Read, MappingVisibility.Private,
                r.GetValue(offset), r.GetValue(length), t));
            using Stream stdout = Console.OpenStandardOutput();
            view.CopyTo(stdout);
            view.Close(t);
        }));
        return command;
    }

    public static Command BuildMaps(Option<bool> trace)
    {
        var pids = new Argument<string[]>("pid") { Description = "Process ids, or 'self'.", Arity = ArgumentArity.OneOrMore };
        var detail = new Option<bool>("--detail") { Description = "Read /proc/PID/smaps for Rss, Pss, Swap and Locked." };
        var json = new Option<bool>("--json") { Description = "Write JSON (addresses as hex strings, exact beyond 2^53)." };
        var picture = new Option<bool>("--picture") { Description = "Draw the address space (two pids: side by side) instead of listing it." };
        var svg = new Option<string?>("--svg") { Description = "With --picture, write the picture as SVG to this file instead." };
        var width = new Option<int?>("--width") { Description = "With --picture, the columns to fit (default: the terminal's, or 80)." };
        var command = new Command("maps", "Show the memory mappings of processes (/proc/PID/maps), or draw them (--picture).") { pids, detail, json, picture, svg, width };
        command.SetAction(r =>
        {
            int exit = Cli.Success;
            var all = new List<ProcessMapping>();
            var pictured = new List<IReadOnlyList<ProcessMapping>>();
            foreach (string pid in r.GetValue(pids)!)
            {
                // One unreadable process is an error for it alone; the others are still shown.
                int code = Cli.Run(() =>
                {
                    IReadOnlyList<ProcessMapping> read = ProcessMaps.Read(ParsePid(pid), r.GetValue(detail), Cli.Trace(r, trace));
                    all.AddRange(read);
                    pictured.Add(read);
                });
                exit = Math.Max(exit, code);
            }
            if (r.GetValue(picture) || r.GetValue(svg) is not null)
            {
                return Math.Max(exit, Cli.Run(() => DrawPictures(pictured, r.GetValue(svg), r.GetValue(width), Cli.Trace(r, trace))));
            }
            if (r.GetValue(json))
            {
                Cli.WriteJson(all.Select(m => new
                {
                    m.ProcessId, Start = $"0x{m.Start:x}", End = $"0x{m.End:x}", m.Size, m.Permissions, Offset = $"0x{m.Offset:x}", m.Device,
                    m.Inode, m.Path, m.IsDeleted, m.Kind, m.Rss, m.Pss, m.Swap, m.Locked,
                }));
            }
            else
            {
                foreach (ProcessMapping m in all)
                {
                    string rss = m.Rss is long b ? $" rss={b / 1024}k" : "";
                    Console.WriteLine($"{m.ProcessId,7} {m.Start:x12}-{m.End:x12} {m.Permissions} {m.Offset:x8} {m.Device} {m.Inode,-9} {m.Kind,-12} {NameEscaping.Escape(m.Path)}{(m.IsDeleted ? " (deleted)" : "")}{rss}");
                }
            }
            return exit;
        });
        return command;
    }

    /// <summary>
    /// One picture per process, or two side by side; SVG to a file with --svg. Colour only on a terminal and without
    /// NO_COLOR (https://no-color.org), so a redirected picture is plain text.
    /// </summary>
    private static void DrawPictures(List<IReadOnlyList<ProcessMapping>> mappings, string? svgPath, int? width, SyscallTrace? trace)
    {
        if (mappings.Count == 0)
        {
            return;
        }
        List<AddressSpacePicture> pictures = mappings.Select(m => AddressSpacePicture.Lay(m, m.Count == 0 ? null : AddressSpacePicture.TitleOf(m[0].ProcessId))).ToList();
        if (svgPath is not null)
        {
            if (pictures.Count > 2)
            {
                throw new ArgumentException("--svg draws one process, or two side by side: give at most two pids.");
            }
            PictureFile.Write(svgPath, pictures.Count == 2 ? AddressSpacePicture.ToSvg(pictures[0], pictures[1]) : pictures[0].ToSvg(), default, trace);
            return;
        }
        int columns = PictureWidth(width);
        bool color = PictureColor();
        if (pictures.Count == 2)
        {
            Console.Write(AddressSpacePicture.ToText(pictures[0], pictures[1], columns, color));
            return;
        }
        foreach (AddressSpacePicture p in pictures)
        {
            Console.Write(p.ToText(columns, color));
        }
    }

    /// <summary>The columns a picture fits: as given, else the terminal's, else 80 (redirected).</summary>
    internal static int PictureWidth(int? width) =>
        width ?? (Console.IsOutputRedirected || Console.WindowWidth < AddressSpacePicture.MinimumWidth ? 80 : Math.Min(Console.WindowWidth, AddressSpacePicture.MaximumWidth));

    /// <summary>Colour on a terminal only, and never under NO_COLOR (https://no-color.org).</summary>
    internal static bool PictureColor() => !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    private static int ParsePid(string text) =>
        text == "self" ? Environment.ProcessId
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) ? pid
        : throw new FormatException($"'{text}' is not a process id.");

    public static Command BuildMlock(Option<bool> trace)
    {
        var size = new Option<string>("--size") { Description = "Bytes of anonymous memory to map and lock." };
        var all = new Option<bool>("--all") { Description = "Lock the whole process instead (mlockall MCL_CURRENT)." };
        var future = new Option<bool>("--future") { Description = "With --all, also MCL_FUTURE." };
        var onFault = new Option<bool>("--on-fault") { Description = "With --all, MCL_ONFAULT: lock pages as they are touched." };
        var command = new Command("mlock", "Lock memory into RAM (mlock, or mlockall with --all), reporting RLIMIT_MEMLOCK on failure.")
        {
            size, all, future, onFault,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            if (r.GetValue(all))
            {
                MemoryLockAllOptions options = MemoryLockAllOptions.Current | (r.GetValue(future) ? MemoryLockAllOptions.Future : 0) |
                    (r.GetValue(onFault) ? MemoryLockAllOptions.OnFault : 0);
                MemoryLock.LockAll(options, t);
                Console.WriteLine($"locked: {File.ReadLines("/proc/self/status").Single(l => l.StartsWith("VmLck:", StringComparison.Ordinal))}");
                MemoryLock.UnlockAll(t);
                return;
            }
            string sizeText = r.GetValue(size) ?? throw new ArgumentException("Give --size, or --all.");
            using MemoryMapping view = MemoryMapping.MapAnonymous(Units.ParseByteSize(sizeText), trace: t);
            view.Lock(t);
            Console.WriteLine($"locked {view.Length} bytes at 0x{view.Address:x}");
            view.Unlock(t);
            view.Close(t);
        }));
        return command;
    }

    public static Command BuildBrk(Option<bool> trace)
    {
        var process = ProcessCommands.ProcessArgument();
        var allocate = new Option<string?>("--allocate") { Description = "With self: malloc this much on the main thread (64KiB, 1MiB) and show where it went and how the break moved." };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("brk", "Show a process's program break: where its heap starts (start_brk), where it ends (the break: sbrk(0) for self, the [heap] mapping for another), and the random gap after the data segment.")
        {
            process, allocate, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            int pid = ProcessCommands.ParseProcess(r.GetValue(process)!);
            if (r.GetValue(allocate) is string size)
            {
                if (pid != 0 && pid != Environment.ProcessId)
                {
                    throw new ArgumentException("--allocate allocates in this process: give self.");
                }
                ProgramAllocation placed = ProgramBreak.TraceAllocation(Units.ParseByteSize(size), t);
                if (r.GetValue(json))
                {
                    Cli.WriteJson(new { placed.Size, Address = $"0x{placed.Address:x}", placed.InHeap, BreakBefore = $"0x{placed.BreakBefore:x}", BreakAfter = $"0x{placed.BreakAfter:x}", placed.BreakMoved, placed.OnMainThread, Mapping = placed.Mapping?.ToString() });
                    return;
                }
                Console.WriteLine($"malloc({placed.Size}) = 0x{placed.Address:x}: {(placed.InHeap ? "in the [heap]" : $"in {placed.Mapping?.ToString() ?? "no mapping"}")}");
                Console.WriteLine($"break 0x{placed.BreakBefore:x} -> 0x{placed.BreakAfter:x} (moved {placed.BreakMoved} bytes)");
                return;
            }
            ProgramBreak brk = ProgramBreak.Read(pid, t);
            if (r.GetValue(json))
            {
                Cli.WriteJson(new { brk.ProcessId, EndOfData = $"0x{brk.EndOfData:x}", HeapStart = $"0x{brk.HeapStart:x}", Break = $"0x{brk.Break:x}", brk.IsExact, brk.HeapSize, brk.RandomOffset, Heap = brk.HeapMapping?.ToString() });
                return;
            }
            Console.WriteLine($"end of data  0x{brk.EndOfData:x}");
            Console.WriteLine($"heap start   0x{brk.HeapStart:x}  (start_brk, {MemorySize.Describe((long)brk.RandomOffset)} above the data)");
            Console.WriteLine($"break        0x{brk.Break:x}  ({(brk.IsExact ? "sbrk(0)" : "end of the [heap] mapping")})");
            Console.WriteLine($"heap size    {MemorySize.Describe((long)brk.HeapSize)}");
        }));
        return command;
    }
}
