#!/usr/bin/env bash
# bench/run.sh — run every benchmark kernel on every available engine, check that all
# engines print exactly what the C version prints, and report wall-clock times as a
# markdown table (stdout and bench/results.md).
#
# usage: bench/run.sh [--quick] [--runs N] [-o FILE] [KERNEL...]
#   --quick    small sizes and 1 run: a correctness smoke test, not a measurement
#   --runs N   timed runs per engine; the best (minimum) is reported (default 3,
#              or 1 with --quick)
#   -o FILE    where to write the table (default bench/results.md, or
#              bench/results-quick.md with --quick so quick numbers never replace real ones)
#   KERNEL     run only these kernels (default: all)
# environment:
#   VSP=PATH   use this vsp binary instead of building target/release/vsp with cargo
#
# Exit status: 0 if every engine that ran printed the reference output, 1 if any engine
# printed something else or failed (a wrong answer must never pass as a fast one),
# 2 for a usage error. Engines that are not implemented yet show `n/a` and do not fail.
set -euo pipefail

# ---------------------------------------------------------------------------------------
# Problem sizes: the arguments given to every implementation of a kernel.
# Defaults are chosen so that `gcc -O2` takes roughly 0.3-1 s per kernel and the
# reference interpreter finishes within ~30 s on the reference machine (2-core AMD EPYC
# VM, measured): gcc ≈ 0.45 s fib, 0.7 s sum, 0.55 s mandelbrot, 0.65 s nbody, 0.45 s sieve,
# 0.5 s spectralnorm, 0.6 s fannkuch, 0.5 s bytesil; the interpreter ≈ 20 s, 4 s, 7 s,
# 13 s, 11.5 s, and (extrapolated from smaller sizes) 10 s, 6 s, 0.8 s. A full run takes
# 13-16 minutes.
KERNELS=(fib sum mandelbrot nbody sieve program spectralnorm fannkuch bytesil)
declare -A SIZE=(
    [fib]="42"                  # fib(42): 867M calls (as written; gcc makes fewer, see README)
    [sum]="300000000"           # 3e8 loop iterations
    [mandelbrot]="3000"         # 3000 x 3000 grid, <= 50 iterations per point
    [nbody]="5000000"           # 5e6 steps of the 5-body system
    [sieve]="2000000 150"       # primes <= 2e6, sieved 150 times
    [program]="1000000"         # 400 functions run once, then 1e6 steps of the hot core
    [spectralnorm]="2500"       # 2500 x 2500 matrix, 10 power-method rounds (5e8 a_ij)
    [fannkuch]="10 2"           # all 10! permutations, flipped and counted, twice
    [bytesil]="65536 24"        # 65536 ByteSil samples through the signal chain 24 times
)
declare -A QUICK_SIZE=(
    [fib]="27"
    [sum]="3000000"
    [mandelbrot]="200"
    [nbody]="20000"
    [sieve]="100000 5"
    [program]="2000"
    [spectralnorm]="100"
    [fannkuch]="7 1"
    [bytesil]="4096 2"
)
# Short runs: sizes at which the interpreter finishes in well under 10 ms, where a tiered
# engine must not lose to the plain interpreter (compiling would not pay for itself).
declare -A SHORT_SIZE=(
    [fib]="18"
    [sum]="100000"
    [mandelbrot]="40"
    [nbody]="1000"
    [sieve]="20000 2"
    [program]="20"
    [spectralnorm]="30"
    [fannkuch]="6 1"
    [bytesil]="1024 1"
)
# Column order of the table; gcc comes first because it is the reference for both the
# output check and the ratios.
ENGINES=(gcc clang interp jit tiered aot luajit luajit-joff lua5.4 wasmi)
# wasmi: the C kernel compiled to WebAssembly (clang -O2 --target=wasm32-wasi) and run by
# wasmi 2.0's interpreter (`wasmi`, from `cargo install wasmi_cli`), the peer of vsp's interpreter: a Rust interpreter over
# a register bytecode. A measured run installs what it needs (`cargo install wasmi_cli`,
# Debian's wasi-libc and lld); --quick only uses them if they are there.
# Peers that cannot print the reference output for a kernel, with the reason (shown as n/a):
declare -A WASM_NA=(
    # Its sil_* helpers call libm as vsp does; wasi-libc's libm (musl's) differs from
    # glibc's in the last bit (atan2), which moves ByteSil's halfway cases: 178 of the
    # 327,680 sub/lerp operand combinations the kernel can meet come out different.
    [bytesil]="wasi-libc's libm (musl) rounds atan2 differently from glibc's, which vsp uses; ByteSil's halfway cases then differ"
)
# tiered1: every threshold at 1, compiling synchronously (every call and loop goes through
# tier-up and OSR at once): a correctness row, run only with --quick.
# ---------------------------------------------------------------------------------------

