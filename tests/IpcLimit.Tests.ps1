#Requires -Version 7.4
# IPC limits from pwsh: every area listed and grouped, values as /proc and statfs give them, names with wildcards and
# from the pipeline, an unknown name named in the error, and the system calls narrated.
Describe 'Get-IpcLimit' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    It 'lists every area, grouped by area in its table view' {
        $limits = @(Get-IpcLimit)
        $shown = $limits | Out-String -Width 200

        $limits.Area | Select-Object -Unique | Should -Be @('POSIX message queues', 'POSIX shared memory', 'POSIX semaphores', 'This process',
            'System V shared memory', 'System V semaphores', 'System V message queues', 'IPC namespace')
        foreach ($area in $limits.Area | Select-Object -Unique) {
            $shown | Should -Match "Area: $([regex]::Escape($area))"
        }
    }

    It 'gives the values /proc/sys and statfs give' {
        (Get-IpcLimit fs.mqueue.msg_max).Limit | Should -Be ([long](Get-Content -Raw /proc/sys/fs/mqueue/msg_max))
        (Get-IpcLimit kernel.msgmni).Limit | Should -Be ([long](Get-Content -Raw /proc/sys/kernel/msgmni))
        (Get-IpcLimit /dev/shm).Limit | Should -Be ([System.IO.DriveInfo]::new('/dev/shm').TotalSize)
        (Get-IpcLimit SEM_VALUE_MAX).Limit | Should -Be ([int]::MaxValue)
        (Get-IpcLimit RLIMIT_NOFILE).Used | Should -BeGreaterThan 2
    }

    It 'takes names with wildcards and from the pipeline, and names one that matches nothing' {
        (Get-IpcLimit 'fs.mqueue.*').Name | Should -Be @('fs.mqueue.msg_max', 'fs.mqueue.msgsize_max', 'fs.mqueue.msg_default', 'fs.mqueue.msgsize_default', 'fs.mqueue.queues_max')
        ('RLIMIT_MEMLOCK', 'kernel.sem*' | Get-IpcLimit).Count | Should -Be 5
        Get-IpcLimit rlimit_nofile | Should -Not -BeNullOrEmpty -Because 'names match as PowerShell names do, ignoring case'

        $found = @(Get-IpcLimit nope, ipc -ErrorAction SilentlyContinue -ErrorVariable failed)

        $found.Name | Should -Be @('ipc')
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        $failed[0].TargetObject | Should -Be 'nope'
        $failed[0].Exception.Message | Should -BeLike "No IPC limit is named 'nope'. The names: fs.mqueue.msg_max, *"
    }

    It 'narrates the calls that read the limits' {
        $lines = @(Get-IpcLimit -Verbose 4>&1 | Select-SyscallLine)

        $lines -match '^prlimit\(0, RLIMIT_MSGQUEUE, NULL, \{rlim_cur=' | Should -Not -BeNullOrEmpty
        $lines -match '^statfs\("/dev/shm", \{f_type=' | Should -Not -BeNullOrEmpty
        $lines -match '^readlink\("/proc/self/ns/ipc"' | Should -Not -BeNullOrEmpty
    }
}
