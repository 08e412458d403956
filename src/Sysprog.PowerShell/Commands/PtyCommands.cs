using System.Collections;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace Sysprog.PowerShell.Commands;

/// <summary>Start-Pty: posix_openpt(3) and a program spawned on the new terminal's secondary side.</summary>
[Cmdlet(VerbsLifecycle.Start, "Pty")]
[OutputType(typeof(Pty))]
public sealed class StartPtyCommand : ProgramCommandBase
{
    [Parameter]
    [ValidateRange(1, ushort.MaxValue)]
    public int Rows { get; set; } = 24;

    [Parameter]
    [ValidateRange(1, ushort.MaxValue)]
    public int Columns { get; set; } = 80;

    /// <summary>Read-Pty and Write-Pty do not wait: where they would, they write a WouldBlock record (EAGAIN) instead. Wait-Pty still waits.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void ProcessRecord()
    {
        TryRun(FilePath, () => WriteObject(Handles.Track(Pty.Start(Program, ArgumentList ?? [], Rows, Columns, WorkingDirectoryPath, EnvironmentOverlay, Trace, NonBlocking))));
    }
}

/// <summary>Read-Pty: what the program wrote to its terminal.</summary>
[Cmdlet(VerbsCommunications.Read, "Pty")]
[OutputType(typeof(string), typeof(WouldBlock))]
public sealed class ReadPtyCommand : ReadDescriptorCommandBase<Pty>
{
    /// <summary>Keep writing output as it comes, until the output ends, Ctrl+C, or -TimeoutSeconds pass without any.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override void ProcessRecord()
    {
        TryRun(InputObject, () => WriteUntilEnd(() => InputObject.Read(Timeout, Cancellation, Trace), text => text.Length == 0, Wait,
            InputObject, Timeout));
    }
}

/// <summary>Write-Pty: text typed at the program's terminal.</summary>
[Cmdlet(VerbsCommunications.Write, "Pty")]
[OutputType(typeof(WouldBlock))]
public sealed class WritePtyCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public Pty InputObject { get; set; } = null!;

    /// <summary>Each string is followed by Enter ("\r", what a terminal sends) unless -NoNewline.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Text { get; set; } = [];

    [Parameter]
    public SwitchParameter NoNewline { get; set; }

    /// <summary>Default: wait until the terminal takes it all, or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    protected override void ProcessRecord()
    {
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        foreach (string text in Text)
        {
            byte[] input = System.Text.Encoding.UTF8.GetBytes(NoNewline ? text : text + "\r");
            bool blocked = false;
            TryRun(InputObject, () =>
            {
                int written = InputObject.Write(input, timeout, Cancellation, Trace);
                if (written < input.Length)
                {
                    WriteObject(new WouldBlock(InputObject, "write", written));
                    blocked = true;
                }
            });
            if (blocked)
            {
                return;
            }
        }
    }
}

/// <summary>Wait-Pty: until the output matches a pattern (expect), or until the program ends.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Pty", DefaultParameterSetName = ForPattern)]
[OutputType(typeof(PtyMatch), ParameterSetName = new[] { ForPattern })]
[OutputType(typeof(ProcessExit), ParameterSetName = new[] { ForExit })]
public sealed class WaitPtyCommand : ReadDescriptorCommandBase<Pty>
{
    private const string ForPattern = "Pattern";
    private const string ForExit = "Exit";

    /// <summary>A regular expression, matched case-insensitively unless -CaseSensitive, as Select-String does.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ForPattern)]
    [ValidateNotNullOrEmpty]
    public string Pattern { get; set; } = "";

    /// <summary>Take -Pattern as literal text, not a regular expression.</summary>
    [Parameter(ParameterSetName = ForPattern)]
    public SwitchParameter SimpleMatch { get; set; }

