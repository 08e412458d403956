using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>
/// A descriptor that carries a stream of bytes (pipe ends, FIFOs, sockets, passed descriptors of other kinds): reads of a count, of what is there, or up to a
/// delimiter, as bytes or text, and writes, each with a timeout and cancellation. Bytes read from the descriptor and
/// not yet returned (what follows a delimiter, what came before a timeout, half of a character) stay here for the next
/// read, so nothing read is ever lost; <see cref="BufferedCount"/> says how many, and they make the object ready for
/// Wait-FileDescriptor though its descriptor may not be.
/// </summary>
public abstract class StreamDescriptor : FileDescriptorObject, IBufferedInput
{
    /// <summary>Pipes, FIFOs and sockets (not a passed descriptor of unknown kind): the kernel signals their readiness (they have an fasync operation).</summary>
    private protected override bool CanSignalReadiness => this is PipeEnd or Socket;

    /// <summary>The most one read(2) takes.</summary>
    public const int ChunkSize = 64 * 1024;

    private readonly object _gate = new();
    private byte[] _readAhead = [];
    private int _start;
    private int _end;

    private protected StreamDescriptor(SafeFdHandle fd, bool keptBlocking, bool nonBlocking = false) : base(fd, keptBlocking, nonBlocking)
    {
    }

    public abstract bool CanRead { get; }

    public abstract bool CanWrite { get; }

    /// <summary>
    /// True when the last read of the descriptor found the end of the stream (every writer closed); what is buffered
    /// can still be read. A FIFO can be opened by a new writer afterwards, so the next read tries again.
    /// </summary>
    public bool IsEnded { get; private set; }

    /// <summary>Bytes read from the descriptor that no read has returned yet.</summary>
    public int BufferedCount
    {
        get
        {
            lock (_gate)
            {
                return _end - _start;
            }
        }
    }

    bool IBufferedInput.HasBufferedInput => BufferedCount > 0;

    /// <summary>Bytes waiting in the kernel to be read (FIONREAD), not counting <see cref="BufferedCount"/>.</summary>
    public unsafe int BytesAvailable
    {
        get
        {
            using HandleLease lease = Lease();
            int count;
            Syscall.Check(Libc.ioctl(lease.Fd, Libc.FIONREAD, &count), null, "ioctl", Description, $"{lease.Fd}, FIONREAD");
            return count;
        }
    }

    /// <summary>
    /// Reads into <paramref name="buffer"/> what is there (what is buffered first, otherwise one read of the
    /// descriptor), waiting up to <paramref name="timeout"/> for something: the byte count, 0 at the end of the
    /// stream, or null on timeout (at once, when it would block, on a non-blocking object). Allocates nothing.
    /// </summary>
    public unsafe int? Read(Span<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ThrowUnlessReadable();
        Timeouts.Validate(timeout);
        if (buffer.IsEmpty)
        {
            throw new ArgumentException("Give room for at least one byte.", nameof(buffer));
        }
        lock (_gate)
        {
            if (_end > _start)
            {
                return TakeBuffered(buffer);
            }
            using HandleLease lease = Lease();
            long count;
            string call;
            fixed (byte* start = buffer)
            {
                count = ReadWaiting(lease.Fd, start, buffer.Length, !IsNonBlocking, timeout, cancellationToken, trace, out call);
            }
            if (count < 0)
            {
                return null;
            }
            Syscall.CheckCount(count, trace, call, Description, $"{lease.Fd}, {TraceFormat.Data(buffer[..(int)count])}, {buffer.Length}");
            IsEnded = count == 0;
            return (int)count;
        }
    }

    /// <summary>What is there now, at least one byte, waiting up to <paramref name="timeout"/> for some: null on timeout, empty at the end of the stream.</summary>
    public byte[]? ReadAvailable(TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ThrowUnlessReadable();
        Timeouts.Validate(timeout);
        lock (_gate)
        {
            if (_end == _start && !Fill(timeout, cancellationToken, trace))
            {
                return null;
            }
            return Take(_end - _start);
        }
    }

    /// <summary>
    /// Exactly <paramref name="count"/> bytes, or fewer when the stream ends first (empty at its end). Null when
    /// <paramref name="timeout"/> passes first: what did arrive stays buffered for the next read.
    /// </summary>
    public byte[]? ReadExactly(int count, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ThrowUnlessReadable();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Timeouts.Validate(timeout);
        long deadline = FdWait.Deadline(timeout);
        lock (_gate)
        {
            while (_end - _start < count)
            {
                if (!Fill(FdWait.Remaining(deadline), cancellationToken, trace))
                {
                    return null;
                }
                if (IsEnded)
                {
                    break;
                }
            }
            return Take(Math.Min(count, _end - _start));
        }
    }

