using System.Management.Automation;
using System.Runtime.InteropServices;

namespace Sysprog.PowerShell.Commands;

/// <summary>Get-Syscall: the system call table of this machine (uname) or of x86-64 or arm64, by name or number.</summary>
[Cmdlet(VerbsCommon.Get, "Syscall")]
[OutputType(typeof(SyscallEntry))]
public sealed class GetSyscallCommand : SysprogCmdlet
{
    /// <summary>Names, with wildcards (epoll*); default all.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SyscallNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRange(0, 4095)]
    public int[] Number { get; set; } = [];

    /// <summary>X64 or Arm64; default the machine's (uname).</summary>
    [Parameter]
    [ValidateSet("X64", "Arm64")]
    public Architecture? Architecture { get; set; }

    private IReadOnlyList<SyscallEntry>? _table;

    protected override void BeginProcessing()
    {
        TryRun("system call table", () => _table = SyscallTable.Entries(Architecture ?? SyscallTable.Machine(Trace)));
    }

    protected override void ProcessRecord()
    {
        if (_table is null)
        {
            return;
        }
        if (Name.Length == 0 && Number.Length == 0)
        {
            WriteObject(_table, enumerateCollection: true);
            return;
        }
        foreach (string name in Name)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.None);
            List<SyscallEntry> found = _table.Where(e => pattern.IsMatch(e.Name)).ToList();
            WriteObject(found, enumerateCollection: true);
            if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                TryRun(name, () => throw new KeyNotFoundException($"{_table[0].Architecture} has no system call named {name}."));
            }
        }
        foreach (int number in Number)
        {
            SyscallEntry? found = _table.FirstOrDefault(e => e.Number == number);
            if (found is null)
            {
                TryRun(number, () => throw new KeyNotFoundException($"{_table[0].Architecture} has no system call {number}."));
            }
            else
            {
                WriteObject(found);
            }
        }
    }
}

/// <summary>Get-ProcessSyscall: the system call each thread of a process is in, decoded, and the kernel function it sleeps in.</summary>
[Cmdlet(VerbsCommon.Get, "ProcessSyscall")]
[OutputType(typeof(ThreadSyscall))]
public sealed class GetProcessSyscallCommand : ProcessCommandBase
{
    /// <summary>One thread (a TID of the process); default every thread.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? ThreadId { get; set; }

    protected override void ProcessRecord()
    {
        foreach (int id in ProcessIds)
        {
            TryRun(id, () => WriteObject(ProcessSyscalls.Read(id, ThreadId, Trace), enumerateCollection: true));
        }
    }
}
