using System.CommandLine;
using Sysprog;

namespace Sysprog.Cli;

internal static class SemaphoreCommands
{
    public static Command Build(Option<bool> trace) => new("sem", "POSIX named semaphores (/dev/shm/sem.*).")
    {
        Create(trace), List(), Remove(trace), Value(trace), Wait(trace), Post(trace),
    };

    private static Command Create(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var value = new Option<int>("--value") { Description = "Initial value." };
        var mode = new Option<string>("--mode") { Description = "Octal permissions.", DefaultValueFactory = _ => "0600" };
        var command = new Command("create", "Create a semaphore (fails if the name exists).") { name, value, mode };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using PosixSemaphore semaphore = PosixSemaphore.Create(r.GetValue(name)!, r.GetValue(value), FileModes.ParseOctal(r.GetValue(mode)!), t);
            Console.WriteLine($"{semaphore.Name} value {semaphore.Value}");
            semaphore.Close(t);
        }));
        return command;
    }

    private static Command List()
    {
        var pattern = new Argument<string?>("pattern") { Description = "Wildcard filter such as /job*.", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("list", "List the named semaphores.") { pattern, json };
        command.SetAction(r => Cli.Run(() =>
        {
            IReadOnlyList<SemaphoreInfo> found = PosixSemaphore.List(r.GetValue(pattern));
            if (r.GetValue(json))
            {
                Cli.WriteJson(found.Select(i => new { i.Name, i.Value, Mode = i.Mode, i.Owner, i.OwnerId, i.Group, i.GroupId, i.Path, i.Problem }));
                return;
            }
            foreach (SemaphoreInfo info in found)
            {
                Console.WriteLine($"{info.Mode} {info.Owner,-10} {info.Value?.ToString() ?? "?",10} {info.Name}{Cli.ProblemSuffix(info)}");
            }
        }));
        return command;
    }

    private static Command Remove(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var command = new Command("remove", "Unlink a semaphore's name (sem_unlink).") { name };
        command.SetAction(r => Cli.Run(() => PosixSemaphore.Unlink(r.GetValue(name)!, Cli.Trace(r, trace))));
        return command;
    }

    private static Command Value(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var command = new Command("value", "Print a semaphore's value (sem_getvalue).") { name };
        command.SetAction(r => Cli.Run(() =>
        {
            using PosixSemaphore semaphore = Cli.Warned(PosixSemaphore.Open(r.GetValue(name)!, Cli.Trace(r, trace)));
            Console.WriteLine(semaphore.Value);
        }));
        return command;
    }

    private static Command Wait(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var timeout = new Option<string?>("--timeout") { Description = "Give up after this long (500ms, 2s, 1m); exit 124. Default: wait until Ctrl+C." };
        var hold = new Option<bool>("--hold") { Description = "After taking it, stay until killed (shows that a dead holder never posts)." };
        var command = new Command("wait", "Take one (sem_wait); blocks while the value is 0.") { name, timeout, hold };
        command.SetAction(r =>
        {
            using var cancel = new Cli.CtrlC();
            bool took = false;
            int exit = Cli.Run(() =>
            {
                SyscallTrace? t = Cli.Trace(r, trace);
                TimeSpan wait = Cli.Timeout(r, timeout);
                using PosixSemaphore semaphore = Cli.Warned(PosixSemaphore.Open(r.GetValue(name)!, t));
                took = semaphore.Wait(wait, cancel.Token, t);
                if (!took)
                {
                    throw new TimeoutException($"{semaphore.Name}: not available within {Units.FormatDuration(wait)}.");
                }
                Console.WriteLine($"took {semaphore.Name}");
                Console.Out.Flush();
                if (r.GetValue(hold))
                {
                    cancel.Token.WaitHandle.WaitOne();
                }
            });
            return exit;
        });
        return command;
    }

    private static Command Post(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var count = new Option<int>("--count") { Description = "How many times to post.", DefaultValueFactory = _ => 1 };
        var command = new Command("post", "Add one (sem_post), waking a waiter.") { name, count };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using PosixSemaphore semaphore = Cli.Warned(PosixSemaphore.Open(r.GetValue(name)!, t));
            for (int i = 0; i < r.GetValue(count); i++)
            {
                semaphore.Post(t);
            }
        }));
        return command;
    }
}
