#Requires -Version 7.4
# Names any user can create (invalid UTF-8, ESC, newline) are listed escaped, once, and the listed name passes back.
# The objects are planted with printf's octal escapes through sh, not through the module.
Describe 'Names any user can create' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:stem = "sysprog-pester-$PID-names-"
        # What printf writes (octal escapes) and what the listings must show for it.
        $script:planted = @(
            @{ Printf = 'x\377\376'; Shown = "/$($script:stem)x\xff\xfe" }
            @{ Printf = 'esc\033[31m'; Shown = "/$($script:stem)esc\x1b[31m" }
            @{ Printf = 'nl\nfake'; Shown = "/$($script:stem)nl\nfake" }
        )
        function Invoke-Planting {
            param([string] $Folder, [string] $Printf, [switch] $Remove, [string] $Prefix = '')
            $verb = if ($Remove) { 'rm -f --' } else { ': >' }
            # The name is made by printf inside sh, so no byte of it passes through .NET's strings.
            & sh -c "$verb `"`$1`$(printf '$Printf')`"" sh "$Folder/$Prefix$($script:stem)"
        }
        function Test-Planted {
            param([string] $Folder, [string] $Printf, [string] $Prefix = '')
            & sh -c "test -e `"`$1`$(printf '$Printf')`"" sh "$Folder/$Prefix$($script:stem)"
            $LASTEXITCODE -eq 0
        }
    }

    AfterEach {
        foreach ($p in $script:planted) { Invoke-Planting /dev/shm $p.Printf -Remove }
        Invoke-Planting /dev/shm '\033x\377' -Prefix sem. -Remove
    }

    It 'Get-SharedMemory and Get-IpcObject list each planted name escaped, exactly once' {
        foreach ($p in $script:planted) { Invoke-Planting /dev/shm $p.Printf }
        $expected = $script:planted.Shown | Sort-Object -CaseSensitive
        (Get-SharedMemory -Name "/$($script:stem)*").Name | Should -Be $expected
        (Get-IpcObject | Where-Object Name -like "/$($script:stem)*").Name | Sort-Object -CaseSensitive | Should -Be $expected
        $table = Get-SharedMemory -Name "/$($script:stem)*" | Out-String -Width 300
        $table | Should -Not -Match "`e"
        $table -split "`n" | Where-Object { $_ -match '^fake' } | Should -BeNullOrEmpty
    }

    It 'Remove-SharedMemory given a listed name, or the listed object, removes exactly that object' {
        foreach ($p in $script:planted) { Invoke-Planting /dev/shm $p.Printf }
        Remove-SharedMemory -Name $script:planted[0].Shown -Confirm:$false
        Test-Planted /dev/shm $script:planted[0].Printf | Should -BeFalse
        Test-Planted /dev/shm $script:planted[1].Printf | Should -BeTrue
        Get-SharedMemory -Name $script:planted[1].Shown | Remove-SharedMemory -Confirm:$false
        Test-Planted /dev/shm $script:planted[1].Printf | Should -BeFalse
        Test-Planted /dev/shm $script:planted[2].Printf | Should -BeTrue
        Get-IpcObject | Where-Object Name -EQ $script:planted[2].Shown | Remove-IpcObject -Confirm:$false
        Test-Planted /dev/shm $script:planted[2].Printf | Should -BeFalse
    }

    It 'Get-Semaphore lists a planted semaphore with ESC and an invalid byte escaped, and Remove-Semaphore takes it back' {
        Invoke-Planting /dev/shm '\033x\377' -Prefix sem.
        $listed = Get-Semaphore -Name "/$($script:stem)*"
        $listed.Name | Should -Be "/$($script:stem)\x1bx\xff"
        $listed | Remove-Semaphore -Confirm:$false
        Test-Planted /dev/shm '\033x\377' -Prefix sem. | Should -BeFalse
    }

    It 'sysprog shm list and sysprog ipcs print the names escaped' {
        foreach ($p in $script:planted) { Invoke-Planting /dev/shm $p.Printf }
        foreach ($output in @((& dotnet $SysprogCliPath shm list "/$($script:stem)*") -join "`n"), ((& dotnet $SysprogCliPath ipcs) -join "`n")) {
            $output | Should -Not -Match "`e"
            foreach ($p in $script:planted) {
                @($output -split "`n" | Where-Object { $_.Contains($p.Shown) }).Count | Should -Be 1
            }
        }
    }

    It 'Get-Socket escapes a newline and ESC in a UNIX socket path' {
        $folder = (New-Item -ItemType Directory -Path ([IO.Path]::Combine([IO.Path]::GetTempPath(), "sysprog-names-$PID-$(New-Guid)"))).FullName
        $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
        try {
            $socket.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new("$folder/a`nfake`e[31m"))
            $socket.Listen()
            $listed = Get-Socket -Path "$folder/*"
            $listed.LocalAddress | Should -Be "$folder/a\nfake\x1b[31m"
            $table = $listed | Out-String -Width 300
            $table | Should -Not -Match "`e"
            $table -split "`n" | Where-Object { $_ -match '^fake' } | Should -BeNullOrEmpty
        }
        finally {
            $socket.Dispose()
            Remove-Item -LiteralPath $folder -Recurse -Force
        }
    }

    It 'Get-ProcessMapping, sysprog maps and the MemoryMapping view show a mapped file''s newline and ESC escaped' {
        $folder = (New-Item -ItemType Directory -Path ([IO.Path]::Combine([IO.Path]::GetTempPath(), "sysprog-names-$PID-$(New-Guid)"))).FullName
        $file = "$folder/map`nfake`ex"
        [IO.File]::WriteAllBytes($file, [byte[]]::new(4096))
        $map = New-MemoryMap -Path $file
        try {
            $shown = "$folder/map\nfake\x1bx"
            $entry = Get-ProcessMapping | Where-Object Start -EQ ([uint64]$map.Address.ToInt64())
            $entry.Path | Should -Be $file
            foreach ($table in @(($entry | Out-String -Width 400), ($map | Out-String -Width 400), ((& dotnet $SysprogCliPath maps $PID) -join "`n"))) {
                $table | Should -Not -Match "`e"
                $table -split "`n" | Where-Object { $_ -match '^fake' } | Should -BeNullOrEmpty
                @($table -split "`n" | Where-Object { $_.Contains($shown) }).Count | Should -Be 1
            }
        }
        finally {
            Close-MemoryMap $map
            Remove-Item -LiteralPath $folder -Recurse -Force
        }
    }

    It 'Get-FileLock, sysprog locks and Read-Inotify show a file another user made with a newline and ESC escaped' {
        if ((& id -u) -ne '0') { Set-ItResult -Skipped -Because 'planting as another user (nobody) needs root to switch to it'; return }
        # Short, so the whole path fits the Inotify event view's Path column.
        $folder = (New-Item -ItemType Directory -Path ([IO.Path]::Combine([IO.Path]::GetTempPath(), "sysprog-n-$PID"))).FullName
        & chmod 1777 $folder
        $inotify = New-Inotify $folder -Event Create
        # nobody makes the file, its name written by printf, and holds a flock on it until its stdin closes.
        $start = [System.Diagnostics.ProcessStartInfo]::new('setpriv')
        $plant = 'f="$1$(printf ''lock\nfake\033x'')"; : > "$f" && exec flock "$f" sh -c ''echo ready; read _'''
        foreach ($word in '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', $plant, 'sh', "$folder/") { $start.ArgumentList.Add($word) }
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $holder = [System.Diagnostics.Process]::Start($start)
        try {
            $holder.StandardOutput.ReadLine() | Should -Be 'ready'
            $real = "$folder/lock`nfake`ex"
            $shown = "$folder/lock\nfake\x1bx"
            $lock = Get-FileLock -ProcessId $holder.Id
            $lock.Path | Should -Be $real
            $created = Read-Inotify $inotify -Count 1 -TimeoutSeconds 5
            $created.Path | Should -Be $real
            $tables = @(
                ($lock | Out-String -Width 400), ($created | Out-String -Width 400),
                ((& dotnet $SysprogCliPath locks --pid $holder.Id) -join "`n"), "$lock", "$created")
            foreach ($table in $tables) {
                $table | Should -Not -Match "`e"
                $table -split "`n" | Where-Object { $_ -match '^fake' } | Should -BeNullOrEmpty
                @($table -split "`n" | Where-Object { $_.Contains($shown) }).Count | Should -Be 1 -Because $table
            }
        }
        finally {
            $holder.StandardInput.Close()
            $holder.WaitForExit()
            Close-Inotify $inotify
            Remove-Item -LiteralPath $folder -Recurse -Force
        }
    }

    It 'New-Fifo names a path with a newline and ESC escaped in its ShouldProcess line, its -Verbose narration and its error' {
        $folder = (New-Item -ItemType Directory -Path ([IO.Path]::Combine([IO.Path]::GetTempPath(), "sysprog-names-$PID-$(New-Guid)"))).FullName
        $shown = "$folder/f\nfake\x1bx"
        try {
            $lines = @(New-Fifo -Path "$folder/f`nfake`ex" -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            @($lines | Where-Object { $_ -like 'Performing the operation*' -and $_.Contains($shown) }).Count | Should -Be 1
            # Made with mkfifoat in the folder the planted-path rule reached: the traced name is the last component.
            @($lines | Where-Object { $_ -match '^mkfifoat\(\d+, "f\\nfake\\x1bx", 0600\) = 0$' }).Count | Should -Be 1
            { New-Fifo -Path "$folder/f`nfake`ex" -ErrorAction Stop } | Should -Throw -ExpectedMessage "*$([WildcardPattern]::Escape($shown))*"
            foreach ($line in $lines + $Error[0].Exception.Message) { $line | Should -Not -Match '[\x00-\x1f\x7f]' }
        }
        finally {
            Remove-Item -LiteralPath $folder -Recurse -Force
        }
    }

    It 'Resolve-ElfDependency and sysprog elf show a DT_NEEDED string with ESC and a newline escaped' {
        # /bin/true with its "libc.so.6" in .dynstr overwritten, same length, by bytes any file's author may write.
        $file = Join-Path $TestDrive 'needed-esc'
        $bytes = [IO.File]::ReadAllBytes('/bin/true')
        $at = [Text.Encoding]::Latin1.GetString($bytes).IndexOf("libc.so.6`0")
        $at | Should -BeGreaterThan 0
        [Text.Encoding]::Latin1.GetBytes("li`e[`nc.so").CopyTo($bytes, $at)
        [IO.File]::WriteAllBytes($file, $bytes)
        $shown = 'li\x1b[\nc.so'
        (Get-ElfFile $file).Needed | Should -Contain "li`e[`nc.so"
        $tables = @(
            (Resolve-ElfDependency $file -ErrorAction SilentlyContinue | Out-String -Width 400),
            ((& dotnet $SysprogCliPath elf $file) -join "`n"), ((& dotnet $SysprogCliPath ldd $file 2>$null) -join "`n"))
        foreach ($table in $tables) {
            $table | Should -Not -Match "`e"
            @($table -split "`n" | Where-Object { $_.Contains($shown) }).Count | Should -Be 1 -Because $table
        }
    }
}
