#Requires -Version 7.4
# System calls from pwsh: the table of this machine and of the other architecture, by name, wildcard and number, and
# what each thread of a process is doing, decoded: a child blocked reading a pipe, a pwsh blocked in Wait-Semaphore.
Describe 'system calls' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    It 'lists the table of this machine, as uname names it' {
        $all = Get-Syscall -Verbose 4>&1
        $lines = @($all | Select-SyscallLine)
        $machine = (& uname -m)
        $lines[0] | Should -Be "uname({machine=`"$machine`"}) = 0"
        $table = @($all | Where-Object { $_ -is [Sysprog.SyscallEntry] })
        $table.Count | Should -BeGreaterThan 300
        $table[0].Architecture | Should -Be ($(if ($machine -eq 'x86_64') { 'X64' } else { 'Arm64' }))
    }

    It 'finds calls by name, wildcard and number, on either architecture' {
        (Get-Syscall futex -Architecture X64).Number | Should -Be 202
        (Get-Syscall futex -Architecture Arm64).Number | Should -Be 98
        (Get-Syscall -Number 63 -Architecture Arm64).Name | Should -Be 'read'
        (Get-Syscall 'epoll_*' -Architecture Arm64).Name | Should -Be @('epoll_create1', 'epoll_ctl', 'epoll_pwait', 'epoll_pwait2')
        'read', 'write' | Get-Syscall -Architecture X64 | ForEach-Object Number | Should -Be @(0, 1)
    }

    It 'says when a name or number is no system call' {
        Get-Syscall open -Architecture Arm64 -ErrorAction SilentlyContinue -ErrorVariable missing
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $missing[0].TargetObject | Should -Be 'open'
        Get-Syscall -Number 4000 -ErrorAction SilentlyContinue -ErrorVariable none
        $none[0].TargetObject | Should -Be 4000
        @(Get-Syscall 'nothing*').Count | Should -Be 0 -Because 'a wildcard that matches nothing is no error'
    }

    It 'decodes what a child blocked reading a pipe is doing' {
        $pipe = New-Pipe
        $cat = Start-ChildProcess cat -Descriptor @{ 0 = $pipe.ReadEnd }
        try {
            Wait-Until { (Get-ProcessSyscall $cat.ProcessId).WaitChannel } | Should -BeTrue

            $thread = $cat | Get-ProcessSyscall

            $thread.Name | Should -Be 'read'
            $thread.Activity | Should -Be 'InSyscall'
            $thread.Call | Should -Match '^read\(0<pipe:\[\d+\]>, 0x[0-9a-f]+, \d+\)$'
            $thread.ThreadName | Should -Be 'cat'
        }
        finally {
            Stop-ChildProcess $cat -Signal KILL
            $null = Wait-ChildProcess $cat
            Close-ChildProcess $cat
            Close-Pipe $pipe
        }
    }

    It 'shows a pwsh blocked in Wait-Semaphore in futex, on the semaphore''s word' {
        $name = New-TestName
        $semaphore = New-Semaphore -Name $name -Value 0
        $pwsh = Get-PwshCommand
        $module = (Get-Module Sysprog).Path
        $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-Command', "Import-Module '$module'; Wait-Semaphore -Name '$name' -TimeoutSeconds 60")
        $waiter = Start-ChildProcess $pwsh[0] -ArgumentList $arguments
        try {
            # The runtime waits in futexes of its own: the one that counts is on the word in the semaphore's mapping.
            $onSemaphore = {
                $script:blocked = Get-ProcessSyscall $waiter.ProcessId | Where-Object {
                    $thread = $_
                    $thread.Name -eq 'futex' -and @(Get-ProcessMapping -Id $waiter.ProcessId | Where-Object { $_.Path -like '/dev/shm/sem.*' -and $_.Contains($thread.Arguments[0]) }).Count -eq 1
                }
                $null -ne $script:blocked
            }
            Wait-Until $onSemaphore -TimeoutSeconds 60 | Should -BeTrue

            $script:blocked.ThreadName | Should -Be 'Pipeline Execut'
            $script:blocked.WaitChannel | Should -BeLike '*futex*'
            # Shared between processes (not _PRIVATE), with the timeout given.
            $script:blocked.Call | Should -Match '^futex\(0x[0-9a-f]+, FUTEX_WAIT_BITSET(\|FUTEX_CLOCK_REALTIME)?, 0, 0x[0-9a-f]+, NULL, 0xffffffff\)$'
            Unlock-Semaphore $semaphore
            (Wait-ChildProcess $waiter -TimeoutSeconds 60).ExitCode | Should -Be 0
        }
        finally {
            if (-not $waiter.Exit) { Stop-ChildProcess $waiter -Signal KILL; $null = Wait-ChildProcess $waiter }
            Close-ChildProcess $waiter
            Close-Semaphore $semaphore
            Remove-Semaphore -Name $name -Confirm:$false
        }
    }

    It 'names a missing process' {
        Get-ProcessSyscall -Id ([int]::MaxValue) -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].FullyQualifiedErrorId | Should -BeLike '*.ESRCH,*'
        $failed[0].TargetObject | Should -Be ([int]::MaxValue)
    }
}
