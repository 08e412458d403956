using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Sysprog.Interop;

namespace Sysprog;

/// <summary>The C types a <see cref="NativeSignature"/> can name.</summary>
public enum NativeType
{
    Void,
    Int,
    Long,
    SizeT,
    Double,
    /// <summary>const char*: a NUL-terminated UTF-8 string, passed in from a .NET string or read back into one.</summary>
    String,
}

/// <summary>
/// One of the fixed C signatures a function found by dlsym can be called with: <c>double(double)</c> for cos,
/// <c>size_t(const char*)</c> for strlen, <c>int(void)</c>, <c>long(long,long)</c>... There is no free-form call:
/// each signature is a compiled function-pointer call, so the arguments reach the function in the registers the C
/// ABI puts them in. A function called with a signature that is not its own reads garbage, or worse: only code
/// symbols are called, but what the code does is the caller's to know.
/// </summary>
public sealed class NativeSignature
{
    private NativeSignature(string text, NativeType returns, params NativeType[] parameters)
    {
        Text = text;
        Returns = returns;
        Parameters = parameters;
    }

    /// <summary>The signature as C writes it: "double(double,double)", "size_t(const char*)".</summary>
    public string Text { get; }

    public NativeType Returns { get; }

    public IReadOnlyList<NativeType> Parameters { get; }

    public override string ToString() => Text;

    /// <summary>Every signature that can be called.</summary>
    public static IReadOnlyList<NativeSignature> All { get; } =
    [
        new("int(void)", NativeType.Int),
        new("long(void)", NativeType.Long),
        new("double(void)", NativeType.Double),
        new("const char*(void)", NativeType.String),
        new("int(int)", NativeType.Int, NativeType.Int),
        new("long(long)", NativeType.Long, NativeType.Long),
        new("double(double)", NativeType.Double, NativeType.Double),
        new("const char*(int)", NativeType.String, NativeType.Int),
        new("long(long,long)", NativeType.Long, NativeType.Long, NativeType.Long),
        new("double(double,double)", NativeType.Double, NativeType.Double, NativeType.Double),
        new("size_t(const char*)", NativeType.SizeT, NativeType.String),
        new("int(const char*)", NativeType.Int, NativeType.String),
        new("long(const char*)", NativeType.Long, NativeType.String),
        new("double(const char*)", NativeType.Double, NativeType.String),
        new("int(const char*,const char*)", NativeType.Int, NativeType.String, NativeType.String),
    ];

