# Run by tests/Narration.Tests.ps1 in a pwsh under strace -f: runs each case of the table (a JSON file) twice, the
# second time between two marker calls, and writes what each narrated (its -Verbose or --trace lines) as JSON.
#   $ModulePath  the module to import; $CliPath  the sysprog CLI assembly, run in this process (its Main) so that its
#   calls fall between the markers too; $CasesPath  the table; $ResultPath  where the narration goes.
# The first run is a warm-up: the runtime compiles and loads what the case needs then, so that the measured run makes
# (almost) only the case's own calls. A marker is an lstat of a path that cannot exist (under a folder that does not),
# unique per case: strace shows it on the thread that runs the case, before and after the operation.
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $CliPath,
    [Parameter(Mandatory)][string] $CasesPath,
    [Parameter(Mandatory)][string] $ResultPath
)
$ErrorActionPreference = 'Stop'
Import-Module -Name $ModulePath
$cli = [System.Reflection.Assembly]::LoadFrom($CliPath)

function Invoke-Cli {
    # The CLI's Main in this process with --trace, its stderr captured: the trace lines, then the other lines.
    param([Parameter(ValueFromRemainingArguments)][string[]] $Arguments)
    $savedError = [Console]::Error
    $savedOut = [Console]::Out
    $errorText = [System.IO.StringWriter]::new()
    $output = [System.IO.StringWriter]::new()
    [Console]::SetError($errorText)
    [Console]::SetOut($output)
    try {
        $exitCode = $cli.EntryPoint.Invoke($null, @(, [string[]] ($Arguments + '--trace')))
    }
    finally {
        [Console]::SetError($savedError)
        [Console]::SetOut($savedOut)
    }
    if ($exitCode -ne 0) { throw "sysprog $Arguments exited with $exitCode`: $errorText" }
    $errorText.ToString() -split "`n" | Where-Object { $_ }
}

$results = foreach ($case in (Get-Content -Raw -LiteralPath $CasesPath | ConvertFrom-Json)) {
    $setup = [scriptblock]::Create($case.Setup)
    $operation = [scriptblock]::Create($case.Operation)
    $cleanup = [scriptblock]::Create($case.Cleanup)
    $narration = @()
    $failure = $null
    $marker = $null
    foreach ($round in 'warm-up', 'measured') {
        $state = @{}
        $marker = "/nonexistent-sysprog-narration-$PID/$($case.Name -replace '[^\w-]', '_')-$round"
        try {
            . $setup
            [void] [System.IO.File]::Exists("$marker-begin")
            $said = @(. $operation 4>&1)
            [void] [System.IO.File]::Exists("$marker-end")
            $narration = @($said | ForEach-Object {
                    if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message } elseif ($_ -is [string]) { $_ }
                } | Where-Object { $_ -match '^\w+\(.*\)(: | = )' })
        }
        catch {
            $failure = "$round`: $_"
        }
        finally {
            try { . $cleanup } catch { $failure = "$failure cleanup: $_" }
        }
    }
    [pscustomobject]@{ Name = $case.Name; Marker = $marker; Narration = [string[]] $narration; Failure = $failure }
}
ConvertTo-Json -InputObject @($results) -Depth 4 | Set-Content -LiteralPath $ResultPath