die() { echo "run.sh: $*" >&2; exit 2; }

QUICK=0
RUNS=""
OUT=""
SELECTED=()
while (($#)); do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --runs) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
                RUNS=$2; shift 2 ;;
        -o) [[ $# -ge 2 ]] || die "-o needs a file"; OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (try --help)" ;;
        *) [[ -n ${SIZE[$1]+x} ]] || die "unknown kernel $1 (kernels: ${KERNELS[*]})"
           SELECTED+=("$1"); shift ;;
    esac
done
# A quick run is a smoke test: one timed run is enough unless --runs says otherwise.
if [[ -z $RUNS ]]; then if ((QUICK)); then RUNS=1; else RUNS=3; fi; fi
if ((QUICK)); then ENGINES+=(tiered1); fi
((${#SELECTED[@]})) && KERNELS=("${SELECTED[@]}")

# Work from the repository root so that the commands shown in the notes are short and
# copy-pasteable.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# The tree's state now, before this run writes results.md and results.svg into it.
SRC_STATE="git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
BUILD=bench/build
mkdir -p "$BUILD"
if [[ -z $OUT ]]; then
    if ((QUICK)); then OUT=bench/results-quick.md; else OUT=bench/results.md; fi
fi

have() { command -v "$1" >/dev/null 2>&1; }
have gcc || die "gcc is required: its output is the reference every engine is checked against"

# Build vsp unless the caller gave one: measuring a stale binary would be misleading, and
# cargo does nothing when it is up to date.
if [[ -z ${VSP:-} ]]; then
    echo "building vsp (cargo build --release --bin vsp)..." >&2
    cargo build --release --bin vsp -q
    VSP=target/release/vsp
    VSP_ORIGIN="built from this tree by cargo"
else
    # The tree's git revision says nothing about a binary we did not build: say so.
    VSP_ORIGIN="given via VSP; binary dated $(date -u -r "$VSP" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?')"
fi
[[ -x $VSP ]] || die "vsp binary $VSP is not executable"
# Run a private copy: target/release/vsp is shared, and a rebuild by someone else in the
# middle of a run would silently mix two binaries in one table.
cp "$VSP" "$BUILD/vsp"
VSP_SHA=$(sha256sum "$BUILD/vsp" | cut -c1-12)
VSP_SRC=$VSP
VSP=$BUILD/vsp

# The wasm peer's tools: wasi-libc and wasm-ld from Debian, wasmi_cli from crates.io.
WASI_SYSROOT=/usr
WASMI=${WASMI:-$(command -v wasmi || echo "$HOME/.cargo/bin/wasmi")}
have_wasm_tools() {
    [[ -x $WASMI ]] && [[ -f $WASI_SYSROOT/lib/wasm32-wasi/libc.a ]] && have clang \
        && { have wasm-ld || have wasm-ld-14; }
}
if ((!QUICK)) && ! have_wasm_tools; then
    echo "installing the wasm peer (wasi-libc, lld, wasmi_cli)..." >&2
    if have apt-get && [[ $(id -u) == 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wasi-libc lld-14 \
            libclang-rt-14-dev-wasm32 >/dev/null 2>&1 || true
    fi
    [[ -x $WASMI ]] || cargo install -q --locked wasmi_cli >/dev/null 2>&1 || true
fi

if have hyperfine; then TIMER=hyperfine; else TIMER="bash time"; fi
# Other work on the machine inflates every number; record how busy it was.
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'; }
LOAD_START=$(loadavg)

# C kernels: plain -O2 (no -march=native) so the numbers are portable. -ffp-contract=off
# forbids fusing a*b+c into one FMA, which would change f64 results on targets where gcc
# contracts by default (aarch64) and make the output check fail for the wrong reason.
CFLAGS=(-O2 -ffp-contract=off)

declare -A T            # T[kernel,engine] = seconds | n/a | FAIL
NOTES=()        # lines printed under the table: failures in full
FAILED=0
note() { NOTES+=("$*"); echo "  $*" >&2; }
# An unavailable engine is usually unavailable for every kernel: collect the kernels per
# (engine, reason) so the notes say it once.
declare -A NA_KERNELS
NA_ORDER=()
not_available() {   # not_available KERNEL ENGINE REASON
    local key="$2"$'\t'"$3"
    [[ -n ${NA_KERNELS[$key]+x} ]] || NA_ORDER+=("$key")
    NA_KERNELS[$key]+=" $1"
    T[$1,$2]="n/a"
    echo "  n/a $1/$2: $3" >&2
}

# best_time CMD...: prints the best wall-clock time in seconds of $RUNS runs (stdout
# discarded). The check run before it doubles as the warm-up.
best_time() {
    if [[ $TIMER == hyperfine ]]; then
        local json="$BUILD/hyperfine.json" cmdline
        # -N runs the command without a shell (no shell start-up in the measurement);
        # hyperfine splits the string like a shell, so quote each word.
        cmdline=$(printf '%q ' "$@")
        hyperfine -N --runs "$RUNS" --warmup 0 --style none --export-json "$json" \
            "$cmdline" >/dev/null 2>&1 || return 1
        # The JSON has one result; "min" is the best run in seconds.
        grep -o '"min": *[0-9.eE+-]*' "$json" | head -n 1 | sed 's/.*: *//' \
            | awk -v d="${DIGITS:-3}" '{ printf "%." d "f\n", $1 }'
    else
        local i t best=""
        for ((i = 0; i < RUNS; i++)); do
            local TIMEFORMAT=%R
            t=$( { time "$@" >/dev/null 2>&1; } 2>&1 ) || return 1
            best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
        done
        awk -v d="${DIGITS:-3}" -v b="$best" 'BEGIN { printf "%." d "f\n", b }'
    fi
}

# engine_cmd ENGINE KERNEL: fills the array CMD with the command that runs KERNEL on
# ENGINE (without the size arguments), or returns 1 if the engine is unavailable here
# (and sets NA_REASON).
engine_cmd() {
    local e=$1 k=$2
    case "$e" in
        gcc) CMD=("$BUILD/$k.gcc") ;;
        clang)
            if ! have clang; then NA_REASON="clang is not installed"; return 1; fi
            clang "${CFLAGS[@]}" -o "$BUILD/$k.clang" "bench/c/$k.c" -lm
            CMD=("$BUILD/$k.clang") ;;
        interp) CMD=("$VSP" run --engine interp "bench/sil/$k.sil") ;;
        jit|tiered) CMD=("$VSP" run --engine "$e" -O2 "bench/sil/$k.sil") ;;
        tiered1) CMD=("$VSP" run --engine tiered --tier-calls 1 --tier-loops 1 --tier-sync -O2 "bench/sil/$k.sil") ;;
        aot)
            if [[ -n ${AOT_NA[$k]:-} ]]; then NA_REASON=${AOT_NA[$k]}; return 1; fi
            CMD=("$BUILD/$k.aot") ;;
        wasmi)
            if [[ -n ${WASM_NA[$k]:-} ]]; then NA_REASON=${WASM_NA[$k]}; return 1; fi
            if ! have_wasm_tools; then NA_REASON="wasmi (cargo install wasmi_cli), wasi-libc or wasm-ld is not installed"; return 1; fi
            local ld=wasm-ld; have wasm-ld || ld=wasm-ld-14
            clang --target=wasm32-wasi --sysroot="$WASI_SYSROOT" "${CFLAGS[@]}" -fuse-ld="$(command -v $ld)" \
                -o "$BUILD/$k.wasm" "bench/c/$k.c" -lm
            CMD=("$WASMI" run "$BUILD/$k.wasm") ;;
        luajit|lua5.4|luajit-joff)
            local bin=${e%-joff}
            if ! have "$bin"; then NA_REASON="$bin is not installed"; return 1; fi
            if [[ ! -f bench/lua/$k.lua ]]; then NA_REASON="no Lua version of this kernel"; return 1; fi
            # luajit -joff: LuaJIT's interpreter alone, the peer of vsp's interpreter.
            if [[ $e == luajit-joff ]]; then CMD=("$bin" -joff "bench/lua/$k.lua"); else CMD=("$bin" "bench/lua/$k.lua"); fi ;;
    esac
}

