#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, documents, packages and tests Sysprog.

.DESCRIPTION
    Tasks run in the order given:
      Clean     removes out/ and the build output.
      Build     dotnet build of the solution; MSBuild also assembles the importable module in out/Sysprog.
      Docs      platyPS New-ExternalHelp: docs/*.md to out/Sysprog/en-US (a warning without platyPS; an error under CI).
      Package   Build, then Docs, then the packages: out/Sysprog is the module to import; out/packages holds the
                module's .nupkg as the PowerShell Gallery takes it (gallery/) and the core library's NuGet package (nuget/).
      UnitTest  xunit (core, CLI and cmdlet contracts).
      Pester    the Pester 5 tests in tests/ and the demos in docs/demos, in a child pwsh so the loaded module never
                locks the next build. Ends with one line, "pester: N passed, N failed, N skipped"; fails when any test
                failed or none ran.
      Test      UnitTest, then Pester.

    The configuration is Release unless told: the module users import is the optimized one.

.EXAMPLE
    ./build.ps1
    Import-Module ./out/Sysprog/Sysprog.psd1

.EXAMPLE
    ./build.ps1 -Task Clean, Package, Test -Configuration Release
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
    [string] $Configuration = 'Release'
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

$solution = Join-Path $PSScriptRoot 'Sysprog.sln'
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
    $platyPS = Get-Module -ListAvailable -Name platyPS | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $platyPS) {
        if ($env:CI) {
            throw 'platyPS 0.14 is not installed, so the help XML cannot be built (CI builds it always).'
        }
        Write-Warning 'platyPS is not installed, so no en-US help XML was built (Install-Module platyPS -RequiredVersion 0.14.2). docs/ is still checked by the contract tests.'
        return
    }
    Import-Module $platyPS
    # The module page (Sysprog.md) is not help content; cmdlet pages and about_ topics are.
    $pages = Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot 'docs') -Filter '*.md' | Where-Object Name -NE 'Sysprog.md'
    New-ExternalHelp -Path $pages.FullName -OutputPath (Join-Path $moduleOut 'en-US') -Force | Out-Null
    Write-Host "help written to $(Join-Path $moduleOut 'en-US')"
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

function Invoke-PesterTask {
    $pester = Get-Module -ListAvailable -Name Pester | Where-Object Version -GE ([version]'5.0') | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $pester) {
        throw 'Pester 5 is not installed, so the Pester tests cannot run (Install-Module Pester -MinimumVersion 5.0).'
    }
    if (-not (Test-Path -LiteralPath (Join-Path $moduleOut 'Sysprog.psd1'))) {
        throw "The module is not assembled in ${moduleOut}: run the Build task first."
    }
    $pwsh = (Get-Process -Id $PID).Path
    # The tests find the CLI of the same configuration as the module.
    $env:SYSPROG_CONFIGURATION = $Configuration
    & $pwsh -NoProfile -NonInteractive -Command {
        param($PesterPath, [string[]] $TestPath)
        Import-Module $PesterPath
        $configuration = New-PesterConfiguration
        $configuration.Run.Path = $TestPath
        $configuration.Run.PassThru = $true
        $configuration.Output.Verbosity = 'Detailed'
        $result = Invoke-Pester -Configuration $configuration
        $skipped = $result.SkippedCount + $result.NotRunCount
        "pester: $($result.PassedCount) passed, $($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount) failed, $skipped skipped"
        exit $(if ($result.Result -eq 'Passed' -and $result.PassedCount -gt 0) { 0 } else { 1 })
    } -args $pester.Path, @((Join-Path $PSScriptRoot 'tests'), (Join-Path $PSScriptRoot 'docs' 'demos'))
    if ($LASTEXITCODE -ne 0) {
        throw 'The Pester tests failed, or none ran.'
    }
}

foreach ($name in $Task) {
    Write-Host "== $name" -ForegroundColor Cyan
    switch ($name) {
        'Clean' { Invoke-CleanTask }
        'Build' { Invoke-BuildTask }
        'Docs' { Invoke-DocsTask }
        'Package' { Invoke-BuildTask; Invoke-DocsTask; Invoke-PackTask }
        'UnitTest' { Invoke-UnitTestTask }
        'Pester' { Invoke-PesterTask }
        'Test' { Invoke-UnitTestTask; Invoke-PesterTask }
    }
}
