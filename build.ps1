#!/usr/bin/env pwsh
#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, documents, packages and tests Sysprog.

.DESCRIPTION
    Tasks run in the order given, each step once:
      Clean     removes out/ and the build output.
      Build     dotnet build of the solution; MSBuild also assembles the importable module in out/Sysprog, with the
                committed help (module/en-US), and restores the Pester the Pester task uses.
      Docs      platyPS New-ExternalHelp: docs/*.md to module/en-US, the committed MAML help. Needs platyPS 0.14,
                which no package registry carries; without it the committed help stays as it is.
      Package   Build, then the packages: out/Sysprog is the module to import; out/packages holds the module's
                .nupkg as the PowerShell Gallery takes it (gallery/) and the core library's NuGet package (nuget/).
      UnitTest  xunit (core, CLI and cmdlet contracts).
      Pester    the Pester 5 tests in tests/ and the demos in docs/demos, in a child pwsh started like this one,
                with Pester 5.9.1 from the NuGet packages folder, so the loaded module never locks the next build.
                Ends with one line, "pester: N passed, N failed, N skipped"; fails when any test failed or none ran.
      Test      Package, UnitTest, then Pester: every test.

    The configuration is Release unless told: the module users import is the optimized one.
    From bash on a machine with only the .NET SDK: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test

#>
[CmdletBinding(PositionalBinding = $false)]
param(
    # Validated below, after splitting: pwsh -File passes "-Task Package, Test" as "Package," then "Test", which
    # lands in $MoreTasks.
    [Parameter(Position = 0)]
    [ArgumentCompleter({ 'Clean', 'Build', 'Docs', 'Package', 'UnitTest', 'Pester', 'Test' })]
    [string[]] $Task = @('Package'),

    [Parameter(ValueFromRemainingArguments = $true, DontShow = $true)]
    [string[]] $MoreTasks = @(),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # For the Pester task: test files or folders, separated by commas; every test (tests/ and docs/demos) by default.
    [string] $TestPath,

    # For the Docs task: where the help is written; the committed module/en-US by default (the help test writes
    # elsewhere to compare).
    [string] $HelpPath = (Join-Path $PSScriptRoot 'module' 'en-US')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$knownTasks = 'Clean', 'Build', 'Docs', 'Package', 'UnitTest', 'Pester', 'Test'
$Task = @(@($Task) + @($MoreTasks) -split ',' | ForEach-Object Trim | Where-Object { $_ })
foreach ($name in $Task) {
    if ($name -notin $knownTasks) {
        throw "Unknown task '$name'; the tasks are $($knownTasks -join ', ')."
    }
}

. (Join-Path $PSScriptRoot 'docs' 'demos' 'PwshCommand.ps1')
$solution = Join-Path $PSScriptRoot 'Sysprog.sln'
# The one place the Pester version is written is the project that restores it.
$PesterVersion = ([xml](Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot 'tests' 'Sysprog.PowerShell.Tests' 'Sysprog.PowerShell.Tests.csproj'))).SelectSingleNode("//PackageDownload[@Include='Pester']").Version.Trim('[]')
$moduleOut = Join-Path $PSScriptRoot 'out' 'Sysprog'

function Invoke-Native {
    param([Parameter(Mandatory)][string] $Command, [string[]] $ArgumentList = @())
    Write-Host "> $Command $($ArgumentList -join ' ')"
    & $Command @ArgumentList
    if ($LASTEXITCODE -ne 0) {
        throw "$Command exited with $LASTEXITCODE."
    }
}

function Invoke-CleanTask {
    Remove-Item -LiteralPath (Join-Path $PSScriptRoot 'out') -Recurse -Force -ErrorAction SilentlyContinue
    Invoke-Native dotnet 'clean', $solution, '-c', $Configuration, '--nologo', '-v', 'quiet'
}

function Invoke-BuildTask {
    Invoke-Native dotnet 'build', $solution, '-c', $Configuration, '--nologo'
}

function Invoke-DocsTask {
    $platyPS = Get-Module -ListAvailable -Name platyPS | Where-Object Version -LT ([version]'2.0') | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $platyPS) {
        throw 'platyPS 0.14 is not installed, so the help cannot be rebuilt from docs/ (the committed module/en-US help stays in use).'
    }
    Import-Module $platyPS
    # The module page (Sysprog.md) is not help content; cmdlet pages are. about_Sysprog ships as its markdown.
    $pages = Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot 'docs') -Filter '*.md' | Where-Object Name -NotIn 'Sysprog.md', 'about_Sysprog.md'
    New-ExternalHelp -Path $pages.FullName -OutputPath $HelpPath -Force | Out-Null
    Write-Host "help written to $HelpPath (commit it; the next build ships it)"
}

function Invoke-PackTask {
    # The core library as a NuGet package (with its XML docs and the README), and the module as the PowerShell
    # Gallery receives it from Publish-Module: a .nupkg whose root is the module folder and whose nuspec carries
    # the manifest's metadata and the PSModule/PSCmdlet_ tags the Gallery searches by.
    # Both are named Sysprog.<version>.nupkg, as each registry knows its own: hence two folders.
    $packages = Join-Path $PSScriptRoot 'out' 'packages'
    Invoke-Native dotnet 'pack', (Join-Path $PSScriptRoot 'src' 'Sysprog' 'Sysprog.csproj'), '-c', $Configuration, '--no-build', '--nologo', '-o', (Join-Path $packages 'nuget')
    $manifest = Import-PowerShellDataFile (Join-Path $moduleOut 'Sysprog.psd1')
    $psData = $manifest.PrivateData.PSData
    $tags = @('PSModule', 'PSIncludes_Cmdlet') + $psData.Tags + @($manifest.CmdletsToExport | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" })
    $escape = { param($text) [System.Security.SecurityElement]::Escape($text) }
    $nuspec = @"
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">
  <metadata>
    <id>Sysprog</id>
    <version>$($manifest.ModuleVersion)</version>
    <authors>$(& $escape $manifest.Author)</authors>
    <owners>$(& $escape $manifest.CompanyName)</owners>
    <requireLicenseAcceptance>false</requireLicenseAcceptance>
    <license type="expression">MIT</license>
    <description>$(& $escape $manifest.Description)</description>
    <releaseNotes>$(& $escape $psData.ReleaseNotes)</releaseNotes>
    <copyright>$(& $escape $manifest.Copyright)</copyright>
    <tags>$($tags -join ' ')</tags>
  </metadata>
</package>
"@
    $path = Join-Path $packages 'gallery' "Sysprog.$($manifest.ModuleVersion).nupkg"
    $null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $path)
    Remove-Item -LiteralPath $path -ErrorAction SilentlyContinue
    Add-Type -AssemblyName System.IO.Compression
    $zip = [System.IO.Compression.ZipFile]::Open($path, 'Create')
    try {
        $add = {
            param($name, $text)
            $writer = [System.IO.StreamWriter]::new($zip.CreateEntry($name).Open())
            try { $writer.Write($text) } finally { $writer.Dispose() }
        }
        & $add 'Sysprog.nuspec' $nuspec
        & $add '[Content_Types].xml' '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" /><Default Extension="nuspec" ContentType="application/octet" /><Default Extension="psd1" ContentType="application/octet" /><Default Extension="dll" ContentType="application/octet" /><Default Extension="ps1xml" ContentType="application/octet" /><Default Extension="xml" ContentType="application/octet" /><Default Extension="txt" ContentType="application/octet" /><Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" /><Override PartName="/LICENSE" ContentType="application/octet" /></Types>'
        & $add '_rels/.rels' '<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/Sysprog.nuspec" Id="R1" /></Relationships>'
        foreach ($file in Get-ChildItem -LiteralPath $moduleOut -Recurse -File) {
            $relative = [System.IO.Path]::GetRelativePath($moduleOut, $file.FullName).Replace('\', '/')
            $null = [System.IO.Compression.ZipFileExtensions]::CreateEntryFromFile($zip, $file.FullName, $relative)
        }
    }
    finally {
        $zip.Dispose()
    }
    Write-Host "packages written to $packages"
}

function Invoke-UnitTestTask {
    Invoke-Native dotnet 'test', $solution, '-c', $Configuration, '--nologo'
}

function Get-PesterModulePath {
    # The Pester the solution restores (tests/Sysprog.PowerShell.Tests names it), from the NuGet packages folder.
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) {
        $listed = & dotnet nuget locals global-packages --list
        $packages = ($listed -replace '^global-packages:\s*', '').Trim()
    }
    $path = Join-Path $packages 'pester' $PesterVersion 'tools' 'Pester.psd1'
    if (-not (Test-Path -LiteralPath $path)) {
        throw "Pester $PesterVersion is not in the NuGet packages folder ($packages): run the Build task first, which restores it."
    }
    $path
}

function Invoke-PesterTask {
    $pesterPath = Get-PesterModulePath
    if (-not (Test-Path -LiteralPath (Join-Path $moduleOut 'Sysprog.psd1'))) {
        throw "The module is not assembled in ${moduleOut}: run the Build task first."
    }
    # The tests find the CLI of the same configuration as the module.
    $env:SYSPROG_CONFIGURATION = $Configuration
    $pwsh, $pwshArguments = Get-PwshCommand
    $suite = Join-Path $PSScriptRoot 'tests' 'PesterSuite.ps1'
    $suiteArguments = @('-PesterPath', $pesterPath) + $(if ($TestPath) { '-TestPath', $TestPath } else { @() })
    & $pwsh $pwshArguments -NoProfile -NonInteractive -File $suite @suiteArguments
    if ($LASTEXITCODE -ne 0) {
        throw 'The Pester tests failed, or none ran.'
    }
}

$steps = [System.Collections.Generic.List[string]]::new()
foreach ($name in $Task) {
    $expanded = switch ($name) {
        'Package' { 'Build', 'Pack' }
        'Test' { 'Build', 'Pack', 'UnitTest', 'Pester' }
        default { $name }
    }
    foreach ($step in $expanded) {
        if (-not $steps.Contains($step)) { $steps.Add($step) }
    }
}

foreach ($step in $steps) {
    Write-Host "== $step" -ForegroundColor Cyan
    switch ($step) {
        'Clean' { Invoke-CleanTask }
        'Build' { Invoke-BuildTask }
        'Docs' { Invoke-DocsTask }
        'Pack' { Invoke-PackTask }
        'UnitTest' { Invoke-UnitTestTask }
        'Pester' { Invoke-PesterTask }
    }
}