declare -A COMPILE_MS   # COMPILE_MS[kernel] = JIT compile time from `vsp run --stats`
declare -A AOT_NA       # AOT_NA[kernel] = why there is no AOT executable

for k in "${KERNELS[@]}"; do
    if ((QUICK)); then ARGS_STR=${QUICK_SIZE[$k]}; else ARGS_STR=${SIZE[$k]}; fi
    read -r -a ARGS <<<"$ARGS_STR"
    echo "== $k ${ARGS[*]}" >&2

    gcc "${CFLAGS[@]}" -o "$BUILD/$k.gcc" "bench/c/$k.c" -lm

    # AOT: `vsp build` may not exist yet (usage error, status 2): that is n/a, not a
    # failure. Any other build failure is a real failure.
    rm -f "$BUILD/$k.aot"
    if "$VSP" build -O2 "bench/sil/$k.sil" -o "$BUILD/$k.aot" >"$BUILD/$k.aot.log" 2>&1; then
        :
    else
        st=$?
        if ((st == 2)); then
            AOT_NA[$k]="vsp build: $(head -n 1 "$BUILD/$k.aot.log")"
        else
            AOT_NA[$k]="FAIL"
            note "FAIL $k/aot: \`$VSP build -O2 bench/sil/$k.sil -o $BUILD/$k.aot\` exited $st:"
            while IFS= read -r line; do note "    $line"; done <"$BUILD/$k.aot.log"
            FAILED=1
        fi
    fi

    REF="$BUILD/$k.expected"
    for e in "${ENGINES[@]}"; do
        if [[ $e == aot && ${AOT_NA[$k]:-} == FAIL ]]; then T[$k,$e]=FAIL; continue; fi
        NA_REASON=""
        if ! engine_cmd "$e" "$k"; then
            not_available "$k" "$e" "$NA_REASON"
            continue
        fi
        # Check run: its output is compared with the reference; for vsp run it also
        # carries --stats so we can read the compile time.
        check=("${CMD[@]}")
        if [[ ${CMD[0]} == "$VSP" ]]; then check=("$VSP" run --stats "${CMD[@]:2}"); fi
        out="$BUILD/$k.$e.out"; err="$BUILD/$k.$e.err"
        echo "  $e: ${CMD[*]} ${ARGS[*]}" >&2
        if "${check[@]}" "${ARGS[@]}" >"$out" 2>"$err"; then st=0; else st=$?; fi

        if ((st != 0)); then
            if [[ ${CMD[0]} == "$VSP" ]] && ((st == 2)); then
                # vsp's "not available yet" (and any usage error) exits with 2.
                not_available "$k" "$e" "$(head -n 1 "$err")"
            else
                T[$k,$e]=FAIL
                FAILED=1
                note "FAIL $k/$e: \`${check[*]} ${ARGS[*]}\` exited with status $st; stderr:"
                while IFS= read -r line; do note "    $line"; done < <(head -n 20 "$err")
                [[ $e == gcc ]] && die "the C reference failed; cannot check the other engines"
            fi
            continue
        fi

        if [[ $e == gcc ]]; then
            cp "$out" "$REF"
        elif ! cmp -s "$out" "$REF"; then
            # A wrong answer is the loudest possible failure: show both outputs.
            T[$k,$e]=FAIL
            FAILED=1
            note "FAIL $k/$e: output differs from gcc -O2 for \`${check[*]} ${ARGS[*]}\`"
            note "    expected (gcc -O2):"
            while IFS= read -r line; do note "      $line"; done <"$REF"
            note "    got ($e):"
            while IFS= read -r line; do note "      $line"; done <"$out"
            continue
        fi

        if [[ $e == jit ]]; then
            # The JIT reports e.g. `[stats] ... compile: 1.23 ms ...` on stderr.
            ms=$(grep -o 'compile: *[0-9.]\+ *ms' "$err" | head -n 1 | grep -o '[0-9.]\+' || true)
            [[ -n $ms ]] && COMPILE_MS[$k]=$ms
        fi

        if t=$(best_time "${CMD[@]}" "${ARGS[@]}"); then
            T[$k,$e]=$t
            echo "    best of $RUNS: $t s" >&2
        else
            T[$k,$e]=FAIL
            FAILED=1
            note "FAIL $k/$e: a timed run of \`${CMD[*]} ${ARGS[*]}\` failed (it passed the check run)"
        fi
    done
