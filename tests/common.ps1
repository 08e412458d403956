# Shared by the Pester tests: imports the module assembled by the build (out/Sysprog) once, and makes unique names.
$SysprogModulePath = Join-Path $PSScriptRoot '..' 'out' 'Sysprog' 'Sysprog.psd1'
if (-not (Get-Module -Name Sysprog)) {
    if (-not (Test-Path -LiteralPath $SysprogModulePath)) {
        throw "The module is not built: run 'dotnet build' (or ./build.ps1) first; expected $SysprogModulePath."
    }
    Import-Module -Name $SysprogModulePath -Force -ErrorAction Stop
}

function New-TestName {
    # Unique per run and per call, so parallel runs and leftovers from a crash never collide.
    "/sysprog-pester-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
}

function Remove-TestObject {
    param([Parameter(Mandatory, ValueFromPipeline)][string[]] $Name)
    process {
        foreach ($n in $Name) {
            if (Test-Path -LiteralPath "/dev/shm$n") {
                Remove-SharedMemory -Name $n -Confirm:$false
            }
        }
    }
}
