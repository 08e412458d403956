#!/usr/bin/env bash
# eventfd round trip between two processes, and the multiplexed wait's cost over 1, 10 and 100 handles: Sysprog (.NET)
# against the same loops in C, as interleaved pairs pinned to CPU 0, reporting the medians and the median per-pair
# ratio (Sysprog/C: 1.0 is parity; see pairs.sh: C also runs with an idle thread). Each side goes first in every other pair; every pair is written to a TSV in
# bench/out for comparing runs.
# usage: bench/events.sh [PAIRS=11] [ITERATIONS=50000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-50000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/eventbench-c" eventbench.c -pthread

source ./pairs.sh
pairs_begin events

measure() { # LABEL, the C program's mode, then the arguments both take after Sysprog's mode
    local label=$1 cmode=$2 mode=$3; shift 3
    measure_pairs "$label" ns "taskset -c 0 $out/eventbench-c $cmode $*" "taskset -c 0 dotnet $out/dotnet/Sysprog.Bench.dll events $mode $*"
}

# Sysprog polls before reading so that every wait can time out or be cancelled: compared with C that blocks in
# read(2), and with C that polls the same way.
measure "eventfd round trip vs C blocking in read" ping ping "$iterations"
measure "eventfd round trip vs C polling first" pingpoll ping "$iterations"
# The same loop in .NET without Sysprog (bare P/Invoke of poll, read and write): the runtime's own share of the gap.
measure "eventfd round trip in bare .NET vs C polling first" pingpoll pingbare "$iterations"
# What the cmdlets take: a CancellationToken (every cmdlet passes Ctrl+C as one), or a timeout.
measure "eventfd round trip with a token vs C polling first" pingpoll pingtoken "$iterations"
measure "eventfd round trip with a timeout vs C polling with a timeout" pingpolltimeout pingtimeout "$iterations"
for handles in 1 10 100; do
    measure "wait over $handles handles" poll poll "$handles" "$((iterations * 4))"
done
# The same wait as a bare P/Invoke of epoll_wait on the same set: the runtime's share of the gap.
measure "wait over 1 handle in bare .NET" poll pollbare 1 "$((iterations * 4))"
echo "pairs: $tsv"
