#Requires -Version 7.4
# Screenplay 7: loading scopes. Two libraries define the same function; which one a lookup finds depends on how each
# was opened (RTLD_LOCAL, RTLD_GLOBAL, load order, RTLD_DEEPBIND); RTLD_NOLOAD asks without loading; the last close
# unloads; and a missing symbol fails at dlopen under RTLD_NOW but only at the call under RTLD_LAZY.
#   Invoke-Pester ./docs/demos -Output Detailed
Describe 'Loading scopes: one function name, several libraries' -Skip:(-not $IsLinux) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        $script:cc = Get-Command cc -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        $script:folder = Join-Path $TestDrive 'libs'
        $null = New-Item -ItemType Directory $script:folder
        $script:opened = [System.Collections.Generic.List[object]]::new()
        function Build-Library([string] $Name, [string] $Source) {
            $path = Join-Path $script:folder $Name
            $Source | & $script:cc.Source -shared -fPIC -x c - -o $path
            $LASTEXITCODE | Should -Be 0 -Because "cc builds $Name"
            $path
        }
        function Open-Demo([string] $Path, [switch] $Global, [switch] $DeepBind, [switch] $Lazy) {
            $library = Open-SharedLibrary $Path -Global:$Global -DeepBind:$DeepBind -Lazy:$Lazy
            $script:opened.Add($library)
            $library
        }
        $script:which = @{ Signature = 'int(void)'; Confirm = $false }
        if ($script:cc) {
            $script:first = Build-Library 'libfirst.so' 'int demo_which(void) { return 1; }'
            $script:second = Build-Library 'libsecond.so' 'int demo_which(void) { return 2; }'
            $deep = "int demo_which(void) { return 3; }`nint demo_call(void) { return demo_which(); }"
            $script:shallow = Build-Library 'libshallow.so' $deep
            $script:deep = Build-Library 'libdeep.so' $deep
            $script:lazy = Build-Library 'liblazy.so' "extern int demo_missing(void);`nint demo_use_missing(void) { return demo_missing(); }"
        }
    }

    BeforeEach {
        if (-not $script:cc) {
            Set-ItResult -Skipped -Because 'no C compiler (cc) on PATH: the screenplay builds its libraries with it'
        }
    }

    AfterAll {
        $script:opened | Where-Object { -not $_.IsClosed } | Close-SharedLibrary
    }

    It 'opens libfirst RTLD_LOCAL: its function answers through its handle, but not through the global scope' {
        $script:firstLocal = Open-Demo $script:first
        Invoke-SharedLibraryFunction $script:firstLocal demo_which @which | Should -Be 1
        Get-SharedLibrarySymbol -Scope Default demo_which -ErrorAction SilentlyContinue -ErrorVariable hidden
        $hidden[0].Exception.Message | Should -BeLike '*undefined symbol: demo_which*'
        Write-Narration 'RTLD_LOCAL (the default): libfirst serves itself and what it pulled in, and no lookup through the global scope.'
    }

    It 'opens libsecond RTLD_GLOBAL: the global scope now answers with its definition' {
        $null = Open-Demo $script:second -Global
        Invoke-SharedLibraryFunction -Scope Default demo_which @which | Should -Be 2
        Write-Narration 'RTLD_GLOBAL added libsecond to the global scope: RTLD_DEFAULT finds its demo_which.'
    }

    It 'promotes libfirst to the global scope: load order keeps libsecond first' {
        $null = Open-Demo $script:first -Global
        Invoke-SharedLibraryFunction -Scope Default demo_which @which | Should -Be 2
        Write-Narration 'The global scope is searched in the order objects joined it: libsecond joined before libfirst.'
    }

    It 'binds a library''s own call to the global definition, unless it was opened with RTLD_DEEPBIND' {
        $shallow = Open-Demo $script:shallow
        $deep = Open-Demo $script:deep -DeepBind
        Invoke-SharedLibraryFunction $shallow demo_call @which | Should -Be 2
        Invoke-SharedLibraryFunction $deep demo_call @which | Should -Be 3
        Write-Narration 'The same code: without DEEPBIND its call to demo_which went to libsecond (global scope first); with DEEPBIND to its own.'
    }

    It 'asks with RTLD_NOLOAD without loading, and unloads on the last close' {
        Open-SharedLibrary $script:lazy -NoLoad | Should -BeNullOrEmpty
        $a = Open-Demo $script:shallow
        (Get-SharedLibrary $script:shallow).Name | Should -Be $script:shallow
        Write-Narration "libshallow is at 0x$('{0:x}' -f (Get-SharedLibrary $script:shallow).Start): two references now."
        $script:opened | Where-Object { $_.Path -eq $script:shallow } | Close-SharedLibrary
        $a.IsStillLoaded | Should -BeFalse
        Get-SharedLibrary $script:shallow | Should -BeNullOrEmpty
        Write-Narration 'After the last dlclose the loader unmapped it: Get-SharedLibrary no longer lists it.'
    }

    It 'fails a missing symbol at dlopen under RTLD_NOW, and only at the call under RTLD_LAZY' {
        Open-SharedLibrary $script:lazy -ErrorAction SilentlyContinue -ErrorVariable now
        $now[0].Exception.Message | Should -BeLike '*undefined symbol: demo_missing*'
        $lazy = Open-Demo $script:lazy -Lazy
        $lazy.IsClosed | Should -BeFalse
        Write-Narration 'RTLD_NOW refused the library; RTLD_LAZY opened it. The call would end the session, so a child pwsh makes it:'
        $pwsh, $pwshArguments = Get-PwshCommand
        $call = "Import-Module '$($SysprogModulePath -replace "'", "''")'; " +
            "`$library = Open-SharedLibrary '$($script:lazy -replace "'", "''")' -Lazy; " +
            "Invoke-SharedLibraryFunction `$library demo_use_missing -Signature 'int(void)' -Confirm:`$false"
        $child = & $pwsh $pwshArguments -NoProfile -NonInteractive -Command $call 2>&1
        $LASTEXITCODE | Should -Be 127
        ($child -join "`n") | Should -BeLike '*symbol lookup error*undefined symbol: demo_missing*'
        Write-Narration "The child died at the call: $(($child | Select-String 'symbol lookup error') -replace '^.*?: ', '')"
    }
}
