#requires -Version 7.4
<#
.SYNOPSIS
    What a script pays per call: Sysprog's cmdlets and its objects' methods in a real pwsh, next to the same work in C
    and through the core from C#, next to a built-in cmdlet in the same loop, and a ping-pong between two pwsh
    processes. Run by pwsh-calls.sh, which builds everything and pins this process (and so its children) to CPU 0.
.DESCRIPTION
    Every figure is nanoseconds per pair of calls (post+wait, send+receive, or two built-in calls), the median of
    -Rounds rounds of -Calls pairs each. In each round the cases run in a rotated order, so none always meets the
    warmer or noisier moment. A table goes to the output, and every sample to a TSV in bench/out.
#>
param(
    [int] $Rounds = 9,
    [int] $Calls = 3000,
    [int] $RoundTrips = 2000
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$out = Join-Path $PSScriptRoot 'out'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'Sysprog' 'Sysprog.psd1')

# The floor under any cmdlet: a compiled cmdlet that does nothing, with Unlock-Semaphore's parameters (an object array
# by position and from the pipeline in one set, names in another, a count and a switch).
$floor = Add-Type -PassThru -TypeDefinition @'
using System.Management.Automation;
[Cmdlet(VerbsLifecycle.Invoke, "EmptyCmdlet", DefaultParameterSetName = "Object")]
public sealed class InvokeEmptyCmdletCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Object")] public object[] InputObject { get; set; }
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Name")] public string[] Name { get; set; }
    [Parameter] [ValidateRange(1, int.MaxValue)] public int Count { get; set; } = 1;
    [Parameter(ParameterSetName = "Object")] public SwitchParameter PassThru { get; set; }
    protected override void ProcessRecord() { }
}
'@
Import-Module $floor[0].Assembly

$prefix = "/sysprog-calls-$PID"
$forever = [System.Threading.Timeout]::InfiniteTimeSpan
$semaphore = New-Semaphore -Name "$prefix-sem"
$queue = New-MessageQueue -Name "$prefix-mq" -MaxMessages 10 -MaxMessageSize 64
$body = [byte[]]::new(64)

# Each case is a loop over $n pairs, so that the loop itself is compiled the same way for all of them.
$cases = [ordered]@{
    'empty loop iteration'                    = { param($n) for ($i = 0; $i -lt $n; $i++) { } }
    # The same object's most trivial instance method: what PowerShell's method binding itself costs.
    'two calls of Equals on the same object'  = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = $semaphore.Equals($null); $null = $semaphore.Equals($null) } }
    'semaphore post+wait, methods'            = { param($n) for ($i = 0; $i -lt $n; $i++) { $semaphore.Post(); $null = $semaphore.Wait($forever) } }
    'semaphore post+wait, cmdlets'            = { param($n) for ($i = 0; $i -lt $n; $i++) { Unlock-Semaphore $semaphore; Wait-Semaphore $semaphore } }
    'mq send+receive 64 B, methods'           = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = $queue.Send($body); $null = $queue.Receive($forever) } }
    'mq send+receive 64 B, cmdlets'           = { param($n) for ($i = 0; $i -lt $n; $i++) { Send-MqMessage $queue $body; $null = Receive-MqMessage $queue } }
    # Built-in compiled cmdlets of a similar shape (parameter sets, one argument, trivial work): the engine's cost of
    # invoking a cmdlet, the floor under Sysprog's. (Out-Null is left out: the engine takes a shortcut for it.)
    'built-in: New-TimeSpan -Seconds 1, twice' = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = New-TimeSpan -Seconds 1; $null = New-TimeSpan -Seconds 1 } }
    'built-in: Get-Date, twice'                = { param($n) for ($i = 0; $i -lt $n; $i++) { $null = Get-Date; $null = Get-Date } }
    'empty compiled cmdlet, twice'             = { param($n) for ($i = 0; $i -lt $n; $i++) { Invoke-EmptyCmdlet $semaphore; Invoke-EmptyCmdlet $semaphore } }
}
$names = @($cases.Keys)
$samples = @{}
$names | ForEach-Object { $samples[$_] = [System.Collections.Generic.List[double]]::new() }

function Measure-Pairs([scriptblock] $Case, [int] $Count) {
    $null = & $Case $Count    # warm-up: the loop and every call in it compiled, caches filled
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $null = & $Case $Count
    $watch.Elapsed.TotalNanoseconds / $Count
}

