#Requires -Version 7.4
# Screenplay 12: other IPC. File locks between sessions: an exclusive lock makes another process sleep in flock(2)
# until it is released, shared locks coexist and keep a writer out, and /proc/locks (Get-FileLock, lslocks) shows
# holders and waiters. Then cross-memory attach: process_vm_readv and process_vm_writev read and write another
# process's memory directly, with no pipe, no shared mapping and no cooperation from it.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'Other IPC: file locks between sessions, and another process''s memory' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:path = Join-Path $TestDrive 'demo.lock'
        $script:held = [System.Collections.Generic.List[object]]::new()
        $script:sessions = [System.Collections.Generic.List[object]]::new()
        $script:children = [System.Collections.Generic.List[object]]::new()
        function Lock-Demo {
            $lock = Lock-File @args
            $script:held.Add($lock)
            $lock
        }
        function Start-DemoSession {
            $session = Start-ChildSession @args
            $script:sessions.Add($session)
            $session
        }
        # lslocks's own view of the file, as "PID TYPE MODE" rows, where util-linux is installed.
        function Get-LslocksRow([string] $Path) {
            if (-not (Get-Command lslocks -CommandType Application -ErrorAction Ignore)) { return }
            & lslocks --noheadings --raw --output PID,TYPE,MODE,PATH | Where-Object { $_ -like "* $Path" } | ForEach-Object { ($_ -split ' ')[0..2] -join ' ' }
        }
    }

    AfterAll {
        foreach ($session in $script:sessions) { Stop-ChildSession $session }
        foreach ($lock in $script:held) { if (-not $lock.IsReleased) { Unlock-File $lock } }
        Stop-DemoChild $script:children
    }

    It 'takes an exclusive lock: the kernel lists it in /proc/locks, as Get-FileLock and lslocks show' {
        $script:exclusive = Lock-Demo $script:path

        $listed = @(Get-FileLock -Path $script:path)
        $listed | Should -HaveCount 1
        $listed[0].Type | Should -Be 'FLOCK'
        $listed[0].Mode | Should -Be 'Exclusive'
        $listed[0].ProcessId | Should -Be $PID
        $lslocks = @(Get-LslocksRow $script:path)
        if ($lslocks) { $lslocks | Should -Be "$PID FLOCK WRITE" }
        Write-Narration "flock(LOCK_EX) on $($script:path): /proc/locks lists $($listed[0].Type) $($listed[0].ModeText) held by pid $PID$(if ($lslocks) { "; lslocks agrees: $lslocks" })."
    }

    It 'makes another session that asks for it sleep in flock(2) until this one releases it' {
        $waiter = @'
param($ModulePath, $Path)
Import-Module $ModulePath
$lock = Lock-File $Path -TimeoutSeconds 120
"locked by $PID"
Unlock-File $lock
'@
        $session = Start-DemoSession -Script $waiter -ArgumentList $script:path
        $other = $session.Child.ProcessId
        Wait-Until { @(Get-BlockedThread -ProcessId $other -Syscall flock).Count -gt 0 } -TimeoutSeconds 60 |
            Should -BeTrue -Because 'the other session waits for the lock this one holds'
        $waiting = @(Get-FileLock -Path $script:path | Where-Object IsWaiting)
        $waiting.ProcessId | Should -Be $other
        Write-Narration "Pid $other is asleep in flock(2); /proc/locks lists its request as waiting (->) behind pid $PID."

        Unlock-File $script:exclusive
        $ended = Wait-ChildSession $session
        $ended.ExitCode | Should -Be 0 -Because $ended.Text
        $ended.Text | Should -Match "locked by $other"
        Write-Narration 'Released here: the kernel woke the waiter, which took the lock, then let it go.'
    }

    It 'shares a shared lock with another session, which is refused an exclusive one that names this session' {
        $null = Lock-Demo $script:path -Shared
        Test-FileLock $script:path -Shared | Should -BeFalse
        Test-FileLock $script:path | Should -BeTrue
        $reader = @'
param($ModulePath, $Path)
Import-Module $ModulePath
$shared = Lock-File $Path -Shared -TimeoutSeconds 0
"shared locks now: $(@(Get-FileLock -Path $Path | Where-Object Mode -eq Shared).Count)"
Unlock-File $shared
$null = Lock-File $Path -TimeoutSeconds 0 -ErrorAction SilentlyContinue -ErrorVariable refused
"exclusive: $($refused[0].Exception.Message)"
'@
        $ended = Wait-ChildSession (Start-DemoSession -Script $reader -ArgumentList $script:path)

        $ended.ExitCode | Should -Be 0 -Because $ended.Text
        $ended.Text | Should -Match 'shared locks now: 2'
        $ended.Text | Should -Match "exclusive: .*held by process $PID"
        Write-Narration 'Two readers hold LOCK_SH at once; a writer asking for LOCK_EX without waiting is refused:'
        Write-Narration (($ended.Text -split "`n" | Where-Object { $_ -like 'exclusive:*' }) -replace '^exclusive: ', '')
    }

    It 'reads a child''s environment from its stack with process_vm_readv, where /proc/PID/stat says it lies' {
        $script:sleeper = Start-ChildProcess sleep -ArgumentList 600 -Environment @{ SYSPROG_DEMO_SECRET = 'open sesame' }
        $script:children.Add($script:sleeper)
        $child = $script:sleeper.ProcessId
        # Asleep in sleep's own call, it has finished its execve: before that, env_start may not be set yet.
        Wait-Until { @(Get-BlockedThread -ProcessId $child -Syscall clock_nanosleep, nanosleep).Count -gt 0 } | Should -BeTrue
        # Fields 48 and 49 after the command name: env_start and env_end, the strings execve copied to the new stack.
        $fields = ((Get-Content -LiteralPath "/proc/$child/stat" -Raw) -split '\) ')[-1] -split ' '
        $start, $end = [uint64]$fields[47], [uint64]$fields[48]
        $stack = Get-ProcessMapping -Id $child | Where-Object { $_.Contains($start) }

        $stack.Kind | Should -Be 'Stack'
        $bytes = Read-ProcessMemory -Id $child -Address $start -Count ($end - $start)
        $variables = [System.Text.Encoding]::UTF8.GetString($bytes).Split([char]0)
        $variables | Should -Contain 'SYSPROG_DEMO_SECRET=open sesame'
        $script:secretAt = $start + [uint64]([System.Text.Encoding]::UTF8.GetString($bytes).IndexOf('open sesame'))
        Write-Narration ("Read {0} bytes of pid {1} at 0x{2:x}, in its {3} ({4:x}-{5:x}): {6} variables, among them SYSPROG_DEMO_SECRET=open sesame at 0x{7:x}." -f
            $bytes.Length, $child, $start, $stack.Path, $stack.Start, $stack.End, @($variables | Where-Object { $_ }).Count, $script:secretAt)
    }

    It 'writes the child''s memory with process_vm_writev: /proc/PID/environ, read from that memory, shows the change' {
        $child = $script:sleeper.ProcessId
        $transfer = Write-ProcessMemory -Id $child -Address $script:secretAt -Bytes ([System.Text.Encoding]::UTF8.GetBytes('shut sesame')) -PassThru -Confirm:$false

        $transfer.Transferred | Should -Be 11
        $environ = [System.IO.File]::ReadAllText("/proc/$child/environ").Split([char]0)
        $environ | Should -Contain 'SYSPROG_DEMO_SECRET=shut sesame'
        $environ | Should -Not -Contain 'SYSPROG_DEMO_SECRET=open sesame'
        Write-Narration "Wrote 11 bytes into pid $child; the kernel reads /proc/$child/environ from the process's own memory, and now says SYSPROG_DEMO_SECRET=shut sesame."
    }

    It 'changes a value a child pwsh keeps at the address it printed, and the child sees the new value' {
        $keeper = @'
param($ModulePath)
Import-Module $ModulePath
$go = New-SignalFd -Signal USR1
$cell = [System.Runtime.InteropServices.Marshal]::AllocHGlobal(8)
[System.Runtime.InteropServices.Marshal]::WriteInt64($cell, 41)
"cell $($cell.ToInt64())"
$null = Read-SignalFd $go -TimeoutSeconds 120
"the cell now holds $([System.Runtime.InteropServices.Marshal]::ReadInt64($cell))"
[System.Runtime.InteropServices.Marshal]::FreeHGlobal($cell)
Close-SignalFd $go
'@
        $session = Start-DemoSession -Script $keeper -BlockSignal USR1
        $child = $session.Child.ProcessId
        $line = Read-FileDescriptor $session.Output -Delimiter "`n" -TimeoutSeconds 60
        $line | Should -Match '^cell \d+'
        $cell = [uint64](($line -split ' ')[1])

        Read-ProcessMemory -Id $child -Address $cell -Count 1 -As Int64 | Should -Be 41
        $region = Get-ProcessMapping -Id $child | Where-Object { $_.Contains($cell) }
        $region.Permissions | Should -BeLike 'rw*'
        Write-ProcessMemory -Id $child -Address $cell -Int64 42 -Confirm:$false
        Stop-ChildProcess $session.Child -Signal USR1 -Confirm:$false
        $ended = Wait-ChildSession $session

        $ended.ExitCode | Should -Be 0 -Because $ended.Text
        $ended.Text | Should -Match 'the cell now holds 42'
        Write-Narration ("Pid {0} keeps 41 at 0x{1:x} ({2} {3}); read it, wrote 42 there, and the child, woken by SIGUSR1, found 42: no pipe, no shared mapping." -f
            $child, $cell, $region.Permissions, ($region.Path ? $region.Path : 'anonymous memory'))
    }
}
