using System.Globalization;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// A process's program break: the end of its heap, which brk(2) moves. The heap starts at HeapStart (start_brk, a
/// random distance above the end of the data segment) and the [heap] mapping covers it up to the break, rounded up to
/// a page. For this process Break is exact (sbrk(0)); for another it is the end of its [heap] mapping. A kernel thread
/// has none: everything is 0.
/// </summary>
public sealed record ProgramBreak(int ProcessId, ulong EndOfData, ulong HeapStart, ulong Break, bool IsExact, ProcessMapping? HeapMapping)
{
    /// <summary>Bytes between the heap's start and the break.</summary>
    public ulong HeapSize => Break - HeapStart;

    /// <summary>The random gap the kernel left between the data segment and the heap (brk randomization).</summary>
    public ulong RandomOffset => HeapStart - EndOfData;

    public override string ToString() => $"brk 0x{Break:x} (heap 0x{HeapStart:x}, {MemorySize.Describe((long)HeapSize)})";

    /// <summary>The break of process <paramref name="processId"/> (0: this one).</summary>
    public static ProgramBreak Read(int processId = 0, SyscallTrace? trace = null)
    {
        if (processId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is 1 or more, or 0 for this process.");
        }
        bool self = processId == 0 || processId == Environment.ProcessId;
        int process = self ? Environment.ProcessId : processId;
        // The maps first: they need the same ptrace access as the heap bounds in stat, and say so with EACCES, where
        // stat would only show zeros.
        ProcessMapping? heap = ProcessMaps.Read(process, detail: false, trace).FirstOrDefault(m => m.Path == "[heap]");
        string stat = ProcFile.ReadAllText($"/proc/{process}/stat", trace);
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 46 and 47 of stat (end_data, start_brk), counting from 1 at the pid. Both are 0 in a kernel thread,
        // and in a process between the start of its exec and the loading of the program.
        ulong endData = ulong.Parse(fields[46 - 3], CultureInfo.InvariantCulture);
        ulong heapStart = ulong.Parse(fields[47 - 3], CultureInfo.InvariantCulture);
        if (self)
        {
            IntPtr current = Syscall.CheckPointer(SyscallResult.NullOnFailure(Libc.sbrk(0)), trace, "sbrk", "program break", $"0");
            return new ProgramBreak(process, endData, heapStart, (ulong)current, true, heap);
        }
        return new ProgramBreak(process, endData, heapStart, heap?.End ?? heapStart, false, heap);
    }

    /// <summary>
    /// Where malloc puts <paramref name="size"/> bytes, called on this thread: the break before and after, and the
    /// address, which is in the [heap] when the main thread's arena took it from brk. Large blocks (above
    /// M_MMAP_THRESHOLD, 128 KiB to start with) get a mapping of their own, and a thread other than the main one
    /// allocates from an arena glibc mapped for it: neither moves the break. The block is freed before returning.
    /// </summary>
    public static ProgramAllocation TraceAllocation(long size, SyscallTrace? trace = null)
    {
        if (size is < 1 or > 1L << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Allocate 1 byte to 1 GiB.");
        }
        ProgramBreak before = Read(0, trace);
        nint block = Libc.malloc((nuint)size);
        trace?.Invoke($"malloc({size}) = 0x{block:x}");
        if (block == 0)
        {
            throw new SysprogException(Errno.ENOMEM, "malloc", $"{size} bytes");
        }
        try
        {
            ProgramBreak after = Read(0, trace);
            ulong address = (ulong)block;
            ProcessMapping? holder = ProcessMaps.Read(Environment.ProcessId, detail: false, null).FirstOrDefault(m => m.Contains(address));
            bool inHeap = address >= after.HeapStart && address < after.Break;
            return new ProgramAllocation(size, address, inHeap, before.Break, after.Break, Libc.gettid() == Environment.ProcessId, holder);
        }
        finally
        {
            Libc.free(block);
            trace?.Invoke($"free(0x{block:x})");
        }
    }
}

/// <summary>Where one malloc went: the [heap] below the break, or a mapping of its own or of a thread's arena.</summary>
public sealed record ProgramAllocation(long Size, ulong Address, bool InHeap, ulong BreakBefore, ulong BreakAfter, bool OnMainThread, ProcessMapping? Mapping)
{
    /// <summary>How far the break moved for it (0 when the heap had room, or the block came from elsewhere).</summary>
    public long BreakMoved => (long)(BreakAfter - BreakBefore);
}
