# How to start another pwsh like the running one, dot-sourced by build.ps1, the tests and the screenplays. pwsh is not always an
# executable called pwsh: the PowerShell dotnet tool runs as "dotnet .../pwsh.dll", so [Environment]::ProcessPath is
# the dotnet host and (Get-Process -Id $PID).Path names dotnet.
function Get-PwshCommand {
    <#
    .SYNOPSIS
        The executable, then the arguments that come before pwsh's own, to start a pwsh like this one:
        $pwsh, $pwshArguments = Get-PwshCommand; & $pwsh $pwshArguments -NoProfile -Command ...
        ($pwshArguments is one string, or $null for a pwsh executable, which a native command is given as nothing;
        splatting it would pass a string's characters one by one.) To put it after another program: & env @pwsh ...
    .PARAMETER PowerShellHome
        A copy of $PSHOME to run instead (for example one that another user may read).
    #>
    param([string] $PowerShellHome = $PSHOME)
    $executable = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($executable) -eq 'dotnet') {
        return [string[]] @($executable, (Join-Path $PowerShellHome 'pwsh.dll'))
    }
    , [string[]] @(Join-Path $PowerShellHome (Split-Path -Leaf $executable))
}
