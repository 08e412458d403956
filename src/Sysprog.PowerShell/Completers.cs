using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sysprog.PowerShell;

/// <summary>
/// What the name completers share: the names a listing gives, filtered by what was typed. Completion runs on Tab in
/// an interactive session, so a listing that fails (no /dev/shm, no mqueue filesystem) completes nothing rather
/// than throwing into the user's prompt; listings never map anything, so a planted file cannot crash it either.
/// </summary>
public abstract class IpcNameCompleter : IArgumentCompleter
{
    private protected abstract IEnumerable<string> ListNames();

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        List<string> names;
        try
        {
            names = ListNames().ToList();
        }
        catch (Exception e) when (ErrorMapping.IsExpected(e))
        {
            return [];
        }
        return IpcName.Complete(names, wordToComplete).Select(CompletionText.Result);
    }
}

/// <summary>
/// The text Tab puts on the command line for a name anyone may have made. Another local user names their objects
/// freely: a shared memory object called <c>/a;b$(id)</c> completed bare would run <c>id</c> (or anything) when
/// the line is accepted. A name is put bare only when every character reads as part of one bare word in argument
/// mode; any other is single-quoted, where nothing is code, with each quote inside doubled (PowerShell's four
/// single-quote characters all end a quoted string, so each is).
/// </summary>
internal static class CompletionText
{
    public static CompletionResult Result(string name) => new(Quote(name), name, CompletionResultType.ParameterValue, name);

    public static string Quote(string text)
    {
        bool bare = text.Length > 0 && !text.StartsWith('-') && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or ':' or '+' or '\\');
        if (bare)
        {
            return text;
        }
        var quoted = new System.Text.StringBuilder(text.Length + 2).Append('\'');
        foreach (char c in text)
        {
            quoted.Append(c);
            if (c is '\'' or '\u2018' or '\u2019' or '\u201A' or '\u201B')
            {
                quoted.Append(c);
            }
        }
        return quoted.Append('\'').ToString();
    }
}

/// <summary>Tab completion of the shared memory names that exist in /dev/shm.</summary>
public sealed class SharedMemoryNameCompleter : IpcNameCompleter
{
    private protected override IEnumerable<string> ListNames() => SharedMemoryNames();

    internal static IEnumerable<string> SharedMemoryNames() => SharedMemory.List().Where(i => i.Problem is null).Select(i => i.Name);
}

/// <summary>Tab completion of the named semaphores that exist in /dev/shm.</summary>
public sealed class SemaphoreNameCompleter : IpcNameCompleter
{
    private protected override IEnumerable<string> ListNames() => SemaphoreNames();

    internal static IEnumerable<string> SemaphoreNames() => PosixSemaphore.List().Where(i => i.Problem is null).Select(i => i.Name);
}

/// <summary>Tab completion of the message queues in /dev/mqueue (nothing when it is not mounted).</summary>
public sealed class MessageQueueNameCompleter : IpcNameCompleter
{
    private protected override IEnumerable<string> ListNames() => QueueNames();

    internal static IEnumerable<string> QueueNames() => MessageQueue.IsMqueueFsMounted() ? MessageQueue.List().Select(i => i.Name) : [];
}

/// <summary>
/// Tab completion of every IPC object's name: the POSIX names of the three listings above, then the System V keys.
/// Only the listings, not the scan of every process that Get-IpcObject makes for holders, so Tab stays quick.
/// </summary>
public sealed class IpcObjectNameCompleter : IpcNameCompleter
{
    private protected override IEnumerable<string> ListNames() =>
        SharedMemoryNameCompleter.SharedMemoryNames().Concat(SemaphoreNameCompleter.SemaphoreNames()).Concat(MessageQueueNameCompleter.QueueNames())
            .Concat(IpcInventory.SysVKeys()).Distinct(StringComparer.Ordinal);
}

/// <summary>
/// Tab completion of listening UNIX sockets for Connect-Socket: socket files for -Path (by full path, or by file name
/// when what was typed has no '/'), abstract names for -Name. Only /proc/net/unix is read, no process scan.
/// </summary>
public sealed class SocketAddressCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> addresses;
        try
        {
            addresses = SocketTable.ListeningUnixAddresses();
        }
        catch (Exception e) when (ErrorMapping.IsExpected(e))
        {
            return [];
        }
        string typed = (wordToComplete ?? "").Trim('\'', '"');
        IEnumerable<string> matches = parameterName == "Name"
            ? addresses.Where(a => a.StartsWith('@')).Select(a => a[1..]).Where(n => n.StartsWith(typed.TrimStart('@'), StringComparison.Ordinal))
            : addresses.Where(a => a.StartsWith('/') && (typed.Contains('/') ? a.StartsWith(typed, StringComparison.Ordinal)
                : System.IO.Path.GetFileName(a).StartsWith(typed, StringComparison.Ordinal)));
        return matches.Select(CompletionText.Result);
    }
}

/// <summary>Tab completion of signal names: TERM, KILL, USR1..., the realtime ones as RTMIN+N.</summary>
public sealed class SignalNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        return Enumerable.Range(1, Signals.SIGRTMAX)
            .Where(number => number is < 32 or >= Signals.SIGRTMIN)
            .Select(number => Signals.Name(number)["SIG".Length..])
            .Where(name => name.StartsWith(typed, StringComparison.OrdinalIgnoreCase) || ("SIG" + name).StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, "SIG" + name));
    }
}

/// <summary>
/// Tab completion from a fixed or cheaply listed set of words, matched by prefix, case-insensitively: what the
/// encoding, system call and library completers share.
/// </summary>
public abstract class WordCompleter : IArgumentCompleter
{
    private protected abstract IEnumerable<string> Words();

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        List<string> words;
        try
        {
            words = Words().ToList();
        }
        catch (Exception e) when (ErrorMapping.IsExpected(e))
        {
            return [];
        }
        return words.Where(word => word.StartsWith(typed, StringComparison.OrdinalIgnoreCase)).Select(CompletionText.Result);
    }
}

/// <summary>Tab completion of -Encoding: the names TextEncodings knows.</summary>
public sealed class EncodingCompleter : WordCompleter
{
    private protected override IEnumerable<string> Words() => TextEncodings.Names;
}

/// <summary>Tab completion of system call names of this machine's table (Get-Syscall -Name).</summary>
public sealed class SyscallNameCompleter : WordCompleter
{
    private protected override IEnumerable<string> Words() => SyscallTable.Entries().Select(entry => entry.Name).Order(StringComparer.Ordinal);
}

/// <summary>Tab completion of library names the loader finds without a path: the sonames in /etc/ld.so.cache.</summary>
public sealed class LibraryNameCompleter : WordCompleter
{
    private protected override IEnumerable<string> Words() => SharedLibrary.CachedNames();
}
