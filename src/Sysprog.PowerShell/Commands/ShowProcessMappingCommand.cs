using System.Diagnostics;
using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Show-ProcessMapping: the address space drawn as the course's whiteboard does, as text lines fitted to the window
/// (coloured where the host renders colour), or as SVG with -Path. Takes what Get-ProcessMapping takes (process ids,
/// Get-Process output) and Get-ProcessMapping's own output; -Compare draws a second process, or the same one later,
/// beside it.
/// </summary>
[Cmdlet(VerbsCommon.Show, "ProcessMapping", DefaultParameterSetName = ById)]
[OutputType(typeof(string))]
public sealed class ShowProcessMappingCommand : PictureCmdlet
{
    private const string ById = "Id", ByInputObject = "InputObject";
    private readonly List<(int ProcessId, List<ProcessMapping> Mappings)> _processes = [];

    /// <summary>Default: this pwsh process.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
    [Alias("ProcessId", "Pid")]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = [Environment.ProcessId];

    /// <summary>Mappings from Get-ProcessMapping (a saved snapshot draws as it was).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByInputObject)]
    public ProcessMapping[] InputObject { get; set; } = [];

    /// <summary>Drawn beside: a process id, a Process, or a set of mappings (the same process before an event, say).</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Compare { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ByInputObject)
        {
            foreach (ProcessMapping mapping in InputObject)
            {
                Collect(mapping.ProcessId).Add(mapping);
            }
            return;
        }
        foreach (int processId in Id)
        {
            // Read before anything is collected: a process that cannot be read is an error, never an empty picture.
            TryRun(processId, () =>
            {
                IReadOnlyList<ProcessMapping> read = ProcessMaps.Read(processId, trace: Trace);
                Collect(processId).AddRange(read);
            });
        }
    }

    protected override void EndProcessing()
    {
        if (_processes.Count == 0)
        {
            return;
        }
        // Mappings piped in are a snapshot, named by their program; a process read here is named as it is now.
        List<AddressSpacePicture> pictures = _processes
            .Select(p => AddressSpacePicture.Lay(p.Mappings, ParameterSetName == ByInputObject ? null : AddressSpacePicture.TitleOf(p.ProcessId))).ToList();
        AddressSpacePicture? beside = null;
        if (Compare is not null)
        {
            if (pictures.Count != 1)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Compare draws one process beside another, but {pictures.Count} processes came in."),
                    "CompareNeedsOneProcess", ErrorCategory.InvalidArgument, Compare));
            }
            if (!TryRun(Compare, () => beside = Second(Compare)))
            {
                return;
            }
        }
        if (OutputFile() is string file)
        {
            if (beside is null && pictures.Count > 1)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"An SVG holds one picture, or two with -Compare, but {pictures.Count} processes came in."),
                    "OnePicturePerFile", ErrorCategory.InvalidArgument, file));
            }
            TryRun(file, () => WriteFile(file, beside is null ? pictures[0].ToSvg() : AddressSpacePicture.ToSvg(pictures[0], beside)));
            return;
        }
        int width = PictureWidth();
        bool color = ColorWanted();
        IEnumerable<string> texts = beside is null ? pictures.Select(p => p.ToText(width, color)) : [AddressSpacePicture.ToText(pictures[0], beside, width, color)];
        foreach (string text in texts)
        {
            WriteObject(text.TrimEnd('\n').Split('\n'), enumerateCollection: true);
        }
    }

    private List<ProcessMapping> Collect(int processId)
    {
        int index = _processes.FindIndex(p => p.ProcessId == processId);
        if (index < 0)
        {
            _processes.Add((processId, []));
            index = _processes.Count - 1;
        }
        return _processes[index].Mappings;
    }

    /// <summary>-Compare's picture: from a pid or Process it is read now; mappings are drawn as they were taken.</summary>
    private AddressSpacePicture Second(object compare)
    {
        object value = compare is PSObject wrapped ? wrapped.BaseObject : compare;
        if (value is Process process)
        {
            value = process.Id;
        }
        if (value is ProcessMapping single)
        {
            value = new[] { single };
        }
        if (value is System.Collections.IEnumerable items and not string)
        {
            var mappings = new List<ProcessMapping>();
            foreach (object? item in items)
            {
                mappings.Add((item is PSObject p ? p.BaseObject : item) as ProcessMapping
                    ?? throw new ArgumentException($"-Compare takes a process id, a Process or mappings from Get-ProcessMapping, not a {item?.GetType().Name ?? "null"}.", nameof(Compare)));
            }
            return AddressSpacePicture.Lay(mappings);
        }
        if (!LanguagePrimitives.TryConvertTo(value, out int processId) || processId <= 0)
        {
            throw new ArgumentException($"-Compare takes a process id, a Process or mappings from Get-ProcessMapping, not '{value}'.", nameof(Compare));
        }
        return AddressSpacePicture.Lay(ProcessMaps.Read(processId, trace: Trace), AddressSpacePicture.TitleOf(processId));
    }
}
