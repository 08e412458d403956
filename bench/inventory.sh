#!/usr/bin/env bash
# The inventory at scale: OBJECTS shared memory objects, HOLDERS processes holding them (descriptors, and mappings of
# every other one), then IpcInventory.Take timed RUNS times in one process (the median and slowest reported). The
# bench creates and removes everything it uses. Target: under a second for 10^4 objects and a few hundred holders.
# usage: bench/inventory.sh [OBJECTS=10000] [HOLDERS=300] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")"
objects=${1:-10000}
holders=${2:-300}
runs=${3:-5}
out=out
prefix="/sysprog-bench-inventory-$$"
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
cc -O2 -o "$out/ipcholder" ipcholder.c -lrt
pids=()
cleanup() {
    if ((${#pids[@]})); then kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; fi
    "$out/ipcholder" remove "$prefix" "$objects"
}
trap cleanup EXIT
ulimit -n "$((objects / holders + 64))" 2>/dev/null || true
"$out/ipcholder" create "$prefix" "$objects"
# Every holder says "ready" into one FIFO once it holds its objects.
fifo="$out/inventory-ready.$$"
mkfifo "$fifo"
exec 3<>"$fifo"
rm "$fifo"
per=$(((objects + holders - 1) / holders))
for ((h = 0; h < holders; h++)); do
    first=$((h * per)); count=$((first + per > objects ? objects - first : per))
    ((count > 0)) || break
    "$out/ipcholder" hold "$prefix" "$first" "$count" >&3 &
    pids+=("$!")
done
for _ in "${pids[@]}"; do
    read -r ready <&3
    [[ $ready == ready ]]
done
echo "$objects objects, ${#pids[@]} holder processes"
dotnet "$out/dotnet/Sysprog.Bench.dll" inventory "$runs" "$prefix"
