#Requires -Version 7.4
# The module as users receive it: the Gallery .nupkg and the core library's NuGet package that build.ps1 -Task
# Package writes to out/packages, opened and checked as the Gallery and NuGet would read them.
Describe 'The packages' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        Add-Type -AssemblyName System.IO.Compression
        $script:manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '..' 'Sysprog.psd1')
        $script:version = $script:manifest.ModuleVersion
        $script:packages = Join-Path $PSScriptRoot '..' 'out' 'packages'

        function Read-Package {
            param([string] $Path)
            $zip = [System.IO.Compression.ZipFile]::OpenRead($Path)
            try {
                $entries = @($zip.Entries.FullName)
                $nuspecEntry = $zip.Entries | Where-Object FullName -Like '*.nuspec'
                $reader = [System.IO.StreamReader]::new($nuspecEntry.Open())
                try { $nuspec = [xml]$reader.ReadToEnd() } finally { $reader.Dispose() }
                [pscustomobject]@{ Entries = $entries; Metadata = $nuspec.package.metadata }
            }
            finally {
                $zip.Dispose()
            }
        }
    }

    It 'ships a LICENSE that matches the manifest, and no invented URIs' {
        $license = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '..' 'LICENSE')
        $license | Should -Match '^MIT License'
        $script:manifest.Copyright | Should -Match 'MIT License'
        $script:manifest.PrivateData.PSData.Keys | Should -Not -Contain 'ProjectUri'
        $script:manifest.PrivateData.PSData.Keys | Should -Not -Contain 'LicenseUri'
        Join-Path (Split-Path -Parent (Get-Module Sysprog).Path) 'LICENSE' | Should -Exist
    }

    It 'has the module in the PowerShell Gallery layout, importable from the package alone' {
        $path = Join-Path $script:packages 'gallery' "Sysprog.$($script:version).nupkg"
        $path | Should -Exist -Because 'build.ps1 -Task Package writes it'
        $package = Read-Package $path
        $package.Metadata.id | Should -Be 'Sysprog'
        $package.Metadata.version | Should -Be $script:version
        $package.Metadata.license.'#text' | Should -Be 'MIT'
        $package.Metadata.description | Should -Be $script:manifest.Description
        $tags = $package.Metadata.tags -split ' '
        $tags | Should -Contain 'PSModule'
        $tags | Should -Contain 'PSEdition_Core'
        foreach ($cmdlet in $script:manifest.CmdletsToExport) {
            $tags | Should -Contain "PSCmdlet_$cmdlet"
        }
        foreach ($file in 'Sysprog.psd1', 'Sysprog.dll', 'Sysprog.PowerShell.dll', 'Sysprog.Format.ps1xml', 'Sysprog.Types.ps1xml', 'LICENSE', 'en-US/Sysprog.PowerShell.dll-Help.xml', 'en-US/about_Sysprog.help.txt', '[Content_Types].xml', '_rels/.rels') {
            $package.Entries | Should -Contain $file
        }

        $unpacked = Join-Path $TestDrive 'Sysprog'
        [System.IO.Compression.ZipFile]::ExtractToDirectory($path, $unpacked)
        $pwsh, $pwshArguments = Get-PwshCommand
        $loaded = & $pwsh $pwshArguments -NoProfile -NonInteractive -Command "Import-Module '$unpacked/Sysprog.psd1' -ErrorAction Stop; (Get-Command -Module Sysprog).Count; (Get-Help New-SharedMemory).Synopsis"
        $LASTEXITCODE | Should -Be 0
        [int]$loaded[0] | Should -Be $script:manifest.CmdletsToExport.Count
        $loaded[1] | Should -BeLike 'Creates*'
    }

    It 'carries the screenplays, which run from the installed module alone' {
        $path = Join-Path $script:packages 'gallery' "Sysprog.$($script:version).nupkg"
        $package = Read-Package $path
        $screenplays = @(Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot '..' 'docs' 'demos') -Filter *.ps1)
        $screenplays.Count | Should -BeGreaterThan 8
        foreach ($file in $screenplays) {
            $package.Entries | Should -Contain "Demos/$($file.Name)"
        }
        # Installed where no repository is: the screenplay finds the module beside it, not the build in out/.
        $installed = Join-Path $TestDrive 'modules' 'Sysprog'
        [System.IO.Compression.ZipFile]::ExtractToDirectory($path, $installed)
        $pwsh, $pwshArguments = Get-PwshCommand
        $pester = Join-Path (Get-Module Pester).ModuleBase 'Pester.psd1'
        $run = "Import-Module '$pester'; `$r = Invoke-Pester -Path '$installed/Demos/4-MessageQueue.Tests.ps1' -PassThru -Output None; " +
            "`"`$(`$r.PassedCount) `$(`$r.FailedCount) `$((Get-Module Sysprog).ModuleBase)`""
        $result = & $pwsh $pwshArguments -NoProfile -NonInteractive -Command $run
        $LASTEXITCODE | Should -Be 0
        # The narration (Write-Host) comes first; the counts are the last line.
        $passed, $failed, $moduleBase = "$($result | Select-Object -Last 1)" -split ' ', 3
        [int]$failed | Should -Be 0
        [int]$passed | Should -BeGreaterThan 0
        $moduleBase | Should -Be $installed
    }

    It 'has the core library as a NuGet package with its metadata, readme and XML docs' {
        $corePath = Join-Path $script:packages 'nuget' "Sysprog.$($script:version).nupkg"
        $corePath | Should -Exist -Because 'build.ps1 -Task Package writes it'
        $package = Read-Package $corePath
        $package.Metadata.id | Should -Be 'Sysprog'
        $package.Metadata.license.'#text' | Should -Be 'MIT'
        $package.Metadata.readme | Should -Be 'README.md'
        $package.Metadata.description | Should -Match 'Linux systems programming'
        $package.Entries | Should -Contain 'lib/net8.0/Sysprog.dll'
        $package.Entries | Should -Contain 'lib/net8.0/Sysprog.xml'
        $package.Entries | Should -Contain 'README.md'
    }
}