done

# ---- table ----------------------------------------------------------------------------
is_num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
ratio() {   # ratio SECONDS GCC_SECONDS
    if is_num "$1" && is_num "$2" && awk -v g="$2" 'BEGIN { exit !(g > 0) }'; then
        awk -v a="$1" -v g="$2" 'BEGIN { r = a / g; printf (r < 10 ? "%.2f" : "%.1f"), r }'
    else
        echo "n/a"
    fi
}

best_of() {   # best_of SECONDS SECONDS: the smaller number (n/a if neither is one)
    if is_num "$1" && is_num "$2"; then
        awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'
    elif is_num "$1"; then echo "$1"
    elif is_num "$2"; then echo "$2"
    else echo "n/a"; fi
}

# Short runs (skipped with --quick): interp, jit and tiered at SHORT_SIZE, best of 20.
declare -A S
short_runs() {
    local k e
    for k in "${KERNELS[@]}"; do
        read -r -a ARGS <<<"${SHORT_SIZE[$k]}"
        echo "== short $k ${ARGS[*]}" >&2
        for e in interp jit tiered; do
            local saved=$RUNS
            RUNS=20
            # Milliseconds matter here: keep microseconds.
            local DIGITS=6
            if S[$k,$e]=$(best_time "$VSP" run --engine "$e" "bench/sil/$k.sil" "${ARGS[@]}"); then :; else
                S[$k,$e]=FAIL
                FAILED=1
                note "FAIL short $k/$e"
            fi
            RUNS=$saved
        done
    done
}

