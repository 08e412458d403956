#!/usr/bin/env bash
# What a script pays per call, measured in a real pwsh (see pwsh-calls.ps1): builds the Release module the way users
# get it (build.ps1 -Task Package), the core bench and the C loops, then runs pwsh-calls.ps1 pinned to CPU 0.
# usage: bench/pwsh-calls.sh [ROUNDS=9] [CALLS=3000] [ROUND-TRIPS=2000]
set -euo pipefail
cd "$(dirname "$0")"
out=out
mkdir -p "$out"
# pwsh from PATH, or the repository's own (the PowerShell dotnet tool, .config/dotnet-tools.json).
if command -v pwsh >/dev/null 2>&1; then
    pwsh=(pwsh)
else
    dotnet tool restore >/dev/null
    pwsh=(dotnet pwsh)
fi
"${pwsh[@]}" -NoProfile -File ../build.ps1 -Task Package >/dev/null
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/pingpong-c" pingpong.c -pthread
cc -O2 -o "$out/mqbench-c" mqbench.c -lrt -pthread
taskset -c 0 "${pwsh[@]}" -NoProfile -File pwsh-calls.ps1 -Rounds "${1:-9}" -Calls "${2:-3000}" -RoundTrips "${3:-2000}"
