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
