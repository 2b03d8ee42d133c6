#!/usr/bin/env bash
# bench/tier-thresholds.sh — how the tiered engine's thresholds change run time, to choose
# its defaults by measurement. For each threshold T (calls and loop arrivals both set to T),
# runs every kernel at a mid size (the JIT takes 0.1-0.5 s) and at a short size (the
# interpreter takes a few ms), and prints the median wall time of each (hyperfine) with its
# ratio to the faster of `interp` and `jit` measured in the same run.
#
# usage: bench/tier-thresholds.sh [--runs N] [T...]     (default T: 1 10 100 1000 10000)
# environment: VSP=PATH (default target/release/vsp, built if missing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=5
while [[ ${1:-} == --runs ]]; do RUNS=$2; shift 2; done
THRESHOLDS=("$@")
((${#THRESHOLDS[@]})) || THRESHOLDS=(1 10 100 1000 10000)
VSP=${VSP:-target/release/vsp}
[[ -x $VSP ]] || cargo build --release --bin vsp -q
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 2; }
declare -A MID=([fib]="32" [sum]="50000000" [mandelbrot]="1000" [nbody]="500000" [sieve]="1000000 30" [program]="300000")
declare -A SHORT=([fib]="18" [sum]="100000" [mandelbrot]="40" [nbody]="1000" [sieve]="20000 2" [program]="20")
KERNELS=(fib sum mandelbrot nbody sieve program)

median() {  # median CMD...: median wall seconds over $RUNS runs
    local json
    json=$(mktemp)
    hyperfine -N -w 1 -r "$RUNS" --style none --export-json "$json" "$(printf '%q ' "$@")" >/dev/null 2>&1
    grep -o '"median": *[0-9.eE+-]*' "$json" | head -n 1 | sed 's/.*: *//'
    rm -f "$json"
}

header="| kernel | size | interp (ms) | jit (ms) |"
sep="|---|---|---:|---:|"
for t in "${THRESHOLDS[@]}"; do header+=" T=$t |"; sep+="---:|"; done
echo "$header"
echo "$sep"
for size in mid short; do
    for k in "${KERNELS[@]}"; do
        if [[ $size == mid ]]; then a=${MID[$k]}; else a=${SHORT[$k]}; fi
        read -r -a ARGS <<<"$a"
        i=$(median "$VSP" run --engine interp "bench/sil/$k.sil" "${ARGS[@]}")
        j=$(median "$VSP" run --engine jit "bench/sil/$k.sil" "${ARGS[@]}")
        best=$(awk -v a="$i" -v b="$j" 'BEGIN { print (a < b) ? a : b }')
        row=$(awk -v k="$k" -v s="$size $a" -v i="$i" -v j="$j" 'BEGIN { printf "| %s | %s | %.1f | %.1f |", k, s, i * 1000, j * 1000 }')
        for t in "${THRESHOLDS[@]}"; do
            x=$(median "$VSP" run --engine tiered --tier-calls "$t" --tier-loops "$t" "bench/sil/$k.sil" "${ARGS[@]}")
            row+=$(awk -v x="$x" -v b="$best" 'BEGIN { printf " %.1f (%.2f) |", x * 1000, x / b }')
        done
        echo "$row"
    done
done
