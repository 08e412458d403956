using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Sysprog.Interop;

/// <summary>
/// A libc return value with the errno captured the moment it was produced. The implicit conversion runs as the call
/// result is evaluated, before any other argument (C# evaluates arguments left to right); that matters because
/// formatting a trace or a target can itself P/Invoke (ICU loads lazily) and overwrite the last error.
/// </summary>
internal readonly struct SyscallResult
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SyscallResult(long value, bool failed) =>
        (Value, Failed, Errno) = (value, failed, failed ? (Errno)Marshal.GetLastPInvokeError() : Errno.None);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SyscallResult(long value) : this(value, value == -1)
    {
    }

    public long Value { get; }

    public Errno Errno { get; }

    public bool Failed { get; }

    private SyscallResult(long value, Errno errno) => (Value, Failed, Errno) = (value, errno != Errno.None, errno);

    /// <summary>For calls that return 0 or an error number instead of setting errno (posix_spawn, the pthread family).</summary>
    public static SyscallResult FromErrorNumber(int result) => new(result == 0 ? 0 : -1, (Errno)result);

    /// <summary>For calls that return NULL on failure (sem_open's SEM_FAILED is 0 in glibc and musl).</summary>
    public static SyscallResult NullOnFailure(IntPtr value) => new(value, value == IntPtr.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator SyscallResult(int value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator SyscallResult(long value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator SyscallResult(IntPtr value) => new(value);
}

/// <summary>
/// The one path from a libc return value to a result, a trace line and, on failure, a
/// <see cref="SysprogException"/>. Call sites stay one line; the argument text is only formatted when
/// a trace is listening, so untraced calls allocate nothing.
/// </summary>
internal static class Syscall
{
    /// <summary>For calls returning an int (an fd, 0).</summary>
    public static int Check(SyscallResult result, SyscallTrace? trace, string call, string target,
        [InterpolatedStringHandlerArgument(nameof(trace))] ref TraceArguments arguments, string? detailOnFailure = null)
    {
        Complete(result, trace, call, target, ref arguments, detailOnFailure);
        arguments.Emit(trace, call, result.Value);
        return (int)result.Value;
    }

    /// <summary>For calls returning a byte count (read, write).</summary>
    public static long CheckCount(SyscallResult result, SyscallTrace? trace, string call, string target,
        [InterpolatedStringHandlerArgument(nameof(trace))] ref TraceArguments arguments, string? detailOnFailure = null)
    {
        Complete(result, trace, call, target, ref arguments, detailOnFailure);
        arguments.Emit(trace, call, result.Value);
        return result.Value;
    }

    /// <summary>For calls returning a pointer, with (void*)-1 as the failure value (mmap).</summary>
    public static IntPtr CheckPointer(SyscallResult result, SyscallTrace? trace, string call, string target,
        [InterpolatedStringHandlerArgument(nameof(trace))] ref TraceArguments arguments, string? detailOnFailure = null)
    {
        Complete(result, trace, call, target, ref arguments, detailOnFailure);
        arguments.EmitPointer(trace, call, (IntPtr)result.Value);
        return (IntPtr)result.Value;
    }

    /// <summary>Traces a call whose failure the caller handles itself (a would-block, a retry) and returns the result unchanged.</summary>
    public static SyscallResult Traced(SyscallResult result, SyscallTrace? trace, string call,
        [InterpolatedStringHandlerArgument(nameof(trace))] ref TraceArguments arguments)
    {
        if (result.Failed)
        {
            arguments.EmitFailure(trace, call, result.Errno);
        }
        else
        {
            arguments.Emit(trace, call, result.Value);
        }
        return result;
    }

    /// <summary>geteuid(2), which cannot fail, narrated like any other call.</summary>
    public static uint EffectiveUserId(SyscallTrace? trace)
    {
        uint uid = Libc.geteuid();
        trace?.Invoke($"geteuid() = {uid}");
        return uid;
    }

    private static void Complete(SyscallResult result, SyscallTrace? trace, string call, string target, ref TraceArguments arguments, string? detail)
    {
        if (result.Failed)
        {
            Fail(result.Errno, trace, call, target, ref arguments, detail);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Fail(Errno errno, SyscallTrace? trace, string call, string target, ref TraceArguments arguments, string? detail)
    {
        arguments.EmitFailure(trace, call, errno);
        throw new SysprogException(errno, call, target, detail);
    }
}

/// <summary>Formats a call's arguments only when a trace is attached.</summary>
[InterpolatedStringHandler]
internal ref struct TraceArguments
{
    private DefaultInterpolatedStringHandler _text;
    private readonly bool _enabled;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TraceArguments(int literalLength, int formattedCount, SyscallTrace? trace, out bool shouldAppend)
    {
        _enabled = shouldAppend = trace is not null;
        _text = _enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

    public void AppendFormatted(string? value) => _text.AppendFormatted(value);

    // The checks are inlined into the hot paths; the formatting, which only a listening trace reaches, is not.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Emit(SyscallTrace? trace, string call, long result)
    {
        if (_enabled && trace is not null)
        {
            WriteLine(trace, call, result, pointer: false);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void EmitPointer(SyscallTrace? trace, string call, IntPtr result)
    {
        if (_enabled && trace is not null)
        {
            WriteLine(trace, call, result, pointer: true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void EmitFailure(SyscallTrace? trace, string call, Errno errno)
    {
        if (_enabled && trace is not null)
        {
            WriteFailure(trace, call, errno);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteLine(SyscallTrace trace, string call, long result, bool pointer) =>
        trace(pointer ? $"{call}({_text.ToStringAndClear()}) = 0x{result:x}" : $"{call}({_text.ToStringAndClear()}) = {result}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteFailure(SyscallTrace trace, string call, Errno errno) =>
        trace($"{call}({_text.ToStringAndClear()}) = -1 {errno.Symbol()} ({errno.Description()})");
}

/// <summary>Helpers for rendering arguments the way strace does.</summary>
internal static class TraceFormat
{
    /// <summary>A path or other text from a user or the system, quoted and escaped as strace quotes a string (<see cref="NameEscaping.Quote(string, int)"/>).</summary>
    public static string Quote(string value) => NameEscaping.Quote(value);

    /// <summary>A name already in its escaped form (a canonical IPC name), quoted: its escapes are kept, not escaped again.</summary>
    public static string QuoteName(string escaped) => NameEscaping.Quote(NameEscaping.Unescape(escaped));

    /// <summary>Bytes of data, quoted and escaped by the same rule as names; at most <paramref name="limit"/> of them, then "...".</summary>
    public static string Data(ReadOnlySpan<byte> data, int limit = 32) => NameEscaping.Quote(data, limit);

    /// <summary>Text as <see cref="Data(ReadOnlySpan{byte}, int)"/> shows bytes; <paramref name="limit"/> counts characters.</summary>
    public static string Data(ReadOnlySpan<char> data, int limit = 32) => NameEscaping.Quote(data.ToString(), limit);

    public static string Octal(int mode) => "0" + Convert.ToString(mode, 8).PadLeft(3, '0');

    public static string Pointer(IntPtr address) => address == IntPtr.Zero ? "NULL" : $"0x{address:x}";

    /// <summary>Renders flags as C names joined with '|', with any unnamed bits in hex.</summary>
    public static string Flags(long value, ReadOnlySpan<(long Bit, string Name)> names, string zero)
    {
        if (value == 0)
        {
            return zero;
        }
        var parts = new List<string>();
        long rest = value;
        foreach ((long bit, string name) in names)
        {
            if (bit != 0 && (rest & bit) == bit)
            {
                parts.Add(name);
                rest &= ~bit;
            }
        }
        if (rest != 0)
        {
            parts.Add($"0x{rest:x}");
        }
        return string.Join('|', parts);
    }
}
