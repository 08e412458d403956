using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sysprog.PowerShell;

/// <summary>Tab completion of the shared memory names that exist in /dev/shm.</summary>
public sealed class SharedMemoryNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        IpcName.Complete(SharedMemory.List().Select(i => i.Name), wordToComplete)
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
}

/// <summary>Tab completion of the named semaphores that exist in /dev/shm.</summary>
public sealed class SemaphoreNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        IpcName.Complete(PosixSemaphore.List().Select(i => i.Name), wordToComplete)
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
}

/// <summary>Tab completion of the message queues in /dev/mqueue (nothing when it is not mounted).</summary>
public sealed class MessageQueueNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        !MessageQueue.IsMqueueFsMounted()
            ? []
            : IpcName.Complete(MessageQueue.List().Select(i => i.Name), wordToComplete)
                .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
}
