#!/usr/bin/env bash
# POSIX message queues: 64-byte and 8 KiB round-trip latency and one-way throughput between two processes, Sysprog
# (.NET) against the same loops in C, as interleaved pairs with both processes pinned to CPU 0. Reports each median
# and the median of the per-pair ratios (for latency Sysprog/C, lower is better; for throughput C/Sysprog, so that
# for both, 1.0 is parity and above 1 is Sysprog slower).
# usage: bench/mq.sh [PAIRS=11] [ITERATIONS=50000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-50000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/mqbench-c" mqbench.c -lrt

run() { # MODE SIZE then the program as words; prints the measuring side's number
    local mode=$1 size=$2; shift 2
    local a="/sysprog-bench-qa-$$" b="/sysprog-bench-qb-$$"
    local measure=rtt-ping other=rtt-pong
    [ "$mode" = tput ] && measure=tput-receive other=tput-send
    taskset -c 0 "$@" "$measure" "$a" "$b" "$size" "$iterations" > "$out/measure.txt" &
    local measuring=$!
    taskset -c 0 "$@" "$other" "$a" "$b" "$size" "$iterations"
    wait "$measuring"
    cat "$out/measure.txt"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for mode in rtt tput; do
    for size in 64 8192; do
        : > "$out/pairs.txt"
        for i in $(seq "$pairs"); do
            c=$(run "$mode" "$size" "$out/mqbench-c")
            n=$(run "$mode" "$size" dotnet "$out/dotnet/Sysprog.Bench.dll" mq)
            if [ "$mode" = rtt ]; then ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", n / c }'); else ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", c / n }'); fi
            echo "$c $n $ratio" >> "$out/pairs.txt"
        done
        unit=$([ "$mode" = rtt ] && echo "ns per round trip" || echo "messages/s")
        echo "$mode $size B: C $(awk '{print $1}' "$out/pairs.txt" | median), Sysprog $(awk '{print $2}' "$out/pairs.txt" | median) $unit; median ratio $(awk '{print $3}' "$out/pairs.txt" | median)"
    done
done
