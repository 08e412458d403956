#!/usr/bin/env bash
# POSIX message queues: 64-byte and 8 KiB round-trip latency and one-way throughput between two processes, Sysprog
# (.NET) against the same loops in C, as interleaved pairs with both processes pinned to CPU 0. Reports each median
# and the median of the per-pair ratios (for latency Sysprog/C, lower is better; for throughput C/Sysprog, so that
# for both, 1.0 is parity and above 1 is Sysprog slower). Round trips also run with a CancellationToken and with a
# timeout, as the cmdlets wait. Each side goes first in every other pair; every pair is written to a TSV in bench/out.
# usage: bench/mq.sh [PAIRS=11] [ITERATIONS=50000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-50000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/mqbench-c" mqbench.c -lrt

run() { # MEASURING-MODE OTHER-MODE SIZE, then the program as words; prints the measuring side's number
    local measure=$1 other=$2 size=$3; shift 3
    local a="/sysprog-bench-qa-$$" b="/sysprog-bench-qb-$$"
    taskset -c 0 "$@" "$measure" "$a" "$b" "$size" "$iterations" > "$out/measure.txt" &
    local measuring=$!
    taskset -c 0 "$@" "$other" "$a" "$b" "$size" "$iterations"
    wait "$measuring"
    cat "$out/measure.txt"
}

# Every pair, for comparing runs: label, pair, C, Sysprog, ratio.
tsv="$out/mq-$(date +%Y%m%d-%H%M%S).tsv"
printf 'bench\tpair\tc\tsysprog\tratio\n' > "$tsv"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() { # LABEL UNIT C-MEASURING SYSPROG-MEASURING OTHER SIZE; the ratio is Sysprog/C for times, C/Sysprog for rates
    local label=$1 unit=$2 cmode=$3 nmode=$4 other=$5 size=$6
    : > "$out/pairs.txt"
    for i in $(seq "$pairs"); do
        # Each side goes first in every other pair, so neither always meets the warmer (or noisier) machine.
        if ((i % 2)); then
            c=$(run "$cmode" "$other" "$size" "$out/mqbench-c"); n=$(run "$nmode" "$other" "$size" dotnet "$out/dotnet/Sysprog.Bench.dll" mq)
        else
            n=$(run "$nmode" "$other" "$size" dotnet "$out/dotnet/Sysprog.Bench.dll" mq); c=$(run "$cmode" "$other" "$size" "$out/mqbench-c")
        fi
        if [ "$unit" = "messages/s" ]; then ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", c / n }'); else ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", n / c }'); fi
        echo "$c $n $ratio" >> "$out/pairs.txt"
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$i" "$c" "$n" "$ratio" >> "$tsv"
    done
    echo "$label: C $(awk '{print $1}' "$out/pairs.txt" | median), Sysprog $(awk '{print $2}' "$out/pairs.txt" | median) $unit; median ratio $(awk '{print $3}' "$out/pairs.txt" | median)"
}

for size in 64 8192; do
    measure "rtt $size B" "ns per round trip" rtt-ping rtt-ping rtt-pong "$size"
done
# What the cmdlets take: a CancellationToken (every cmdlet passes Ctrl+C as one), or a timeout.
measure "rtt 64 B with a token" "ns per round trip" rtt-ping rtt-pingtoken rtt-pong 64
measure "rtt 64 B with a timeout" "ns per round trip" rtt-ping rtt-pingtimeout rtt-pong 64
for size in 64 8192; do
    measure "tput $size B" "messages/s" tput-receive tput-receive tput-send "$size"
done
echo "pairs: $tsv"
