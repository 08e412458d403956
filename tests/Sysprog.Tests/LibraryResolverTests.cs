using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.Tests;

[Collection(ProcessPerFileCollection.Name)]
public partial class LibraryResolverTests
{
    /// <summary>The dynamically linked programs of /usr/bin, as their paths there.</summary>
    private static List<(string Path, ElfFile File)> DynamicPrograms()
    {
        var programs = new List<(string, ElfFile)>();
        foreach (string entry in Directory.EnumerateFiles("/usr/bin").Order(StringComparer.Ordinal))
        {
            try
            {
                ElfFile file = ElfFile.Open(entry);
                if (file.Interpreter is not null)
                {
                    programs.Add((entry, file));
                }
            }
            catch (ElfFormatException)
            {
                // Scripts and other non-ELF programs have no dependencies to resolve.
            }
            catch (SysprogException)
            {
                // Unreadable (a setuid program of mode 4711): the loader cannot list it either.
            }
        }
        return programs;
    }

    /// <summary>
    /// What the loader itself lists, each object once, as "name => path" or "name => not found": started by the
    /// kernel with LD_TRACE_LOADED_OBJECTS=1, so the loader maps the libraries, lists them and exits before any of
    /// the program runs, with $ORIGIN taken from the real file as in a real start. ldd runs "ld.so --list" instead,
    /// which takes $ORIGIN from the path as typed and so misses $ORIGIN libraries of a program reached through a
    /// symbolic link (java from /usr/bin); that form is kept for set-user-ID programs, where the kernel start would
    /// run in secure mode.
    /// </summary>
    internal static SortedSet<string> LoaderList(string loader, string program, bool throughTheKernel, string? libraryPath = null)
    {
        var info = new ProcessStartInfo(throughTheKernel ? program : loader) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (throughTheKernel)
        {
            info.Environment["LD_TRACE_LOADED_OBJECTS"] = "1";
        }
        else
        {
            info.ArgumentList.Add("--list");
            info.ArgumentList.Add(program);
        }
        info.Environment.Remove("LD_PRELOAD");
        info.Environment.Remove("LD_LIBRARY_PATH");
        if (libraryPath is not null)
        {
            info.Environment["LD_LIBRARY_PATH"] = libraryPath;
        }
        using Process process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var listed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n'))
        {
            Match match = LoaderLine().Match(line);
            if (match.Success)
            {
                string name = match.Groups[1].Value;
                string path = match.Groups[2].Success ? match.Groups[2].Value : name;
                listed.Add($"{name} => {(match.Groups[3].Success ? "not found" : path)}");
            }
        }
        return listed;
    }

    /// <summary>The resolver's answer in the loader's terms: each object once, by the name that first loaded it.</summary>
    internal static SortedSet<string> ResolverList(IReadOnlyList<ElfDependency> dependencies) =>
        new(dependencies.Where(d => d.IsNewObject || !d.IsFound).Select(d => d.Rule switch
        {
            LibrarySearchRule.NotFound => $"{d.Name} => not found",
            LibrarySearchRule.Vdso => $"{d.Name} => {d.Name}",
            _ => $"{d.Name} => {d.Path}",
        }), StringComparer.Ordinal);

    [SkippableFact]
    public void Resolver_AgreesWithTheLoader_OnEveryProgramOfUsrBin()
    {
        List<(string Path, ElfFile File)> programs = DynamicPrograms();
        Assert.True(programs.Count > 100, $"only {programs.Count} dynamically linked programs in /usr/bin");
        string loader = programs[0].File.Interpreter!;
        Skip.If(!File.Exists(loader), $"the loader {loader} is missing");
        var resolver = new LibraryResolver(LibrarySearchOptions.ForThisMachine() with { LibraryPath = null });
        var ours = programs.ToDictionary(p => p.Path, p => ResolverList(resolver.Resolve(p.Path)));
        var differences = new ConcurrentQueue<string>();
        // Only programs of this loader are started: under another interpreter LD_TRACE_LOADED_OBJECTS would run them.
        programs = programs.Where(p => p.File.Interpreter == loader).ToList();
        Parallel.ForEach(programs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, program =>
        {
            bool setId = (File.GetUnixFileMode(program.Path) & (UnixFileMode.SetUser | UnixFileMode.SetGroup)) != 0;
            SortedSet<string> theirs = LoaderList(loader, program.Path, throughTheKernel: !setId);
            if (!theirs.SetEquals(ours[program.Path]))
            {
                differences.Enqueue($"{program.Path}: loader only [{string.Join(", ", theirs.Except(ours[program.Path]))}], resolver only [{string.Join(", ", ours[program.Path].Except(theirs))}]");
            }
        });
        Assert.True(differences.IsEmpty, $"{differences.Count} of {programs.Count} programs differ:\n{string.Join('\n', differences.Take(30))}");
    }