function Get-Median([double[]] $Values) {
    $sorted = [double[]]($Values | Sort-Object)
    if ($sorted.Count % 2) { $sorted[[int][Math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

$tsv = Join-Path $out "pwsh-calls-$(Get-Date -Format 'yyyyMMdd-HHmmss').tsv"
"case`tround`tns" | Set-Content $tsv
try {
    for ($round = 0; $round -lt $Rounds; $round++) {
        for ($k = 0; $k -lt $names.Count; $k++) {
            $name = $names[($k + $round) % $names.Count]
            $ns = Measure-Pairs $cases[$name] $Calls
            $samples[$name].Add($ns)
            "$name`t$round`t$([Math]::Round($ns))" | Add-Content $tsv
        }
    }
} finally {
    $semaphore | Close-Semaphore
    Remove-Semaphore -Name "$prefix-sem" -Confirm:$false
    $queue | Close-MessageQueue
    Remove-MessageQueue -Name "$prefix-mq" -Confirm:$false
}

# A round trip between two pwsh processes: this one posts A and waits B, the other waits A and posts B.
function Measure-RoundTrip([switch] $Cmdlets) {
    $a = New-Semaphore -Name "$prefix-a"
    $b = New-Semaphore -Name "$prefix-b"
    try {
        $loop = if ($Cmdlets) { 'for ($i = 0; $i -lt $n; $i++) { Wait-Semaphore $a; Unlock-Semaphore $b }' }
                else { 'for ($i = 0; $i -lt $n; $i++) { $null = $a.Wait($forever); $b.Post() }' }
        $pong = "Import-Module '$(Join-Path $PSScriptRoot '..' 'out' 'Sysprog' 'Sysprog.psd1')'; " +
            "`$forever = [System.Threading.Timeout]::InfiniteTimeSpan; `$n = $(2 * $RoundTrips); " +
            "`$a = Open-Semaphore -Name '$prefix-a'; `$b = Open-Semaphore -Name '$prefix-b'; Unlock-Semaphore `$b; $loop"
        $process = Start-Process pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', $pong -PassThru -NoNewWindow
        Wait-Semaphore $b -TimeoutSeconds 60    # the other side is ready
        $trip = if ($Cmdlets) { { param($n) for ($i = 0; $i -lt $n; $i++) { Unlock-Semaphore $a; Wait-Semaphore $b } } }
                else { { param($n) for ($i = 0; $i -lt $n; $i++) { $a.Post(); $null = $b.Wait($forever) } } }
        Measure-Pairs $trip $RoundTrips
        $process.WaitForExit()
    } finally {
        $a, $b | Close-Semaphore
        Remove-Semaphore -Name "$prefix-a", "$prefix-b" -Confirm:$false
    }
}
$tripMethods = [System.Collections.Generic.List[double]]::new()
$tripCmdlets = [System.Collections.Generic.List[double]]::new()
for ($round = 0; $round -lt [Math]::Max(3, [int]($Rounds / 3)); $round++) {
    $tripMethods.Add((Measure-RoundTrip))
    $tripCmdlets.Add((Measure-RoundTrip -Cmdlets))
}

# C and the core from C#, in their own processes (pinned like this one).
$cLines = @{
    'semaphore' = & (Join-Path $out 'pingpong-c') local "$prefix-c-sem" "$prefix-c-unused" ($Calls * 10)
    'mq'        = & (Join-Path $out 'mqbench-c') local "$prefix-c-mq" "$prefix-c-unused" 64 ($Calls * 10)
}
$core = @{}
& dotnet (Join-Path $out 'dotnet' 'Sysprog.Bench.dll') calls "$prefix-core" $Rounds ($Calls * 10) | ForEach-Object {
    $name, $ns = $_ -split "`t"
    $core[$name] = [double]$ns
}

$median = @{}
$names | ForEach-Object { $median[$_] = Get-Median $samples[$_] }
$row = { param($What, $Ns) [pscustomobject]@{ 'per pair of calls' = $What; ns = [long]$Ns } }
@(
    & $row 'semaphore post+wait: C' ([double]$cLines.semaphore)
    & $row 'semaphore post+wait: core from C#' $core['semaphore post+wait']
    & $row 'semaphore post+wait: core from C#, with a token' $core['semaphore post+wait with a token']
    & $row 'semaphore post+wait: pwsh, methods' $median['semaphore post+wait, methods']
    & $row 'semaphore post+wait: pwsh, cmdlets' $median['semaphore post+wait, cmdlets']
    & $row 'mq send+receive 64 B: C' ([double]$cLines.mq)
    & $row 'mq send+receive 64 B: core from C#, spans' $core['mq send+receive 64 B (spans)']
    & $row 'mq send+receive 64 B: core from C#, byte[] and MqMessage' $core['mq send+receive 64 B (byte[] in, MqMessage out)']
    & $row 'mq send+receive 64 B: pwsh, methods' $median['mq send+receive 64 B, methods']
    & $row 'mq send+receive 64 B: pwsh, cmdlets' $median['mq send+receive 64 B, cmdlets']
    & $row 'pwsh: empty loop iteration' $median['empty loop iteration']
    & $row 'pwsh: Equals on the same object, twice' $median['two calls of Equals on the same object']
    & $row 'pwsh: built-in New-TimeSpan -Seconds 1, twice' $median['built-in: New-TimeSpan -Seconds 1, twice']
    & $row 'pwsh: built-in Get-Date, twice' $median['built-in: Get-Date, twice']
    & $row 'pwsh: an empty compiled cmdlet of the same parameters, twice' $median['empty compiled cmdlet, twice']
    & $row 'round trip between two pwsh processes, methods' (Get-Median $tripMethods)
    & $row 'round trip between two pwsh processes, cmdlets' (Get-Median $tripCmdlets)
) | Format-Table -AutoSize | Out-String -Width 200
"samples: $tsv"
