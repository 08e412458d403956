#!/usr/bin/env bash
# Cross-process semaphore ping-pong: Sysprog (.NET) against the same loop in C, run as interleaved pairs with both
# processes pinned to CPU 0, reporting the median round trip of each and the median of the per-pair ratios, for
# the plain wait, a wait with a CancellationToken and one with a timeout. Each side goes first in every other pair;
# every pair is written to a TSV in bench/out.
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

# Every pair, for comparing runs: label, pair, C ns, Sysprog ns, ratio.
tsv="$out/semaphore-$(date +%Y%m%d-%H%M%S).tsv"
printf 'bench\tpair\tc_ns\tsysprog_ns\tratio\n' > "$tsv"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() { # LABEL, then Sysprog's ping mode (C always waits with sem_wait)
    local label=$1 mode=$2
    : > "$out/pairs.txt"
    for i in $(seq "$pairs"); do
        # Each side goes first in every other pair, so neither always meets the warmer (or noisier) machine.
        if ((i % 2)); then
            c=$(run ping "$out/pingpong-c"); n=$(run "$mode" dotnet "$out/dotnet/Sysprog.Bench.dll")
        else
            n=$(run "$mode" dotnet "$out/dotnet/Sysprog.Bench.dll"); c=$(run ping "$out/pingpong-c")
        fi
        ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", n / c }')
        echo "$c $n $ratio" >> "$out/pairs.txt"
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$i" "$c" "$n" "$ratio" >> "$tsv"
    done
    echo "$label: C $(awk '{print $1}' "$out/pairs.txt" | median) ns, Sysprog $(awk '{print $2}' "$out/pairs.txt" | median) ns; median ratio $(awk '{print $3}' "$out/pairs.txt" | median)"
}

measure "semaphore round trip" ping
# What the cmdlets take: a CancellationToken (every cmdlet passes Ctrl+C as one), or a timeout.
measure "semaphore round trip with a token" pingtoken
measure "semaphore round trip with a timeout" pingtimeout
echo "pairs: $tsv"
