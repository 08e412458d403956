#!/usr/bin/env bash
# Listing file locks with their holders: LOCKS flock locks, each taken by flock(1) and inherited by the sleep it runs
# (two holders, one named by /proc/locks), beside BUSY processes holding FDS descriptors each (what the holder search
# reads through), then FileLockInfo.List timed RUNS times in one process (the median and slowest reported).
# usage: bench/locks.sh [LOCKS=100] [BUSY=50] [FDS=200] [RUNS=9]
set -euo pipefail
cd "$(dirname "$0")"
locks=${1:-100}
busy=${2:-50}
fds=${3:-200}
runs=${4:-9}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
folder=$(mktemp -d)
pids=()
cleanup() {
    # The sleeps too: each holds its lock after its flock is gone.
    if ((${#pids[@]})); then kill $(pgrep -P "$(IFS=,; echo "${pids[*]}")") "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; fi
    rm -rf "$folder"
}
trap cleanup EXIT
ulimit -n "$((fds + 64))"
for ((i = 0; i < busy; i++)); do
    bash -c 'for ((fd = 10; fd < 10 + $1; fd++)); do eval "exec $fd</dev/null"; done; exec sleep 1000' _ "$fds" &
    pids+=("$!")
done
for ((i = 0; i < locks; i++)); do
    flock -x "$folder/$i.lock" sleep 1000 &
    pids+=("$!")
done
# Every lock taken and every sleep started under it.
until [ "$(grep -c FLOCK /proc/locks || true)" -ge "$locks" ] && [ "$(pgrep -c -P "$(echo "${pids[@]: -$locks}" | tr ' ' ,)" || true)" -ge "$locks" ]; do
    sleep 0.1
done
echo "$locks flock locks (each held by flock and its sleep), $busy processes holding $fds descriptors each, $(ls /proc | grep -c '^[0-9]') processes in all"
dotnet "$out/dotnet/Sysprog.Bench.dll" locks "$runs" "$folder"