    /// <summary>
    /// A program built here with every rule in play: DT_RPATH with $ORIGIN, $PLATFORM and $LIB, a 32-bit file of the
    /// right name in the first RPATH folder (passed over), a library found through its own DT_RUNPATH, LD_LIBRARY_PATH,
    /// and a missing library searched first. The resolver lists what the loader lists, and for the missing library
    /// it names every file the loader tried (LD_DEBUG=libs), in the same order.
    /// </summary>
    [SkippableFact]
    public void Resolver_FollowsEveryRule_AndNamesWhereTheLoaderLooked()
    {
        Skip.If(Tools.Find("cc") is null, "no C compiler (cc) on PATH: this test builds a program and libraries with it");
        string root = Directory.CreateTempSubdirectory("sysprog-ldd-").FullName;
        try
        {
            foreach (string folder in new[] { "bin", "lib", "wrong", "deps", "llp", "gone" })
            {
                Directory.CreateDirectory(Path.Combine(root, folder));
            }
            Cc(root, "-shared", "-fPIC", "-o", "gone/libdemo_missing.so", "-Wl,-soname,libdemo_missing.so");
            Cc(root, "-shared", "-fPIC", "-o", "deps/libdemo_b.so", "-Wl,-soname,libdemo_b.so");
            Cc(root, "-shared", "-fPIC", "-o", "lib/libdemo_a.so", "-Wl,-soname,libdemo_a.so", "-Ldeps", "-Wl,--no-as-needed", "-ldemo_b",
                "-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/../deps");
            Cc(root, "-o", "bin/prog", "-Lgone", "-Llib", "-Wl,--no-as-needed", "-ldemo_missing", "-ldemo_a",
                "-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/../wrong:$ORIGIN/../lib:/nonexistent/$PLATFORM/$LIB");
            File.Delete(Path.Combine(root, "gone/libdemo_missing.so"));
            File.WriteAllBytes(Path.Combine(root, "wrong/libdemo_a.so"), ElfImageBuilder.Build(ElfClass.Elf32, ElfByteOrder.LittleEndian));
            string program = Path.Combine(root, "bin/prog");
            string libraryPath = Path.Combine(root, "llp");

            var resolver = new LibraryResolver(LibrarySearchOptions.ForThisMachine() with { LibraryPath = libraryPath });
            IReadOnlyList<ElfDependency> dependencies = resolver.Resolve(program);
            string loader = ElfFile.Open(program).Interpreter!;
            Assert.Equal(LoaderList(loader, program, throughTheKernel: true, libraryPath), ResolverList(dependencies));

            ElfDependency a = Assert.Single(dependencies, d => d.Name == "libdemo_a.so");
            Assert.Equal((LibrarySearchRule.RPath, $"{root}/bin/../lib/libdemo_a.so"), (a.Rule, a.Path));
            Assert.Contains(a.Refused, r => r.StartsWith($"{root}/bin/../wrong/libdemo_a.so: wrong ELF class: ELFCLASS32", StringComparison.Ordinal));
            ElfDependency b = Assert.Single(dependencies, d => d.Name == "libdemo_b.so");
            Assert.Equal((LibrarySearchRule.RunPath, 2, a.Path), (b.Rule, b.Depth, b.RequiredBy));
            ElfDependency missing = Assert.Single(dependencies, d => d.Name == "libdemo_missing.so");
            Assert.Equal(LibrarySearchRule.NotFound, missing.Rule);
            Assert.Contains($"/nonexistent/{resolver.Options.Platform}/{resolver.Options.LibFolder}/libdemo_missing.so", missing.Searched);
            Assert.Equal(LoaderTried(program, libraryPath, "libdemo_missing.so"), missing.Searched);
            Assert.Equal(LibrarySearchRule.AlreadyLoaded, Assert.Single(dependencies, d => d.Name == "libc.so.6" && d.RequiredBy == a.Path).Rule);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Cc(string folder, params string[] arguments) =>
        CPeer.Build(arguments.Contains("-shared") ? "#include <string.h>\nint demo_value(const char *s) { return (int)strlen(s); }\n" : "int main(void) { return 0; }\n",
            folder, arguments);

    /// <summary>What LD_DEBUG=libs prints while the loader lists <paramref name="program"/>'s libraries (without running it).</summary>
    private static string[] LoaderDebugLines(string program, string libraryPath)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["LD_TRACE_LOADED_OBJECTS"] = "1";
        info.Environment["LD_DEBUG"] = "libs";
        info.Environment["LD_LIBRARY_PATH"] = libraryPath;
        info.Environment.Remove("LD_PRELOAD");
        using Process process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        string[] lines = process.StandardError.ReadToEnd().Split('\n');
        process.WaitForExit();
        return lines;
    }

    /// <summary>Every "trying file=" line LD_DEBUG=libs prints while the loader searches for <paramref name="name"/>.</summary>
    private static List<string> LoaderTried(string program, string libraryPath, string name)
    {
        string[] lines = LoaderDebugLines(program, libraryPath);
        var tried = new List<string>();
        bool inSearch = false;
        foreach (string line in lines)
        {
            if (line.Contains("find library=", StringComparison.Ordinal))
            {
                inSearch = line.Contains($"find library={name} ", StringComparison.Ordinal);
            }
            else if (inSearch && line.Contains("trying file=", StringComparison.Ordinal))
            {
                tried.Add(line[(line.IndexOf("trying file=", StringComparison.Ordinal) + "trying file=".Length)..]);
            }
        }
        Assert.NotEmpty(tried);
        return tried;
    }

    // "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f...)", "\t/lib64/ld-linux-x86-64.so.2 (0x...)", "\tlibfoo.so => not found"
    [GeneratedRegex(@"^\t(\S+)(?: => (?:(\S+) \(0x[0-9a-f]+\)|(not found)))?(?: \(0x[0-9a-f]+\))?$")]
    private static partial Regex LoaderLine();
}
