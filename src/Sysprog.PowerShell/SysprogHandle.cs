using System.Management.Automation.Runspaces;

namespace Sysprog;

/// <summary>A handle object a Sysprog cmdlet gave out and nobody has closed yet, with the runspace it was given to.</summary>
public sealed class SysprogHandle
{
    internal SysprogHandle(OpenHandle open, Runspace? runspace)
    {
        Kind = open.Kind;
        Name = open.Name;
        Descriptors = open.Descriptors;
        Handle = open.Handle;
        RunspaceId = runspace?.Id;
        RunspaceName = runspace?.Name;
    }

    /// <summary>The runspace whose cmdlet gave it out (Get-Runspace -Id); null where none was current.</summary>
    public int? RunspaceId { get; }

    public string? RunspaceName { get; }

    /// <summary>The object's type: SharedMemory, PipeEnd, Socket, MemoryMapping...</summary>
    public string Kind { get; }

    /// <summary>How messages name it: its name, path, address or descriptor.</summary>
    public string Name { get; }

    /// <summary>The descriptors of this process it keeps open (both ends of a pipe; none for a mapping).</summary>
    public IReadOnlyList<int> Descriptors { get; }

    /// <summary>The descriptors as the table shows them: "5,6".</summary>
    public string Fds => string.Join(',', Descriptors);

    /// <summary>The object itself: pass it to its Close- cmdlet, or call Dispose().</summary>
    public object Handle { get; }

    public override string ToString() => $"{Kind} {Name}";
}
