using System.Text;

namespace Sysprog.Tests;

/// <summary>
/// Writes a small, complete ELF shared object in any class and byte order, so the reader is checked on 32-bit and
/// big-endian files this machine has none of: an interpreter, a build id, NEEDED/SONAME/RUNPATH/FLAGS_1, a .dynsym
/// with version definitions (one of them hidden) and a version requirement, and a .symtab with FILE, SECTION and
/// hidden local symbols.
/// </summary>
internal sealed class ElfImageBuilder
{
    public const string Interpreter = "/lib/ld-demo.so.1";
    public const string BuildId = "0123456789abcdef0123456789abcdef01234567";
    private const ulong BaseAddress = 0x10000;

    private readonly bool _is64;
    private readonly bool _bigEndian;
    private readonly List<byte> _bytes = [];

    private ElfImageBuilder(ElfClass elfClass, ElfByteOrder order)
    {
        _is64 = elfClass == ElfClass.Elf64;
        _bigEndian = order == ElfByteOrder.BigEndian;
    }

    public static ElfMachine MachineFor(ElfClass elfClass, ElfByteOrder order) => (elfClass, order) switch
    {
        (ElfClass.Elf64, ElfByteOrder.LittleEndian) => ElfMachine.X86_64,
        (ElfClass.Elf32, ElfByteOrder.LittleEndian) => ElfMachine.X86,
        (ElfClass.Elf64, ElfByteOrder.BigEndian) => ElfMachine.PowerPC64,
        _ => ElfMachine.PowerPC,
    };

    public static byte[] Build(ElfClass elfClass, ElfByteOrder order) => new ElfImageBuilder(elfClass, order).Write(MachineFor(elfClass, order));

    private int WordSize => _is64 ? 8 : 4;

