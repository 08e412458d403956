#!/usr/bin/env bash
# Cross-process semaphore ping-pong: Sysprog (.NET) against the same loop in C, run as interleaved pairs with both
# processes pinned to CPU 0, reporting the median round trip of each and the median of the per-pair ratios, for
# the plain wait, a wait with a CancellationToken and one with a timeout (see pairs.sh: C also runs with an idle
# thread). Each side goes first in every other pair; every pair is written to a TSV in bench/out.
# usage: bench/semaphore-pingpong.sh [PAIRS=11] [ITERATIONS=100000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-100000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/pingpong-c" pingpong.c -pthread

run() { # the ping mode, then the ping/pong program as words; prints ns per round trip
    local mode=$1; shift
    local a="/sysprog-bench-a-$$" b="/sysprog-bench-b-$$"
    taskset -c 0 "$@" "$mode" "$a" "$b" "$iterations" > "$out/ping.txt" &
    local ping=$!
    taskset -c 0 "$@" pong "$a" "$b" "$iterations"
    wait "$ping"
    cat "$out/ping.txt"
}

source ./pairs.sh
pairs_begin semaphore

measure() { measure_pairs "$1" ns "run ${3:-ping} $out/pingpong-c" "run $2 dotnet $out/dotnet/Sysprog.Bench.dll"; }

measure "semaphore round trip" ping
# What the cmdlets take: a CancellationToken (every cmdlet passes Ctrl+C as one), or a timeout. C has no token (its
# waits are cancelled by signals, as Sysprog's are), so a token's baseline is the plain wait; a timeout's is C
# waiting with one (sem_clockwait).
measure "semaphore round trip with a token" pingtoken
measure "semaphore round trip with a timeout (C: sem_clockwait)" pingtimeout pingtimeout
echo "pairs: $tsv"
