using System.CommandLine;
using System.Text.Json;
using Sysprog;

namespace Sysprog.Cli;

/// <summary>inotify from the shell: watch paths and print their events, like inotifywait -m.</summary>
internal static class InotifyCommands
{
    public static Command BuildWatch(Option<bool> trace)
    {
        var paths = new Argument<string[]>("path") { Description = "Files or directories to watch (a directory's watch reports the names in it).", Arity = ArgumentArity.OneOrMore };
        var events = new Option<string>("--events") { Description = "Events to watch, comma-separated: access, modify, attrib, close_write, close_nowrite, open, moved_from, moved_to, create, delete, delete_self, move_self, close, move, changes, all.", DefaultValueFactory = _ => "changes" };
        var onlyDir = new Option<bool>("--only-dir") { Description = "IN_ONLYDIR: refuse a path that is not a directory." };
        var noFollow = new Option<bool>("--no-follow") { Description = "IN_DONT_FOLLOW: watch a symbolic link itself." };
        var count = new Option<int?>("--count") { Description = "Stop after this many events. Default: until Ctrl+C." };
        var timeout = new Option<string?>("--timeout") { Description = "Give up when no event came for this long; exit 124." };
        var json = new Option<bool>("--json") { Description = "One JSON object per event." };
        var command = new Command("watch", "Watch files and directories with inotify and print each event as it comes (the watches are announced on stderr).")
        {
            paths, events, onlyDir, noFollow, count, timeout, json,
        };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            return Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                InotifyEvents wanted = InotifyEvent.ParseEvents(r.GetValue(events)!);
                InotifyWatchOptions options = (r.GetValue(onlyDir) ? InotifyWatchOptions.OnlyDir : 0) | (r.GetValue(noFollow) ? InotifyWatchOptions.DontFollow : 0);
                TimeSpan wait = Cli.Timeout(r, timeout);
                int? limit = r.GetValue(count);
                if (limit <= 0)
                {
                    throw new ArgumentException("--count takes 1 or more.");
                }
                using Inotify inotify = Inotify.Create(trace: t);
                foreach (string path in r.GetValue(paths)!)
                {
                    InotifyWatch watch = inotify.AddWatch(path, wanted, options, t);
                    Console.Error.WriteLine($"watching {NameEscaping.Escape(watch.Path)} (wd {watch.Descriptor})");
                }
                for (int seen = 0; limit is null || seen < limit; seen++)
                {
                    InotifyEvent? next;
                    try
                    {
                        next = inotify.Read(wait, cancel.Token, t);
                    }
                    catch (OperationCanceledException) when (cancel.Token.IsCancellationRequested)
                    {
                        return;
                    }
                    if (next is null)
                    {
                        throw new TimeoutException($"no event within {Units.FormatDuration(wait)}");
                    }
                    Console.WriteLine(r.GetValue(json) ? JsonSerializer.Serialize(new
                    {
                        next.EventNames, next.Events, next.IsDirectory, next.Path, next.Name, next.WatchDescriptor, next.Cookie, next.MovedFrom,
                        Time = next.ReceivedAt,
                    }, Cli.CompactJson) : next.ToString());
                    Console.Out.Flush();
                }
            });
        });
        return command;
    }
}
