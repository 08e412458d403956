#!/usr/bin/env bash
# One wait over N descriptors of which a few are ready, with poll(2) and with epoll: Sysprog's PollList and PollSet
# against the same loops in C, as interleaved pairs pinned to CPU 0, reporting the medians and the median per-pair
# ratio (Sysprog/C: 1.0 is parity; see pairs.sh: C also runs with an idle thread), then poll's cost over epoll's at
# each size, the difference the two mechanisms make. Each side goes first in every other pair; every pair is written
# to a TSV in bench/out.
# usage: bench/multiplex.sh [PAIRS=9] [READY=3] [SIZES="10 100 1000 10000"]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-9}
ready=${2:-3}
sizes=${3:-"10 100 1000 10000"}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/multiplexbench-c" multiplexbench.c -pthread

source ./pairs.sh
pairs_begin multiplex

declare -A sysprog_median
for handles in $sizes; do
    # About 0.2 s of waiting per run at every size: poll's wait grows with the list, epoll's does not.
    iterations=$(( 2000000 / handles )); (( iterations < 200 )) && iterations=200; (( iterations > 100000 )) && iterations=100000
    for mechanism in poll epoll; do
        line=$(measure_pairs "$mechanism over $handles descriptors, $ready ready" ns \
            "taskset -c 0 $out/multiplexbench-c $mechanism $handles $ready $iterations" \
            "taskset -c 0 dotnet $out/dotnet/Sysprog.Bench.dll multiplex $mechanism $handles $ready $iterations")
        echo "$line"
        sysprog_median[$mechanism-$handles]=$(awk '{ print $3 }' "$out/pairs.txt" | median)
    done
    awk -v p="${sysprog_median[poll-$handles]}" -v e="${sysprog_median[epoll-$handles]}" -v n="$handles" \
        'BEGIN { printf "  Sysprog at %d descriptors: poll %d ns, epoll %d ns a wait; poll/epoll %.1f\n", n, p, e, p / e }'
done
# The same poll as a bare P/Invoke over the same eventfds (no leases, no ReadyHandles): the runtime's share of the gap.
measure_pairs "poll over 1000 descriptors, $ready ready, bare .NET" ns \
    "taskset -c 0 $out/multiplexbench-c poll 1000 $ready 2000" \
    "taskset -c 0 dotnet $out/dotnet/Sysprog.Bench.dll multiplex pollbare 1000 $ready 2000"
echo "pairs: $tsv"
