using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>posix_fadvise advice (POSIX_FADV_*): how a file's range will be read, so the kernel reads ahead, or drops it.</summary>
public enum FileAdvice
{
    Normal = 0,

    /// <summary>Read in no order: the kernel reads ahead nothing.</summary>
    Random = 1,

    /// <summary>Read start to end: the kernel reads ahead twice as far.</summary>
    Sequential = 2,

    /// <summary>Needed soon: the kernel starts reading it into the page cache now, without waiting.</summary>
    WillNeed = 3,

    /// <summary>Not needed: the kernel drops its clean pages from the page cache (dirty ones stay until written).</summary>
    DontNeed = 4,

    /// <summary>Read once (a no-op in Linux before 6.3).</summary>
    NoReuse = 5,
}

/// <summary>A run of pages of a file, all resident in the page cache or all not.</summary>
public readonly record struct PageRange(long FirstPage, long PageCount, bool Resident);

/// <summary>
/// How much of a file is in the page cache (what fincore and vmtouch report): the pages of the range, how many are
/// resident, and the runs of resident and missing pages.
/// </summary>
public sealed record FileResidency(string Path, long FileSize, long Offset, long Length, int PageSize, long Pages, long ResidentPages, IReadOnlyList<PageRange> Ranges)
{
    public long ResidentBytes => Math.Min(ResidentPages * PageSize, Length);

    /// <summary>Resident pages as a percentage of the range's pages (100 for an empty range).</summary>
    public double Percent => Pages == 0 ? 100 : Math.Round(100.0 * ResidentPages / Pages, 1);

    public override string ToString() => $"{Path}: {ResidentPages}/{Pages} pages resident ({Percent}%)";
}

/// <summary>File access advice (posix_fadvise) and page-cache residency (mincore over a mapping that is never touched).</summary>
public static class FileCache
{
    /// <summary>
    /// Gives the kernel advice about <paramref name="length"/> bytes of <paramref name="path"/> from
    /// <paramref name="offset"/> (0: to the end). The file is opened for reading only.
    /// </summary>
    public static void Advise(string path, FileAdvice advice, long offset = 0, long length = 0, SyscallTrace? trace = null)
    {
        PathArguments.Validate(path);
        if (!Enum.IsDefined(advice))
        {
            throw new ArgumentOutOfRangeException(nameof(advice), advice, "Normal, Random, Sequential, WillNeed, DontNeed or NoReuse.");
        }
        ValidateRange(offset, length);
        using SafeFdHandle fd = Open(path, trace);
        SyscallResult result = SyscallResult.FromErrorNumber(Libc.posix_fadvise(fd.Fd, offset, length, (int)advice));
        Syscall.Check(result, trace, "posix_fadvise", path, $"{fd.Fd}, {offset}, {length}, POSIX_FADV_{advice.ToString().ToUpperInvariant()}",
            result.Errno == Errno.ESPIPE ? "A pipe or FIFO has no page cache to advise about." : null);
        fd.Close(trace);
    }

    /// <summary>
    /// Which pages of <paramref name="length"/> bytes of <paramref name="path"/> from <paramref name="offset"/> (0: to
    /// the end) are in the page cache. The range is mapped PROT_NONE, never touched, and asked about with mincore, so a
    /// file truncated meanwhile cannot fault this process. The kernel tells the page cache of a file only to a user who
    /// owns it or may write it (it would claim every page resident otherwise): another's file is refused with EPERM.
    /// </summary>
    public static unsafe FileResidency Residency(string path, long offset = 0, long length = 0, SyscallTrace? trace = null)
    {
        PathArguments.Validate(path);
        ValidateRange(offset, length);
        int pageSize = Environment.SystemPageSize;
        if (offset % pageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The offset is a multiple of the page size ({pageSize}).");
        }
        using SafeFdHandle fd = Open(path, trace);
        StatX status = FileStatus.OfFd(fd, path, trace);
        if ((status.Mode & FileStatus.TypeMask) != FileStatus.Regular)
        {
            throw new SysprogException(Errno.EINVAL, "mincore", path, "Only a regular file has pages to count.");
        }
        if (status.Uid != Syscall.EffectiveUserId(trace) && !Capabilities.Has(Capabilities.FileOwner)
            && ((SyscallResult)Libc.faccessat(Libc.AT_FDCWD, path, Libc.W_OK, Libc.AT_EACCESS)).Failed)
        {
            throw new SysprogException(Errno.EPERM, "mincore", path,
                "The kernel shows the page cache of a file only to its owner, a user who may write it, or one with CAP_FOWNER; to others it reports every page resident.");
        }
        long fileSize = (long)status.Size;
        long end = length == 0 ? fileSize : Math.Min(fileSize, offset + length);
        long rangeLength = Math.Max(0, end - offset);
        long pages = (rangeLength + pageSize - 1) / pageSize;
        var ranges = new List<PageRange>();
        long resident = 0;
        const long window = 1L << 30;
        byte[] vector = new byte[(int)Math.Min(pages, window / pageSize)];
        for (long start = 0; start < rangeLength; start += window)
        {
            long chunk = Math.Min(window, rangeLength - start);
            int chunkPages = (int)((chunk + pageSize - 1) / pageSize);
            IntPtr mapped = Syscall.CheckPointer(Libc.mmap(IntPtr.Zero, (nuint)chunk, Libc.PROT_NONE, Libc.MAP_SHARED, fd.Fd, offset + start), trace, "mmap", path,
                $"NULL, {chunk}, PROT_NONE, MAP_SHARED, {fd.Fd}, {offset + start}");
            try
            {
                fixed (byte* bytes = vector)
                {
                    Syscall.Check(Libc.mincore(mapped, (nuint)chunk, bytes), trace, "mincore", path, $"{Pointer(mapped)}, {chunk}, [{chunkPages} pages]");
                }
            }
            finally
            {
                Syscall.Check(Libc.munmap(mapped, (nuint)chunk), trace, "munmap", path, $"{Pointer(mapped)}, {chunk}");
            }
            long firstPage = start / pageSize;
            for (int i = 0; i < chunkPages; i++)
            {
                bool isResident = (vector[i] & 1) != 0;
                resident += isResident ? 1 : 0;
                if (ranges.Count > 0 && ranges[^1].Resident == isResident && ranges[^1].FirstPage + ranges[^1].PageCount == firstPage + i)
                {
                    ranges[^1] = ranges[^1] with { PageCount = ranges[^1].PageCount + 1 };
                }
                else
                {
                    ranges.Add(new PageRange(firstPage + i, 1, isResident));
                }
            }
        }
        fd.Close(trace);
        return new FileResidency(path, fileSize, offset, rangeLength, pageSize, pages, resident, ranges);
    }

    private static SafeFdHandle Open(string path, SyscallTrace? trace)
    {
        return PlantedPath.Open(path, Libc.O_RDONLY | Libc.O_NONBLOCK, 0, AcceptedFileTypes.Any, trace).Fd;
    }

    private static void ValidateRange(long offset, long length)
    {
        if (offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "The offset is 0 or more.");
        }
        if (length < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The length is 0 (to the end) or more.");
        }
    }
}
