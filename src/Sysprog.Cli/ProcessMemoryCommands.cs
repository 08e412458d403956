using System.CommandLine;
using System.Globalization;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>Another process's memory: peek reads it (process_vm_readv), poke writes it (process_vm_writev).</summary>
internal static class ProcessMemoryCommands
{
    public static Command BuildPeek(Option<bool> trace)
    {
        var processId = new Argument<int>("pid") { Description = "The process." };
        var address = new Argument<string>("address") { Description = "Where to read: 0x7f12a000, decimal, or a symbol of the process (a global variable)." };
        var count = new Option<int?>("--count") { Description = "How many values of --as (bytes by default). Default: a symbol's size, or 16." };
        var format = new Option<string>("--as") { Description = "bytes (a hex dump), int32, uint32, int64 or uint64.", DefaultValueFactory = _ => "bytes" };
        format.AcceptOnlyFromAmong("bytes", "int32", "uint32", "int64", "uint64");
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("peek", "Read another process's memory (process_vm_readv) at an address or a symbol; a short read says where it stopped and why.")
        {
            processId, address, count, format, json,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            ProcessMemoryValue kind = Enum.Parse<ProcessMemoryValue>(r.GetValue(format)!, ignoreCase: true);
            SyscallTrace? traced = Cli.Trace(r, trace);
            (ulong at, ulong symbolSize) = Locate(r.GetValue(processId), r.GetValue(address)!, traced);
            int width = ProcessMemory.WidthOf(kind);
            int bytesWanted = r.GetValue(count) is int asked ? checked(asked * width) : symbolSize > 0 ? (int)Math.Min(symbolSize, ProcessMemory.MaxTransfer) : 16 * width;
            byte[] bytes = ProcessMemory.Read(r.GetValue(processId), at, bytesWanted, out ProcessMemoryTransfer transfer, traced);
            object values = kind == ProcessMemoryValue.Bytes ? Convert.ToHexString(bytes).ToLowerInvariant() : ProcessMemory.Decode(bytes, kind);
            if (r.GetValue(json))
            {
                Cli.WriteJson(new { transfer.ProcessId, Address = $"0x{at:x}", transfer.Requested, transfer.Transferred, StoppedAt = transfer.StoppedAt is ulong s ? $"0x{s:x}" : null, StopReason = transfer.StopReason?.Symbol(), Values = values });
            }
            else if (values is string)
            {
                for (int offset = 0; offset < bytes.Length; offset += 16)
                {
                    Console.WriteLine($"{at + (ulong)offset:x16}  {string.Join(' ', bytes.Skip(offset).Take(16).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)))}");
                }
            }
            else
            {
                foreach (object value in (System.Collections.IEnumerable)values)
                {
                    Console.WriteLine(value);
                }
            }
            transfer.ThrowIfIncomplete();
        }));
        return command;
    }

    public static Command BuildPoke(Option<bool> trace)
    {
        var processId = new Argument<int>("pid") { Description = "The process." };
        var address = new Argument<string>("address") { Description = "Where to write: 0x7f12a000, decimal, or a symbol of the process (a global variable)." };
        var int64 = new Option<long?>("--int64") { Description = "Write one 64-bit integer (this machine's byte order)." };
        var int32 = new Option<int?>("--int32") { Description = "Write one 32-bit integer." };
        var hex = new Option<string?>("--hex") { Description = "Write these bytes, as hex digits (deadbeef)." };
        var command = new Command("poke", "Write another process's memory (process_vm_writev): one of --int64, --int32 or --hex.")
        {
            processId, address, int64, int32, hex,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            long? asInt64 = r.GetValue(int64);
            int? asInt32 = r.GetValue(int32);
            string? asHex = r.GetValue(hex);
            if ((asInt64 is null ? 0 : 1) + (asInt32 is null ? 0 : 1) + (asHex is null ? 0 : 1) != 1)
            {
                throw new ArgumentException("Give exactly one of --int64, --int32 and --hex.");
            }
            byte[] data = asInt64 is long l ? BitConverter.GetBytes(l) : asInt32 is int i ? BitConverter.GetBytes(i) : Convert.FromHexString(asHex!);
            SyscallTrace? traced = Cli.Trace(r, trace);
            (ulong at, _) = Locate(r.GetValue(processId), r.GetValue(address)!, traced);
            ProcessMemoryTransfer transfer = ProcessMemory.Write(r.GetValue(processId), at, data, traced);
            Console.WriteLine(transfer);
            transfer.ThrowIfIncomplete();
        }));
        return command;
    }

    /// <summary>An address as written (0x7f12a000, decimal), or a symbol of the process found in its maps and files, with its size.</summary>
    private static (ulong Address, ulong SymbolSize) Locate(int processId, string text, SyscallTrace? trace)
    {
        if (text.Length > 0 && (char.IsAsciiDigit(text[0])))
        {
            return (ParseAddress(text), 0);
        }
        ProcessSymbol symbol = ProcessSymbols.Find(processId, text, trace);
        return (symbol.Address, symbol.Size);
    }

    private static ulong ParseAddress(string text) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hex) ? hex : throw new FormatException($"'{text}' is not an address.")
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number) ? number : throw new FormatException($"'{text}' is not an address: 0x7f12a000 or decimal.");
}
