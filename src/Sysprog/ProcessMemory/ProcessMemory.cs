using System.Runtime.InteropServices;
using Sysprog.Interop;
using static Sysprog.Interop.TraceFormat;

namespace Sysprog;

/// <summary>
/// One transfer to or from another process's memory: how many bytes were asked for and how many moved. A short
/// transfer stopped at <see cref="StoppedAt"/>, the first address that could not be read or written, for
/// <see cref="StopReason"/> (EFAULT: not mapped, or not readable or writable).
/// </summary>
public sealed record ProcessMemoryTransfer(int ProcessId, ulong Address, long Requested, long Transferred)
{
    public bool IsComplete => Transferred == Requested;

    public ulong? StoppedAt => IsComplete ? null : Address + (ulong)Transferred;

    /// <summary>Why a short transfer stopped, from one more byte tried at <see cref="StoppedAt"/>; null when complete.</summary>
    public Errno? StopReason { get; init; }

    /// <summary>process_vm_readv or process_vm_writev.</summary>
    public string Call { get; init; } = "process_vm_readv";

    /// <summary>For a short transfer, an error with the errno where it stopped and how much moved (which stays moved).</summary>
    public void ThrowIfIncomplete()
    {
        if (!IsComplete)
        {
            bool write = Call == "process_vm_writev";
            throw new SysprogException(StopReason ?? Errno.EFAULT, Call, $"0x{Address:x} in process {ProcessId}",
                $"{(write ? "Wrote" : "Read")} {Transferred} of {Requested} bytes; the rest, from 0x{StoppedAt:x}, cannot be {(write ? "written" : "read")}.");
        }
    }

    public override string ToString() => IsComplete
        ? $"{Transferred} bytes at 0x{Address:x} of process {ProcessId}"
        : $"{Transferred} of {Requested} bytes at 0x{Address:x} of process {ProcessId}: stopped at 0x{StoppedAt:x} ({StopReason?.Symbol() ?? "?"})";
}

/// <summary>How read memory is given back: one byte[], or integers in this machine's byte order.</summary>
public enum ProcessMemoryValue
{
    Bytes,
    Int32,
    UInt32,
    Int64,
    UInt64,
}

/// <summary>
/// Cross-memory attach: another process's memory read and written directly (process_vm_readv, process_vm_writev),
/// without ptrace stops or /proc/PID/mem. The kernel checks ptrace access (the same user, or CAP_SYS_PTRACE, within
/// what Yama allows); a refusal says which rule applied. Writes change a running program's memory under it: the
/// cmdlets ask first.
/// </summary>
public static class ProcessMemory
{
    /// <summary>The most one call moves: a byte[] is at most this long, and larger reads are better as several.</summary>
    public const int MaxTransfer = 64 * 1024 * 1024;