    private byte[] Write(ElfMachine machine)
    {
        var dynstr = new StringTable();
        uint libc = dynstr.Add("libc.so.6");
        uint libm = dynstr.Add("libm.so.6");
        uint soname = dynstr.Add("libdemo.so.1");
        uint runpath = dynstr.Add("$ORIGIN/../lib");
        uint counter = dynstr.Add("counter");
        uint compute = dynstr.Add("compute");
        uint demo1 = dynstr.Add("DEMO_1.0");
        uint demo2 = dynstr.Add("DEMO_2.0");
        uint glibc = dynstr.Add("GLIBC_2.0");
        uint printf = dynstr.Add("printf");

        var strtab = new StringTable();
        uint file = strtab.Add("demo.c");
        uint helper = strtab.Add("helper");
        uint localCounter = strtab.Add("counter");

        // Section indexes, fixed: 1 .interp, 2 .note.gnu.build-id, 3 .dynsym, 4 .dynstr, 5 .gnu.version,
        // 6 .gnu.version_d, 7 .gnu.version_r, 8 .dynamic, 9 .symtab, 10 .strtab, 11 .shstrtab.
        const ushort dynamicIndex = 8;
        byte[] interp = Encoding.ASCII.GetBytes(Interpreter + "\0");
        byte[] note = Block(b =>
        {
            b.U32(4);
            b.U32(20);
            b.U32(3);
            b.Raw("GNU\0"u8);
            b.Raw(Convert.FromHexString(BuildId));
        });
        byte[] dynsym = Block(b =>
        {
            b.Symbol(0, 0, 0, 0, 0, 0);
            b.Symbol(counter, 0x20000, 4, (1 << 4) | 1, 0, dynamicIndex);
            b.Symbol(compute, 0x20100, 16, (1 << 4) | 2, 0, dynamicIndex);
            b.Symbol(compute, 0x20200, 16, (1 << 4) | 2, 0, dynamicIndex);
            b.Symbol(printf, 0, 0, (1 << 4) | 2, 0, 0);
        });
        byte[] versym = Block(b =>
        {
            foreach (ushort v in new ushort[] { 0, 1, 3, 0x8002, 4 })
            {
                b.U16(v);
            }
        });
        byte[] verdef = Block(b =>
        {
            (ushort Flags, ushort Index, uint Name)[] definitions = [(1, 1, soname), (0, 2, demo1), (0, 3, demo2)];
            for (int i = 0; i < definitions.Length; i++)
            {
                b.U16(1);
                b.U16(definitions[i].Flags);
                b.U16(definitions[i].Index);
                b.U16(1);
                b.U32(0);
                b.U32(20);
                b.U32(i == definitions.Length - 1 ? 0u : 28u);
                b.U32(definitions[i].Name);
                b.U32(0);
            }
        });
        byte[] verneed = Block(b =>
        {
            b.U16(1);
            b.U16(1);
            b.U32(libc);
            b.U32(16);
            b.U32(0);
            b.U32(0x0d696910);
            b.U16(0);
            b.U16(4);
            b.U32(glibc);
            b.U32(0);
        });
        byte[] symtab = Block(b =>
        {
            b.Symbol(0, 0, 0, 0, 0, 0);
            b.Symbol(file, 0, 0, 4, 0, 0xfff1);
            b.Symbol(0, 0, 0, 3, 0, dynamicIndex);
            b.Symbol(helper, 0x20300, 8, 2, 2, dynamicIndex);
            b.Symbol(localCounter, 0x20000, 4, (1 << 4) | 1, 0, dynamicIndex);
        });
        var shstrtab = new StringTable();
        string[] names = ["", ".interp", ".note.gnu.build-id", ".dynsym", ".dynstr", ".gnu.version", ".gnu.version_d", ".gnu.version_r", ".dynamic", ".symtab", ".strtab", ".shstrtab"];
        uint[] nameIndexes = names.Select(n => n.Length == 0 ? 0u : shstrtab.Add(n)).ToArray();

        int headerSize = _is64 ? 64 : 52;
        int phentsize = _is64 ? 56 : 32;
        const int segmentCount = 5;
        int dynamicEntrySize = 2 * WordSize;
        const int dynamicEntries = 15;
        byte[][] contents = [[], interp, note, dynsym, dynstr.Bytes, versym, verdef, verneed, new byte[dynamicEntries * dynamicEntrySize], symtab, strtab.Bytes, shstrtab.Bytes];
        int[] alignments = [0, 1, 4, WordSize, 1, 2, 4, 4, WordSize, WordSize, 1, 1];
        ulong[] offsets = new ulong[contents.Length];
        ulong at = (ulong)(headerSize + segmentCount * phentsize);
        for (int i = 1; i < contents.Length; i++)
        {
            at = (at + (ulong)alignments[i] - 1) / (ulong)alignments[i] * (ulong)alignments[i];
            offsets[i] = at;
            at += (ulong)contents[i].Length;
        }
        ulong sectionHeaderOffset = (at + 7) / 8 * 8;
        ulong Address(int section) => BaseAddress + offsets[section];

        contents[dynamicIndex] = Block(b =>
        {
            (long Tag, ulong Value)[] entries =
            [
                (1, libc), (1, libm), (14, soname), (29, runpath), (5, Address(4)), (10, (ulong)dynstr.Bytes.Length), (6, Address(3)),
                (11, (ulong)(_is64 ? 24 : 16)), (0x6ffffff0, Address(5)), (0x6ffffffc, Address(6)), (0x6ffffffd, 3), (0x6ffffffe, Address(7)),
                (0x6fffffff, 1), (0x6ffffffb, 0x1 | 0x8), (0, 0),
            ];
            foreach ((long tag, ulong value) in entries)
            {
                b.Word((ulong)tag);
                b.Word(value);
            }
        });

        // ELF header
        Raw([0x7f, (byte)'E', (byte)'L', (byte)'F', (byte)(_is64 ? 2 : 1), (byte)(_bigEndian ? 2 : 1), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        U16(3);
        U16((ushort)machine);
        U32(1);
        Word(BaseAddress + 0x100);
        Word((ulong)headerSize);
        Word(sectionHeaderOffset);
        U32(0);
        U16((ushort)headerSize);
        U16((ushort)phentsize);
        U16(segmentCount);
        U16((ushort)(_is64 ? 64 : 40));
        U16((ushort)contents.Length);
        U16((ushort)(contents.Length - 1));

        ulong total = sectionHeaderOffset + (ulong)(contents.Length * (_is64 ? 64 : 40));
        Segment(6, 4, (ulong)headerSize, (ulong)(segmentCount * phentsize), 8);
        Segment(3, 4, offsets[1], (ulong)interp.Length, 1);
        Segment(1, 5, 0, total, 0x1000);
        Segment(2, 6, offsets[dynamicIndex], (ulong)contents[dynamicIndex].Length, (ulong)WordSize);
        Segment(4, 4, offsets[2], (ulong)note.Length, 4);

        for (int i = 1; i < contents.Length; i++)
        {
            while ((ulong)_bytes.Count < offsets[i])
            {
                _bytes.Add(0);
            }
            Raw(contents[i]);
        }
        while ((ulong)_bytes.Count < sectionHeaderOffset)
        {
            _bytes.Add(0);
        }
        (uint Type, ulong Flags, uint Link, uint Info, ulong EntrySize)[] headers =
        [
            (0, 0, 0, 0, 0), (1, 2, 0, 0, 0), (7, 2, 0, 0, 0), (11, 2, 4, 1, (ulong)(_is64 ? 24 : 16)), (3, 2, 0, 0, 0), (0x6fffffff, 2, 3, 0, 2),
            (0x6ffffffd, 2, 4, 3, 0), (0x6ffffffe, 2, 4, 1, 0), (6, 3, 4, 0, (ulong)dynamicEntrySize), (2, 0, 10, 4, (ulong)(_is64 ? 24 : 16)),
            (3, 0, 0, 0, 0), (3, 0, 0, 0, 0),
        ];
        for (int i = 0; i < headers.Length; i++)
        {
            bool loaded = (headers[i].Flags & 2) != 0;
            U32(nameIndexes[i]);
            U32(headers[i].Type);
            Word(headers[i].Flags);
            Word(loaded ? Address(i) : 0);
            Word(offsets[i]);
            Word((ulong)contents[i].Length);
            U32(headers[i].Link);
            U32(headers[i].Info);
            Word((ulong)Math.Max(alignments[i], 0));
            Word(headers[i].EntrySize);
        }
        return [.. _bytes];
    }

    private void Segment(uint type, uint flags, ulong offset, ulong size, ulong align)
    {
        U32(type);
        if (_is64)
        {
            U32(flags);
        }
        Word(offset);
        Word(BaseAddress + offset);
        Word(BaseAddress + offset);
        Word(size);
        Word(size);
        if (!_is64)
        {
            U32(flags);
        }
        Word(align);
    }

    private byte[] Block(Action<ElfImageBuilder> write)
    {
        var block = new ElfImageBuilder(_is64 ? ElfClass.Elf64 : ElfClass.Elf32, _bigEndian ? ElfByteOrder.BigEndian : ElfByteOrder.LittleEndian);
        write(block);
        return [.. block._bytes];
    }

    private void Symbol(uint name, ulong value, ulong size, byte info, byte other, ushort section)
    {
        U32(name);
        if (_is64)
        {
            _bytes.Add(info);
            _bytes.Add(other);
            U16(section);
            U64(value);
            U64(size);
        }
        else
        {
            U32((uint)value);
            U32((uint)size);
            _bytes.Add(info);
            _bytes.Add(other);
            U16(section);
        }
    }

    private void Raw(ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            _bytes.Add(b);
        }
    }

    private void U16(ushort value) => Put(value, 2);

    private void U32(uint value) => Put(value, 4);

    private void U64(ulong value) => Put(value, 8);

    private void Put(ulong value, int width)
    {
        for (int i = 0; i < width; i++)
        {
            int shift = 8 * (_bigEndian ? width - 1 - i : i);
            _bytes.Add((byte)(value >> shift));
        }
    }

    private void Word(ulong value)
    {
        if (_is64)
        {
            U64(value);
        }
        else
        {
            U32((uint)value);
        }
    }

    private sealed class StringTable
    {
        private readonly List<byte> _bytes = [0];

        public byte[] Bytes => [.. _bytes];

        public uint Add(string text)
        {
            uint index = (uint)_bytes.Count;
            _bytes.AddRange(Encoding.UTF8.GetBytes(text));
            _bytes.Add(0);
            return index;
        }
    }
}