short_table() {
    local k ms
    echo "| kernel | args | interp (ms) | jit (ms) | tiered (ms) | tiered/interp |"
    echo "|---|---|---:|---:|---:|---:|"
    ms() { is_num "$1" && awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }' || echo "$1"; }
    for k in "${KERNELS[@]}"; do
        echo "| $k | ${SHORT_SIZE[$k]} | $(ms "${S[$k,interp]}") | $(ms "${S[$k,jit]}") | $(ms "${S[$k,tiered]}") | $(ratio "${S[$k,tiered]}" "${S[$k,interp]}") |"
    done
}

table() {
    local e k row
    row="| kernel | args |"
    for e in "${ENGINES[@]}"; do row+=" $e (s) |"; done
    for e in "${ENGINES[@]}"; do [[ $e == gcc ]] || row+=" $e/gcc |"; done
    row+=" tiered/best(interp,jit) | jit compile (ms) |"
    echo "$row"
    row="|---|---|"
    for e in "${ENGINES[@]}"; do row+="---:|"; done
    for e in "${ENGINES[@]}"; do [[ $e == gcc ]] || row+="---:|"; done
    row+="---:|---:|"
    echo "$row"
    for k in "${KERNELS[@]}"; do
        if ((QUICK)); then row="| $k | ${QUICK_SIZE[$k]} |"; else row="| $k | ${SIZE[$k]} |"; fi
        for e in "${ENGINES[@]}"; do row+=" ${T[$k,$e]} |"; done
        for e in "${ENGINES[@]}"; do
            [[ $e == gcc ]] || row+=" $(ratio "${T[$k,$e]}" "${T[$k,gcc]}") |"
        done
        row+=" $(ratio "${T[$k,tiered]}" "$(best_of "${T[$k,interp]}" "${T[$k,jit]}")") |"
        row+=" ${COMPILE_MS[$k]:-n/a} |"
        echo "$row"
    done
}

