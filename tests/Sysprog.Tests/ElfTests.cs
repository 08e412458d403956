using System.Collections.Concurrent;
using Xunit;

namespace Sysprog.Tests;

[Collection(ProcessPerFileCollection.Name)]
public class ElfTests
{
    /// <summary>The ELF files of /usr/bin and the machine's multiarch library folder (top level), symbolic links resolved, each once.</summary>
    internal static string[] SystemElfFiles()
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string folder in new[] { "/usr/bin", MultiarchLibraryFolder() })
        {
            if (!Directory.Exists(folder))
            {
                continue;
            }
            foreach (string entry in Directory.EnumerateFileSystemEntries(folder))
            {
                string? real = RealFile(entry);
                if (real is not null && StartsWithElfMagic(real))
                {
                    files.Add(real);
                }
            }
        }
        return [.. files];
    }

    internal static string MultiarchLibraryFolder() =>
        Directory.Exists($"/usr/lib/{MultiarchTriplet()}") ? $"/usr/lib/{MultiarchTriplet()}" : "/usr/lib64";

    private static string MultiarchTriplet() => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "x86_64-linux-gnu",
        System.Runtime.InteropServices.Architecture.Arm64 => "aarch64-linux-gnu",
        _ => "unknown",
    };

    private static string? RealFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            FileSystemInfo? target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true);
            return target is FileInfo { Exists: true } file ? file.FullName : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool StartsWithElfMagic(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && ElfFile.IsElf(magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [SkippableFact]
    public void Reader_AgreesWithReadelf_OnEveryElfFileOfTheSystem()
    {
        Skip.If(Readelf.Path is null, "no readelf (binutils) on PATH: it is the oracle this test compares the reader with");
        string[] files = SystemElfFiles();
        Assert.True(files.Length > 100, $"only {files.Length} ELF files found in /usr/bin and {MultiarchLibraryFolder()}");
        var differences = new ConcurrentQueue<string>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file =>
        {
            foreach (string difference in Readelf.Differences(file))
            {
                differences.Enqueue(difference);
            }
        });
        Assert.True(differences.IsEmpty, $"{differences.Count} differences over {files.Length} files:\n{string.Join('\n', differences.Take(40))}");
    }

    [SkippableFact]
    public void PieOrSharedObject_AgreesWithFile_OnEveryElfFileOfTheSystem()
    {
        // libc.so.6 and libcap.so.2 have an interpreter (they run) and a SONAME, and no DF_1_PIE: file(1) calls them
        // shared objects; /usr/bin/ls has DF_1_PIE and is a PIE executable.
        string? filePath = Tools.Find("file");
        Skip.If(filePath is null, "no file(1) on PATH: it is the oracle for which ET_DYN file is a PIE and which a shared object");
        string[] files = SystemElfFiles().Where(f => ElfFile.Open(f).Type == ElfFileType.SharedObject).ToArray();
        Assert.True(files.Length > 10, $"only {files.Length} ET_DYN files found in /usr/bin and {MultiarchLibraryFolder()}");

        var info = new System.Diagnostics.ProcessStartInfo(filePath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["LC_ALL"] = "C";
        foreach (string argument in new[] { "-N", "-F", "\t", "--" }.Concat(files))
        {
            info.ArgumentList.Add(argument);
        }
        using System.Diagnostics.Process process = System.Diagnostics.Process.Start(info)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"file exited {process.ExitCode}: {errors.Result}");

        var differences = new List<string>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split('\t', 2);
            bool filePie = parts[1].Contains("pie executable", StringComparison.Ordinal);
            ElfFile elf = ElfFile.Open(parts[0]);
            if (filePie != elf.IsPositionIndependentExecutable || filePie != elf.Kind.Contains("PIE executable", StringComparison.Ordinal))
            {
                differences.Add($"{parts[0]}: file says{parts[1]}; Kind {elf.Kind}, DynamicFlags1 {elf.DynamicFlags1}, SoName {elf.SoName}");
            }
        }
        Assert.True(differences.Count == 0, $"{differences.Count} of {files.Length} differ:\n{string.Join('\n', differences.Take(20))}");
        Assert.Contains(output.Split('\n'), line => line.Contains("shared object", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ElfClass.Elf64, ElfByteOrder.LittleEndian)]
    [InlineData(ElfClass.Elf32, ElfByteOrder.LittleEndian)]
    [InlineData(ElfClass.Elf64, ElfByteOrder.BigEndian)]
    [InlineData(ElfClass.Elf32, ElfByteOrder.BigEndian)]
    public void Reader_ReadsEveryClassAndByteOrder(ElfClass elfClass, ElfByteOrder order)
    {
        byte[] image = ElfImageBuilder.Build(elfClass, order);
        ElfFile elf = ElfFile.Parse(image, "demo", ElfSymbolTables.All);

        Assert.Equal(elfClass, elf.Class);
        Assert.Equal(order, elf.Header.ByteOrder);
        Assert.Equal(ElfImageBuilder.MachineFor(elfClass, order), elf.Machine);
        Assert.Equal(ElfFileType.SharedObject, elf.Type);
        Assert.Equal(ElfImageBuilder.Interpreter, elf.Interpreter);
        Assert.Equal(ElfImageBuilder.BuildId, elf.BuildId);
        Assert.Equal(["libc.so.6", "libm.so.6"], elf.Needed);
        Assert.Equal("libdemo.so.1", elf.SoName);
        Assert.Equal("$ORIGIN/../lib", elf.RunPath);
        Assert.Null(elf.RPath);
        Assert.True(elf.BindNow);
        Assert.Equal(ElfDynamicFlags1.Now | ElfDynamicFlags1.NoDelete, elf.DynamicFlags1);
        Assert.Equal(["r--", "r--", "r-x", "rw-", "r--"], elf.ProgramHeaders.Select(p => p.Permissions));
        Assert.Equal(".gnu.version_r", elf.Sections[7].Name);
        Assert.Equal(
            ["counter", "compute@@DEMO_2.0", "compute@DEMO_1.0", "printf@GLIBC_2.0"],
            elf.Symbols.Where(s => s.Table == ElfSymbolTables.Dynamic).Select(s => s.VersionedName));
        ElfSymbol hidden = Assert.Single(elf.Symbols, s => s.Table == ElfSymbolTables.Static && s.Name == "helper");
        Assert.Equal((ElfSymbolType.Function, ElfSymbolBinding.Local, ElfSymbolVisibility.Hidden, 0x20300UL, 8UL, ".dynamic"),
            (hidden.Type, hidden.Binding, hidden.Visibility, hidden.Value, hidden.Size, hidden.SectionName));
        Assert.Equal("*ABS*", elf.Symbols.Single(s => s.Type == ElfSymbolType.File).SectionName);
    }

    [SkippableTheory]
    [InlineData(ElfClass.Elf64, ElfByteOrder.LittleEndian)]
    [InlineData(ElfClass.Elf32, ElfByteOrder.LittleEndian)]
    [InlineData(ElfClass.Elf64, ElfByteOrder.BigEndian)]
    [InlineData(ElfClass.Elf32, ElfByteOrder.BigEndian)]
    public void Reader_AgreesWithReadelf_OnEveryClassAndByteOrder(ElfClass elfClass, ElfByteOrder order)
    {
        Skip.If(Readelf.Path is null, "readelf (binutils) is not installed: there is nothing to compare the reader with");
        string path = Path.Combine(Path.GetTempPath(), $"sysprog-elf-{Environment.ProcessId}-{elfClass}-{order}.so");
        File.WriteAllBytes(path, ElfImageBuilder.Build(elfClass, order));
        try
        {
            Assert.Empty(Readelf.Differences(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Thousands of damaged variants of real and written binaries: truncated at every structure boundary (and a byte
    /// either side), random bytes over the headers and tables, and absurd counts, offsets, sizes and links. Each one
    /// reads or fails with an ElfFormatException, never anything else, and never allocates more than a few times
    /// the file's own size, whatever its counts claim.
    /// </summary>
    [Fact]
    public void Reader_FailsCleanly_OnThousandsOfDamagedFiles()
    {
        var seeds = new List<(string Name, byte[] Image)>();
        foreach (ElfClass elfClass in new[] { ElfClass.Elf64, ElfClass.Elf32 })
        {
            foreach (ElfByteOrder order in new[] { ElfByteOrder.LittleEndian, ElfByteOrder.BigEndian })
            {
                seeds.Add(($"{elfClass}-{order}", ElfImageBuilder.Build(elfClass, order)));
            }
        }
        foreach (string real in new[] { "/usr/bin/true", Path.Combine(MultiarchLibraryFolder(), "libz.so.1") })
        {
            if (File.Exists(real))
            {
                seeds.Add((real, File.ReadAllBytes(real)));
            }
        }
        Assert.True(seeds.Count >= 5, "the real seed binaries are missing");

        var random = new Random(20261122);
        int variants = 0;
        int refused = 0;
        foreach ((string name, byte[] seed) in seeds)
        {
            ElfFile original = ElfFile.Parse(seed, name, ElfSymbolTables.All);
            var damage = new List<(string What, byte[] Image)>();
            foreach (ulong cut in Boundaries(original))
            {
                damage.Add(($"cut at {cut}", seed[..(int)cut]));
            }
            (ulong Offset, ulong Size)[] regions = Regions(original);
            for (int i = 0; i < 600; i++)
            {
                byte[] copy = (byte[])seed.Clone();
                (ulong offset, ulong size) = regions[random.Next(regions.Length)];
                int hits = random.Next(1, 9);
                for (int h = 0; h < hits && size > 0; h++)
                {
                    copy[(int)(offset + (ulong)random.NextInt64((long)size))] = (byte)random.Next(256);
                }
                damage.Add(($"random bytes #{i}", copy));
            }
            foreach ((ulong at, int width, string field) in Fields(original))
            {
                foreach (ulong value in new ulong[] { 0, 1, 0x7f, 0xffff, 0x7fffffff, 0xffffffff, (ulong)seed.Length, (ulong)seed.Length - 1, long.MaxValue, ulong.MaxValue })
                {
                    byte[] copy = (byte[])seed.Clone();
                    Put(copy, at, width, value, original.Header.ByteOrder == ElfByteOrder.BigEndian);
                    damage.Add(($"{field} = 0x{value:x}", copy));
                }
            }
            foreach ((string what, byte[] image) in damage)
            {
                variants++;
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    ElfFile.Parse(image, "variant", ElfSymbolTables.All);
                }
                catch (ElfFormatException e)
                {
                    refused++;
                    Assert.Equal("variant", e.File);
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name}, {what}: {e.GetType().Name}: {e.Message}");
                }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < 16L * image.Length + (1 << 20), $"{name}, {what}: {allocated} bytes allocated for a {image.Length}-byte file");
            }
        }
        Assert.True(variants > 5000, $"only {variants} variants");
        Assert.True(refused > variants / 10, $"only {refused} of {variants} damaged files were refused: the damage does not reach the reader");
    }

    private static IEnumerable<ulong> Boundaries(ElfFile elf)
    {
        var points = new SortedSet<ulong> { 0, 4, 16, elf.Class == ElfClass.Elf64 ? 64u : 52u };
        ulong phentsize = elf.Header.ProgramHeaderEntrySize;
        for (int i = 0; i <= elf.ProgramHeaders.Count; i++)
        {
            points.Add(elf.Header.ProgramHeaderOffset + (ulong)i * phentsize);
        }
        for (int i = 0; i <= elf.Sections.Count; i++)
        {
            points.Add(elf.Header.SectionHeaderOffset + (ulong)i * elf.Header.SectionHeaderEntrySize);
        }
        foreach (ElfSection section in elf.Sections.Where(s => s.HasFileData))
        {
            points.Add(section.Offset);
            points.Add(section.Offset + section.Size);
        }
        foreach (ElfProgramHeader segment in elf.ProgramHeaders)
        {
            points.Add(segment.Offset);
            points.Add(segment.Offset + segment.FileSize);
        }
        return points.SelectMany(p => new[] { p - 1, p, p + 1 }).Where(p => p < elf.Size).Distinct();
    }

    /// <summary>The headers and the tables the reader parses: where random damage is worth putting.</summary>
    private static (ulong Offset, ulong Size)[] Regions(ElfFile elf)
    {
        var regions = new List<(ulong, ulong)>
        {
            (0, elf.Class == ElfClass.Elf64 ? 64u : 52u),
            (elf.Header.ProgramHeaderOffset, (ulong)elf.ProgramHeaders.Count * elf.Header.ProgramHeaderEntrySize),
            (elf.Header.SectionHeaderOffset, (ulong)elf.Sections.Count * elf.Header.SectionHeaderEntrySize),
        };
        regions.AddRange(elf.Sections
            .Where(s => s.HasFileData && s.Size < 64 * 1024 && s.Type is ElfSectionType.Dynamic or ElfSectionType.DynamicSymbols or ElfSectionType.SymbolTable
                or ElfSectionType.GnuVersionSymbols or ElfSectionType.GnuVersionDefinitions or ElfSectionType.GnuVersionNeeds or ElfSectionType.Note or ElfSectionType.StringTable)
            .Select(s => (s.Offset, s.Size)));
        return [.. regions];
    }

    /// <summary>Every count, offset, size, index and link field of the headers and the dynamic section.</summary>
    private static IEnumerable<(ulong At, int Width, string Field)> Fields(ElfFile elf)
    {
        bool is64 = elf.Class == ElfClass.Elf64;
        int w = is64 ? 8 : 4;
        yield return (24u + (uint)w, w, "e_phoff");
        yield return (24u + 2u * (uint)w, w, "e_shoff");
        ulong rest = 24u + 3u * (uint)w + 4;
        string[] halves = ["e_ehsize", "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx"];
        for (int i = 0; i < halves.Length; i++)
        {
            yield return (rest + (ulong)(2 * i), 2, halves[i]);
        }
        foreach (ElfProgramHeader segment in elf.ProgramHeaders)
        {
            ulong start = elf.Header.ProgramHeaderOffset + (ulong)segment.Index * elf.Header.ProgramHeaderEntrySize;
            yield return (start + (is64 ? 8u : 4u), w, $"p_offset of segment {segment.Index}");
            yield return (start + (is64 ? 32u : 16u), w, $"p_filesz of segment {segment.Index}");
        }
        foreach (ElfSection section in elf.Sections)
        {
            ulong start = elf.Header.SectionHeaderOffset + (ulong)section.Index * elf.Header.SectionHeaderEntrySize;
            yield return (start, 4, $"sh_name of section {section.Index}");
            yield return (start + (is64 ? 24u : 16u), w, $"sh_offset of section {section.Index}");
            yield return (start + (is64 ? 32u : 20u), w, $"sh_size of section {section.Index}");
            yield return (start + (is64 ? 40u : 24u), 4, $"sh_link of section {section.Index}");
            yield return (start + (is64 ? 44u : 28u), 4, $"sh_info of section {section.Index}");
            yield return (start + (is64 ? 56u : 36u), w, $"sh_entsize of section {section.Index}");
        }
        ElfProgramHeader? dynamic = elf.ProgramHeaders.FirstOrDefault(p => p.Type == ElfSegmentType.Dynamic);
        if (dynamic is not null)
        {
            for (int i = 0; i < elf.DynamicEntries.Count; i++)
            {
                yield return (dynamic.Offset + (ulong)(i * 2 * w) + (ulong)w, w, $"d_val of dynamic entry {i} ({elf.DynamicEntries[i].Tag})");
            }
        }
    }

    private static void Put(byte[] image, ulong at, int width, ulong value, bool bigEndian)
    {
        for (int i = 0; i < width; i++)
        {
            int shift = 8 * (bigEndian ? width - 1 - i : i);
            image[(int)at + i] = (byte)(value >> shift);
        }
    }

    [Fact]
    public void Open_RefusesWhatIsNotAnElfFile_NamingItAndWhy()
    {
        string folder = Directory.CreateTempSubdirectory("sysprog-elf-").FullName;
        try
        {
            string text = Path.Combine(folder, "text");
            File.WriteAllText(text, "#!/bin/sh\necho hi\n");
            var notElf = Assert.Throws<ElfFormatException>(() => ElfFile.Open(text));
            Assert.Equal((text, "ELF header", 0UL), (notElf.File, notElf.Part, notElf.Offset));
            Assert.Contains("not an ELF file", notElf.Message, StringComparison.Ordinal);

            string fifo = Path.Combine(folder, "fifo");
            Assert.Equal(0, Mkfifo(fifo, 0x180));
            var notRegular = Assert.Throws<ElfFormatException>(() => ElfFile.Open(fifo));
            Assert.Contains("not a regular file", notRegular.Message, StringComparison.Ordinal);
            Assert.Throws<ElfFormatException>(() => ElfFile.Open(folder));

            var missing = Assert.Throws<SysprogException>(() => ElfFile.Open(Path.Combine(folder, "missing")));
            Assert.Equal((Errno.ENOENT, "open"), (missing.Errno, missing.Call));

            byte[] image = ElfImageBuilder.Build(ElfClass.Elf64, ElfByteOrder.LittleEndian);
            string truncated = Path.Combine(folder, "truncated.so");
            File.WriteAllBytes(truncated, image[..(image.Length - 10)]);
            var cut = Assert.Throws<ElfFormatException>(() => ElfFile.Open(truncated));
            Assert.Equal("section header table", cut.Part);
            Assert.Contains("run past the end of the file", cut.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, int mode);
}
