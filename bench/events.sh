#!/usr/bin/env bash
# eventfd round trip between two processes, and the multiplexed wait's cost over 1, 10 and 100 handles: Sysprog (.NET)
# against the same loops in C, as interleaved pairs pinned to CPU 0, reporting the medians and the median per-pair
# ratio (Sysprog/C: 1.0 is parity). Each side goes first in every other pair; every pair is written to a TSV in
# bench/out for comparing runs.
# usage: bench/events.sh [PAIRS=11] [ITERATIONS=50000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-50000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/eventbench-c" eventbench.c

# Every pair, for comparing runs: label, pair, C ns, Sysprog ns, ratio.
tsv="$out/events-$(date +%Y%m%d-%H%M%S).tsv"
printf 'bench\tpair\tc_ns\tsysprog_ns\tratio\n' > "$tsv"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() { # LABEL, the C program's mode, then the arguments both take
    local label=$1 cmode=$2; shift 2
    local mode=$1; shift
    : > "$out/pairs.txt"
    for i in $(seq "$pairs"); do
        # Each side goes first in every other pair, so neither always meets the warmer (or noisier) machine.
        if ((i % 2)); then
            c=$(taskset -c 0 "$out/eventbench-c" "$cmode" "$@")
            n=$(taskset -c 0 dotnet "$out/dotnet/Sysprog.Bench.dll" events "$mode" "$@")
        else
            n=$(taskset -c 0 dotnet "$out/dotnet/Sysprog.Bench.dll" events "$mode" "$@")
            c=$(taskset -c 0 "$out/eventbench-c" "$cmode" "$@")
        fi
        ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", n / c }')
        echo "$c $n $ratio" >> "$out/pairs.txt"
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$i" "$c" "$n" "$ratio" >> "$tsv"
    done
    echo "$label: C $(awk '{print $1}' "$out/pairs.txt" | median) ns, Sysprog $(awk '{print $2}' "$out/pairs.txt" | median) ns; median ratio $(awk '{print $3}' "$out/pairs.txt" | median)"
}

# Sysprog polls before reading so that every wait can time out or be cancelled: compared with C that blocks in
# read(2), and with C that polls the same way.
measure "eventfd round trip vs C blocking in read" ping ping "$iterations"
measure "eventfd round trip vs C polling first" pingpoll ping "$iterations"
# What the cmdlets take: a CancellationToken (every cmdlet passes Ctrl+C as one), or a timeout.
measure "eventfd round trip with a token vs C polling first" pingpoll pingtoken "$iterations"
measure "eventfd round trip with a timeout vs C polling first" pingpoll pingtimeout "$iterations"
for handles in 1 10 100; do
    measure "wait over $handles handles" poll poll "$handles" "$((iterations * 4))"
done
echo "pairs: $tsv"
