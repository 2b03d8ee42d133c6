#!/usr/bin/env bash
# bench/compile.sh — compile time and scale, written as markdown to stdout and bench/compile.md:
#   1. lazy JIT at scale: a module of 10,000 functions whose main calls 10 of them, whole
#      process, against the interpreter and `vsp check` (load alone);
#   2. JIT compile throughput at -O0, -O1 and -O2: 10,101 small functions that all run
#      (`many.py --main grouped`), in functions and bytecode instructions per second;
#   3. each benchmark kernel at -O0, -O1 and -O2 on the JIT: compile time and run time.
# Every program's output is checked against the interpreter's (sections 1-2) or gcc's (3).
#
# usage: bench/compile.sh [--runs N]     (default 5 runs, best reported)
# environment: VSP=PATH uses this vsp binary instead of building target/release/vsp
set -euo pipefail
RUNS=5
if [[ ${1:-} == --runs ]]; then RUNS=$2; fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# The tree's state now, before this run writes compile.md into it.
SRC_STATE="git $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
BUILD=bench/build
mkdir -p "$BUILD"
if [[ -z ${VSP:-} ]]; then cargo build --release --bin vsp -q; VSP=target/release/vsp; fi
cp "$VSP" "$BUILD/vsp.compile"
VSP=$BUILD/vsp.compile
command -v hyperfine >/dev/null || { echo "compile.sh: hyperfine is required" >&2; exit 2; }

best() {   # best CMD...: best wall time in seconds over $RUNS runs
    hyperfine -N --runs "$RUNS" --warmup 1 --style none --export-json "$BUILD/h.json" \
        "$(printf '%q ' "$@")" >/dev/null 2>&1
    grep -o '"min": *[0-9.eE+-]*' "$BUILD/h.json" | head -n 1 | sed 's/.*: *//'
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
field() {   # field STATS FIELD: a number from `--stats` output (e.g. `compile`, `functions compiled`)
    grep -o "$2: *[0-9.]*" <<<"$1" | head -n 1 | grep -o '[0-9.]*$'
}
stat() {   # stat FIELD CMD...: a number from the `--stats` output of running CMD
    local f=$1; shift
    field "$("$@" 2>&1 >/dev/null)" "$f"
}
check() {   # check EXPECTED CMD...
    local want=$1; shift
    local got; got=$("$@")
    [[ $got == "$want" ]] || { echo "compile.sh: \`$*\` printed $got, expected $want" >&2; exit 1; }
}

FEW=$BUILD/many-few.sil; GROUPED=$BUILD/many-grouped.sil
python3 bench/gen/many.py 10000 --main few >"$FEW"
python3 bench/gen/many.py 10000 --main grouped >"$GROUPED"
# Bytecode instructions: body lines that are not declarations, labels or braces.
instructions() { awk '/^    / && !/^    reg / { n++ } END { print n }' "$1"; }

{
echo "# Compile time and scale"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs"
echo "- vsp: $SRC_STATE; best of $RUNS runs (hyperfine)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## Lazy JIT at scale: 10,000 functions, main calls 10 (\`many.py 10000 --main few\`)"
echo
want=$("$VSP" run --engine interp "$FEW")
for e in jit tiered; do check "$want" "$VSP" run --engine "$e" "$FEW"; done
t_check=$(best "$VSP" check "$FEW")
t_interp=$(best "$VSP" run --engine interp "$FEW")
t_jit=$(best "$VSP" run --engine jit "$FEW")
t_tiered=$(best "$VSP" run --engine tiered "$FEW")
echo "| whole process | ms | / interpreter |"
echo "|---|---:|---:|"
echo "| \`vsp check\` (parse and verify) | $(ms "$t_check") | |"
echo "| interp (load: parse, verify, decode; run) | $(ms "$t_interp") | 1.00 |"
echo "| jit (lazy: compiles main and the 10 it calls) | $(ms "$t_jit") | $(awk -v a="$t_jit" -v b="$t_interp" 'BEGIN { printf "%.2f", a / b }') |"
echo "| tiered | $(ms "$t_tiered") | $(awk -v a="$t_tiered" -v b="$t_interp" 'BEGIN { printf "%.2f", a / b }') |"
echo
echo "## JIT compile throughput: 10,101 functions that all run (\`many.py 10000 --main grouped\`)"
echo
want=$("$VSP" run --engine interp "$GROUPED")
insns=$(instructions "$GROUPED")
THREADS=$(nproc)
echo "$insns bytecode instructions. Compile time is the JIT's own (\`--stats\`: wall clock), best of $RUNS,"
echo "on one thread (\`--compile-threads 1\`) and on $THREADS (the default, one per core); the rates are"
echo "for $THREADS threads."
echo
echo "| level | functions | compile, 1 thread (ms) | compile, $THREADS threads (ms) | functions/s | instructions/s | machine code (bytes) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for o in 0 1 2; do
    check "$want" "$VSP" run --engine jit -O$o "$GROUPED"
    best_c=""
    best_1=""
    for ((i = 0; i < RUNS; i++)); do
        c=$(stat compile "$VSP" run --engine jit --stats --compile-threads 1 -O$o "$GROUPED")
        best_1=$(awk -v a="$best_1" -v b="$c" 'BEGIN { print (a == "" || b < a) ? b : a }')
        stats=$("$VSP" run --engine jit --stats -O$o "$GROUPED" 2>&1 >/dev/null)
        c=$(field "$stats" compile)
        best_c=$(awk -v a="$best_c" -v b="$c" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    # The count and code size are the same in every run: read them from the last one.
    f=$(field "$stats" "functions compiled")
    bytes=$(field "$stats" code)
    # `vsp run` alone is the tiered engine, which compiles none of these run-once functions.
    ((f > 10000)) || { echo "compile.sh: -O$o compiled only $f functions" >&2; exit 1; }
    echo "| -O$o | $f | $best_1 | $best_c | $(awk -v f="$f" -v c="$best_c" 'BEGIN { printf "%.0f", f / c * 1000 }') | $(awk -v n="$insns" -v c="$best_c" 'BEGIN { printf "%.0f", n / c * 1000 }') | $bytes |"
done
echo
echo "## Optimisation levels on the kernels (JIT)"
echo
echo "| kernel | args | -O0 compile (ms) | -O0 run (s) | -O1 compile (ms) | -O1 run (s) | -O2 compile (ms) | -O2 run (s) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
declare -A ARGS=([fib]="38" [sum]="100000000" [mandelbrot]="1500" [nbody]="2000000" [sieve]="2000000 50" [program]="300000"
    [spectralnorm]="1500" [fannkuch]="10 1" [bytesil]="65536 8")
for k in fib sum mandelbrot nbody sieve program spectralnorm fannkuch bytesil; do
    read -r -a a <<<"${ARGS[$k]}"
    gcc -O2 -ffp-contract=off -o "$BUILD/$k.gcc" "bench/c/$k.c" -lm
    want=$("$BUILD/$k.gcc" "${a[@]}")
    row="| $k | ${ARGS[$k]} |"
    for o in 0 1 2; do
        check "$want" "$VSP" run --engine jit -O$o "bench/sil/$k.sil" "${a[@]}"
        c=$(stat compile "$VSP" run --engine jit --stats -O$o "bench/sil/$k.sil" "${a[@]}")
        t=$(best "$VSP" run --engine jit -O$o "bench/sil/$k.sil" "${a[@]}")
        row+=" $c | $(awk -v t="$t" 'BEGIN { printf "%.3f", t }') |"
    done
    echo "$row"
done
} | tee bench/compile.md
