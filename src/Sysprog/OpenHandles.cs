namespace Sysprog;

/// <summary>
/// Weakly tracks handle objects a host (the PowerShell module) gave out, so it can close what is still open when it
/// unloads. Weak, so that an object the user dropped is still finalized (its SafeHandle closes it) as usual.
/// </summary>
public sealed class OpenHandles
{
    private readonly List<WeakReference<IDisposable>> _tracked = [];
    private readonly object _gate = new();

    public T Track<T>(T handle) where T : class, IDisposable
    {
        lock (_gate)
        {
            _tracked.RemoveAll(r => !r.TryGetTarget(out _));
            _tracked.Add(new WeakReference<IDisposable>(handle));
        }
        return handle;
    }

    /// <summary>How many tracked objects are still reachable (open or not).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _tracked.Count(r => r.TryGetTarget(out _));
            }
        }
    }

    /// <summary>The tracked objects of type <typeparamref name="T"/> still reachable, in the order they were given out.</summary>
    public IReadOnlyList<T> Alive<T>() where T : class
    {
        lock (_gate)
        {
            return _tracked.Select(r => r.TryGetTarget(out IDisposable? handle) ? handle as T : null).OfType<T>().ToList();
        }
    }

    /// <summary>
    /// The tracked objects not yet closed, in the order they were given out: what a user may have forgotten to
    /// close. Each with its kind, its name as messages give it, and the descriptors it holds open.
    /// </summary>
    public IReadOnlyList<OpenHandle> Open()
    {
        List<object> alive;
        lock (_gate)
        {
            alive = _tracked.Select(r => r.TryGetTarget(out IDisposable? handle) ? handle : null).OfType<object>().ToList();
        }
        return alive.Select(OpenHandle.Of).OfType<OpenHandle>().ToList();
    }

    /// <summary>Disposes every tracked object still reachable; disposing twice is harmless for Sysprog's types.</summary>
    public void CloseAll()
    {
        List<IDisposable> alive = [];
        lock (_gate)
        {
            foreach (WeakReference<IDisposable> reference in _tracked)
            {
                if (reference.TryGetTarget(out IDisposable? handle))
                {
                    alive.Add(handle);
                }
            }
            _tracked.Clear();
        }
        foreach (IDisposable handle in alive)
        {
            handle.Dispose();
        }
    }
}

/// <summary>A handle object still open: what it is, its name, and the descriptors of this process it holds.</summary>
/// <param name="Kind">The object's type (SharedMemory, PipeEnd, Socket, MemoryMapping...).</param>
/// <param name="Name">How messages name it: its name, path, address or descriptor.</param>
/// <param name="Descriptors">The descriptors it keeps open (both ends of a pipe, none for a mapping).</param>
/// <param name="Handle">The object itself, to use or close.</param>
public sealed record OpenHandle(string Kind, string Name, IReadOnlyList<int> Descriptors, object Handle)
{
    /// <summary>What <paramref name="handle"/> is and holds; null once it is closed (or released, or unmapped).</summary>
    public static OpenHandle? Of(object handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        (bool open, string name, int[] descriptors) = handle switch
        {
            Pipe pipe => (!pipe.IsClosed, pipe.ToString() ?? "pipe", OpenOf(pipe.ReadEnd, pipe.WriteEnd)),
            SocketPair pair => (!pair.IsClosed, $"{pair.First.Description} and {pair.Second.Description}", OpenOf(pair.First, pair.Second)),
            FileDescriptorObject descriptor => (!descriptor.IsClosed, descriptor.Description, OpenOf(descriptor)),
            SharedMemory shared => (!shared.IsClosed, shared.Name, shared.IsClosed ? [] : [shared.Fd]),
            MessageQueue queue => (!queue.IsClosed, queue.Name, queue.IsClosed ? [] : [queue.Fd]),
            PollSet set => (!set.IsClosed, set.Description, set.IsClosed ? [] : [set.Fd]),
            MemoryMapping mapping => (!mapping.IsClosed, mapping.ToString(), []),
            PosixSemaphore semaphore => (!semaphore.IsClosed, semaphore.Location, []),
            SharedLibrary library => (!library.IsClosed, library.Name, []),
            FileLock held => (!held.IsReleased, held.Description, held.IsReleased ? [] : [held.Fd]),
            MqNotification notification => (!notification.IsClosed, $"notification of {notification.Queue.Name}", []),
            _ => (true, handle.ToString() ?? handle.GetType().Name, []),
        };
        return open ? new OpenHandle(handle.GetType().Name, name, descriptors, handle) : null;

        static int[] OpenOf(params FileDescriptorObject[] descriptors) => descriptors.Where(d => !d.IsClosed).Select(d => d.Fd).ToArray();
    }
}
