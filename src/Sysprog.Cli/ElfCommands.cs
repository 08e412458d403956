using System.CommandLine;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>ELF files and shared libraries: elf reads a file, ldd resolves its dependencies without running it, dlopen loads a library here.</summary>
internal static class ElfCommands
{
    public static Command BuildElf(Option<bool> trace)
    {
        var file = new Argument<string>("file") { Description = "An ELF file: a program, a library, an object file." };
        var symbols = new Option<bool>("--symbols") { Description = "Also list the symbols (.dynsym and .symtab)." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("elf", "Read an ELF file like readelf -h -l -S -d: header, segments, sections, interpreter, dynamic section, build id.")
        {
            file, symbols, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            ElfFile elf = ElfFile.Open(r.GetValue(file)!, r.GetValue(symbols) ? ElfSymbolTables.All : ElfSymbolTables.None, Cli.Trace(r, trace));
            if (r.GetValue(json))
            {
                Cli.WriteJson(new
                {
                    elf.Path, elf.Size, elf.Kind, elf.Header, elf.Interpreter, elf.SoName, elf.RPath, elf.RunPath, elf.Needed, elf.BuildId, elf.BindNow,
                    elf.IsStripped, elf.ProgramHeaders, Sections = elf.Sections.Select(s => new { s.Index, s.Name, s.Type, s.FlagLetters, s.Address, s.Offset, s.Size, s.Link, s.Info, s.Alignment, s.EntrySize }),
                    Dynamic = elf.DynamicEntries, Symbols = elf.SymbolTablesRead == ElfSymbolTables.None ? null : elf.Symbols.Select(s => new
                    {
                        s.Table, s.Index, s.Name, s.Version, s.IsDefaultVersion, s.Value, s.Size, s.Type, s.Binding, s.Visibility, s.SectionName,
                    }),
                });
                return;
            }
            ElfHeader h = elf.Header;
            Console.WriteLine($"{NameEscaping.Escape(elf.Path)}: {elf.Kind}");
            Console.WriteLine($"  OS/ABI {h.OsAbi}, entry 0x{h.Entry:x}, {elf.ProgramHeaders.Count} segments, {elf.Sections.Count} sections{(elf.IsStripped ? ", stripped" : string.Empty)}");
            WriteIfSet("interpreter", elf.Interpreter);
            WriteIfSet("soname", elf.SoName);
            WriteIfSet("rpath", elf.RPath);
            WriteIfSet("runpath", elf.RunPath);
            WriteIfSet("build id", elf.BuildId);
            foreach (string needed in elf.Needed)
            {
                Console.WriteLine($"  needed       {NameEscaping.Escape(needed)}");
            }
            Console.WriteLine();
            Console.WriteLine($"  {"Type",-12} {"Offset",10} {"VirtAddr",18} {"FileSiz",10} {"MemSiz",10} Flg Align");
            foreach (ElfProgramHeader p in elf.ProgramHeaders)
            {
                Console.WriteLine($"  {p.Type,-12} {Hex(p.Offset),10} {Hex(p.VirtualAddress),18} {Hex(p.FileSize),10} {Hex(p.MemorySize),10} {p.Permissions} {Hex(p.Alignment)}");
            }
            Console.WriteLine();
            Console.WriteLine($"  {"[Nr]",4} {"Name",-24} {"Type",-22} {"Address",18} {"Offset",10} {"Size",10} Flags");
            foreach (ElfSection s in elf.Sections)
            {
                Console.WriteLine($"  {s.Index,4} {NameEscaping.Escape(s.Name),-24} {s.Type,-22} {Hex(s.Address),18} {Hex(s.Offset),10} {Hex(s.Size),10} {s.FlagLetters}");
            }
            if (elf.SymbolTablesRead != ElfSymbolTables.None)
            {
                Console.WriteLine();
                Console.WriteLine($"  {"Table",-7} {"Value",18} {"Size",8} {"Type",-16} {"Bind",-6} {"Section",-12} Name");
                foreach (ElfSymbol s in elf.Symbols)
                {
                    Console.WriteLine($"  {s.Table,-7} {Hex(s.Value),18} {s.Size,8} {s.Type,-16} {s.Binding,-6} {NameEscaping.Escape(s.SectionName ?? ""),-12} {NameEscaping.Escape(s.VersionedName)}");
                }
            }
        }));
        return command;
    }

    public static Command BuildLdd(Option<bool> trace)
    {
        var files = new Argument<string[]>("file") { Description = "Programs or libraries.", Arity = ArgumentArity.OneOrMore };
        var all = new Option<bool>("--all") { Description = "Every DT_NEEDED reference, also those an already loaded object answers." };
        var libraryPath = new Option<string?>("--library-path") { Description = "LD_LIBRARY_PATH for the resolution (default: this environment's)." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("ldd", "Resolve dependencies as ld.so would, without running the file (ldd runs it): each library with the rule that found it, and for a missing one everywhere the loader looked.")
        {
            files, all, libraryPath, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            LibrarySearchOptions options = LibrarySearchOptions.ForThisMachine();
            if (r.GetValue(libraryPath) is string given)
            {
                options = options with { LibraryPath = given };
            }
            var resolver = new LibraryResolver(options, Cli.Trace(r, trace));
            string[] paths = r.GetValue(files)!;
            bool anyMissing = false;
            foreach (string path in paths)
            {
                IReadOnlyList<ElfDependency> dependencies = resolver.Resolve(path)
                    .Where(d => r.GetValue(all) || d.IsNewObject || !d.IsFound).ToList();
                anyMissing |= dependencies.Any(d => !d.IsFound);
                if (r.GetValue(json))
                {
                    Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { file = path, dependencies }, Cli.CompactJson));
                    continue;
                }
                if (paths.Length > 1)
                {
                    Console.WriteLine($"{NameEscaping.Escape(path)}:");
                }
                if (dependencies.Count == 0)
                {
                    Console.WriteLine("\tnot a dynamic executable (no interpreter, no DT_NEEDED)");
                }
                foreach (ElfDependency d in dependencies)
                {
                    string indent = new(' ', 2 * Math.Max(d.Depth - 1, 0));
                    Console.WriteLine(d.Rule switch
                    {
                        LibrarySearchRule.NotFound => $"\t{indent}{NameEscaping.Escape(d.Name)} => not found (searched {string.Join(", ", d.Searched.Select(NameEscaping.Escape))}){Refusals(d)}",
                        LibrarySearchRule.Vdso => $"\t{NameEscaping.Escape(d.Name)} (the kernel's vDSO)",
                        _ => $"\t{indent}{NameEscaping.Escape(d.Name)} => {NameEscaping.Escape(d.Path ?? "")} [{d.Rule}]{Refusals(d)}",
                    });
                }
            }
            if (anyMissing)
            {
                throw new KeyNotFoundException("Some libraries are not found: the program would not start.");
            }
        }));
        return command;
    }

    private static string Refusals(ElfDependency d) => d.Refused.Count == 0 ? string.Empty : $" (passed over: {string.Join("; ", d.Refused.Select(NameEscaping.Escape))})";

    public static Command BuildDlopen(Option<bool> trace)
    {
        var library = new Argument<string>("library") { Description = "A soname (libm.so.6), searched like a dependency, or a path with a '/'." };
        var symbols = new Option<string[]>("--symbol") { Description = "Look these symbols up (dlsym) and print their addresses." };
        var lazy = new Option<bool>("--lazy") { Description = "RTLD_LAZY: bind functions at their first call (default RTLD_NOW)." };
        var global = new Option<bool>("--global") { Description = "RTLD_GLOBAL: the library's symbols join the global scope." };
        var deepBind = new Option<bool>("--deepbind") { Description = "RTLD_DEEPBIND: the library prefers its own symbols." };
        var call = new Option<string?>("--call") { Description = "Call this function after loading, with --signature and --arg." };
        var signature = new Option<string?>("--signature") { Description = $"The C signature of --call: {string.Join(", ", NativeSignature.All)}." };
        var arguments = new Option<string[]>("--arg") { Description = "An argument of --call (repeatable), converted to its parameter's type." };
        var command = new Command("dlopen", "Load a library in this process (dlopen), show where it is (dlinfo), look up symbols (dlsym), call a function, and unload it (dlclose).")
        {
            library, symbols, lazy, global, deepBind, call, signature, arguments,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? traced = Cli.Trace(r, trace);
            SharedLibraryOpenFlags flags = (r.GetValue(lazy) ? SharedLibraryOpenFlags.Lazy : SharedLibraryOpenFlags.Now)
                | (r.GetValue(global) ? SharedLibraryOpenFlags.Global : SharedLibraryOpenFlags.Local)
                | (r.GetValue(deepBind) ? SharedLibraryOpenFlags.DeepBind : 0);
            using SharedLibrary opened = SharedLibrary.Open(r.GetValue(library)!, flags, traced);
            Console.WriteLine($"{NameEscaping.Escape(opened.Path)} loaded at 0x{opened.BaseAddress:x} ({opened.Flags}{(opened.TlsModuleId == 0 ? string.Empty : $", TLS module {opened.TlsModuleId}")})");
            foreach (string name in r.GetValue(symbols) ?? [])
            {
                SharedLibrarySymbol symbol = opened.GetSymbol(name, null, traced);
                Console.WriteLine($"  {name} = 0x{symbol.Address:x} {symbol.Type} {symbol.Size} bytes{(symbol.NearestSymbol is string near && near != name ? $" ({NameEscaping.Escape(near)}+0x{symbol.Offset:x})" : string.Empty)}");
            }
            if (r.GetValue(call) is string function)
            {
                NativeSignature parsed = NativeSignature.Parse(r.GetValue(signature) ?? throw new ArgumentException("--call needs --signature."));
                // Text converts to each parameter's type in the core, so "0.5" becomes a double and "42" an int.
                object?[] values = r.GetValue(arguments) ?? [];
                object? result = parsed.Invoke(opened.GetSymbol(function, null, traced), values, traced);
                Console.WriteLine($"  {function}({string.Join(", ", values)}) = {result ?? "NULL"}");
            }
            bool stillLoaded = opened.Close(traced);
            Console.WriteLine(stillLoaded ? $"{NameEscaping.Escape(opened.Path)} is still loaded after dlclose" : $"{NameEscaping.Escape(opened.Path)} is unloaded");
        }));
        return command;
    }

    private static void WriteIfSet(string label, string? value)
    {
        if (value is not null)
        {
            Console.WriteLine($"  {label,-12} {NameEscaping.Escape(value)}");
        }
    }

    private static string Hex(ulong value) => $"0x{value:x}";
}
