using System.Runtime.InteropServices;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>One system call of an architecture: its number and name.</summary>
public sealed record SyscallEntry(Architecture Architecture, int Number, string Name)
{
    public override string ToString() => $"{Number} {Name}";
}

/// <summary>
/// The system call numbers of x86-64 and arm64 (the table ausyscall --dump lists, with the kernel's own __NR_ names such as pread64 and getdents64): number to name and back. The numbers
/// differ between the two (read is 0 on x86-64, 63 on arm64); arm64 uses the generic table most new architectures share.
/// </summary>
public static partial class SyscallTable
{
    /// <summary>The architectures with a table.</summary>
    public static IReadOnlyList<Architecture> Architectures { get; } = [Architecture.X64, Architecture.Arm64];

    /// <summary>This process's architecture.</summary>
    public static Architecture Current => RuntimeInformation.ProcessArchitecture;

    /// <summary>The machine the kernel runs (uname: x86_64, aarch64), as ausyscall picks its table.</summary>
    public static unsafe Architecture Machine(SyscallTrace? trace = null)
    {
        UtsName name;
        Syscall.Check(Libc.uname(&name), trace, "uname", "this machine", $"{{machine={TraceFormat.Quote(MachineText(&name))}}}");
        string machine = MachineText(&name);
        return machine switch
        {
            "x86_64" => Architecture.X64,
            "aarch64" or "arm64" => Architecture.Arm64,
            _ => throw new PlatformNotSupportedException($"Sysprog has the system call tables of x86_64 and aarch64, not of {machine}."),
        };

        static string MachineText(UtsName* name) => System.Text.Encoding.ASCII.GetString(
            MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name->Machine));
    }

    /// <summary>Every system call of <paramref name="architecture"/> (default this machine's), by number.</summary>
    public static IReadOnlyList<SyscallEntry> Entries(Architecture? architecture = null)
    {
        Architecture chosen = architecture ?? Current;
        string?[] names = Names(chosen);
        return Enumerable.Range(0, names.Length).Where(n => names[n] is not null).Select(n => new SyscallEntry(chosen, n, names[n]!)).ToList();
    }

    /// <summary>The name of system call <paramref name="number"/>, or null when the architecture has none by that number.</summary>
    public static string? Name(int number, Architecture? architecture = null)
    {
        string?[] names = Names(architecture ?? Current);
        return number >= 0 && number < names.Length ? names[number] : null;
    }

    /// <summary>The number of system call <paramref name="name"/>, or null when the architecture has none by that name.</summary>
    public static int? Number(string name, Architecture? architecture = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        int index = Array.IndexOf(Names(architecture ?? Current), name);
        return index >= 0 ? index : null;
    }

    private static string?[] Names(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64Names,
        Architecture.Arm64 => Arm64Names,
        _ when !Enum.IsDefined(architecture) => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, "Not an architecture: X64 or Arm64."),
        _ => throw new PlatformNotSupportedException($"Sysprog has the system call tables of x86-64 and arm64, not of {architecture}."),
    };
}
