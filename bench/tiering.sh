#!/usr/bin/env bash
# Lists the Sysprog methods that the benches' hot loops reach before they are compiled fully optimized: every method
# the runtime recompiles at tier 1 while the loops run started as unoptimized tier-0 code. A short script or a
# benchmark's warm-up makes too few calls for tiering to reach them, so a hot path pays tier-0 prices (measured: a
# poll set's wait was 1.19 of a bare epoll_wait with three tier-0 helpers, 1.10 without). Expected output: none.
# usage: bench/tiering.sh [ITERATIONS=1000000]
set -euo pipefail
cd "$(dirname "$0")"
iterations=${1:-1000000}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
bench() { taskset -c 0 dotnet "$out/dotnet/Sysprog.Bench.dll" "$@"; }
pair() { # MEASURING-SIDE... -- OTHER-SIDE...: runs both sides of a cross-process bench
    local first=() ; while [[ $1 != -- ]]; do first+=("$1"); shift; done; shift
    bench "${first[@]}" & bench "$@"; wait
}
a="/sysprog-tiering-a-$$" b="/sysprog-tiering-b-$$"
export DOTNET_JitDisasmSummary=1
{
    bench events poll 10 "$((iterations * 2))"
    for mode in ping pingtoken pingtimeout; do bench events "$mode" "$iterations"; done
    for mode in ping pingtoken pingtimeout; do pair "$mode" "$a" "$b" "$((iterations * 2))" -- pong "$a" "$b" "$((iterations * 2))"; done
    for mode in rtt-ping rtt-pingtoken rtt-pingtimeout; do
        pair mq "$mode" "$a" "$b" 64 "$((iterations / 2))" -- mq rtt-pong "$a" "$b" 64 "$((iterations / 2))"
    done
} > "$out/tiering.txt" 2>&1
grep -E 'JIT compiled Sysprog\..*Tier1' "$out/tiering.txt" | sed -E 's/^ *[0-9]+: JIT compiled //; s/ \[Tier1.*//' | sort | uniq -c | sort -rn || true