    /// <summary>
    /// The bytes up to and including the first <paramref name="delimiter"/> (what follows stays buffered), or the rest
    /// of the stream when it ends without one (empty at its end). Null when <paramref name="timeout"/> passes first:
    /// what did arrive stays buffered.
    /// </summary>
    public byte[]? ReadTo(ReadOnlySpan<byte> delimiter, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ThrowUnlessReadable();
        if (delimiter.IsEmpty)
        {
            throw new ArgumentException("A delimiter is at least one byte.", nameof(delimiter));
        }
        Timeouts.Validate(timeout);
        long deadline = FdWait.Deadline(timeout);
        lock (_gate)
        {
            int searched = 0;
            while (true)
            {
                int found = _readAhead.AsSpan(_start + searched, _end - _start - searched).IndexOf(delimiter);
                if (found >= 0)
                {
                    return Take(searched + found + delimiter.Length);
                }
                // A delimiter may straddle what is buffered and what comes next.
                searched = Math.Max(0, _end - _start - (delimiter.Length - 1));
                if (!Fill(FdWait.Remaining(deadline), cancellationToken, trace))
                {
                    return null;
                }
                if (IsEnded)
                {
                    return Take(_end - _start);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="ReadAvailable"/> decoded as text. The bytes of a character that has not fully arrived stay buffered
    /// for the next read, so a character split across writes is never mangled.
    /// </summary>
    public string? ReadAvailableText(Encoding? encoding, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ThrowUnlessReadable();
        Timeouts.Validate(timeout);
        encoding ??= TextEncodings.Parse(null);
        long deadline = FdWait.Deadline(timeout);
        lock (_gate)
        {
            while (true)
            {
                ReadOnlySpan<byte> buffered = _readAhead.AsSpan(_start, _end - _start);
                int whole = buffered.Length - TextEncodings.IncompleteTail(encoding, buffered);
                if (whole > 0)
                {
                    return encoding.GetString(Take(whole));
                }
                if (!Fill(FdWait.Remaining(deadline), cancellationToken, trace))
                {
                    return null;
                }
                if (IsEnded)
                {
                    // A character cut short by the end of the stream decodes as the replacement character.
                    return encoding.GetString(Take(_end - _start));
                }
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/>, waiting up to <paramref name="timeout"/> while the other side takes no
    /// more, and returns how many bytes went: all of them, or fewer where the write would block (a non-blocking
    /// object, or a zero timeout). A timeout that passes is a <see cref="TimeoutException"/> that says how many bytes
    /// went (they cannot be taken back). Writes of at most PIPE_BUF (4096) bytes to a pipe are atomic: concurrent
    /// writers' data never interleaves.
    /// </summary>
    public int Write(ReadOnlySpan<byte> data, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ThrowUnlessWritable();
        Timeouts.Validate(timeout);
        int written = WriteWaiting(data, timeout, cancellationToken, trace);
        if (written < data.Length && timeout != TimeSpan.Zero && !IsNonBlocking)
        {
            throw new TimeoutException($"{Description} took {written} of {data.Length} bytes within {Units.FormatDuration(timeout)}: nothing is reading.");
        }
        return written;
    }

    /// <summary>Writes what fits now, without waiting: the bytes written, 0 when the other side takes nothing now.</summary>
    public int WriteWithoutWaiting(ReadOnlySpan<byte> data, SyscallTrace? trace = null)
    {
        ThrowUnlessWritable();
        return WriteWaiting(data, TimeSpan.Zero, default, trace);
    }

    /// <summary>Writes <paramref name="text"/> encoded (UTF-8 unless told), as <see cref="Write(ReadOnlySpan{byte}, TimeSpan, CancellationToken, SyscallTrace?)"/>.</summary>
    public int Write(string text, Encoding? encoding, TimeSpan timeout, CancellationToken cancellationToken = default, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Write((encoding ?? TextEncodings.Parse(null)).GetBytes(text), timeout, cancellationToken, trace);
    }

    /// <summary>One read of the descriptor appended to the read-ahead; false on timeout. A read of 0 marks the end.</summary>
    private unsafe bool Fill(TimeSpan timeout, CancellationToken cancellationToken, SyscallTrace? trace)
    {
        MakeRoom();
        using HandleLease lease = Lease();
        long count;
        string call;
        fixed (byte* start = &_readAhead[_end])
        {
            count = ReadWaiting(lease.Fd, start, ChunkSize, !IsNonBlocking, timeout, cancellationToken, trace, out call);
        }
        if (count < 0)
        {
            return false;
        }
        Syscall.CheckCount(count, trace, call, Description, $"{lease.Fd}, {TraceFormat.Data(_readAhead.AsSpan(_end, (int)count))}, {ChunkSize}");
        _end += (int)count;
        IsEnded = count == 0;
        return true;
    }

    /// <summary>Room for one more chunk after what is buffered: the buffered bytes move to the front, the array grows only as far as they need.</summary>
    private void MakeRoom()
    {
        int buffered = _end - _start;
        if (_readAhead.Length - _end >= ChunkSize)
        {
            return;
        }
        byte[] target = _readAhead.Length - buffered >= ChunkSize ? _readAhead : new byte[buffered + ChunkSize];
        _readAhead.AsSpan(_start, buffered).CopyTo(target);
        (_readAhead, _start, _end) = (target, 0, buffered);
    }

    /// <summary>The lock every read holds, so that subclasses' own reads (a socket's messages) keep the order of the bytes.</summary>
    private protected object ReadGate => _gate;

    /// <summary>Everything buffered, taken; null when nothing is. The caller holds <see cref="ReadGate"/>.</summary>
    private protected byte[]? TakeAllBuffered() => _end > _start ? Take(_end - _start) : null;

    /// <summary>What a subclass's own read saw of the end of the stream. The caller holds <see cref="ReadGate"/>.</summary>
    private protected void SetEnded(bool ended) => IsEnded = ended;

    private byte[] Take(int count)
    {
        byte[] taken = _readAhead.AsSpan(_start, count).ToArray();
        Consume(count);
        return taken;
    }

    private int TakeBuffered(Span<byte> buffer)
    {
        int count = Math.Min(buffer.Length, _end - _start);
        _readAhead.AsSpan(_start, count).CopyTo(buffer);
        Consume(count);
        return count;
    }

    private void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            (_start, _end) = (0, 0);
        }
    }

    private protected abstract string ReadRefusal { get; }

    private protected abstract string WriteRefusal { get; }

    private void ThrowUnlessReadable()
    {
        if (!CanRead)
        {
            throw new InvalidOperationException(ReadRefusal);
        }
    }

    private void ThrowUnlessWritable()
    {
        if (!CanWrite)
        {
            throw new InvalidOperationException(WriteRefusal);
        }
    }
}
