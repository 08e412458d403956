#!/usr/bin/env bash
# The ELF reader and the dependency resolver against binutils and glibc's tools, on one pinned CPU (taskset -c 0):
#  1. reading libc's .dynsym (every symbol and version made into objects) in process, against `readelf --dyn-syms`
#     run as a user runs it, PAIRS interleaved pairs, alternating which goes first;
#  2. resolving the dependencies of every dynamically linked program of /usr/bin: one `sysprog ldd` process over the
#     whole list against `ldd` run once per program (as a script over the list would), ROUNDS rounds alternating.
# usage: bench/elf.sh [PAIRS=21] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")"
pairs=${1:-21}
rounds=${2:-3}
out=out
mkdir -p "$out"
dotnet build Sysprog.Bench -c Release -o "$out/dotnet" --nologo -v quiet >/dev/null
dotnet build ../src/Sysprog.Cli -c Release -o "$out/cli" --nologo -v quiet >/dev/null
libc=$(ldconfig -p | awk '/libc\.so\.6 .*x86-64|libc\.so\.6 .*AArch64/ { print $NF; exit }')
taskset -c 0 dotnet "$out/dotnet/Sysprog.Bench.dll" elf "$pairs" "$libc"

# The programs: ELF files of /usr/bin with an interpreter (dynamically linked).
list="$out/dynamic-programs.txt"
: >"$list"
for f in /usr/bin/*; do
    [[ -f $f && -r $f ]] || continue
    if readelf -lW "$f" 2>/dev/null | grep -q 'Requesting program interpreter'; then echo "$f" >>"$list"; fi
done
count=$(wc -l <"$list")
sysprog() { taskset -c 0 dotnet "$out/cli/Sysprog.Cli.dll" ldd "$@" >/dev/null 2>&1 || true; }
ldd_each() { while read -r f; do taskset -c 0 ldd "$f" >/dev/null 2>&1 || true; done <"$list"; }
ours=(); theirs=()
for ((r = 0; r < rounds; r++)); do
    if ((r % 2 == 0)); then
        s=$(date +%s%N); mapfile -t files <"$list"; sysprog "${files[@]}"; ours+=($(( ($(date +%s%N) - s) / 1000000 )))
        s=$(date +%s%N); ldd_each; theirs+=($(( ($(date +%s%N) - s) / 1000000 )))
    else
        s=$(date +%s%N); ldd_each; theirs+=($(( ($(date +%s%N) - s) / 1000000 )))
        s=$(date +%s%N); mapfile -t files <"$list"; sysprog "${files[@]}"; ours+=($(( ($(date +%s%N) - s) / 1000000 )))
    fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "dependencies of $count programs of /usr/bin over $rounds rounds: sysprog ldd (one process, .NET start included) median $(median "${ours[@]}") ms; ldd per program median $(median "${theirs[@]}") ms"
