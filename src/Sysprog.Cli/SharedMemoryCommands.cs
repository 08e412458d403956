using System.CommandLine;
using System.Text;
using Sysprog;

namespace Sysprog.Cli;

internal static class SharedMemoryCommands
{
    public static Command Build(Option<bool> trace) => new("shm", "POSIX shared memory objects (/dev/shm).")
    {
        Create(trace), List(), Remove(trace), Resize(trace), Read(trace), Write(trace), Increment(trace),
    };

    private static Command Create(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var size = new Option<string>("--size") { Description = "Size: 4096, 64KiB, 1MiB.", Required = true };
        var mode = new Option<string>("--mode") { Description = "Octal permissions.", DefaultValueFactory = _ => "0600" };
        var command = new Command("create", "Create a new object (fails if the name exists).") { name, size, mode };
        command.SetAction(r => Cli.Run(() =>
        {
            using SharedMemory shm = SharedMemory.Create(r.GetValue(name)!, Units.ParseByteSize(r.GetValue(size)!),
                FileModes.ParseOctal(r.GetValue(mode)!), Cli.Trace(r, trace));
            Console.WriteLine($"{shm.Name} {shm.Size} bytes {shm.Mode}");
        }));
        return command;
    }

    private static Command List()
    {
        var pattern = new Argument<string?>("pattern") { Description = "Wildcard filter such as /job*.", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Write JSON." };
        var command = new Command("list", "List the objects in /dev/shm.") { pattern, json };
        command.SetAction(r => Cli.Run(() =>
        {
            IReadOnlyList<SharedMemoryInfo> found = SharedMemory.List(r.GetValue(pattern));
            if (r.GetValue(json))
            {
                Cli.WriteJson(found.Select(i => new
                {
                    i.Name, i.Size, Mode = i.Mode, i.Owner, i.OwnerId, i.Group, i.GroupId, i.LastWriteTime, i.Path, i.Problem,
                }));
                return;
            }
            foreach (SharedMemoryInfo info in found)
            {
                Console.WriteLine($"{info.Mode} {info.Owner,-10} {info.Size,12} {info.LastWriteTime:yyyy-MM-dd HH:mm} {info.Name}{Cli.ProblemSuffix(info)}");
            }
        }));
        return command;
    }

    private static Command Remove(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var command = new Command("remove", "Unlink a name (shm_unlink); open handles keep working.") { name };
        command.SetAction(r => Cli.Run(() => SharedMemory.Unlink(r.GetValue(name)!, Cli.Trace(r, trace))));
        return command;
    }

    private static Command Resize(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var size = new Option<string>("--size") { Description = "New size.", Required = true };
        var force = new Option<bool>("--force") { Description = "Shrink even below the end of a mapping this process holds." };
        var command = new Command("resize", "Change an object's size (ftruncate).") { name, size, force };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using SharedMemory shm = SharedMemory.Open(r.GetValue(name)!, trace: t);
            shm.Resize(Units.ParseByteSize(r.GetValue(size)!), r.GetValue(force), t);
            shm.Close(t);
        }));
        return command;
    }

    private static Command Read(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var offset = new Option<long>("--offset") { Description = "Byte offset." };
        var count = new Option<int>("--count") { Description = "Bytes to read (default: to the end).", DefaultValueFactory = _ => -1 };
        var int64 = new Option<bool>("--int64") { Description = "Print the 64-bit integer at the offset instead of text." };
        var command = new Command("read", "Print bytes of an object as UTF-8 text, or one 64-bit integer.") { name, offset, count, int64 };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using SharedMemory shm = SharedMemory.Open(r.GetValue(name)!, readOnly: true, trace: t);
            using MemoryMapping view = Cli.Warned(shm.Map(trace: t));
            Console.WriteLine(r.GetValue(int64)
                ? view.ReadInt64(r.GetValue(offset)).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : view.ReadString(r.GetValue(offset), r.GetValue(count)).TrimEnd('\0'));
            view.Close(t);
            shm.Close(t);
        }));
        return command;
    }

    private static Command Write(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var text = new Argument<string>("text") { Description = "Text to write (UTF-8)." };
        var offset = new Option<long>("--offset") { Description = "Byte offset." };
        var command = new Command("write", "Write UTF-8 text into an object.") { name, text, offset };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            using SharedMemory shm = SharedMemory.Open(r.GetValue(name)!, trace: t);
            using MemoryMapping view = Cli.Warned(shm.Map(trace: t));
            view.WriteString(r.GetValue(offset), r.GetValue(text)!, Encoding.UTF8);
            view.Close(t);
            shm.Close(t);
        }));
        return command;
    }

    private static Command Increment(Option<bool> trace)
    {
        var name = Cli.NameArgument();
        var offset = new Option<long>("--offset") { Description = "Offset of the 64-bit counter (8-byte aligned)." };
        var count = new Option<long>("--count") { Description = "How many increments.", DefaultValueFactory = _ => 1 };
        var racy = new Option<bool>("--racy") { Description = "Plain read-add-write instead of an atomic add: loses increments under contention." };
        var participants = new Option<int>("--participants")
        {
            Description = "Wait at a start line (the 64-bit cell after the counter) until this many processes arrived.",
            DefaultValueFactory = _ => 1,
        };
        var timeout = new Option<string>("--timeout") { Description = "How long to wait at the start line.", DefaultValueFactory = _ => "30s" };
        var guard = new Option<string?>("--semaphore") { Description = "Hold this named semaphore around each plain read-add-write." };
        var guardAt = new Option<long?>("--semaphore-at")
        {
            Description = "Hold the unnamed semaphore initialized at this offset of the same object around each plain read-add-write.",
        };
        var command = new Command("increment", "Increment a 64-bit counter in an object, atomically unless --racy or --semaphore.")
        {
            name, offset, count, racy, participants, timeout, guard, guardAt,
        };
        command.SetAction(r => Cli.Run(() =>
        {
            SyscallTrace? t = Cli.Trace(r, trace);
            long cell = r.GetValue(offset);
            TimeSpan wait = Units.ParseDuration(r.GetValue(timeout)!);
            using SharedMemory shm = SharedMemory.Open(r.GetValue(name)!, trace: t);
            using MemoryMapping view = Cli.Warned(shm.Map(trace: t));
            if (r.GetValue(participants) > 1)
            {
                SharedCounter.WaitForParticipants(view, cell + 8, r.GetValue(participants), wait);
            }
            if (r.GetValue(guardAt) is long semaphoreOffset)
            {
                SharedCounter.IncrementGuarded(view, cell, r.GetValue(count), PosixSemaphore.Attach(view, semaphoreOffset));
            }
            else if (r.GetValue(guard) is string semaphoreName)
            {
                using PosixSemaphore semaphore = Cli.Warned(PosixSemaphore.Open(semaphoreName, t));
                SharedCounter.IncrementGuarded(view, cell, r.GetValue(count), semaphore);
            }
            else
            {
                SharedCounter.Increment(view, cell, r.GetValue(count), atomic: !r.GetValue(racy));
            }
            view.Close(t);
            shm.Close(t);
        }));
        return command;
    }
}