    /// <summary>Reads up to <paramref name="destination"/>.Length bytes at <paramref name="address"/>; a short read is reported, not thrown.</summary>
    public static unsafe ProcessMemoryTransfer Read(int processId, ulong address, Span<byte> destination, SyscallTrace? trace = null)
    {
        Validate(processId, address, destination.Length, nameof(destination));
        fixed (byte* local = destination)
        {
            return Transfer(processId, address, local, destination.Length, write: false, trace);
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes (fewer when the range runs into memory that cannot be read: see the transfer).</summary>
    public static byte[] Read(int processId, ulong address, int count, out ProcessMemoryTransfer transfer, SyscallTrace? trace = null)
    {
        Validate(processId, address, count, nameof(count));
        byte[] buffer = new byte[count];
        transfer = Read(processId, address, buffer, trace);
        return transfer.IsComplete ? buffer : buffer[..(int)transfer.Transferred];
    }

    /// <summary>Writes <paramref name="source"/> at <paramref name="address"/>; a short write is reported, not thrown.</summary>
    public static unsafe ProcessMemoryTransfer Write(int processId, ulong address, ReadOnlySpan<byte> source, SyscallTrace? trace = null)
    {
        Validate(processId, address, source.Length, nameof(source));
        fixed (byte* local = source)
        {
            return Transfer(processId, address, local, source.Length, write: true, trace);
        }
    }

    /// <summary>
    /// Whether <paramref name="processId"/> is this process, by its id or one of its threads' ids: a write there
    /// changes the running program under itself, and a wrong address or value ends it.
    /// </summary>
    public static bool IsThisProcess(int processId) => ProcFile.IsThisProcess(processId);

    /// <summary>The bytes one value of <paramref name="value"/> takes.</summary>
    public static int WidthOf(ProcessMemoryValue value) => value switch
    {
        ProcessMemoryValue.Bytes => 1,
        ProcessMemoryValue.Int32 or ProcessMemoryValue.UInt32 => 4,
        _ => 8,
    };

    /// <summary>Read bytes as <paramref name="value"/>: the bytes themselves, or the whole integers they hold (a short read's partial last one dropped).</summary>
    public static Array Decode(byte[] bytes, ProcessMemoryValue value)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ReadOnlySpan<byte> whole = bytes.AsSpan(0, bytes.Length / WidthOf(value) * WidthOf(value));
        return value switch
        {
            ProcessMemoryValue.Int32 => MemoryMarshal.Cast<byte, int>(whole).ToArray(),
            ProcessMemoryValue.UInt32 => MemoryMarshal.Cast<byte, uint>(whole).ToArray(),
            ProcessMemoryValue.Int64 => MemoryMarshal.Cast<byte, long>(whole).ToArray(),
            ProcessMemoryValue.UInt64 => MemoryMarshal.Cast<byte, ulong>(whole).ToArray(),
            _ => bytes,
        };
    }

    private static void Validate(int processId, ulong address, int count, string countName)
    {
        if (processId <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processId), processId, "A process id is positive.");
        }
        if (count is < 1 or > MaxTransfer)
        {
            throw new ArgumentOutOfRangeException(countName, count, $"A transfer is 1 to {MaxTransfer} bytes.");
        }
        if (address == 0 || address > ulong.MaxValue - (ulong)count)
        {
            throw new ArgumentOutOfRangeException(nameof(address), address, $"0x{address:x} + {count} bytes is not a range of addresses.");
        }
    }

    private static unsafe ProcessMemoryTransfer Transfer(int processId, ulong address, byte* local, int count, bool write, SyscallTrace? trace)
    {
        string call = write ? "process_vm_writev" : "process_vm_readv";
        string target = $"0x{address:x} in process {processId}";
        var localVector = new IoVec { Base = (nint)local, Length = (nuint)count };
        var remoteVector = new IoVec { Base = (nint)address, Length = (nuint)count };
        SyscallResult result;
        do
        {
            result = write
                ? Libc.process_vm_writev(processId, &localVector, 1, &remoteVector, 1, 0)
                : Libc.process_vm_readv(processId, &localVector, 1, &remoteVector, 1, 0);
        }
        while (result.Errno == Errno.EINTR);
        long moved = Syscall.CheckCount(result, trace, call, target,
            $"{processId}, [{{iov_base={(write ? Data(new ReadOnlySpan<byte>(local, Math.Min(count, 32))) : "...")}, iov_len={count}}}], 1, [{{iov_base=0x{address:x}, iov_len={count}}}], 1, 0",
            result.Failed ? Explain(result.Errno, processId, address, count, call) : null);
        var transfer = new ProcessMemoryTransfer(processId, address, count, moved) { Call = call };
        return transfer.IsComplete ? transfer : transfer with { StopReason = ProbeStop(processId, transfer.StoppedAt!.Value, write) };
    }

    /// <summary>Why a transfer stopped: one byte more, tried where it stopped, gives the errno.</summary>
    private static unsafe Errno ProbeStop(int processId, ulong at, bool write)
    {
        byte probe;
        var localVector = new IoVec { Base = (nint)(&probe), Length = 1 };
        var remoteVector = new IoVec { Base = (nint)at, Length = 1 };
        // Reading, even to learn why a write stopped: a probe must never change the target.
        SyscallResult result = Libc.process_vm_readv(processId, &localVector, 1, &remoteVector, 1, 0);
        // Readable there though the write stopped: the page is mapped but not writable.
        return result.Failed ? result.Errno : Errno.EFAULT;
    }

    private static string? Explain(Errno errno, int processId, ulong address, int count, string call) => errno switch
    {
        Errno.EFAULT => $"0x{address:x} ({count} bytes) is not mapped in process {processId}, or not {(call.EndsWith("writev", StringComparison.Ordinal) ? "writable" : "readable")}: Get-ProcessMapping -Id {processId} shows what is.",
        Errno.ESRCH => $"There is no process {processId} (any more).",
        Errno.EPERM => PtraceAccess.Explain(processId, call),
        Errno.ENOSYS => "Cross-memory attach needs Linux 3.2 or later, built with CONFIG_CROSS_MEMORY_ATTACH.",
        _ => null,
    };
}
