using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sysprog;

namespace Sysprog.Cli;

internal static class Cli
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    /// <summary>A wait ran out its --timeout: 124, as timeout(1) exits, so a script tells "not yet" from "failed".</summary>
    public const int TimedOut = 124;
    /// <summary>Stopped by Ctrl+C: 128 + SIGINT, as a shell reports a program SIGINT ended.</summary>
    public const int Interrupted = 130;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>One object per line, for streams of records.</summary>
    public static readonly JsonSerializerOptions CompactJson = new(Json) { WriteIndented = false };

    /// <summary>A duration option as a timeout: absent is no limit.</summary>
    public static TimeSpan Timeout(ParseResult result, Option<string?> option) =>
        result.GetValue(option) is string text ? Units.ParseDuration(text) : System.Threading.Timeout.InfiniteTimeSpan;

    public static SyscallTrace? Trace(ParseResult result, Option<bool> trace) =>
        result.GetValue(trace) ? line => Console.Error.WriteLine(line) : null;

    /// <summary>Runs an action, turning failures into the same errno-named message the cmdlets show, and an exit code.</summary>
    public static int Run(Action action)
    {
        try
        {
            action();
            return Success;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>
    /// A failure as the user sees it: its message on one line of stderr, never a stack trace, and the exit code the
    /// README documents (2 for bad input, 124 for a wait that timed out, 130 for Ctrl+C, 1 for everything else). Sysprog's own failures name the object, the call and
    /// the errno; an exception no command expects is named by its type, so it can still be reported, and so is one
    /// of the expected kinds raised inside .NET rather than by Sysprog (a bug: see ExceptionOrigin).
    /// </summary>
    public static int Report(Exception e) => e switch
    {
        _ when ExceptionOrigin.IsInternal(e) => Unexpected(e),
        SysprogException => Fail(e.Message, Failed),
        ArgumentException or FormatException or FileNotFoundException or OverflowException or ElfFormatException => Fail(ExceptionText.ForUser(e), BadInput),
        TimeoutException => Fail(e.Message, TimedOut),
        OperationCanceledException => Fail(e.Message, Interrupted),
        UnauthorizedAccessException or IOException or KeyNotFoundException or InvalidOperationException => Fail(e.Message, Failed),
        _ => Unexpected(e),
    };

    private static int Unexpected(Exception e) => Fail($"{e.Message} ({e.GetType().FullName}: unexpected here, please report it)", Failed);

    /// <summary>A mapping, after warning on stderr when another user could shrink what it maps (MemoryMapping.ShrinkRisk).</summary>
    public static MemoryMapping Warned(MemoryMapping mapping) => Warned(mapping, mapping.ShrinkRisk);

    /// <summary>A named semaphore, after warning on stderr when another user could shrink its file (PosixSemaphore.ShrinkRisk).</summary>
    public static PosixSemaphore Warned(PosixSemaphore semaphore) => Warned(semaphore, semaphore.ShrinkRisk);

    private static T Warned<T>(T opened, string? risk)
    {
        if (risk is not null)
        {
            Console.Error.WriteLine($"sysprog: warning: {risk}");
        }
        return opened;
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"sysprog: {message}");
        return code;
    }

    /// <summary>A token Ctrl+C cancels (instead of ending the process) until disposed, for waits that must let go of what they hold.</summary>
    public sealed class CtrlC : IDisposable
    {
        private readonly CancellationTokenSource _source = new();

        public CtrlC() => Console.CancelKeyPress += OnCancelKeyPress;

        public CancellationToken Token => _source.Token;

        private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            _source.Cancel();
        }

        public void Dispose()
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
            _source.Dispose();
        }
    }

    /// <summary>
    /// How to start this same program again with <paramref name="arguments"/>: the executable, and the words before
    /// the arguments (the tool's dll when it runs as "dotnet sysprog.dll" rather than as its apphost).
    /// </summary>
    public static (string Program, IReadOnlyList<string> Arguments) Self(IEnumerable<string> arguments)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable is running.");
        IEnumerable<string> words = Path.GetFileNameWithoutExtension(host) == "dotnet" ? arguments.Prepend(typeof(Cli).Assembly.Location) : arguments;
        return (host, words.ToArray());
    }

    public static void WriteJson<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>"  (a directory, not a semaphore)" after a listed entry that is not a usable object, nothing otherwise.</summary>
    public static string ProblemSuffix(NamedObjectInfo info) => info.Problem is null ? "" : $"  ({info.Problem})";

    public static Argument<string> NameArgument(string description = "The object's name, such as /demo.") =>
        new("name") { Description = description };
}