    [Parameter(ParameterSetName = ForPattern)]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Wait for the program to end, and reap it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ForExit)]
    public SwitchParameter Exit { get; set; }

    private Regex? _regex;

    protected override void BeginProcessing()
    {
        if (ParameterSetName == ForPattern)
        {
            try
            {
                _regex = new Regex(SimpleMatch ? Regex.Escape(Pattern) : Pattern,
                    CaseSensitive ? RegexOptions.CultureInvariant : RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(ToErrorRecord(new ArgumentException($"-Pattern is not a regular expression ({e.Message}); -SimpleMatch takes it as text.", e), Pattern));
            }
        }
    }

    protected override void ProcessRecord()
    {
        TryRun(InputObject, () =>
        {
            if (_regex is null)
            {
                WriteObject(InputObject.WaitForExit(Timeout, Cancellation, Trace)
                    ?? throw new TimeoutException($"{InputObject.Description} did not end within {Units.FormatDuration(Timeout)}."));
                return;
            }
            WriteObject(InputObject.Expect(_regex, Timeout, Cancellation, Trace)
                ?? throw new TimeoutException(InputObject.DescribeUnmatched(_regex, Timeout)));
        });
    }
}

/// <summary>Set-Pty: the terminal's size (TIOCSWINSZ, the program gets SIGWINCH) and modes (tcsetattr).</summary>
[Cmdlet(VerbsCommon.Set, "Pty", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Pty))]
public sealed class SetPtyCommand : SysprogCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Pty InputObject { get; set; } = null!;

    /// <summary>Default: as it is now.</summary>
    [Parameter]
    [ValidateRange(1, ushort.MaxValue)]
    public int? Rows { get; set; }

    /// <summary>Default: as it is now.</summary>
    [Parameter]
    [ValidateRange(1, ushort.MaxValue)]
    public int? Columns { get; set; }

    /// <summary>-Echo turns echo on, -Echo:$false off.</summary>
    [Parameter]
    public SwitchParameter Echo { get; set; }

    /// <summary>-Raw as cfmakeraw(3) sets it, -Raw:$false back to cooked (line editing, echo, signal keys).</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private bool IsBound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    protected override void BeginProcessing()
    {
        if (!IsBound(nameof(Rows)) && !IsBound(nameof(Columns)) && !IsBound(nameof(Echo)) && !IsBound(nameof(Raw)))
        {
            ThrowTerminatingError(ToErrorRecord(new ArgumentException("Nothing to set: give -Rows, -Columns, -Echo or -Raw."), MyInvocation.MyCommand.Name));
        }
    }

    protected override void ProcessRecord()
    {
        var changes = new List<string>();
        if (Rows is int rows)
        {
            changes.Add($"{rows} rows");
        }
        if (Columns is int columns)
        {
            changes.Add($"{columns} columns");
        }
        if (IsBound(nameof(Raw)))
        {
            changes.Add(Raw ? "raw mode" : "cooked mode");
        }
        if (IsBound(nameof(Echo)))
        {
            changes.Add(Echo ? "echo on" : "echo off");
        }
        if (!ShouldProcess(InputObject.Description, $"Set {string.Join(", ", changes)}"))
        {
            return;
        }
        bool done = TryRun(InputObject, () =>
        {
            if (Rows is not null || Columns is not null)
            {
                TerminalSize size = InputObject.Size;
                InputObject.Resize(Rows ?? size.Rows, Columns ?? size.Columns, Trace);
            }
            // Raw first: it clears ECHO, so an -Echo given with it has the last word.
            if (IsBound(nameof(Raw)))
            {
                InputObject.SetRaw(Raw, Trace);
            }
            if (IsBound(nameof(Echo)))
            {
                InputObject.SetEcho(Echo, Trace);
            }
        });
        if (done && PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

/// <summary>Close-Pty: closes the primary side (the program gets SIGHUP), then reaps the program, killing it if it stays.</summary>
[Cmdlet(VerbsCommon.Close, "Pty")]
[OutputType(typeof(void))]
public sealed class ClosePtyCommand : CloseDescriptorCommandBase<Pty>
{
}
