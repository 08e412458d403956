namespace Sysprog;

/// <summary>
/// An exact name (no wildcards) that a listing did not find: no object of that kind has it. Raised by the listing
/// itself, not as an errno, because no system call failed: the directory simply has no such entry.
/// </summary>
public sealed class NameNotFoundException : FileNotFoundException
{
    public NameNotFoundException(string kind, string name, string hint)
        : base($"No {kind} has the name {name}. {hint}", name)
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>"shared memory object", "semaphore", "message queue".</summary>
    public string Kind { get; }

    public string Name { get; }

    /// <summary>
    /// The listing as it is, or this exception when <paramref name="pattern"/> named one object exactly and the
    /// listing is empty: Get-SharedMemory /x reports a missing /x, while /x* simply matches nothing.
    /// </summary>
    public static IReadOnlyList<T> ThrowIfExactNameMissing<T>(IReadOnlyList<T> found, string? pattern, string kind, string hint, int nameMax = IpcName.NameMax)
    {
        if (found.Count == 0 && !string.IsNullOrEmpty(pattern) && !IpcName.HasWildcards(pattern))
        {
            throw new NameNotFoundException(kind, IpcName.Normalize(pattern, nameMax), hint);
        }
        return found;
    }
}
