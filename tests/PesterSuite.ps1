# The Pester suite as build.ps1 -Task Pester runs it, in a pwsh of its own (a script rather than a script block: a
# script block passed to a native command reaches only a pwsh executable intact, not the dotnet host that runs the
# PowerShell dotnet tool). Ends with one line, "pester: N passed, N failed, N skipped", and exits 0 only when tests
# ran and none failed.
param(
    [Parameter(Mandatory)][string] $PesterPath,
    # Files or folders; pwsh -File passes one string, so several are separated by commas. All by default.
    [string[]] $TestPath = @($PSScriptRoot, (Join-Path $PSScriptRoot '..' 'docs' 'demos'))
)
Import-Module $PesterPath
$configuration = New-PesterConfiguration
$configuration.Run.Path = @($TestPath -split ',' | Where-Object { $_ })
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $configuration
$skipped = $result.SkippedCount + $result.NotRunCount
"pester: $($result.PassedCount) passed, $($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount) failed, $skipped skipped"
exit $(if ($result.Result -eq 'Passed' -and $result.PassedCount -gt 0) { 0 } else { 1 })