((QUICK)) || short_runs

version() { "$@" 2>&1 | head -n 1 || true; }
{
    echo "# vsp benchmark results"
    echo
    if ((QUICK)); then echo "**--quick run: tiny sizes, 1 run; not a measurement.**"; echo; fi
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || uname -m), $(nproc 2>/dev/null || echo '?') CPUs, $(uname -sm)"
    echo "- vsp: \`$VSP_SRC\` (sha256 $VSP_SHA..., $VSP_ORIGIN); source tree at $SRC_STATE"
    echo "- gcc: $(version gcc --version) with \`${CFLAGS[*]}\`"
    have clang && echo "- clang: $(version clang --version) with \`${CFLAGS[*]}\`"
    have luajit && echo "- luajit: $(version luajit -v)"
    have lua5.4 && echo "- lua5.4: $(version lua5.4 -v)"
    have_wasm_tools && echo "- wasmi: $(version "$WASMI" --version), running the C kernels built with \`clang --target=wasm32-wasi ${CFLAGS[*]}\` against wasi-libc"
    echo "- timing: wall clock, best of $RUNS run(s) after one checked warm-up run, measured with $TIMER"
    echo "- load average (1/5/15 min) at start: $LOAD_START, at end: $(loadavg); on $(nproc 2>/dev/null || echo '?') CPUs, anything near 1 or more means other work shared the machine"
    echo "- every engine's stdout was compared byte for byte with gcc's; \`FAIL\` = wrong output or crash, \`n/a\` = engine not available"
    echo
    table
    if ((!QUICK)); then
        echo
        echo "Short runs (whole process, best of 20): the tiered engine against the interpreter on"
        echo "runs that last a few milliseconds, where compiling cannot pay for itself."
        echo
        short_table
    fi
    if ((${#NA_ORDER[@]} + ${#NOTES[@]})); then
        echo
        echo "Notes:"
        echo
        for key in "${NA_ORDER[@]}"; do
            echo "    n/a ${key%%$'\t'*} (${NA_KERNELS[$key]# }): ${key#*$'\t'}"
        done
        for n in "${NOTES[@]}"; do echo "    $n"; done
    fi
} >"$OUT"

# A picture of the ratio table (engine time / gcc -O2 time per kernel), beside the table.
if have python3 && python3 bench/plot.py "$OUT" "${OUT%.md}.svg" 2>/dev/null; then
    echo "plot written to ${OUT%.md}.svg" >&2
fi

echo >&2
cat "$OUT"
echo >&2
echo "written to $OUT" >&2
if ((FAILED)); then
    echo "run.sh: FAILED: at least one engine printed a wrong result or crashed (see notes)" >&2
    exit 1
fi
