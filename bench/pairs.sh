# Sourced by the benches: runs C and Sysprog as interleaved pairs and reports medians. Each pair runs the C baseline
# twice, alone and with one idle thread (bench.h: a .NET process is never single-threaded, and the kernel
# charges every descriptor call of a multi-threaded process a file reference), so each line gives Sysprog's ratio
# against both. Sysprog and C alone take turns going first. Every pair goes to the TSV named by $tsv.

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

pairs_begin() { # NAME: starts bench/out/NAME-DATE.tsv
    tsv="$out/$1-$(date +%Y%m%d-%H%M%S).tsv"
    printf 'bench\tpair\tc\tc_idle_thread\tsysprog\tratio\tratio_idle_thread\n' > "$tsv"
}

# measure_pairs LABEL UNIT C-COMMAND SYSPROG-COMMAND: each command (a string, evaluated) prints one number. For a
# UNIT ending in "/s" (a rate) the ratio is C/Sysprog, otherwise Sysprog/C, so 1.0 is parity and above is slower.
measure_pairs() {
    local label=$1 unit=$2 c_command=$3 sysprog_command=$4 c c_thread n
    local pairs_file="$out/pairs.txt"
    : > "$pairs_file"
    for i in $(seq "$pairs"); do
        if ((i % 2)); then
            c=$(eval "$c_command"); c_thread=$(export SYSPROG_BENCH_IDLE_THREAD=1; eval "$c_command"); n=$(eval "$sysprog_command")
        else
            n=$(eval "$sysprog_command"); c_thread=$(export SYSPROG_BENCH_IDLE_THREAD=1; eval "$c_command"); c=$(eval "$c_command")
        fi
        local ratio ratio_thread
        if [[ $unit == */s ]]; then
            ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", c / n }'); ratio_thread=$(awk -v c="$c_thread" -v n="$n" 'BEGIN { printf "%.3f", c / n }')
        else
            ratio=$(awk -v c="$c" -v n="$n" 'BEGIN { printf "%.3f", n / c }'); ratio_thread=$(awk -v c="$c_thread" -v n="$n" 'BEGIN { printf "%.3f", n / c }')
        fi
        echo "$c $c_thread $n $ratio $ratio_thread" >> "$pairs_file"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$i" "$c" "$c_thread" "$n" "$ratio" "$ratio_thread" >> "$tsv"
    done
    column() { awk -v k="$1" '{ print $k }' "$pairs_file" | median; }
    echo "$label: C $(column 1), C with an idle thread $(column 2), Sysprog $(column 3) $unit; median ratio $(column 4) (against C with an idle thread: $(column 5))"
}
