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
/// objects, a cancelled token) while the others keep a valid value, with which the call succeeds. Each case must end
/// within a second in success or the error it deserves (<see cref="DeservedError"/>): an ArgumentException naming the
/// parameter given the bad value, a SysprogException naming its call and errno, ObjectDisposedException on a closed
/// object, a not-found. An exception from inside .NET (an index out of range, LINQ's Single()) or a hang is a failure,
/// and a state error or timeout passes only where <see cref="Known"/> lists it for that case, with the reason.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(1);

    // The valid call has no second to keep to: a method that reads the whole machine (IpcInventory.Take reads every
    // process's descriptors) takes what the machine's process count and load make it take. A bad value refused must
    // be quick; one that is also valid input does the valid call's work. So each method's cases get a second, or
    // three times what its valid call took, whichever is longer.
    private static readonly TimeSpan ValidCallLimit = TimeSpan.FromSeconds(30);
    private TimeSpan _limit = CaseLimit;
    private TimeSpan _lastElapsed;

    /// <summary>The table's size, exactly: a table that shrinks (a method no longer reached, a type's values gone) fails. The README states it.</summary>
    internal const int ExpectedCases = 2542, ExpectedMethods = 308;
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
    public void EveryCoreMethod_BadValueInEveryParameter_EndsInSuccessOrTheErrorItDeservesWithinASecond()
    {
        var failures = new List<string>();
        int cases = 0;
        var methods = CoreMethods().ToList();
        foreach (MethodBase method in methods)
        {
            ParameterInfo[] parameters = method.GetParameters();
            // The valid call first: where it fails, every bad value would "pass" with the valid call's own error.
            _limit = ValidCallLimit;
            string? baseline = RunCaseTwiceIfSlow(method, AllValid, "all valid", () => null);
            _limit = TimeSpan.FromTicks(Math.Max(CaseLimit.Ticks, 3 * _lastElapsed.Ticks));
            bool knownToFail = Known.ValidCallFails.ContainsKey(CaseKey(method, AllValid))
                || Known.ValidCallFailsWhen.TryGetValue(CaseKey(method, AllValid), out var unless) && unless.When();
            if (baseline is not null && !knownToFail)
            {
                failures.Add($"{method.DeclaringType!.Name}.{method.Name} with valid values: {baseline}");
            }
            else if (baseline is null && knownToFail)
            {
                failures.Add($"{method.DeclaringType!.Name}.{method.Name} with valid values succeeds now: take it off {nameof(Known.ValidCallFails)}");
            }
            if (!method.IsStatic && !method.IsConstructor && typeof(IDisposable).IsAssignableFrom(method.DeclaringType) || method.DeclaringType == typeof(SpanEntryPoints))
            {
                // The object itself as the bad input: every method of a closed object refuses with ObjectDisposedException.
                cases++;
                if (RunCaseTwiceIfSlow(method, ClosedInstance, "closed", () => null) is string failure)
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
                    if (RunCaseTwiceIfSlow(method, position, label, makeBad) is string failure)
                    {
                        failures.Add($"{method.DeclaringType!.Name}.{method.Name}({parameters[position].Name} = {label}): {failure}");
                    }
                }
            }
        }
        _output.WriteLine($"bad-input cases: {cases} over {methods.Count} public methods and constructors of the core");
        Console.WriteLine($"bad-input cases (core): {cases} over {methods.Count} methods");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
        Assert.Equal((ExpectedCases, ExpectedMethods), (cases, methods.Count));
    }

    /// <summary>The README tells users how big the table is: the number it states is the one the table counts.</summary>
    [Fact]
    public void Readme_StatesTheCoreTablesSize()
    {
        string readme = File.ReadAllText(RepoFiles.Find("README.md"));
        System.Text.RegularExpressions.Match stated = System.Text.RegularExpressions.Regex.Match(readme, @"([\d,]+) cases over (\d+) methods");
        Assert.True(stated.Success, "the README no longer says \"N cases over M methods\" of the core's bad-input table");
        Assert.Equal((ExpectedCases.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), ExpectedMethods.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (stated.Groups[1].Value, stated.Groups[2].Value));
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

    private const int AllValid = -2;

    private const string StillRunning = "still running";

    /// <summary>A case over its second is run again: a loaded machine can stretch one call, but a slow or hung path is so again.</summary>
    private string? RunCaseTwiceIfSlow(MethodBase method, int position, string label, Func<object?> makeBad)
    {
        string? failure = RunCase(method, position, label, makeBad);
        if (failure?.StartsWith(StillRunning, StringComparison.Ordinal) == true
            && RunCase(method, position, label, makeBad) is string again)
        {
            return again.StartsWith(StillRunning, StringComparison.Ordinal) ? $"{failure}, and again" : again;
        }
        return failure;
    }

    private string? RunCase(MethodBase method, int position, string label, Func<object?> makeBad)
    {
        var made = new List<IDisposable>();
        object? instance = null;
        object?[] arguments;
        try
        {
            instance = method.IsStatic || method.IsConstructor ? null : Instance(method.DeclaringType!, method.Name, made);
            arguments = method.GetParameters().Select(p => Valid(method, p, made, instance)).ToArray();
            if (position == ClosedInstance)
            {
                ((IDisposable)(instance ?? arguments[0])!).Dispose();
            }
            else if (position != AllValid && (arguments[position] = makeBad()) is IDisposable bad)
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
            bool endedInTime = Ends(call, _limit);
            _lastElapsed = clock.Elapsed;
            if (!endedInTime)
            {
                // A hang fails whatever ends it; the token only frees the thread before the case's objects are closed.
                cancellation.Cancel();
                bool ended = Ends(call, CaseLimit);
                if (ended && Known.LongByRequest.ContainsKey(CaseKey(method, position)))
                {
                    return call.Exception?.InnerException?.InnerException is OperationCanceledException ? null
                        : $"long by request, but its cancellation ended it with {call.Exception?.InnerException?.InnerException?.GetType().Name ?? "success"}";
                }
                return $"{StillRunning} after {_limit.TotalSeconds:F1} s{(ended || tokenPosition < 0 ? "" : ", and its cancellation did not end it")}";
            }
            if (call.IsFaulted)
            {
                Exception error = call.Exception!.InnerException is TargetInvocationException { InnerException: { } inner } ? inner : call.Exception!.InnerException!;
                return position == AllValid ? $"{error.GetType().Name}: {error.Message}" : DeservedError(method, position, label, error);
            }
            Dispose(call.Result, made);
            return IsClosed(position, label) && !Known.Succeeds.ContainsKey(CaseKey(method, position)) ? "succeeded on a closed object" : null;
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

    private static bool Ends(Task task, TimeSpan limit) => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(limit);

    private static bool IsClosed(int position, string label) => position == ClosedInstance || label is "closed" or "[closed]";

    /// <summary>"Type.Method(parameter)", or "Type.Method(closed)" for the object itself closed: how the known cases below are keyed.</summary>
    private static string CaseKey(MethodBase method, int position) =>
        $"{method.DeclaringType!.Name}.{method.Name}({position switch { ClosedInstance => "closed", AllValid => "", _ => method.GetParameters()[position].Name }})";

    /// <summary>
    /// Null when <paramref name="error"/> is the one this case deserves: raised by Sysprog itself (never an exception
    /// escaping from .NET), with a message, and of the kind the bad value calls for: ObjectDisposedException for a closed
    /// object; an ArgumentException naming the parameter that was given the bad value; a SysprogException naming its call
    /// and errno; the cancellation of a cancelled token; an error naming the object that is not there. Any other
    /// (a state error, a timeout, a format error) passes only where <see cref="Known.Errors"/> lists it for the case.
    /// </summary>
    private static string? DeservedError(MethodBase method, int position, string label, Exception error)
    {
        string what = $"{error.GetType().Name}: {error.Message} (thrown at {ExceptionOrigin.Thrower(error)?.DeclaringType?.Name}.{ExceptionOrigin.Thrower(error)?.Name})";
        if (ExceptionOrigin.IsInternal(error))
        {
            return $"an exception from inside .NET, not Sysprog's: {what}";
        }
        if (string.IsNullOrWhiteSpace(error.Message))
        {
            return $"{error.GetType().Name} without a message";
        }
        if (Known.Errors.TryGetValue(CaseKey(method, position), out var known) && known.Error.IsInstanceOfType(error))
        {
            return null;
        }
        if (IsClosed(position, label))
        {
            return error is ObjectDisposedException ? null : $"{what} instead of ObjectDisposedException";
        }
        ParameterInfo bad = method.GetParameters()[position];
        return error switch
        {
            ObjectDisposedException => $"{what}, though nothing given was closed",
            ArgumentException argument => argument.ParamName == bad.Name
                || Known.OtherParameter.TryGetValue(CaseKey(method, position), out var other) && other.Named == argument.ParamName
                ? null : $"names '{argument.ParamName}', not '{bad.Name}', the parameter given the bad value: {what}",
            SysprogException sysprog => sysprog.Call.Length > 0 && Enum.IsDefined(sysprog.Errno) ? null : $"SysprogException without its call or a named errno: {what}",
            OperationCanceledException => bad.ParameterType == typeof(CancellationToken) ? null : $"cancelled, though the token given was not: {what}",
            AddressResolutionException resolution => resolution.Code.StartsWith("EAI_", StringComparison.Ordinal) ? null : $"AddressResolutionException without its EAI_ code: {what}",
            ElfFormatException format => format.Part.Length > 0 && format.Problem.Length > 0 ? null : $"ElfFormatException without the part or the problem: {what}",
            SharedLibraryException loader => loader.Call.Length > 0 ? null : $"SharedLibraryException without the call: {what}",
            // Not found, naming what was looked for (a KeyNotFoundException of Sysprog's own: one from a dictionary is internal, above).
            NameNotFoundException or KeyNotFoundException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => null,
            _ => $"not the error this case deserves: {what}",
        };
    }

    /// <summary>
    /// The cases whose deserved outcome is not the rule's, each with the reason. Nothing is accepted in general: a
    /// state error or a timeout passes only for the method and parameter listed here.
    /// </summary>
    private static class Known
    {
        private const string PipeFull = "a pipe holds 64 KiB; more, with nothing reading and timeout 0, is the timeout, saying how much went in";

        private const string ParseFormat = "text not in the method's format: a FormatException, as int.Parse gives";

        public static readonly Dictionary<string, (Type Error, string Reason)> Errors = new()
        {
            ["ByteRanges.Parse(text)"] = (typeof(FormatException), ParseFormat),
            ["CpuList.Parse(text)"] = (typeof(FormatException), ParseFormat),
            ["InotifyEvent.ParseEvents(text)"] = (typeof(FormatException), ParseFormat),
            ["NativeSignature.Parse(text)"] = (typeof(FormatException), ParseFormat),
            ["ProcessMaps.Parse(lines)"] = (typeof(FormatException), ParseFormat),
            ["Units.ParseByteSize(text)"] = (typeof(FormatException), ParseFormat),
            ["Units.ParseDuration(text)"] = (typeof(FormatException), ParseFormat),
            ["StreamDescriptor.Write(text)"] = (typeof(TimeoutException), PipeFull),
            ["SpanEntryPoints.Write(data)"] = (typeof(TimeoutException), PipeFull),
            ["Pty.Write(text)"] = (typeof(TimeoutException), "a pty takes about 12 KiB that its program does not read; more, in a write with timeout 0, is the timeout, saying how much went in"),
            ["SpanEntryPoints.Write(input)"] = (typeof(TimeoutException), "a pty takes about 12 KiB that its program does not read; more, in a write with timeout 0, is the timeout, saying how much went in"),
            ["SharedCounter.WaitForParticipants(participants)"] = (typeof(TimeoutException), "a start line for more processes than come ends in its timeout (0 here), which says how many came"),
            ["ProcessLimit.Set(processId)"] = (typeof(InvalidOperationException), "0 is this process, whose RLIMIT_CPU is never lowered without force: it could end the caller"),
        };

        /// <summary>Cases whose argument error rightly names another parameter than the one given the bad value.</summary>
        public static readonly Dictionary<string, (string Named, string Reason)> OtherParameter = new()
        {
            ["ProcessLimit.Set(hard)"] = ("soft", "a hard limit below the soft one (1000 here) is the pair's fault; the error names soft, the one the kernel would refuse"),
        };

        /// <summary>
        /// Work whose length the bad value asks for (a count of increments): still running at the second, it must then
        /// end within a second of its token's cancellation, with OperationCanceledException. It is not a hang, and no
        /// limit on the count would keep a real workload within a second.
        /// </summary>
        public static readonly Dictionary<string, string> LongByRequest = new()
        {
            ["SharedCounter.Increment(times)"] = "2^31 increments are a long workload by request",
            ["SharedCounter.IncrementGuarded(times)"] = "2^31 guarded increments are a long workload by request",
        };

        /// <summary>Methods whose call with the table's valid values cannot succeed here, and why (each bad value then must still get its own error).</summary>
        public static readonly Dictionary<string, string> ValidCallFails = new()
        {
            ["EventFd.FromDescriptor()"] = "a valid descriptor would be one the case hands over for good; -1 stands in, and only the refusals of fd are tried",
            ["TerminalRawMode.Enter()"] = "the handle is a file, never a terminal: the terminal the tests run in is left alone",
            ["TerminalRawMode.SizeOf()"] = "the handle is a file, never a terminal: the terminal the tests run in is left alone",
        };

        private const string Ending = "it ends what the object holds; ending it again is nothing to do, as Dispose";

        /// <summary>Methods whose valid call cannot succeed on some machines, when, and why.</summary>
        public static readonly Dictionary<string, (Func<bool> When, string Reason)> ValidCallFailsWhen = new()
        {
            ["MessageQueue.List()"] = (() => !MessageQueue.IsMqueueFsMounted(), "without the mqueue filesystem nothing lists queues"),
            ["MemoryLock.LockAll()"] = (() => !Environment.IsPrivilegedProcess, "locking all of the test host needs CAP_IPC_LOCK or an RLIMIT_MEMLOCK above its size"),
        };

        /// <summary>Methods that do their work on a closed object too, and why that is right.</summary>
        public static readonly Dictionary<string, string> Succeeds = new()
        {
            ["FileDescriptorObject.Close(closed)"] = Ending,
            ["FileLock.Close(closed)"] = Ending,
            ["FileLock.Release(closed)"] = Ending,
            ["MemoryMapping.Close(closed)"] = Ending,
            ["MessageQueue.Close(closed)"] = Ending,
            ["MqNotification.Close(closed)"] = Ending,
            ["MqNotification.Disarm(closed)"] = Ending,
            ["Pipe.Close(closed)"] = Ending,
            ["PosixSemaphore.Close(closed)"] = Ending,
            ["SharedLibrary.Close(closed)"] = Ending,
            ["SharedMemory.Close(closed)"] = Ending,
            ["SocketPair.Close(closed)"] = Ending,
            ["PollSet.Close(closed)"] = Ending,
            ["PollSet.Find(handle)"] = "a closed handle can still be in a set (the set holds its open file description while a duplicate lives, epoll(7)), and Find says whether it is",
            ["PosixSemaphore.Destroy(closed)"] = "a semaphore inside a mapping has nothing of its own to close (the mapping holds it), so Dispose leaves it to Destroy",
            ["Pty.DescribeUnmatched(closed)"] = "it words the error of a wait that failed, from the output already read, which a closed pty still has",
        };
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
        else if (type == typeof(IEnumerable<ProcessMapping>))
        {
            yield return ("empty", () => Array.Empty<ProcessMapping>());
            yield return ("[null]", () => new ProcessMapping?[] { null });
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

    /// <summary>A valid value for a parameter that is not the one under test: with all of them, the call succeeds (or is in <see cref="Known.ValidCallFails"/>).</summary>
    private object? Valid(MethodBase method, ParameterInfo parameter, List<IDisposable> made, object? instance)
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
            // Which parameter the caller's errors are to name: the one the text came in, as a cmdlet passes its own.
            (_, _, "paramName") => method.GetParameters()[0].Name,
            (_, nameof(FileModes.ParseOctal), _) => "600",
            (_, nameof(Units.ParseByteSize), _) => "4KiB",
            (_, nameof(Units.ParseDuration), _) => "1s",
            (nameof(Signals), nameof(Signals.Parse), _) => "USR1",
            (nameof(TextEncodings), nameof(TextEncodings.Parse), _) => "utf8",
            (nameof(SharedMemory), nameof(SharedMemory.CreateAnonymous), "name") => "bad-input",
            (nameof(ByteRanges), nameof(ByteRanges.Parse), _) => "0-9",
            (nameof(CpuList), nameof(CpuList.Parse), _) => "0",
            (nameof(InotifyEvent), nameof(InotifyEvent.ParseEvents), _) => "create",
            (nameof(NativeSignature), nameof(NativeSignature.Parse), _) => "int(void)",
            (nameof(NativeSignature), nameof(NativeSignature.Invoke), "function") => SharedLibrary.GetSymbol(SymbolScope.Default, "getpid"),
            (nameof(NativeSignature), nameof(NativeSignature.Invoke), "arguments") => Array.Empty<object?>(),
            (nameof(ExceptionOrigin) or nameof(ExceptionText), _, "exception") => new InvalidOperationException("made, never thrown"),
            (nameof(ElfFile) or nameof(LibraryResolver), _, "path") => "/usr/bin/true",
            _ when type == typeof(ReadOnlyMemory<byte>) => new ReadOnlyMemory<byte>(ElfImageBuilder.Build(ElfClass.Elf64, ElfByteOrder.LittleEndian)),
            _ when type == typeof(Encoding) => Encoding.UTF8,
            (nameof(Socket), nameof(Socket.Bind) or nameof(Socket.CreateBound), "endpoint") => SocketEndpoint.Abstract(TestNames.New()),
            (nameof(Fifo), nameof(Fifo.Create), "path") => Path.Combine(_folder, $"{Guid.NewGuid():N}.fifo"),
            (nameof(Fifo), nameof(Fifo.Open), "path") => Fifo.Create(Path.Combine(_folder, $"{Guid.NewGuid():N}.fifo")).FullName,
            (nameof(Fifo), nameof(Fifo.Open), "access") => FileAccess.Read,
            // Not waiting for a writer: the valid call opens at once.
            (nameof(Fifo), nameof(Fifo.Open), "nonBlocking") => true,
            (nameof(FileLock), _, "mode") => FileLockMode.Shared,
            (nameof(Inotify), nameof(Inotify.RemoveWatch), "watch") => ((Inotify)instance!).AddWatch(_folder),
            (nameof(IpcInventory), nameof(IpcInventory.Remove), "target") => new IpcObject(IpcObjectKind.SharedMemory, Existing(n => SharedMemory.Create(n, 4096)),
                null, 4096, null, FileModes.OwnerReadWrite, 0, null, null, null),
            (nameof(MessageQueue), nameof(MessageQueue.Open) or nameof(MessageQueue.Unlink), "name") => Existing(n => MessageQueue.Create(n, 4, 64)),
            (nameof(PosixSemaphore), nameof(PosixSemaphore.Open) or nameof(PosixSemaphore.Unlink), "name") => Existing(n => PosixSemaphore.Create(n, 1)),
            (nameof(SharedMemory), nameof(SharedMemory.Open) or nameof(SharedMemory.Unlink), "name") => Existing(n => SharedMemory.Create(n, 4096)),
            (nameof(ProcessSymbols), _, "name") => "getpid",
            (_, _, "workingDirectory") => _folder,
            (nameof(SharedLibrary), nameof(SharedLibrary.Open), "name") => "libm.so.6",
            (nameof(SharedLibrary), nameof(SharedLibrary.GetSymbol), "name") => "cos",
            // The default version: versions are named per architecture (GLIBC_2.2.5 on x86-64 only).
            (nameof(SharedLibrary), _, "version") => null,
            // A pty of the test's own, never the terminal the tests run in.
            (nameof(Terminal), _, "path") => Keep(Pty.Start("cat")).SecondaryPath,
            (_, _, "rows") => 24,
            (_, _, "columns") => 80,
            (_, _, "width") => 80,
            (nameof(EventFd), nameof(EventFd.FromProcess), "fd") or (nameof(FileDescriptor), nameof(FileDescriptor.Duplicate), "fd") => Keep(EventFd.Create()).Fd,
            (nameof(SpanEntryPoints), nameof(StreamDescriptor.Write), "stream") => Keep(Pipe.Create()).WriteEnd,
            (nameof(Socket), _, "endpoint") => Listening(made),
            (nameof(Socket), _, "candidates") => new[] { Listening(made) },
            // SIGWINCH does nothing where nobody handles it, and the pipe's close signals its owner: a sleeping child,
            // or this process where a case leaves the owner out.
            (nameof(FileDescriptorObject), nameof(FileDescriptorObject.SetSignalDriven), "signal") => Signals.SIGWINCH,
            (nameof(FileDescriptorObject), nameof(FileDescriptorObject.SetSignalDriven), "ownerProcessId") =>
                Keep(new ChildHolder(ChildProcess.Start(new ChildProcessStartInfo("sleep", ["30"])))).Child.ProcessId,
            (nameof(EventLoop), nameof(EventLoop.Add), "handler") => (Action<EventLoopEvent>)(e => e.Loop.Stop()),
            (nameof(EventLoop), nameof(EventLoop.Run), "call") => (Action<object, EventLoopEvent>)((_, e) => e.Loop.Stop()),
            (nameof(OpenHandle), _, "handle" or "Handle") => Keep(EventFd.Create()),
            (nameof(IpcMechanismBenchmark), _, "peerCommand") => (IpcPeerCommand)IpcMechanismTests.CliPeer,
            (nameof(IpcMechanismBenchmark), _, "options") => new IpcMeasurementOptions { RoundTrips = 5, Messages = 5, WarmUpRoundTrips = 1 },
            (nameof(IpcMechanismBenchmark), nameof(IpcMechanismBenchmark.ServePeer), "arguments") => new[] { "Pipe" },
            (nameof(TimerLatency), _, "options") => new TimerLatencyOptions { Count = 5, Interval = TimeSpan.FromMilliseconds(0.2) },
            (nameof(TimerLatency), _, "latenciesNanoseconds") => new long[] { 1000, 3000, 2000 },
            (nameof(TimerLatency), _, "interval") => TimeSpan.FromMilliseconds(1),
            (_, _, "host") => "127.0.0.1",
            (_, _, "service") => "80",
            (_, _, "seals") => MemorySeals.Shrink,
            (_, _, "path") => _file,
            (nameof(Pty), _, "pattern") => new System.Text.RegularExpressions.Regex("x"),
            (nameof(Pty), _, "program") => "cat",
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
            (nameof(PollSet), nameof(PollSet.Modify) or nameof(PollSet.Remove) or nameof(PollSet.Find), "handle") => ((PollSet)instance!).Members[0].Handle,
            (nameof(PollList), nameof(PollList.Modify) or nameof(PollList.Remove), "handle") => ((PollList)instance!)[0],
            (_, _, "interest") => Readiness.Readable,
            (_, _, "mode") => FileModes.OwnerReadWrite,
            (_, _, "access") => FileAccess.ReadWrite,
            (_, _, "initialDelay") => TimeSpan.FromSeconds(1),
            (_, _, "when") => DateTimeOffset.Now.AddHours(1),
            (_, _, "lines") => new[] { "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/true" },
            (_, _, "existing") => Array.Empty<string>(),
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
            _ when type == typeof(IEnumerable<ProcessMapping>) => ProcessMaps.Read(Environment.ProcessId),
            _ when type == typeof(AddressSpacePicture) => AddressSpacePicture.Lay(ProcessMaps.Read(Environment.ProcessId)),
            _ when type == typeof(TimerLatencyResult) => TimerLatency.Summarize(new long[] { 1000, 3000, 2000 }, TimeSpan.FromMilliseconds(1)),
            _ when type == typeof(InotifyWatch) => Keep(Inotify.Create()).AddWatch(_folder),
            _ when type.IsEnum => Enum.GetValues(type).GetValue(0),
            _ when parameter.HasDefaultValue => parameter.DefaultValue,
            _ when type.IsValueType => Activator.CreateInstance(type),
            _ => null,
        };
    }

    /// <summary>The name of an object made and closed for the case, for the calls that open or remove one by name.</summary>
    private static string Existing(Func<string, IDisposable> create)
    {
        string name = TestNames.New();
        create(name).Dispose();
        return name;
    }

    /// <summary>A set or list with one member, an eventfd kept for the case: the handle its Modify, Remove and Find are given.</summary>
    private static IDisposable WithMember(IDisposable set, List<IDisposable> made)
    {
        EventFd member = EventFd.Create(1);
        made.Add(member);
        _ = set is PollSet epoll ? epoll.Add(member) : ((PollList)set).Add(member);
        return set;
    }

    /// <summary>A connected TCP socket on loopback, its listener and peer kept for the case: what urgent data needs.</summary>
    private static Socket TcpClient(List<IDisposable> made)
    {
        Socket listener = Socket.CreateBound(SocketEndpoint.Internet(System.Net.IPAddress.Loopback, 0));
        made.Add(listener);
        Socket client = Socket.CreateConnected(listener.LocalEndpoint, timeout: TimeSpan.FromSeconds(10))!;
        made.Add(listener.Accept(TimeSpan.FromSeconds(10))!);
        return client;
    }

    /// <summary>The address of a listening socket kept for the case, for the calls that connect.</summary>
    private static SocketEndpoint Listening(List<IDisposable> made)
    {
        Socket listener = Socket.CreateBound(SocketEndpoint.Abstract(TestNames.New()));
        made.Add(listener);
        return listener.LocalEndpoint;
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
    private object Instance(Type type, string method, List<IDisposable> made)
    {
        IDisposable instance = (type.Name, method) switch
        {
            (nameof(PosixSemaphore), nameof(PosixSemaphore.Destroy)) => PosixSemaphore.Initialize(
                Made(MemoryMapping.MapAnonymous(4096, MemoryProtection.ReadWrite, MappingVisibility.Shared)), 0, 1),
            (nameof(SharedMemory), nameof(SharedMemory.AddSeals)) => SharedMemory.CreateAnonymous("bad-input", 8192, MemorySeals.Shrink),
            (nameof(TimerFd), nameof(TimerFd.ArmAt)) => TimerFd.Create(TimerClock.Realtime),
            (nameof(MqNotification), nameof(MqNotification.Arm)) => Disarmed(MqNotification.ByThread(Made(MessageQueue.Create(TestNames.New(), 4, 64)))),
            (nameof(Socket), nameof(Socket.Accept) or nameof(Socket.Listen)) => Socket.CreateBound(SocketEndpoint.Abstract(TestNames.New())),
            (nameof(Socket), nameof(Socket.Connect)) => Socket.Create(SocketFamily.Unix, SocketKind.Stream),
            (nameof(Socket), nameof(Socket.SendUrgent) or nameof(Socket.ReceiveUrgent)) => TcpClient(made),
            (nameof(PollSet), nameof(PollSet.Modify) or nameof(PollSet.Remove) or nameof(PollSet.Find)) => WithMember(new PollSet(), made),
            (nameof(PollList), nameof(PollList.Modify) or nameof(PollList.Remove)) => WithMember(new PollList(), made),
            // A kind that can signal its readiness.
            (nameof(FileDescriptorObject), nameof(FileDescriptorObject.SetSignalDriven)) => Made(Pipe.Create()).ReadEnd,
            // A write end, its read end kept open so a write is not EPIPE.
            (nameof(PipeEnd) or nameof(StreamDescriptor), nameof(StreamDescriptor.Write)) => Made(Pipe.Create()).WriteEnd,
            _ => Instance(type, made),
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

        static MqNotification Disarmed(MqNotification notification)
        {
            notification.Disarm();
            return notification;
        }
    }

    private IDisposable Instance(Type type, List<IDisposable> made)
    {
        return type switch
        {
            _ when type == typeof(SharedMemory) => SharedMemory.Create(TestNames.New(), 8192),
            _ when type == typeof(MemoryMapping) => MemoryMapping.MapAnonymous(8192, MemoryProtection.ReadWrite, MappingVisibility.Shared),
            _ when type == typeof(PosixSemaphore) => PosixSemaphore.Create(TestNames.New(), 1),
            _ when type == typeof(MessageQueue) => MessageQueue.Create(TestNames.New(), 4, 64),
            _ when type == typeof(EventFd) || type == typeof(FileDescriptorObject) => EventFd.Create(1),
            _ when type == typeof(TimerFd) => TimerFd.Create(),
            _ when type == typeof(SignalFd) => SignalFd.Create([10]),
            _ when type == typeof(PollSet) => new PollSet(),
            _ when type == typeof(PollList) => new PollList(),
            _ when type == typeof(EventLoop) => new EventLoop(),
            _ when type == typeof(IPollable) => EventFd.Create(1),
            _ when type == typeof(Inotify) => Inotify.Create(),
            _ when type == typeof(Pty) => Pty.Start("cat"),
            _ when type == typeof(ChildProcess) => new ChildHolder(ChildProcess.Start(new ChildProcessStartInfo("sleep", ["30"]))),
            _ when type == typeof(MqNotification) => MqNotification.ByThread(Made(MessageQueue.Create(TestNames.New(), 4, 64))),
            _ when type == typeof(FileLock) => FileLock.Acquire(_file, FileLockKind.Ofd, FileLockMode.Shared, TimeSpan.Zero)!,
            _ when type == typeof(ProcessMapping) => new ValueHolder(ProcessMaps.Read(Environment.ProcessId)[0]),
            _ when type == typeof(AddressSpacePicture) => new ValueHolder(AddressSpacePicture.Lay(ProcessMaps.Read(Environment.ProcessId))),
            _ when type == typeof(ElfFile) => new ValueHolder(ElfFile.Parse(ElfImageBuilder.Build(ElfClass.Elf64, ElfByteOrder.LittleEndian), "demo.so")),
            _ when type == typeof(ElfProgramHeader) => new ValueHolder(ElfFile.Parse(ElfImageBuilder.Build(ElfClass.Elf64, ElfByteOrder.LittleEndian), "demo.so").ProgramHeaders[0]),
            _ when type == typeof(LibraryResolver) => new ValueHolder(new LibraryResolver()),
            _ when type == typeof(NamePattern) => new ValueHolder(new NamePattern("/job*")),
            _ when type == typeof(NativeSignature) => new ValueHolder(NativeSignature.Parse("int(void)")),
            _ when type == typeof(LoadedLibrary) => new ValueHolder(SharedLibrary.Loaded()[0]),
            _ when type == typeof(SharedLibrary) => SharedLibrary.Open("libm.so.6"),
            _ when type == typeof(Pipe) => Pipe.Create(),
            _ when type == typeof(Socket) => Made(Socket.CreatePair()).First,
            _ when type == typeof(SocketPair) => Socket.CreatePair(),
            _ when type == typeof(FileDescriptor) => PassedFile(made),
            // A read end with something to read and its writer still open.
            _ when type == typeof(PipeEnd) || type == typeof(StreamDescriptor) => ReadEndHolding("abc"u8),
            _ when type == typeof(MqMessage) => new ValueHolder(new MqMessage("/queue", 1, "abc"u8.ToArray(), DateTime.UtcNow)),
            _ => throw new NotSupportedException($"no instance of {type.Name} for the bad-input test: add one"),
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
