namespace Sysprog;

/// <summary>Page protections (PROT_*), with the Linux values.</summary>
[Flags]
public enum MemoryProtection
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    ReadWrite = Read | Write,
    ReadExecute = Read | Execute,
}

/// <summary>MAP_SHARED: writes reach the file and every other mapping. MAP_PRIVATE: copy-on-write, seen by nobody else.</summary>
public enum MappingVisibility
{
    Shared = 1,
    Private = 2,
}

/// <summary>What a <see cref="MemoryMapping"/> maps.</summary>
public enum MappingKind
{
    File,
    Anonymous,
    SharedMemory,
}

/// <summary>msync(2) flags, with the Linux values.</summary>
[Flags]
public enum MemorySyncOptions
{
    /// <summary>MS_SYNC: return once the pages are written.</summary>
    Synchronous = 4,

    /// <summary>MS_ASYNC: schedule the write-back and return.</summary>
    Asynchronous = 1,

    /// <summary>MS_INVALIDATE: ask other mappings of the file to be refreshed.</summary>
    Invalidate = 2,
}

/// <summary>madvise(2) advice values (MADV_*), with the Linux values.</summary>
public enum MemoryAdvice
{
    Normal = 0,
    Random = 1,
    Sequential = 2,
    WillNeed = 3,
    DontNeed = 4,
    Free = 8,
    Remove = 9,
    DontFork = 10,
    DoFork = 11,
    Mergeable = 12,
    Unmergeable = 13,
    HugePage = 14,
    NoHugePage = 15,
    DontDump = 16,
    DoDump = 17,
    Cold = 20,
    PageOut = 21,
    PopulateRead = 22,
    PopulateWrite = 23,
}

/// <summary>mlockall(2) flags (MCL_*).</summary>
[Flags]
public enum MemoryLockAllOptions
{
    /// <summary>MCL_CURRENT: every page mapped now.</summary>
    Current = 1,

    /// <summary>MCL_FUTURE: every page mapped from now on.</summary>
    Future = 2,

    /// <summary>MCL_ONFAULT: lock pages as they are faulted in, not all at once.</summary>
    OnFault = 4,
}
