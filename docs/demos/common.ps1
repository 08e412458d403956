# Shared by the demos: the module from the build, unique names, and the narrator's voice.
. (Join-Path $PSScriptRoot '..' '..' 'tests' 'common.ps1')

function Write-Narration {
    # What happened, in the words a trainer would use, indented under the step.
    param([Parameter(Mandatory)][string] $Text)
    Write-Host "      $Text" -ForegroundColor DarkCyan
}
