namespace Sysprog;

/// <summary>Where a symbol of another process lies in its memory: the file's symbol moved by the load bias of that file's mapping.</summary>
public sealed record ProcessSymbol(int ProcessId, string Name, ulong Address, ulong Size, ElfSymbolType Type, ElfSymbolBinding Binding, string File, ulong LoadBias)
{
    public override string ToString() => $"{Name} 0x{Address:x} ({Size} bytes, {File}) in process {ProcessId}";
}

/// <summary>
/// Finds a named symbol in what a process has mapped, as a debugger does: its maps name the files and where each is
/// loaded, and each file's own symbol tables (.symtab, then .dynsym) give the symbol's address in the file. The
/// program comes first, then each library in address order; a global definition wins over a local one in the same
/// file. Files are read through /proc/PID/root, so a process in another mount namespace is read from its own files,
/// and a file replaced since it was mapped (another inode) is passed over, never misread.
/// </summary>
public static class ProcessSymbols
{
    public static ProcessSymbol Find(int processId, string name, SyscallTrace? trace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processId);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A symbol name cannot contain a NUL character.", nameof(name));
        }
        IReadOnlyList<ProcessMapping> maps = ProcessMaps.Read(processId, detail: false, trace);
        string program = ProcFile.ReadLink($"/proc/{processId}/exe", trace);
        var files = maps.Where(static m => m.Kind == ProcessMappingKind.File && !m.IsDeleted && m.Path.StartsWith('/'))
            .GroupBy(static m => (m.Path, m.Inode))
            .OrderBy(g => g.Key.Path == program ? 0 : 1)
            .ThenBy(static g => g.Min(static m => m.Start))
            .ToList();
        var passedOver = new List<string>();
        foreach (var file in files)
        {
            string path = $"/proc/{processId}/root{file.Key.Path}";
            ElfFile elf;
            try
            {
                if (Interop.FileStatus.OfPath(path, trace, followLinks: true) is not { } status || status.Inode != file.Key.Inode)
                {
                    passedOver.Add($"{file.Key.Path}: replaced since it was mapped");
                    continue;
                }
                elf = ElfFile.Open(path, ElfSymbolTables.All, trace);
            }
            catch (ElfFormatException)
            {
                continue;
            }
            catch (SysprogException e)
            {
                passedOver.Add($"{file.Key.Path}: {e.Errno.Symbol()}");
                continue;
            }
            ElfSymbol? symbol = Best(elf, name);
            if (symbol is null)
            {
                continue;
            }
            if (symbol.Type == ElfSymbolType.Tls)
            {
                throw new InvalidOperationException($"{name} in {file.Key.Path} is thread-local: each thread of process {processId} has its own copy at its own address.");
            }
            ulong bias = LoadBias(elf, file.Min(static m => m.Offset == 0 ? m.Start : ulong.MaxValue));
            ulong address = symbol.SectionIndex == ElfFile.SectionAbsolute ? symbol.Value : bias + symbol.Value;
            return new ProcessSymbol(processId, name, address, symbol.Size, symbol.Type, symbol.Binding, file.Key.Path, bias);
        }
        string detail = passedOver.Count == 0 ? string.Empty : $" ({string.Join("; ", passedOver)})";
        throw new KeyNotFoundException($"No file mapped by process {processId} defines a symbol {name}{detail}: it is not there, or only in a stripped file.");
    }

    private static ElfSymbol? Best(ElfFile elf, string name)
    {
        ElfSymbol? local = null;
        foreach (ElfSymbol symbol in elf.Symbols)
        {
            if (symbol.Name != name || !symbol.IsDefined || symbol.Type is ElfSymbolType.Section or ElfSymbolType.File)
            {
                continue;
            }
            if (symbol.Binding != ElfSymbolBinding.Local)
            {
                return symbol;
            }
            local ??= symbol;
        }
        return local;
    }

    /// <summary>Where the file's first loaded page lies in memory minus where the file asks for it: 0 for a fixed-address executable.</summary>
    private static ulong LoadBias(ElfFile elf, ulong firstMappingStart)
    {
        ElfProgramHeader? first = elf.ProgramHeaders.Where(static p => p.Type == ElfSegmentType.Load).MinBy(static p => p.Offset);
        if (first is null || firstMappingStart == ulong.MaxValue || elf.Type == ElfFileType.Executable)
        {
            return 0;
        }
        ulong page = (ulong)Environment.SystemPageSize;
        return firstMappingStart - (first.VirtualAddress & ~(page - 1));
    }
}
