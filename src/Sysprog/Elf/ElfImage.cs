using System.Buffers.Binary;
using System.Text;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// The bytes of an ELF file, handed out by region with every offset and size checked against the real length first,
/// so no count or offset in the file can make a read go out of bounds or size an allocation beyond the file.
/// A file is read with pread, never mapped: another user truncating a mapped file would raise SIGBUS in this
/// process, and a file that shrinks under pread is only a short read, reported as such.
/// </summary>
internal sealed class ElfImage : IDisposable
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly SafeFdHandle? _file;
    private readonly SyscallTrace? _trace;

    private ElfImage(string name, ReadOnlyMemory<byte> memory, SafeFdHandle? file, ulong length, SyscallTrace? trace)
    {
        Name = name;
        _memory = memory;
        _file = file;
        Length = length;
        _trace = trace;
    }

    public string Name { get; }

    public ulong Length { get; }

    public bool BigEndian { get; set; }

    public bool Is64 { get; set; }

    public static ElfImage OfMemory(ReadOnlyMemory<byte> image, string name) => new(name, image, null, (ulong)image.Length, null);

    /// <summary>Opens a regular file for reading; a FIFO, device or directory is refused before anything could block on it.</summary>
    public static ElfImage OfFile(string path, SyscallTrace? trace)
    {
        // O_NONBLOCK: opening a FIFO must not wait for a writer before the file type can be refused.
        OpenedPath opened = PlantedPath.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK, 0, AcceptedFileTypes.Any, trace);
        SafeFdHandle fd = opened.Fd;
        try
        {
            StatX status = opened.Status;
            if ((status.Mode & FileStatus.TypeMask) != FileStatus.Regular)
            {
                throw new ElfFormatException(path, "file", 0, "not a regular file");
            }
            return new ElfImage(path, default, fd, status.Size, trace);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The bytes [offset, offset+size) of the file, or a clear error when they are not all there.</summary>
    public ReadOnlySpan<byte> Region(ulong offset, ulong size, string part)
    {
        if (offset > Length || size > Length - offset)
        {
            throw Fail(part, offset, $"{size} bytes at 0x{offset:x} run past the end of the file ({Length} bytes)");
        }
        if (size > int.MaxValue)
        {
            throw Fail(part, offset, $"{size} bytes is more than one structure of a readable file can hold");
        }
        return _file is null ? _memory.Span.Slice((int)offset, (int)size) : ReadFile(offset, (int)size, part);
    }

    private unsafe byte[] ReadFile(ulong offset, int size, string part)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(size);
        using HandleLease lease = _file!.Lease(Name);
        int done = 0;
        fixed (byte* start = buffer)
        {
            while (done < size)
            {
                SyscallResult got;
                do
                {
                    got = Libc.pread(lease.Fd, start + done, (nuint)(size - done), (long)offset + done);
                }
                while (got.Errno == Errno.EINTR);
                Syscall.CheckCount(got, _trace, "pread", Name, $"{lease.Fd}, ..., {size - done}, {(long)offset + done}");
                if (got.Value == 0)
                {
                    throw Fail(part, offset + (ulong)done, "the file shrank while it was being read");
                }
                done += (int)got.Value;
            }
        }
        return buffer;
    }

    /// <summary>
    /// The bytes [at, at+size) of a region already read (a section, the whole cache file), or an error naming the part
    /// and its file offset (<paramref name="dataOffset"/> is where <paramref name="data"/> starts in the file).
    /// </summary>
    public ReadOnlySpan<byte> Within(ReadOnlySpan<byte> data, ulong at, ulong size, string part, ulong dataOffset)
    {
        if (at > (ulong)data.Length || size > (ulong)data.Length - at)
        {
            throw Fail(part, dataOffset + at, $"{size} bytes at 0x{at:x} run past the end of their region ({data.Length} bytes)");
        }
        return data.Slice((int)at, (int)size);
    }

    public ElfFormatException Fail(string part, ulong offset, string problem) => new(Name, part, offset, problem);

    public ushort U16(ReadOnlySpan<byte> data, int at) =>
        BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(data[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);

    public uint U32(ReadOnlySpan<byte> data, int at) =>
        BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);

    public ulong U64(ReadOnlySpan<byte> data, int at) =>
        BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(data[at..]) : BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);

    /// <summary>An address, offset or size: 8 bytes in a 64-bit file, 4 in a 32-bit one.</summary>
    public ulong Word(ReadOnlySpan<byte> data, int at) => Is64 ? U64(data, at) : U32(data, at);

    /// <summary>
    /// The NUL-terminated string at <paramref name="index"/> of a string table; an index past the table or a string
    /// running off its end is an error naming the table.
    /// </summary>
    public static string String(ElfImage image, ReadOnlySpan<byte> table, ulong tableOffset, uint index, string part)
    {
        if (index >= (ulong)table.Length)
        {
            throw image.Fail(part, tableOffset, $"string index {index} is past the end of its string table ({table.Length} bytes)");
        }
        ReadOnlySpan<byte> rest = table[(int)index..];
        int end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw image.Fail(part, tableOffset + index, "a string runs off the end of its string table without a NUL");
        }
        return end == 0 ? string.Empty : Encoding.UTF8.GetString(rest[..end]);
    }

    public void Dispose() => _file?.Close(_trace);
}
