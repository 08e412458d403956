#Requires -Version 7.4
# ELF files and shared libraries from pwsh: reading files as readelf does, damaged and non-ELF files refused by name,
# dependencies resolved as the loader resolves them (ldd as the oracle), a missing library with where it was looked for,
# dlopen/dlsym/dlclose and a call into libm, and a global variable of another process read by its name.
Describe 'ELF files and shared libraries' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:cc = Get-Command cc -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        function Build-C([string] $Output, [string] $Source, [string[]] $Arguments) {
            $Source | & $script:cc.Source -x c - -o $Output @Arguments
            $LASTEXITCODE | Should -Be 0 -Because "cc builds $Output"
        }
    }

    BeforeEach {
        $script:fdsBefore = Get-FdListing
    }

    AfterEach {
        Assert-NoFdLeft -Since $script:fdsBefore
    }

    It 'takes paths as Get-Item does: Get-ChildItem items literally, -Path with wildcards and escapes, -LiteralPath as written' {
        $folder = Join-Path $TestDrive 'names'
        $null = New-Item -ItemType Directory $folder
        foreach ($name in '[', 't[1]', 'a`b', 'plain') { Copy-Item -LiteralPath /usr/bin/true (Join-Path $folder $name) }
        # Every item, whatever its name: bound by PSPath to -LiteralPath, nothing stops the pipeline.
        $read = @(Get-ChildItem -LiteralPath $folder | Get-ElfFile)
        $read.Path | Sort-Object | Should -Be ((Get-ChildItem -LiteralPath $folder).FullName | Sort-Object)
        Get-ElfFile -LiteralPath (Join-Path $folder 'a`b') | Should -Not -BeNullOrEmpty
        (Get-ElfFile -LP (Join-Path $folder '[')).Path | Should -Be (Join-Path $folder '[')
        # -Path: a wildcard expands, a backtick escapes, an invalid pattern is an error on that input alone.
        @(Get-ElfFile -Path (Join-Path $folder 'p*')).Path | Should -Be (Join-Path $folder 'plain')
        @(Get-ElfFile -Path (Join-Path $folder 't`[1`]')).Path | Should -Be (Join-Path $folder 't[1]')
        $after = @(Get-ElfFile -Path (Join-Path $folder '['), (Join-Path $folder 'plain') -ErrorAction SilentlyContinue -ErrorVariable failed)
        $after.Path | Should -Be (Join-Path $folder 'plain')
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
        $failed[0].Exception.Message | Should -BeLike '*not a valid wildcard pattern*-LiteralPath*'
        $failed[0].TargetObject | Should -Be (Join-Path $folder '[')
        # Relative to PowerShell's location, as written.
        Push-Location -LiteralPath $folder
        try { (Get-ElfFile -LiteralPath 't[1]').Path | Should -Be (Join-Path $folder 't[1]') } finally { Pop-Location }
    }

    It 'reads a program as readelf does: interpreter, needed libraries, loadable segments, entry' {
        $ls = Get-ElfFile /usr/bin/ls

        $ls.Interpreter | Should -Match 'ld-linux'
        $ls.Needed | Should -Contain 'libc.so.6'
        $ls.IsPositionIndependentExecutable | Should -BeTrue
        @($ls.ProgramHeaders | Where-Object { $_.Type -eq 'Load' -and $_.Permissions -eq 'r-x' }).Count | Should -Be 1
        $ls.Section('.text').FlagLetters | Should -Be 'AX'
    }

    It 'has the entry point readelf shows' {
        if (-not (Get-Command readelf -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'readelf (binutils) is not installed: there is nothing to compare with'
            return
        }
        $entry = (readelf -h /usr/bin/ls | Select-String 'Entry point address:\s+0x([0-9a-f]+)').Matches[0].Groups[1].Value
        (Get-ElfFile /usr/bin/ls).Header.Entry | Should -Be ([Convert]::ToUInt64($entry, 16))
    }

    It 'refuses a truncated file, a text file and a FIFO, each by name and reason, without waiting' {
        $cut = Join-Path $TestDrive 'cut'
        [System.IO.File]::WriteAllBytes($cut, [System.IO.File]::ReadAllBytes('/usr/bin/true')[0..99])
        $text = Join-Path $TestDrive 'script.sh'
        Set-Content $text "#!/bin/sh`necho hi"
        $fifo = (New-Fifo (Join-Path $TestDrive 'fifo')).FullName

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        Get-ElfFile $cut, $text, $fifo -ErrorAction SilentlyContinue -ErrorVariable refused | Should -BeNullOrEmpty
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5

        $refused.Count | Should -Be 3
        $refused | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'ElfFormat,*'; $_.CategoryInfo.Category | Should -Be 'InvalidData' }
        $refused[0].TargetObject | Should -Be $cut
        $refused[0].Exception.Message | Should -BeLike '*section header 0 at file offset*run past the end of the file (100 bytes)'
        $refused[1].Exception.Message | Should -BeLike '*not an ELF file*'
        $refused[2].Exception.Message | Should -BeLike '*not a regular file*'
    }

    It 'lists symbols with their versions: libc''s two memcpy' {
        $libc = (Get-SharedLibrary *libc.so.6).Name
        $memcpy = Get-ElfSymbol $libc -Name memcpy -Table Dynamic

        $memcpy.VersionedName | Should -Contain 'memcpy@GLIBC_2.2.5'
        @($memcpy | Where-Object IsDefaultVersion).Count | Should -Be 1
        @(Get-ElfSymbol /usr/bin/true -Table Dynamic -Undefined).SectionName | Sort-Object -Unique | Should -Be '*UND*'
    }

    It 'resolves a program''s libraries to the paths ldd gives' {
        if (-not (Get-Command ldd -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'ldd is not installed: it is the oracle here'
            return
        }
        $ours = Resolve-ElfDependency /usr/bin/curl | Where-Object Rule -NotIn 'Vdso', 'Interpreter' | ForEach-Object { "$($_.Name) => $($_.Path)" }
        $theirs = ldd /usr/bin/curl | Select-String '^\s+(\S+) => (\S+) \(0x' | ForEach-Object { "$($_.Matches[0].Groups[1].Value) => $($_.Matches[0].Groups[2].Value)" }

        $theirs.Count | Should -BeGreaterThan 3
        $ours | Sort-Object | Should -Be ($theirs | Sort-Object)
    }

    It 'says where the loader would have looked for a library that is missing' {
        if (-not $script:cc) {
            Set-ItResult -Skipped -Because 'no C compiler (cc) on PATH: this test builds a program that needs a library that is gone'
            return
        }
        $gone = Join-Path $TestDrive 'gone'
        $null = New-Item -ItemType Directory $gone
        Build-C (Join-Path $gone 'libsysprog_gone.so') 'int gone(void) { return 1; }' @('-shared', '-fPIC')
        $program = Join-Path $TestDrive 'needs-gone'
        Build-C $program 'int gone(void); int main(void) { return gone(); }' @("-L$gone", '-lsysprog_gone', "-Wl,-rpath,$gone")
        Remove-Item (Join-Path $gone 'libsysprog_gone.so')

        $missing = Resolve-ElfDependency $program | Where-Object Rule -EQ NotFound

        $missing.Name | Should -Be 'libsysprog_gone.so'
        $missing.Searched | Should -Contain (Join-Path $gone 'libsysprog_gone.so')
        $lastDefault = [Sysprog.LibrarySearchOptions]::ForThisMachine().DefaultFolders[-1]
        $missing.Searched[-1] | Should -Be "$lastDefault/libsysprog_gone.so" -Because 'the default folders come last'
        $missing.RequiredBy | Should -Be $program
    }

    It 'loads libm, calls cos, and closes it; a library of its own unloads on close' {
        $libm = Open-SharedLibrary libm.so.6
        Invoke-SharedLibraryFunction $libm cos -Signature 'double (double)' -ArgumentList 0.5 -Confirm:$false | Should -Be ([math]::Cos(0.5))
        Invoke-SharedLibraryFunction $libm pow -Signature 'double(double,double)' -ArgumentList '2', 10 -Confirm:$false | Should -Be 1024
        (Get-SharedLibrary $libm.Path).BaseAddress | Should -Be $libm.BaseAddress
        (Close-SharedLibrary $libm -PassThru).IsStillLoaded | Should -BeTrue -Because 'this process needed libm before'

        if (-not $script:cc) {
            Set-ItResult -Skipped -Because 'no C compiler (cc) on PATH: the rest builds a library of its own'
            return
        }
        $own = Join-Path $TestDrive 'libsysprog_own.so'
        Build-C $own 'int sysprog_answer(void) { return 42; }' @('-shared', '-fPIC')
        Open-SharedLibrary $own -NoLoad | Should -BeNullOrEmpty
        $lib = Open-SharedLibrary $own
        Invoke-SharedLibraryFunction $lib sysprog_answer -Signature 'int()' -Confirm:$false | Should -Be 42
        Close-SharedLibrary $lib -PassThru | Select-Object -ExpandProperty IsStillLoaded | Should -BeFalse
        Get-SharedLibrary $own | Should -BeNullOrEmpty
    }

    It 'refuses to call data, a signature it does not know, and a missing symbol, naming each' {
        Invoke-SharedLibraryFunction -Scope Default environ -Signature 'int()' -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable data
        Invoke-SharedLibraryFunction -Scope Default strlen -Signature 'void*(void*)' -ArgumentList 1 -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable signature
        Get-SharedLibrarySymbol -Scope Default sysprog_no_such_symbol -ErrorAction SilentlyContinue -ErrorVariable missing

        $data[0].FullyQualifiedErrorId | Should -BeLike 'InvalidOperation,*'
        $data[0].Exception.Message | Should -BeLike '*not a function*'
        $signature[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $signature[0].Exception.Message | Should -BeLike '*double(double)*'
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'Dlsym.NotFound,*'
        $missing[0].Exception.Message | Should -BeLike '*undefined symbol: sysprog_no_such_symbol*'
    }

    It 'reads and writes a global variable of another process by its name' {
        if (-not $script:cc) {
            Set-ItResult -Skipped -Because 'no C compiler (cc) on PATH: this test builds a peer with a known global variable'
            return
        }
        $peerPath = Join-Path $TestDrive 'peer'
        Build-C $peerPath '#include <stdio.h>
long long sysprog_counter = 41;
int main(void) { char line[8]; puts("ready"); fflush(stdout); while (fgets(line, sizeof line, stdin)) { printf("%lld\n", sysprog_counter); fflush(stdout); } return 0; }' @()
        $info = [System.Diagnostics.ProcessStartInfo]::new($peerPath)
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $peer = [System.Diagnostics.Process]::Start($info)
        try {
            $peer.StandardOutput.ReadLine() | Should -Be 'ready'

            Read-ProcessMemory -Id $peer.Id -Symbol sysprog_counter -As Int64 | Should -Be 41
            Write-ProcessMemory -Id $peer.Id -Symbol sysprog_counter -Int64 7 -Confirm:$false
            $peer.StandardInput.WriteLine()

            $peer.StandardOutput.ReadLine() | Should -Be '7'
        }
        finally {
            $peer.Kill()
            $peer.WaitForExit()
            $peer.Dispose()
        }
    }
}
