#!/usr/bin/env bash
# Cross-process semaphore ping-pong: Sysprog (.NET) against the same loop in C, run as interleaved pairs with both
# processes pinned to CPU 0, reporting the median round trip of each and the median of the per-pair ratios.
# usage: bench/semaphore-pingpong.sh [PAIRS=11] [ITERATIONS=100000]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-11}
iterations=${2:-100000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/pingpong-c" pingpong.c -pthread

run() { # the ping/pong program as words; prints ns per round trip
    local a="/sysprog-bench-a-$$" b="/sysprog-bench-b-$$"
    taskset -c 0 "$@" ping "$a" "$b" "$iterations" > "$out/ping.txt" &
    local ping=$!
    taskset -c 0 "$@" pong "$a" "$b" "$iterations"
    wait "$ping"
    cat "$out/ping.txt"
}

echo "pair  c_ns  dotnet_ns  ratio"
for i in $(seq "$pairs"); do
    c=$(run "$out/pingpong-c")
    n=$(run dotnet "$out/dotnet/Sysprog.Bench.dll")
    echo "$i $c $n $(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", n / c }')"
done | tee "$out/pairs.txt"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median round trip: C $(awk '{print $2}' "$out/pairs.txt" | median) ns, Sysprog $(awk '{print $3}' "$out/pairs.txt" | median) ns"
echo "median of per-pair ratios (Sysprog / C): $(awk '{print $4}' "$out/pairs.txt" | median)"