    /// <summary>"double (double)", "size_t(const char *)", "int()": spaces do not matter and "()" is "(void)".</summary>
    public static NativeSignature Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string compact = Compact(text).Replace("()", "(void)", StringComparison.Ordinal);
        return All.FirstOrDefault(s => Compact(s.Text) == compact)
            ?? throw new FormatException($"'{text}' is not a signature Sysprog can call; use one of: {string.Join(", ", All.Select(static s => s.Text))}.");
    }

    private static string Compact(string text) => string.Concat(text.Where(static c => !char.IsWhiteSpace(c)));

    /// <summary>
    /// Calls the function at the symbol's address with these arguments, converted to the parameter types first (a
    /// bad argument is refused before the call). The symbol must be code (STT_FUNC or STT_GNU_IFUNC), and the object
    /// holding it stays loaded for the length of the call.
    /// </summary>
    public object? Invoke(SharedLibrarySymbol function, IReadOnlyList<object?> arguments, SyscallTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(arguments);
        if (!function.IsFunction)
        {
            string what = function.Type is null ? "of no known type" : $"a {function.Type} symbol";
            throw new InvalidOperationException($"{function.Name} at 0x{function.Address:x} is {what}, not a function: only code is called.");
        }
        if (arguments.Count != Parameters.Count)
        {
            throw new ArgumentException($"{Text} takes {Parameters.Count} argument(s); {arguments.Count} given.", nameof(arguments));
        }
        var values = new object[arguments.Count];
        for (int i = 0; i < arguments.Count; i++)
        {
            values[i] = Convert(arguments[i], Parameters[i], i);
        }
        using PinnedObject pin = PinnedObject.Of(function, trace);
        object? result = Call(function.Address, values);
        trace?.Invoke($"{function.Name}({string.Join(", ", values.Select(Show))}) = {Show(result)}");
        return result;
    }

    private static object Convert(object? argument, NativeType type, int index)
    {
        try
        {
            return type switch
            {
                NativeType.Int => System.Convert.ToInt32(argument ?? throw Missing(index), CultureInfo.InvariantCulture),
                NativeType.Long => System.Convert.ToInt64(argument ?? throw Missing(index), CultureInfo.InvariantCulture),
                NativeType.Double => System.Convert.ToDouble(argument ?? throw Missing(index), CultureInfo.InvariantCulture),
                NativeType.String => argument as string is string text && !text.Contains('\0', StringComparison.Ordinal)
                    ? text
                    : throw new ArgumentException($"Argument {index + 1} must be a string without NUL characters for const char*; NULL is never passed.", ArgumentsParameter),
                _ => throw new ArgumentException($"{type} is not a parameter type.", nameof(type)),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"Argument {index + 1} ({argument}) is not a {type}: {e.Message}", ArgumentsParameter, e);
        }
    }

    private static ArgumentException Missing(int index) => new($"Argument {index + 1} is null.", ArgumentsParameter);

    /// <summary>What an error in one argument names: <see cref="Invoke"/>'s list of them.</summary>
    private const string ArgumentsParameter = "arguments";

    private static string Show(object? value) => value switch
    {
        null => "NULL",
        string text => TraceFormat.Quote(text),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private unsafe object? Call(ulong address, object[] a)
    {
        nint f = (nint)address;
        switch (Text)
        {
            case "int(void)":
                return ((delegate* unmanaged<int>)f)();
            case "long(void)":
                return (long)((delegate* unmanaged<nint>)f)();
            case "double(void)":
                return ((delegate* unmanaged<double>)f)();
            case "const char*(void)":
                return Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)f)());
            case "int(int)":
                return ((delegate* unmanaged<int, int>)f)((int)a[0]);
            case "long(long)":
                return (long)((delegate* unmanaged<nint, nint>)f)((nint)(long)a[0]);
            case "double(double)":
                return ((delegate* unmanaged<double, double>)f)((double)a[0]);
            case "const char*(int)":
                return Marshal.PtrToStringUTF8(((delegate* unmanaged<int, nint>)f)((int)a[0]));
            case "long(long,long)":
                return (long)((delegate* unmanaged<nint, nint, nint>)f)((nint)(long)a[0], (nint)(long)a[1]);
            case "double(double,double)":
                return ((delegate* unmanaged<double, double, double>)f)((double)a[0], (double)a[1]);
            case "int(const char*,const char*)":
            {
                fixed (byte* first = Utf8((string)a[0]))
                fixed (byte* second = Utf8((string)a[1]))
                {
                    return ((delegate* unmanaged<byte*, byte*, int>)f)(first, second);
                }
            }
            default:
            {
                fixed (byte* text = Utf8((string)a[0]))
                {
                    // Each arm boxed on its own: a switch expression of numbers would widen them all to double.
                    return Text switch
                    {
                        "size_t(const char*)" => (object)(ulong)((delegate* unmanaged<byte*, nuint>)f)(text),
                        "int(const char*)" => (object)((delegate* unmanaged<byte*, int>)f)(text),
                        "long(const char*)" => (object)(long)((delegate* unmanaged<byte*, nint>)f)(text),
                        "double(const char*)" => (object)((delegate* unmanaged<byte*, double>)f)(text),
                        _ => throw new InvalidOperationException($"{Text} has no call compiled for it."),
                    };
                }
            }
        }
    }

    private static byte[] Utf8(string text)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>
    /// Keeps the object holding a function loaded while it runs: a lease on the library it was looked up through,
    /// or, for a scope lookup, a dlopen(RTLD_NOLOAD) reference of its own.
    /// </summary>
    private readonly ref struct PinnedObject
    {
        private readonly HandleLease _lease;
        private readonly SharedLibrary? _reference;

        private PinnedObject(HandleLease lease, SharedLibrary? reference)
        {
            _lease = lease;
            _reference = reference;
        }

        public static PinnedObject Of(SharedLibrarySymbol function, SyscallTrace? trace)
        {
            if (function.Library is SharedLibrary library)
            {
                return new PinnedObject(library.Lease(), null);
            }
            SharedLibrary? reference = function.LibraryPath is string path ? SharedLibrary.OpenIfLoaded(path, trace) : null;
            if (reference is null && !IsStillMapped(function))
            {
                throw new InvalidOperationException($"{function.Name} at 0x{function.Address:x} lies in no object that is still loaded.");
            }
            return new PinnedObject(default, reference);
        }

        private static bool IsStillMapped(SharedLibrarySymbol function) =>
            function.LibraryPath is not null && SharedLibrary.DescribeAddress(function.Address) is SharedLibrarySymbol now && now.LibraryPath == function.LibraryPath;

        public void Dispose()
        {
            _lease.Dispose();
            _reference?.Dispose();
        }
    }
}
