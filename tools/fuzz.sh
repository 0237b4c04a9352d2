#!/usr/bin/env bash
# Builds the libFuzzer targets (clang++, ASan+UBSan; tests/fuzz) and fuzzes each for a fixed
# time. Usage: tools/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
# Targets: gguf tokenizer protocol chat_template (default: all built). Environment: BUILD_DIR
# (default build-fuzz), JOBS (build jobs, default nproc), FUZZ_FLAGS (extra libFuzzer flags).
# Each target first replays its committed regressions, then fuzzes from its seed corpus; the
# corpus it grows stays in $BUILD_DIR/fuzz-corpus/<target> (reused by the next run). A crash,
# leak, timeout or sanitizer report fails the script; the input is written to
# $BUILD_DIR/fuzz-crashes/<target>/ (docs/fuzzing.md: how to turn it into a regression case).
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-60}"
shift || true
build="${BUILD_DIR:-build-fuzz}"
jobs="${JOBS:-$(nproc)}"
all=(gguf tokenizer protocol chat_template)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

command -v clang++ >/dev/null || { echo "error: clang++ not found (Debian: apt-get install clang)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        "${launcher[@]}" -DBATCHSCOPE_FUZZ=ON -DBATCHSCOPE_BUILD_UI=OFF -DBATCHSCOPE_BUILD_TESTS=OFF \
        -DBATCHSCOPE_ENABLE_CUDA=OFF
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j "$jobs" --target "${build_targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export BATCHSCOPE_SOURCE_DIR="$root"
summary=()
failed=0
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/fuzz_$t"
    work="$build/fuzz-corpus/$t"
    crashes="$build/fuzz-crashes/$t"
    mkdir -p "$work" "$crashes"
    seeds=("tests/fuzz/corpus/$t")
    [ "$t" = chat_template ] && [ -d ../shared/testdata/chat-templates ] && seeds+=(../shared/testdata/chat-templates)
    log="$build/fuzz-$t.log"
    echo "== fuzz $t: ${seconds}s"
    if [ -d "tests/fuzz/regressions/$t" ] && [ -n "$(ls -A "tests/fuzz/regressions/$t")" ]; then
        if ! "$bin" -runs=0 tests/fuzz/regressions/"$t"/* >"$log.regressions" 2>&1; then
            tail -40 "$log.regressions"; echo "error: fuzz $t: a committed regression fails" >&2
            failed=1; summary+=("$t: REGRESSION FAILS"); continue
        fi
    fi
    # -timeout: one input over 10 s is a hang; -rss_limit_mb bounds memory per process.
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
            -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "$work" "${seeds[@]}" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED; failed=1
        tail -60 "$log"
        echo "error: fuzz $t found a crash; inputs in $crashes (docs/fuzzing.md)" >&2
    fi
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    units=$(find "$work" -type f | wc -l)
    summary+=("$t: $status, ${execs:-?} execs (${rate:-?}/s), ${cov:-cov ?}, corpus $units files")
done
echo "== fuzz summary (${seconds}s per target)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
