#!/usr/bin/env bash
# POSIX message queues: 64-byte and 8 KiB round-trip latency and one-way throughput between two processes, Sysprog
# (.NET) against the same loops in C, as interleaved pairs with both processes pinned to CPU 0. Reports each median
# and the median of the per-pair ratios (for latency Sysprog/C, lower is better; for throughput C/Sysprog, so that
# for both, 1.0 is parity and above 1 is Sysprog slower). Round trips also run with a CancellationToken and with a
# timeout, as the cmdlets wait (see pairs.sh: C also runs with an idle thread). Each side goes first in every other pair; every pair is written to a TSV in bench/out.
# usage: bench/mq.sh [PAIRS=11] [ITERATIONS=50000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-50000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/mqbench-c" mqbench.c -lrt -pthread

run() { # MEASURING-MODE OTHER-MODE SIZE, then the program as words; prints the measuring side's number
    local measure=$1 other=$2 size=$3; shift 3
    local a="/sysprog-bench-qa-$$" b="/sysprog-bench-qb-$$"
    taskset -c 0 "$@" "$measure" "$a" "$b" "$size" "$iterations" > "$out/measure.txt" &
    local measuring=$!
    taskset -c 0 "$@" "$other" "$a" "$b" "$size" "$iterations"
    wait "$measuring"
    cat "$out/measure.txt"
}

source ./pairs.sh
pairs_begin mq

measure() { # LABEL UNIT C-MEASURING SYSPROG-MEASURING OTHER SIZE
    measure_pairs "$1" "$2" "run $3 $5 $6 $out/mqbench-c" "run $4 $5 $6 dotnet $out/dotnet/Sysprog.Bench.dll mq"
}

for size in 64 8192; do
    measure "rtt $size B" "ns per round trip" rtt-ping rtt-ping rtt-pong "$size"
done
# What the cmdlets take: a CancellationToken (every cmdlet passes Ctrl+C as one), or a timeout.
measure "rtt 64 B with a token" "ns per round trip" rtt-ping rtt-pingtoken rtt-pong 64
measure "rtt 64 B with a timeout (C: mq_timedreceive)" "ns per round trip" rtt-pingtimeout rtt-pingtimeout rtt-pong 64
for size in 64 8192; do
    measure "tput $size B" "messages/s" tput-receive tput-receive tput-send "$size"
done
echo "pairs: $tsv"
