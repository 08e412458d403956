@{
    RootModule           = 'Sysprog.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f0c2d4e-7a5b-4c1e-9d38-2b7e51a0c9f4'
    Author               = 'Sysprog contributors'
    CompanyName          = 'Sysprog'
    Copyright            = '(c) Sysprog contributors. MIT License.'
    Description          = 'Linux systems programming from PowerShell: memory maps, POSIX shared memory, semaphores and message queues, eventfd, timerfd, signalfd and epoll, /proc/PID/maps, with strace-style -Verbose narration.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('Sysprog.Format.ps1xml')
    CmdletsToExport      = @(
        'Add-InotifyWatch'
        'Close-EventFd'
        'Close-Inotify'
        'Close-MemoryMap'
        'Close-MessageQueue'
        'Close-Semaphore'
        'Close-SharedMemory'
        'Close-SignalFd'
        'Close-TimerFd'
        'Get-FileLock'
        'Get-MessageQueue'
        'Get-ProcessMapping'
        'Get-Semaphore'
        'Get-SharedMemory'
        'Invoke-MemoryMap'
        'Lock-File'
        'Lock-Memory'
        'New-EventFd'
        'New-Inotify'
        'New-MemoryMap'
        'New-MessageQueue'
        'New-Semaphore'
        'New-SharedMemory'
        'New-SignalFd'
        'New-TimerFd'
        'Open-MessageQueue'
        'Open-Semaphore'
        'Open-SharedMemory'
        'Read-EventFd'
        'Read-Inotify'
        'Read-SignalFd'
        'Read-TimerFd'
        'Receive-MqMessage'
        'Remove-InotifyWatch'
        'Remove-MessageQueue'
        'Remove-Semaphore'
        'Remove-SharedMemory'
        'Resize-SharedMemory'
        'Send-MqMessage'
        'Set-MemoryAdvice'
        'Set-MemoryProtection'
        'Set-MessageQueue'
        'Set-TimerFd'
        'Sync-MemoryMap'
        'Test-FileLock'
        'Unlock-File'
        'Unlock-Memory'
        'Unlock-Semaphore'
        'Wait-FileDescriptor'
        'Wait-Semaphore'
        'Write-EventFd'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'PSEdition_Core', 'IPC', 'mmap', 'SharedMemory', 'Semaphore', 'MessageQueue', 'eventfd', 'epoll', 'flock', 'FileLock', 'sysprog')
            # ProjectUri and LicenseUri are left out until the project has a public home; LICENSE ships in the module.
            ReleaseNotes = 'Virtual memory, POSIX shared memory and POSIX semaphores: mmap, mprotect, msync, madvise, mlock, /proc/PID/maps and smaps, sem_open and sem_init, mq_open with priorities, timed and cancellable send and receive; eventfd, timerfd, signalfd and one wait over many handles; flock, POSIX and OFD file locks with cancellable waits and an lslocks-style listing.'
        }
    }
}
