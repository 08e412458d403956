using System.Collections;

namespace Sysprog;

/// <summary>
/// What a child process starts with: the program and its arguments, environment and working directory, which of
/// this process's descriptors it gets under which numbers, and the attributes posix_spawn sets before the exec
/// (session, process group, blocked signals, scheduling). Every signal disposition starts at its default.
/// </summary>
public sealed class ChildProcessStartInfo
{
    /// <param name="program">A name is looked up in PATH (posix_spawnp); a path with a '/' is taken as it is.</param>
    /// <param name="arguments">argv[1] on.</param>
    public ChildProcessStartInfo(string program, IEnumerable<string>? arguments = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        Program = program;
        Arguments = arguments?.ToArray() ?? [];
    }

    public string Program { get; }

    /// <summary>argv[1] on; argv[0] is the program as given.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Default: this process's working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables laid over this process's environment; a null value removes one.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// The child's descriptors: child number → a descriptor of this process. 0, 1 and 2 are this process's own
    /// unless given here; every other descriptor is closed in the child, inheritable or not.
    /// </summary>
    public IReadOnlyDictionary<int, IDescriptorObject> Descriptors { get; init; } = new Dictionary<int, IDescriptorObject>();

    /// <summary>setsid in the child: a session and process group of its own, with no controlling terminal (Ctrl+C at this terminal does not reach it).</summary>
    public bool NewSession { get; init; }

    /// <summary>setpgid(0, 0) in the child: a process group of its own, in this session.</summary>
    public bool NewProcessGroup { get; init; }

    /// <summary>The child's signal mask: what stays pending until it unblocks it, as a program reading them from a signalfd needs.</summary>
    public IReadOnlyCollection<int> BlockedSignals { get; init; } = [];

    /// <summary>The child's scheduling policy (Other, Fifo or RR: what posix_spawn sets); null keeps this process's.</summary>
    public SchedulingPolicy? SchedulingPolicy { get; init; }

    /// <summary>The static priority for <see cref="SchedulingPolicy"/> Fifo or RR (1 to 99); 0 for the others.</summary>
    public int SchedulingPriority { get; init; }

    /// <summary>A terminal the child opens as 0, 1 and 2 after setsid, making it its controlling terminal (what Pty does).</summary>
    internal string? TerminalPath { get; init; }

    /// <summary>Variables the child gets unless this process or <see cref="Environment"/> sets them (TERM for a pty).</summary>
    internal IReadOnlyDictionary<string, string>? EnvironmentDefaults { get; init; }

    /// <summary>The command line as a shell would show it, for messages and listings: each word escaped (<see cref="NameEscaping"/>), quoted when it has a space.</summary>
    public string CommandLine => string.Join(' ', Arguments.Prepend(Program).Select(NameEscaping.Escape).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a));

    /// <summary>Refuses what no posix_spawn could take, before anything is started.</summary>
    internal void Validate()
    {
        // Named as Pty.Start and the cmdlets name them, since their callers hand these straight on.
        RefuseNul([Program], "program");
        RefuseNul(Arguments, "arguments");
        RefuseNul([WorkingDirectory ?? ""], "workingDirectory");
        if (WorkingDirectory is { Length: 0 })
        {
            throw new ArgumentException("A working directory is a path; give none to start in this process's own.", "workingDirectory");
        }
        RefuseNul([.. Environment?.Keys ?? [], .. Environment?.Values.OfType<string>() ?? []], "environment");
        if (Environment?.Keys.Any(k => k.Length == 0 || k.Contains('=', StringComparison.Ordinal)) == true)
        {
            throw new ArgumentException("An environment variable's name is not empty and has no '='.", "environment");
        }
        foreach ((int number, IDescriptorObject source) in Descriptors)
        {
            if (number < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(Descriptors), number, "A child's descriptor number is 0 or more.");
            }
            if (source is null)
            {
                throw new ArgumentNullException(nameof(Descriptors), $"Descriptor {number} of the child maps to nothing.");
            }
        }
        if (TerminalPath is not null && Descriptors.Count > 0)
        {
            throw new ArgumentException("A child on a terminal gets the terminal as 0, 1 and 2.", nameof(Descriptors));
        }
        foreach (int signal in BlockedSignals)
        {
            if (signal is < 1 or > Signals.SIGRTMAX)
            {
                throw new ArgumentOutOfRangeException(nameof(BlockedSignals), signal, $"A signal is 1 to {Signals.SIGRTMAX}.");
            }
        }
        if (SchedulingPolicy is SchedulingPolicy policy)
        {
            if (policy is not (Sysprog.SchedulingPolicy.Other or Sysprog.SchedulingPolicy.Fifo or Sysprog.SchedulingPolicy.RR))
            {
                throw new ArgumentException($"posix_spawn sets Other, Fifo or RR; set {ProcessScheduling.NameOf(policy)} once it runs (ProcessScheduling.SetPolicy).", nameof(SchedulingPolicy));
            }
            ProcessScheduling.ValidatePriority(policy, SchedulingPriority);
        }
        else if (SchedulingPriority != 0)
        {
            throw new ArgumentException("A scheduling priority goes with a scheduling policy (Fifo or RR).", nameof(SchedulingPriority));
        }
        if (NewSession && NewProcessGroup)
        {
            throw new ArgumentException("A new session is a new process group already: ask for one or the other.", nameof(NewProcessGroup));
        }
    }

    private static void RefuseNul(IEnumerable<string?> texts, string parameter)
    {
        if (texts.Any(text => text is null || text.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ArgumentException($"The {parameter} cannot be null or contain NUL.", parameter);
        }
    }

    /// <summary>This process's environment with <see cref="EnvironmentDefaults"/> under it and <see cref="Environment"/> over it, as NAME=value.</summary>
    internal List<string> MergedEnvironment()
    {
        var merged = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            merged[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        foreach ((string name, string value) in EnvironmentDefaults ?? new Dictionary<string, string>())
        {
            merged.TryAdd(name, value);
        }
        foreach ((string name, string? value) in Environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                merged.Remove(name);
            }
            else
            {
                merged[name] = value;
            }
        }
        return merged.Select(e => $"{e.Key}={e.Value}").ToList();
    }
}
