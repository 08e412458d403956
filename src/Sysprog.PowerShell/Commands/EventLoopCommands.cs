using System.Collections;
using System.Management.Automation;

namespace Sysprog.PowerShell.Commands;

/// <summary>
/// Invoke-EventLoop: one thread, one epoll set, a script block per handle, run on the pipeline thread each time its
/// handle is ready (as $_, an EventLoopEvent), until a handler calls $_.Loop.Stop(), no handle is left, the time runs
/// out, or Ctrl+C. Handlers add handles with $_.Loop.Add($handle, { ... }) and remove them with $_.Loop.Remove($handle).
/// What handlers output is the cmdlet's output; a handler that throws ends the loop with its error.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "EventLoop")]
[OutputType(typeof(object))]
public sealed class InvokeEventLoopCommand : SysprogCmdlet
{
    /// <summary>Each handle (a socket, listener, pipe or FIFO end, timerfd, eventfd, signalfd, queue, inotify, child process, pty) with its script block.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public IDictionary Handler { get; set; } = null!;

    /// <summary>How long the loop runs at most; by default until a handler stops it, no handle is left, or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.0, 2073600.0)]
    public double? TimeoutSeconds { get; set; }

    protected override void ProcessRecord()
    {
        var handlers = new List<(IPollable Handle, ScriptBlock Script)>();
        foreach (DictionaryEntry entry in Handler)
        {
            object key = entry.Key is PSObject wrappedKey ? wrappedKey.BaseObject : entry.Key;
            object? value = entry.Value is PSObject wrappedValue ? wrappedValue.BaseObject : entry.Value;
            if (key is not IPollable handle || value is not ScriptBlock script)
            {
                WriteError(ToErrorRecord(new ArgumentException(
                    $"Each key of -Handler is a handle to wait on (a socket, pipe end, timerfd, eventfd, signalfd, queue, inotify, child process or pty) and its value a script block; {key.GetType().Name} => {value?.GetType().Name ?? "null"} is not.",
                    nameof(Handler)), key));
                return;
            }
            handlers.Add((handle, script));
        }
        TimeSpan timeout = TimeoutOf(TimeoutSeconds);
        using var loop = new EventLoop(Trace);
        if (!TryRun(loop, () => handlers.ForEach(h => loop.Add(h.Handle, h.Script, Readiness.Readable, Trace))))
        {
            return;
        }
        TryRun(loop, () => loop.Run(CallHandler, timeout, Cancellation, Trace));
    }

    private void CallHandler(object handler, EventLoopEvent ready)
    {
        if ((handler is PSObject wrapped ? wrapped.BaseObject : handler) is not ScriptBlock script)
        {
            throw new PSArgumentException($"The handler of {ready.Handle.Description} is a {handler.GetType().Name}: give the loop a script block.");
        }
        var variables = new List<PSVariable> { new("_", ready) };
        foreach (PSObject output in script.InvokeWithContext(null, variables, ready))
        {
            WriteObject(output);
        }
    }
}
