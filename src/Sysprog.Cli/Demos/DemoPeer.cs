using System.Text;
using Sysprog;

namespace Sysprog.Cli.Demos;

/// <summary>
/// This program started again as the other process of a chapter demo, through the module's own spawn (so it can be
/// given descriptors by number and start with signals blocked, which Process.Start cannot do): its stdout comes back
/// on a pipe read here, its stderr (its --trace, its error message) on another unless it is to go straight to this
/// one's.
/// </summary>
internal sealed class DemoPeer : IDisposable
{
    private static readonly TimeSpan Patience = DemoSupport.Patience;

    private readonly ChildProcess _child;
    private readonly Pipe _output;
    private readonly Pipe? _errors;

    private DemoPeer(ChildProcess child, Pipe output, Pipe? errors)
    {
        _child = child;
        _output = output;
        _errors = errors;
    }

    public int ProcessId => _child.ProcessId;

    /// <summary>
    /// Starts "sysprog <paramref name="arguments"/>"; with <paramref name="traced"/> it traces too (--trace, on its
    /// stderr). <paramref name="captureErrors"/> keeps its stderr for <see cref="Finish"/> instead of passing it through.
    /// </summary>
    public static DemoPeer Start(IEnumerable<string> arguments, bool traced, IReadOnlyDictionary<int, IDescriptorObject>? descriptors = null,
        IReadOnlyCollection<int>? blockedSignals = null, IReadOnlyDictionary<string, string?>? environment = null, bool captureErrors = false)
    {
        // --trace before the command: a "--" in the arguments (sysprog lock ... -- true) ends the options.
        (string host, IReadOnlyList<string> argv) = Cli.Self(traced ? arguments.Prepend("--trace") : arguments);
        Pipe output = Pipe.Create();
        Pipe? errors = captureErrors ? Pipe.Create() : null;
        try
        {
            var passed = new Dictionary<int, IDescriptorObject>(descriptors ?? new Dictionary<int, IDescriptorObject>()) { [1] = output.WriteEnd };
            if (errors is not null)
            {
                passed[2] = errors.WriteEnd;
            }
            ChildProcess child = ChildProcess.Start(new ChildProcessStartInfo(host, argv)
            {
                Descriptors = passed,
                BlockedSignals = blockedSignals ?? [],
                Environment = environment,
            });
            // The child has its own copies: these would keep the pipes from ending when it does.
            output.WriteEnd.Close();
            errors?.WriteEnd.Close();
            return new DemoPeer(child, output, errors);
        }
        catch
        {
            output.Dispose();
            errors?.Dispose();
            throw;
        }
    }

    /// <summary>The next line it writes, without its line break; an error when none comes within a minute.</summary>
    public string ReadLine()
    {
        byte[] line = _output.ReadEnd.ReadTo("\n"u8, Patience)
            ?? throw new TimeoutException($"peer {ProcessId} wrote no line within {Units.FormatDuration(Patience)}");
        return line.Length == 0
            ? throw new InvalidOperationException($"peer {ProcessId} ended before writing the line expected")
            : Encoding.UTF8.GetString(line).TrimEnd('\n');
    }

    /// <summary>
    /// Waits until one of its threads is asleep in one of <paramref name="syscalls"/> (/proc/PID/task/TID/syscall):
    /// the proof that it is blocked in the kernel, not just started. The call as decoded, for the narration.
    /// </summary>
    public string WaitUntilBlockedIn(params string[] syscalls) => WaitUntilBlockedIn(_child, syscalls);

    /// <summary>The same for any child process: asleep in one of <paramref name="syscalls"/>, it runs its program.</summary>
    public static string WaitUntilBlockedIn(ChildProcess child, params string[] syscalls) => DemoSupport.WaitUntilBlocked(child, syscalls).Call;

    public void Signal(int signal) => _child.Signal(signal);

    /// <summary>Waits for it to end: how, what else it wrote on stdout, and its stderr when captured.</summary>
    public (ProcessExit Exit, string Output, string Errors) Finish()
    {
        ProcessExit exit = _child.WaitForExit(Patience) ?? throw new TimeoutException($"peer {ProcessId} did not end within {Units.FormatDuration(Patience)}");
        return (exit, DemoSupport.ReadToEnd(_output.ReadEnd, null), _errors is null ? "" : DemoSupport.ReadToEnd(_errors.ReadEnd, null));
    }

    public void Dispose()
    {
        if (!_child.IsClosed && !_child.HasExited)
        {
            _child.Signal(Signals.SIGKILL);
            _child.WaitForExit(Patience);
        }
        _child.Dispose();
        _output.Dispose();
        _errors?.Dispose();
    }
}
