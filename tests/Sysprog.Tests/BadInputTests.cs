using System.Collections;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Sysprog.Tests;

/// <summary>
/// Bad input, tried systematically over every public method of the core: each parameter in turn gets the bad values
/// of its type (empty, huge, negative, NaN, infinite, undefined enum bits, non-UTF-8 text, NUL, null, closed
/// objects, a cancelled token) while the others keep a valid value. Each case must end in under a second in success
/// or a named error: an ArgumentException naming one of the method's parameters, or an error the core documents
/// (SysprogException with its call and errno, not-found, wrong state, timeout). Anything else (a
/// NullReferenceException, an overflow, a hang) is a failure. Methods whose work is long by request (a count of
/// increments) take a CancellationToken, and for them a case may instead end within a second of its cancellation.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(1);
    private readonly ITestOutputHelper _output;
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"sysprog-badinput-{Environment.ProcessId}");
    private readonly HashSet<string> _before = Entries();

    // Bad paths that are valid relative names (" ", "*") make lock files: in a folder of this test's own, not the checkout.
    private readonly string _previousDirectory = Environment.CurrentDirectory;
    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-badinput-cwd-").FullName;

    public BadInputTests(ITestOutputHelper output)
    {
        _output = output;
        File.WriteAllBytes(_file, new byte[8192]);
        Environment.CurrentDirectory = _folder;
    }

    public void Dispose()
    {
        Environment.CurrentDirectory = _previousDirectory;
        Directory.Delete(_folder, recursive: true);
        File.Delete(_file);
        // A bad value that happens to be a valid name (" ", "x") may create an object: remove what appeared.
        foreach (string entry in Entries().Except(_before).Where(IsOwnOrNameLike))
        {
            if (entry.StartsWith(MessageQueue.Directory + "/", StringComparison.Ordinal))
            {
                TestNames.UnlinkQueueIfPresent(entry[MessageQueue.Directory.Length..]);
            }
            else
            {
                File.Delete(entry);
            }
        }
        TestNames.AssertNoneLeft();
    }

    [Fact]
    public void EveryCoreMethod_BadValueInEveryParameter_EndsInSuccessOrANamedErrorWithinASecond()
    {
        var failures = new List<string>();
        int cases = 0;
        var methods = CoreMethods().ToList();
        foreach (MethodBase method in methods)
        {
            ParameterInfo[] parameters = method.GetParameters();
            if (!method.IsStatic && !method.IsConstructor && typeof(IDisposable).IsAssignableFrom(method.DeclaringType) || method.DeclaringType == typeof(SpanEntryPoints))
            {
                // The object itself as the bad input: every method of a closed object refuses with ObjectDisposedException
                // (or, where the call is wrong for the object whatever its state, the InvalidOperationException it derives from).
                cases++;
                if (RunCase(method, ClosedInstance, () => null) is string failure)
                {
                    failures.Add($"{method.DeclaringType!.Name}.{method.Name} on a closed object: {failure}");
                }
            }
            // A span entry point's first parameter stands for the object the core method is called on.
            int first = method.DeclaringType == typeof(SpanEntryPoints) ? 1 : 0;
            for (int position = first; position < parameters.Length; position++)
            {
                foreach ((string label, Func<object?> makeBad) in BadValues(parameters[position]))
                {
                    cases++;
                    string? failure = RunCase(method, position, makeBad);
                    if (failure is not null)
                    {
                        failures.Add($"{method.DeclaringType!.Name}.{method.Name}({parameters[position].Name} = {label}): {failure}");
                    }
                }
            }
        }
        _output.WriteLine($"bad-input cases: {cases} over {methods.Count} public methods and constructors of the core");
        Console.WriteLine($"bad-input cases (core): {cases} over {methods.Count} methods");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.InRange(cases, 500, int.MaxValue);
    }

    /// <summary>Public methods and constructors with at least one parameter the runner can fill; spans, by-ref and generic ones are covered by their array overloads.</summary>
    private static IEnumerable<MethodBase> CoreMethods()
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        return typeof(SharedMemory).Assembly.GetExportedTypes()
            .Where(t => !typeof(Delegate).IsAssignableFrom(t) && !t.IsEnum)
            .SelectMany(t => t.GetMethods(flags).Where(m => !m.IsSpecialName && !m.IsGenericMethodDefinition).Cast<MethodBase>().Concat(t.GetConstructors()))
            .Where(m => m.GetParameters().Length > 0 && m.GetParameters().All(p => !p.ParameterType.IsByRef && !p.ParameterType.IsByRefLike)
                && !(m is MethodInfo { ReturnType.IsByRefLike: true }))
            .Where(m => m.DeclaringType != typeof(OpenHandles) && !typeof(Exception).IsAssignableFrom(m.DeclaringType) && !m.DeclaringType!.IsValueType)
            .Where(m => m.Name != nameof(Equals))
            .Concat(typeof(SpanEntryPoints).GetMethods(BindingFlags.Public | BindingFlags.Static))
            .OrderBy(m => m.DeclaringType!.Name).ThenBy(m => m.Name);
    }

    /// <summary>
    /// The span overloads, which reflection cannot call: each is reached through an array, with the core's parameter
    /// names, so an ArgumentException from the core still names one of these parameters.
    /// </summary>
    public static class SpanEntryPoints
    {
        public static int AsSpan(MemoryMapping mapping, long offset, int? length) => mapping.AsSpan(offset, length).Length;

        public static int AsReadOnlySpan(MemoryMapping mapping, long offset, int? length) => mapping.AsReadOnlySpan(offset, length).Length;

        public static void Read(MemoryMapping mapping, long offset, byte[] destination) => mapping.Read(offset, destination.AsSpan());

        public static void Write(MemoryMapping mapping, long offset, byte[] source) => mapping.Write(offset, source.AsSpan());

        public static bool TrySend(MessageQueue queue, byte[] body, int priority) => queue.TrySend(body.AsSpan(), priority);

        public static bool Send(MessageQueue queue, byte[] body, int priority, TimeSpan timeout, CancellationToken cancellationToken) =>
            queue.Send(body.AsSpan(), priority, timeout, cancellationToken);

        public static bool TryReceive(MessageQueue queue, byte[] buffer) => queue.TryReceive(buffer, out _, out _);

        public static bool Receive(MessageQueue queue, byte[] buffer, TimeSpan timeout, CancellationToken cancellationToken) =>
            queue.Receive(buffer, out _, out _, timeout, cancellationToken);

        public static int Wait(PollSet set, ReadyHandle[] ready, TimeSpan timeout, CancellationToken cancellationToken) =>
            set.Wait(ready, timeout, cancellationToken);

        public static void Write(Pty pty, byte[] input, TimeSpan timeout, CancellationToken cancellationToken) =>
            pty.Write(input.AsSpan(), timeout, cancellationToken);

        public static int? Read(StreamDescriptor stream, byte[] buffer, TimeSpan timeout, CancellationToken cancellationToken) =>
            stream.Read(buffer.AsSpan(), timeout, cancellationToken);

        public static byte[]? ReadTo(StreamDescriptor stream, byte[] delimiter, TimeSpan timeout, CancellationToken cancellationToken) =>
            stream.ReadTo(delimiter.AsSpan(), timeout, cancellationToken);

        public static void Write(StreamDescriptor stream, byte[] data, TimeSpan timeout, CancellationToken cancellationToken) =>
            stream.Write(data.AsSpan(), timeout, cancellationToken);
    }

    private const int ClosedInstance = -1;

    private string? RunCase(MethodBase method, int position, Func<object?> makeBad)
    {
        var made = new List<IDisposable>();
        object? instance = null;
        object?[] arguments;
        try
        {
            instance = method.IsStatic || method.IsConstructor ? null : Instance(method.DeclaringType!, made);
            arguments = method.GetParameters().Select(p => Valid(method, p, made)).ToArray();
            if (position == ClosedInstance)
            {
                ((IDisposable)(instance ?? arguments[0])!).Dispose();
            }
            else if ((arguments[position] = makeBad()) is IDisposable bad)
            {
                made.Add(bad);
            }
        }
        catch (Exception e)
        {
            return $"the test could not set the case up: {e}";
        }
        using var cancellation = new CancellationTokenSource();
        int tokenPosition = Array.FindIndex(method.GetParameters(), p => p.ParameterType == typeof(CancellationToken));
        if (tokenPosition >= 0 && tokenPosition != position)
        {
            arguments[tokenPosition] = cancellation.Token;
        }
        try
        {
            var clock = Stopwatch.StartNew();
            Task<object?> call = Task.Factory.StartNew(
                () => method is ConstructorInfo constructor ? constructor.Invoke(arguments) : method.Invoke(instance, arguments),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            if (!call.Wait(CaseLimit) && tokenPosition >= 0)
            {
                cancellation.Cancel();
            }
            if (!call.Wait(tokenPosition >= 0 ? CaseLimit : TimeSpan.Zero))
            {
                return $"still running after {clock.Elapsed.TotalSeconds:F1} s";
            }
            Dispose(call.Result, made);
            return null;
        }
        catch (AggregateException e)
        {
            Exception error = e.InnerException is TargetInvocationException { InnerException: { } inner } ? inner : e.InnerException!;
            return position != ClosedInstance ? NamedError(method, error)
                : error is InvalidOperationException ? null
                : $"{error.GetType().Name} instead of ObjectDisposedException: {error.Message}";
        }
        finally
        {
            made.ForEach(d => d.Dispose());
            if (method.Name == nameof(MemoryLock.LockAll))
            {
                MemoryLock.UnlockAll();
            }
        }
    }

    /// <summary>Null when <paramref name="error"/> is one the core documents and names what failed; otherwise what is wrong with it.</summary>
    private static string? NamedError(MethodBase method, Exception error)
    {
        if (string.IsNullOrWhiteSpace(error.Message))
        {
            return $"{error.GetType().Name} without a message";
        }
        switch (error)
        {
            case ArgumentException argument:
                return method.GetParameters().Any(p => p.Name == argument.ParamName) || argument.ParamName == "value"
                    ? null
                    : $"{error.GetType().Name} names '{argument.ParamName}', not one of the method's parameters: {error.Message}";
            case SysprogException sysprog:
                return sysprog.Call.Length > 0 ? null : $"SysprogException without the call: {error.Message}";
            case ObjectDisposedException:
                return null;
            case AddressResolutionException resolution:
                return resolution.Code.StartsWith("EAI_", StringComparison.Ordinal) ? null : $"AddressResolutionException without its EAI_ code: {error.Message}";
            case ElfFormatException format:
                return format.Part.Length > 0 && format.Problem.Length > 0 ? null : $"ElfFormatException without the part or the problem: {error.Message}";
            case SharedLibraryException loader:
                return loader.Call.Length > 0 ? null : $"SharedLibraryException without the call: {error.Message}";
            case NameNotFoundException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or KeyNotFoundException
                or InvalidOperationException or TimeoutException or OperationCanceledException or FormatException:
                return null;
            default:
                return $"unexpected {error.GetType().Name}: {error.Message} at {error.StackTrace?.Split(Environment.NewLine).FirstOrDefault()?.Trim()}";
        }
    }

    private static void Dispose(object? result, List<IDisposable> made)
    {
        switch (result)
        {
            case IDisposable disposable:
                made.Add(disposable);
                break;
            case IEnumerable items and not string:
                made.AddRange(items.OfType<IDisposable>());
                break;
        }
    }

    // ---- Values ----

    private static readonly string Huge = new('x', 100_000);

    /// <summary>The bad values for one parameter, by its type; a factory each, so objects are fresh per case.</summary>
    private IEnumerable<(string Label, Func<object?> Make)> BadValues(ParameterInfo parameter)
    {
        Type type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        bool nullable = !type.IsValueType || parameter.ParameterType != type;
        if (nullable && type != typeof(SyscallTrace) && type != typeof(Encoding))
        {
            yield return ("null", () => null);
        }
        if (type == typeof(string))
        {
            yield return ("\"\"", () => "");
            yield return ("100000 characters", () => Huge);
            yield return ("NUL inside", () => "a\0b");
            yield return ("lone surrogate (not UTF-8)", () => "a\ud800b");
            yield return ("\"/\"", () => "/");
            yield return ("\" \"", () => " ");
            yield return ("\"*\"", () => "*");
        }
        else if (type == typeof(int))
        {
            foreach (int value in new[] { -1, int.MinValue, int.MaxValue, 0 })
            {
                if (value != 0 || parameter.Name != "fd")
                {
                    yield return (value.ToString(System.Globalization.CultureInfo.InvariantCulture), () => value);
                }
            }
        }
        else if (type == typeof(uint))
        {
            yield return ("0", () => 0u);
            yield return ("uint.MaxValue", () => uint.MaxValue);
        }
        else if (type == typeof(long))
        {
            foreach (long value in new[] { -1L, long.MinValue, long.MaxValue, 0L, int.MaxValue + 1L })
            {
                yield return (value.ToString(System.Globalization.CultureInfo.InvariantCulture), () => value);
            }
        }
        else if (type == typeof(ulong))
        {
            yield return ("0", () => 0UL);
            yield return ("ulong.MaxValue", () => ulong.MaxValue);
        }
        else if (type == typeof(double))
        {
            foreach (double value in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1.0, double.MaxValue })
            {
                yield return (value.ToString(System.Globalization.CultureInfo.InvariantCulture), () => value);
            }
        }
        else if (type == typeof(TimeSpan))
        {
            yield return ("-1 tick", () => TimeSpan.FromTicks(-1));
            yield return ("TimeSpan.MinValue", () => TimeSpan.MinValue);
            yield return ("TimeSpan.MaxValue", () => TimeSpan.MaxValue);
            yield return ("1 tick", () => TimeSpan.FromTicks(1));
        }
        else if (type == typeof(DateTimeOffset))
        {
            yield return ("DateTimeOffset.MinValue", () => DateTimeOffset.MinValue);
            yield return ("DateTimeOffset.MaxValue", () => DateTimeOffset.MaxValue);
        }
        else if (type.IsEnum)
        {
            yield return ("-1 (all bits)", () => Enum.ToObject(type, -1));
            yield return ("0x4000 (undefined)", () => Enum.ToObject(type, 0x4000));
        }
        else if (type == typeof(ReadyHandle[]))
        {
            yield return ("empty", () => Array.Empty<ReadyHandle>());
        }
        else if (type == typeof(byte[]))
        {
            yield return ("empty", () => Array.Empty<byte>());
            yield return ("16 MiB", () => new byte[16 << 20]);
        }
        else if (type == typeof(CancellationToken))
        {
            yield return ("cancelled", () => new CancellationToken(canceled: true));
        }
        else if (type == typeof(IEnumerable<int>))
        {
            yield return ("empty", () => Array.Empty<int>());
            yield return ("[-1]", () => new[] { -1 });
            yield return ("[0]", () => new[] { 0 });
            yield return ("[int.MaxValue]", () => new[] { int.MaxValue });
        }
        else if (type == typeof(IEnumerable<string>))
        {
            yield return ("[null]", () => new string?[] { null });
            yield return ("[\"\"]", () => new[] { "" });
            yield return ("[garbage]", () => new[] { "zz-yy rwxp nothing at all", "1-2", " " });
            yield return ("[100000 characters]", () => new[] { Huge });
            yield return ("[NUL]", () => new[] { "\0" });
        }
        else if (type == typeof(MemoryMapping))
        {
            yield return ("closed", () => Closed(MemoryMapping.MapAnonymous(4096)));
        }
        else if (type == typeof(PosixSemaphore))
        {
            yield return ("closed", () => Closed(PosixSemaphore.Create(TestNames.New(), 1)));
        }
        else if (type == typeof(IPollable))
        {
            yield return ("closed", () => Closed(EventFd.Create()));
        }
        else if (type == typeof(IReadOnlyList<IPollable>))
        {
            yield return ("empty", () => Array.Empty<IPollable>());
            yield return ("[null]", () => new IPollable?[] { null });
            yield return ("[closed]", () => new IPollable[] { Closed(EventFd.Create()) });
        }
        else if (type == typeof(Stream))
        {
            yield return ("read-only", () => new MemoryStream([], writable: false));
        }
    }

    private static T Closed<T>(T value) where T : IDisposable
    {
        value.Dispose();
        return value;
    }

    /// <summary>A valid value for a parameter that is not the one under test.</summary>
    private object? Valid(MethodBase method, ParameterInfo parameter, List<IDisposable> made)
    {
        Type type = parameter.ParameterType;
        string name = parameter.Name!;
        T Keep<T>(T value) where T : IDisposable
        {
            made.Add(value);
            return value;
        }
        return (method.DeclaringType!.Name, method.Name, name) switch
        {
            (_, nameof(FileModes.ParseOctal), _) => "600",
            (_, nameof(Units.ParseByteSize), _) => "4KiB",
            (_, nameof(Units.ParseDuration), _) => "1s",
            (nameof(Signals), nameof(Signals.Parse), _) => "USR1",
            (nameof(TextEncodings), nameof(TextEncodings.Parse), _) => "utf8",
            (nameof(SharedMemory), nameof(SharedMemory.CreateAnonymous), "name") => "bad-input",
            (_, _, "host") => "127.0.0.1",
            (_, _, "service") => "80",
            (_, _, "seals") => MemorySeals.Shrink,
            (nameof(Socket), _, "endpoint") => SocketEndpoint.Abstract(TestNames.New()),
            (_, _, "path") => _file,
            (nameof(Pty), _, "pattern") => new System.Text.RegularExpressions.Regex("x"),
            (nameof(Pty), _, "program") => "cat",
            (nameof(Pty), _, "rows") => 24,
            (nameof(Pty), _, "columns") => 80,
            (_, _, "pattern") => $"/{TestNames.Prefix}*",
            (_, _, "name") when type == typeof(string) => TestNames.New(),
            // Never this process: a bad limit or policy set on the test host would end the run.
            (nameof(ProcessLimit) or nameof(ProcessScheduling), _, "processId") => Keep(new ChildHolder(ChildProcess.Start(new ChildProcessStartInfo("sleep", ["30"])))).Child.ProcessId,
            (_, _, "processId") => Environment.ProcessId,
            (nameof(ProcessLimit), _, "soft") => 1000L,
            (nameof(ProcessLimit), _, "hard") => 2000L,
            (_, _, "cpus") => new[] { 0 },
            (_, _, "info") => new ChildProcessStartInfo("true"),
            (_, _, "fd") => -1,
            (_, _, "signal") => 10,
            (_, _, "signals") => new[] { 10 },
            (_, _, "participants") => 1,
            (_, _, "maxMessages") => 4L,
            (_, _, "maxMessageSize") => 64L,
            (nameof(FileLock), _, "length") => 0L,
            (_, _, "size" or "length" or "bytes") when type == typeof(long) => 4096L,
            (_, _, "bytes") when type == typeof(int) => 4096,
            (_, _, "count" or "byteCount") => 4,
            (_, _, "times") => 1L,
            (_, _, "value") when type == typeof(ulong) => 1UL,
            (_, _, "interest") => Readiness.Readable,
            (_, _, "mode") => FileModes.OwnerReadWrite,
            (_, _, "access") => FileAccess.ReadWrite,
            (_, _, "initialDelay") => TimeSpan.FromSeconds(1),
            (_, _, "when") => DateTimeOffset.Now.AddHours(1),
            (_, _, "lines") => new[] { "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/true" },
            (_, _, "existing") => Array.Empty<string>(),
            (_, _, "paramName") => "timeout",
            (nameof(PosixSemaphore), _, "mapping") => Keep(MemoryMapping.MapAnonymous(4096, MemoryProtection.ReadWrite, MappingVisibility.Shared)),
            _ when type == typeof(string) => "x",
            _ when type == typeof(TimeSpan) => TimeSpan.Zero,
            (_, _, "buffer") => new byte[64],
            (_, _, "ready") => new ReadyHandle[4],
            _ when type == typeof(byte[]) => new byte[] { 1, 2, 3 },
            _ when type == typeof(MessageQueue) => Keep(MessageQueue.Create(TestNames.New(), 4, 64)),
            _ when type == typeof(System.Net.IPAddress) => System.Net.IPAddress.Loopback,
            _ when type == typeof(PollSet) => Keep(new PollSet()),
            _ when type == typeof(Pty) => Keep(Pty.Start("cat")),
            _ when type == typeof(StreamDescriptor) || type == typeof(PipeEnd) => Keep(Pipe.Create()).ReadEnd,
            // A file, not a terminal: the terminal calls refuse it with ENOTTY.
            _ when type == typeof(System.Runtime.InteropServices.SafeHandle) => Keep(File.OpenHandle(_file)),
            _ when type == typeof(MemoryMapping) => Keep(MemoryMapping.MapAnonymous(4096, MemoryProtection.ReadWrite, MappingVisibility.Shared)),
            _ when type == typeof(PosixSemaphore) => Keep(PosixSemaphore.Create(TestNames.New(), 1)),
            _ when type == typeof(IPollable) => Keep(EventFd.Create(1)),
            _ when type == typeof(IReadOnlyList<IPollable>) => new IPollable[] { Keep(EventFd.Create(1)) },
            _ when type == typeof(Stream) => new MemoryStream(),
            _ when type == typeof(InotifyEvents) => InotifyEvents.Changes,
            _ when type == typeof(InotifyWatch) => Keep(Inotify.Create()).AddWatch(_folder),
            _ when type.IsEnum => Enum.GetValues(type).GetValue(0),
            _ when parameter.HasDefaultValue => parameter.DefaultValue,
            _ when type.IsValueType => Activator.CreateInstance(type),
            _ => null,
        };
    }

    /// <summary>A FileDescriptor, which only a receive makes: the test's file, passed over a socket pair.</summary>
    private FileDescriptor PassedFile(List<IDisposable> made)
    {
        using SocketPair pair = Socket.CreatePair();
        using (FileStream stream = File.OpenRead(_file))
        {
            pair.First.Send("f"u8, [stream]);
        }
        return (FileDescriptor)pair.Second.Receive(TimeSpan.FromSeconds(10))!.Descriptors[0];
    }

    /// <summary>A fresh object to call an instance method on.</summary>
    private object Instance(Type type, List<IDisposable> made)
    {
        IDisposable instance = type switch
        {
            _ when type == typeof(SharedMemory) => SharedMemory.Create(TestNames.New(), 8192),
            _ when type == typeof(MemoryMapping) => MemoryMapping.MapAnonymous(8192, MemoryProtection.ReadWrite, MappingVisibility.Shared),
            _ when type == typeof(PosixSemaphore) => PosixSemaphore.Create(TestNames.New(), 1),
            _ when type == typeof(MessageQueue) => MessageQueue.Create(TestNames.New(), 4, 64),
            _ when type == typeof(EventFd) || type == typeof(FileDescriptorObject) => EventFd.Create(1),
            _ when type == typeof(TimerFd) => TimerFd.Create(),
            _ when type == typeof(SignalFd) => SignalFd.Create([10]),
            _ when type == typeof(PollSet) => new PollSet(),
            _ when type == typeof(Inotify) => Inotify.Create(),
            _ when type == typeof(Pty) => Pty.Start("cat"),
            _ when type == typeof(ChildProcess) => new ChildHolder(ChildProcess.Start(new ChildProcessStartInfo("sleep", ["30"]))),
            _ when type == typeof(MqNotification) => MqNotification.ByThread(Made(MessageQueue.Create(TestNames.New(), 4, 64))),
            _ when type == typeof(FileLock) => FileLock.Acquire(_file, FileLockKind.Ofd, FileLockMode.Shared, TimeSpan.Zero)!,
            _ when type == typeof(ProcessMapping) => new ValueHolder(ProcessMaps.Read(Environment.ProcessId)[0]),
            _ when type == typeof(ElfFile) => new ValueHolder(ElfFile.Parse(ElfImageBuilder.Build(ElfClass.Elf64, ElfByteOrder.LittleEndian), "demo.so")),
            _ when type == typeof(ElfProgramHeader) => new ValueHolder(ElfFile.Parse(ElfImageBuilder.Build(ElfClass.Elf64, ElfByteOrder.LittleEndian), "demo.so").ProgramHeaders[0]),
            _ when type == typeof(LibraryResolver) => new ValueHolder(new LibraryResolver()),
            _ when type == typeof(NativeSignature) => new ValueHolder(NativeSignature.Parse("int(void)")),
            _ when type == typeof(LoadedLibrary) => new ValueHolder(SharedLibrary.Loaded()[0]),
            _ when type == typeof(SharedLibrary) => SharedLibrary.Open("libm.so.6"),
            _ when type == typeof(Pipe) => Pipe.Create(),
            _ when type == typeof(Socket) => Made(Socket.CreatePair()).First,
            _ when type == typeof(SocketPair) => Socket.CreatePair(),
            _ when type == typeof(FileDescriptor) => PassedFile(made),
            // A read end with something to read and its writer still open (write calls on it are refused as such).
            _ when type == typeof(PipeEnd) || type == typeof(StreamDescriptor) => ReadEndHolding("abc"u8),
            _ => throw new NotSupportedException($"no instance of {type.Name} for the bad-input test: add one"),
        };
        made.Add(instance);
        return instance switch
        {
            ValueHolder holder => holder.Value,
            ChildHolder child => child.Child,
            _ => instance,
        };

        T Made<T>(T part) where T : IDisposable
        {
            made.Add(part);
            return part;
        }

        PipeEnd ReadEndHolding(ReadOnlySpan<byte> data)
        {
            Pipe pipe = Made(Pipe.Create());
            pipe.WriteEnd.Write(data, TimeSpan.FromSeconds(5));
            return pipe.ReadEnd;
        }
    }

    /// <summary>A child that is killed and reaped when the case is done (closing alone would leave it running).</summary>
    private sealed record ChildHolder(ChildProcess Child) : IDisposable
    {
        public void Dispose()
        {
            if (!Child.IsClosed && Child.Exit is null)
            {
                Child.Signal(Signals.SIGKILL);
                Child.WaitForExit(TimeSpan.FromSeconds(10));
            }
            Child.Dispose();
        }
    }

    /// <summary>A value with nothing to release, carried through the list of things to dispose.</summary>
    private sealed record ValueHolder(object Value) : IDisposable
    {
        public void Dispose()
        {
        }
    }

    /// <summary>
    /// This run's objects and those a bad value could have made; nothing else that appeared meanwhile, which may be
    /// another run's (a second test run of this user removed a semaphore of the first while it was in use).
    /// </summary>
    private static bool IsOwnOrNameLike(string entry)
    {
        string file = Path.GetFileName(entry);
        string bare = file.StartsWith("sem.", StringComparison.Ordinal) ? file["sem.".Length..] : file;
        return bare.StartsWith(TestNames.Prefix, StringComparison.Ordinal) || NameLikeValues.Contains(bare);
    }

    /// <summary>The bad string values that are valid IPC names, and the valid value of other string parameters.</summary>
    private static readonly string[] NameLikeValues = [" ", "*", "x"];

    /// <summary>
    /// Shared memory, semaphores and queues that exist. Without the mqueue filesystem nothing lists queues, so the
    /// names a case can give a queue are asked of mq_open one by one: a queue left there counts against this user's
    /// RLIMIT_MSGQUEUE unseen.
    /// </summary>
    private static HashSet<string> Entries() =>
    [
        .. Directory.EnumerateFileSystemEntries("/dev/shm"),
        .. MessageQueue.IsMqueueFsMounted()
            ? Directory.EnumerateFiles(MessageQueue.Directory)
            : NameLikeValues.Select(v => "/" + v).Concat(TestNames.HandedOutNames).Where(TestNames.QueueExists).Select(n => MessageQueue.Directory + n),
    ];
}
