#Requires -Version 7.4
# Get-SysprogHandle: what the session still holds open, as the kernel sees it (/proc/PID/fd), in every runspace, gone
# from the list once closed.
Describe 'Get-SysprogHandle' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    It 'lists each open handle with its kind, name and the descriptors /proc shows it holds, until it is closed' {
        $name = New-TestName
        $shm = New-SharedMemory -Name $name -Size 4KB
        $pipe = New-Pipe
        $map = $shm | New-MemoryMap
        try {
            $listed = @(Get-SysprogHandle | Where-Object { $_.Handle -in $shm, $pipe, $map })
            $listed.Kind | Should -Be 'SharedMemory', 'Pipe', 'MemoryMapping'
            $listed.RunspaceId | Sort-Object -Unique | Should -Be $Host.Runspace.Id
            $listed[0].Name | Should -Be $name
            $listed[0].Descriptors | Should -Be $shm.Fd
            $listed[1].Descriptors | Should -Be $pipe.ReadEnd.Fd, $pipe.WriteEnd.Fd
            $listed[1].Fds | Should -Be "$($pipe.ReadEnd.Fd),$($pipe.WriteEnd.Fd)"
            $listed[2].Descriptors | Should -BeNullOrEmpty
            $listed[2].Name | Should -BeLike "*0x$('{0:x}' -f $map.Address)*"
            # What the kernel says those descriptors are.
            (Get-Item "/proc/$PID/fd/$($shm.Fd)").LinkTarget | Should -Be "/dev/shm$name"
            (Get-Item "/proc/$PID/fd/$($pipe.ReadEnd.Fd)").LinkTarget | Should -Be "pipe:[$($pipe.Inode)]"

            Close-Pipe $pipe.WriteEnd
            (Get-SysprogHandle -Kind Pipe | Where-Object Handle -EQ $pipe).Descriptors | Should -Be $pipe.ReadEnd.Fd
            Close-Pipe $pipe
            Close-MemoryMap $map
            @(Get-SysprogHandle | Where-Object { $_.Handle -in $pipe, $map }).Count | Should -Be 0
            (Get-SysprogHandle -Kind Shared* | Where-Object Handle -EQ $shm).Name | Should -Be $name
        }
        finally {
            Close-Pipe $pipe
            Close-MemoryMap $map
            Close-SharedMemory $shm
            Remove-SharedMemory -Name $name -Confirm:$false
        }
        @(Get-SysprogHandle | Where-Object Handle -EQ $shm).Count | Should -Be 0
    }

    It 'lists what another runspace was given, under that runspace, and filters by runspace' {
        $job = Start-ThreadJob -ScriptBlock {
            param($module)
            Import-Module $module
            $held = New-EventFd -InitialValue 7
            [pscustomobject]@{ Runspace = [runspace]::DefaultRunspace.Id; Handle = $held }
        } -ArgumentList $SysprogModulePath
        $made = Receive-Job $job -Wait -AutoRemoveJob
        try {
            $made.Runspace | Should -Not -Be $Host.Runspace.Id
            $listed = Get-SysprogHandle -Kind EventFd -RunspaceId $made.Runspace
            @($listed).Count | Should -Be 1
            $listed.Handle | Should -Be $made.Handle
            $listed.Descriptors | Should -Be $made.Handle.Fd
            @(Get-SysprogHandle -RunspaceId $Host.Runspace.Id | Where-Object Handle -EQ $made.Handle).Count | Should -Be 0
        }
        finally {
            $made.Handle.Dispose()
        }
        @(Get-SysprogHandle -Kind EventFd | Where-Object Handle -EQ $made.Handle).Count | Should -Be 0
    }

    It 'narrates no system call, since it makes none' {
        $e = New-EventFd
        try {
            $records = @(Get-SysprogHandle -Kind EventFd -Verbose 4>&1)
            @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Count | Should -Be 0
            $records.Handle | Should -Contain $e
        }
        finally {
            Close-EventFd $e
        }
    }
}
