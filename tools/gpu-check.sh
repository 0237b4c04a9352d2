#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One-shot verification of the CUDA backend on a GPU machine (see docs/cuda.md, "How to verify").
#
#   tools/gpu-check.sh OUTPUT_DIR            on the GPU machine: probe what exists, use the carried
#                                            pack (or build), run the GPU tests, the benchmark and
#                                            compute-sanitizer; OUTPUT_DIR gets exactly two files:
#                                            summary.md and gpu-check-logs.tar.gz (every log + XML).
#   tools/gpu-check.sh --dry-run OUTPUT_DIR  anywhere: every stage starts; the GPU stages report
#                                            "no GPU: skipped (reason)"; same two files.
#   tools/gpu-check.sh --pack                on a build machine with nvcc: build the GPU tests and
#                                            the benchmark (sm_80 + sm_90, no Qt, no BLAS) into
#                                            build-gpu-bin/ (git-ignored), with every library the
#                                            GPU machine lacks in build-gpu-bin/lib (RPATH
#                                            $ORIGIN/lib), then --check-pack it.
#   tools/gpu-check.sh --check-pack [DIR]    every packed executable's libraries (ldd) are the C/C++
#                                            runtime, the CUDA runtime or cuBLAS, or lie in DIR;
#                                            DIR plus the demo model stay under 40 MiB.
#
# Stages record ok / skipped / FAILED and their time; a failed stage does not stop the next one;
# what cannot run here (no GPU, no Qt, no compute-sanitizer, no build tools) is skipped with the
# reason. Exit status: 1 if a stage failed, 2 on bad usage, else 0 (skips do not fail the run;
# the summary's verdict line says PASSED, INCOMPLETE or NO GPU).
# Environment: JOBS (build parallelism), GPU_CHECK_BUDGET (seconds for the whole run, default
# 240), GPU_CHECK_BUILD=1 (build even when build-gpu-bin/ exists), GPU_CHECK_BUILD_DIR,
# GPU_CHECK_PACK_BUILD_DIR (default build-gpu-pack), GPU_CHECK_PACK_DIR (default build-gpu-bin),
# GPU_CHECK_BENCH_ARGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/tools/gpu-check.sh"
PACK_DIR="${GPU_CHECK_PACK_DIR:-$ROOT/build-gpu-bin}"
GPU_TESTS=(gpu_probe_test gpu_kernels_test gpu_executor_test gpu_scheduler_test)
PACKED=("${GPU_TESTS[@]}" batchscope-gpu-bench)
PACK_LIMIT_BYTES=$((40 << 20))
# Libraries the GPU machine provides (sonames): the dynamic loader, glibc, libstdc++/libgcc_s (its
# are newer than Debian 12's, so binaries built here run there), the CUDA runtime and cuBLAS.
ALLOWED_LIBS='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libcudart\.so\.[0-9]+|libcublas\.so\.[0-9]+|libcublasLt\.so\.[0-9]+)$'

log() { printf '[gpu-check %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

find_tool() {  # find_tool NAME: PATH, then the CUDA toolkit's usual places
    local c
    if c="$(command -v "$1" 2>/dev/null)"; then echo "$c"; return 0; fi
    for c in "${CUDA_HOME:-/nonexistent}/bin/$1" /usr/local/cuda/bin/"$1" /usr/local/cuda-*/bin/"$1" \
             /usr/local/cuda/"$1"/"$1" /opt/nvidia/*/"$1"; do
        [[ -x "$c" ]] && { echo "$c"; return 0; }
    done
    return 1
}

# ---- the pack -----------------------------------------------------------------------------------

# ldd_lines BIN: "soname<TAB>resolved path or 'not found'" per library (the loader and vdso too).
ldd_lines() {
    ldd "$1" 2>&1 | awk '
        /=>/ { path = $3; if ($3 == "not") path = "not found"; printf "%s\t%s\n", $1, path; next }
        /^[ \t]*\// { n = split($1, p, "/"); printf "%s\t%s\n", p[n], $1; next }
        /linux-vdso/ { printf "%s\tvdso\n", $1 }'
}

check_pack() {
    local dir="${1:-$PACK_DIR}" bad=0 bin name path real
    dir="$(cd "$dir" && pwd)" || { echo "no pack at ${1:-$PACK_DIR}" >&2; return 1; }
    for b in "${PACKED[@]}"; do
        bin="$dir/$b"
        if [[ ! -x "$bin" ]]; then echo "MISSING  $b"; bad=1; continue; fi
        while IFS=$'\t' read -r name path; do
            if [[ "$path" == "not found" ]]; then
                echo "BAD      $b: $name not found"; bad=1
            elif [[ "$name" =~ $ALLOWED_LIBS ]]; then
                :
            else
                real="$(readlink -f "$path")"
                if [[ "$real" == "$dir"/* ]]; then echo "packed   $b: $name"
                else echo "BAD      $b: $name resolves outside the pack ($path)"; bad=1; fi
            fi
        done < <(ldd_lines "$bin")
    done
    local bytes model=0
    bytes=$(du -sb "$dir" | cut -f1)
    [[ -f "$ROOT/resources/models/demo.gguf" ]] && model=$(stat -c %s "$ROOT/resources/models/demo.gguf")
    echo "size: pack $((bytes >> 10)) KiB + demo model $((model >> 10)) KiB (limit $((PACK_LIMIT_BYTES >> 10)) KiB)"
    if (( bytes + model > PACK_LIMIT_BYTES )); then echo "BAD      the pack and the demo model exceed 40 MiB"; bad=1; fi
    (( bad == 0 )) && echo "pack ok: every library is the C/C++ runtime, the CUDA runtime, cuBLAS or packed"
    return $bad
}

pack() {
    local build="${GPU_CHECK_PACK_BUILD_DIR:-$ROOT/build-gpu-pack}" nvcc t0 commit launcher=()
    nvcc="$(find_tool nvcc)" || { log "no nvcc found"; exit 1; }
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
    t0=$(date +%s)
    commit="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"  # what is compiled
    log "configuring $build (nvcc $nvcc)"
    # No Qt and no BLAS (OpenBLAS alone is 36 MB); DT_RPATH (not RUNPATH) $ORIGIN/lib so that the
    # packed libraries' own dependencies (libspdlog -> libfmt) are found there too.
    # shellcheck disable=SC2016  # $ORIGIN is for the dynamic loader
    cmake -S "$ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBATCHSCOPE_ENABLE_CUDA=ON \
        -DBATCHSCOPE_BUILD_UI=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON -DCMAKE_DISABLE_FIND_PACKAGE_BLAS=ON \
        -DCMAKE_CUDA_COMPILER="$nvcc" '-DCMAKE_BUILD_RPATH=$ORIGIN/lib' \
        -DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags "${launcher[@]}" >/dev/null
    log "building ${PACKED[*]} with -j${JOBS:-2}"
    ninja -C "$build" -j"${JOBS:-2}" "${PACKED[@]}"
    rm -rf "$PACK_DIR" && mkdir -p "$PACK_DIR/lib"
    strip -o "$PACK_DIR/batchscope-gpu-bench" "$build/gpu/batchscope-gpu-bench"
    for t in "${GPU_TESTS[@]}"; do strip -o "$PACK_DIR/$t" "$build/tests/gpu/$t"; done
    # Every library outside the allow-list goes into lib/ (ldd lists indirect ones too).
    local name path
    for b in "${PACKED[@]}"; do
        while IFS=$'\t' read -r name path; do
            [[ "$name" =~ $ALLOWED_LIBS || "$path" == "not found" || -e "$PACK_DIR/lib/$name" ]] && continue
            cp -L "$path" "$PACK_DIR/lib/$name"
        done < <(ldd_lines "$PACK_DIR/$b")
    done
    echo "$commit" >"$PACK_DIR/COMMIT"
    log "packed into $PACK_DIR ($(du -sh "$PACK_DIR" | cut -f1)) in $(( $(date +%s) - t0 ))s"
    check_pack "$PACK_DIR"
}

# ---- reading logs ----------------------------------------------------------------------------

first_gtest_skip() { awk '/: Skipped$/ { getline; print; exit }' "$1"; }

# Status of a finished test log: gtest or Qt Test counts, so that all-skipped reads as skipped.
test_status() {  # test_status LOG RC
    local logf="$1" rc="$2" total skipped failed reason
    if grep -q '^\[==========\] [0-9]* tests\? from' "$logf"; then
        total=$(grep -oE '^\[==========\] [0-9]+ tests? from' "$logf" | tail -n 1 | grep -oE '[0-9]+' | head -n 1)
        skipped=$(grep -oE '^\[  SKIPPED \] [0-9]+ tests?,' "$logf" | grep -oE '[0-9]+' | head -n 1 || true)
        failed=$(grep -oE '^ ?[0-9]+ FAILED TESTS?' "$logf" | grep -oE '[0-9]+' | head -n 1 || true)
        reason="$(first_gtest_skip "$logf")"
    elif grep -q '^Totals: ' "$logf"; then
        local totals; totals="$(grep '^Totals: ' "$logf" | tail -n 1)"
        skipped=$(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$totals")
        failed=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$totals")
        # initTestCase/cleanupTestCase count as passed functions; they test nothing.
        total=$(( $(grep -cE '^PASS   : ' "$logf" || true) - $(grep -cE '^PASS   : .*::(initTestCase|cleanupTestCase)\(\)' "$logf" || true) + skipped + failed ))
        reason="$(grep -m 1 '^SKIP   : ' "$logf" | sed -E 's/^SKIP   : [^ ]+ //')"
    else
        [[ $rc -eq 0 ]] && echo "ok (no test summary in the log)" || echo "FAILED (exit $rc)"
        return
    fi
    skipped=${skipped:-0} failed=${failed:-0}
    if [[ $rc -ne 0 || $failed -gt 0 ]]; then echo "FAILED (exit $rc; $failed of $total tests failed)"
    elif (( total == 0 )); then echo "SKIPPED: no test ran"
    elif (( skipped >= total )); then echo "SKIPPED: all $total tests skipped: $reason"
    elif (( skipped > 0 )); then echo "ok, $skipped of $total tests skipped: $reason"
    else echo "ok ($total tests)"
    fi
}

# Why a compute-sanitizer log is the tool refusing the machine rather than a kernel's fault.
sanitizer_refused() {
    grep -m 1 -iE 'device not supported|not supported on this (device|platform|gpu)|unable to find injection library|could not (find|load) (the )?injection|failed to (initialize|load) .*(sanitizer|injection)|target application terminated before first instrumented' "$1"
}

# ---- the check ----------------------------------------------------------------------------------

DRY_RUN=0
case "${1:-}" in
    --pack) [[ $# -eq 1 ]] || { echo "usage: $0 --pack" >&2; exit 2; }; pack; exit $? ;;
    --check-pack) check_pack "${2:-$PACK_DIR}"; exit $? ;;
    --test-status) test_status "$2" "$3"; exit 0 ;;  # for tests/tools/gpu_check_test.sh
    --dry-run) DRY_RUN=1; shift ;;
esac
if [[ $# -ne 1 || "$1" == -* ]]; then
    echo "usage: $0 OUTPUT_DIR | --dry-run OUTPUT_DIR | --pack | --check-pack [DIR]" >&2
    exit 2
fi

OUT="$(mkdir -p "$1" && cd "$1" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
T0=$(date +%s)
BUDGET="${GPU_CHECK_BUDGET:-240}"
declare -a ROWS=()
FAILED=0 SKIPPED=0 SKIPPED_NAMES=""

# Why the GPU stages cannot run here ("" = they can).
NO_GPU=""
if ! command -v nvidia-smi >/dev/null 2>&1; then NO_GPU="nvidia-smi not found"
elif ! nvidia-smi -L >"$WORK/gpus.txt" 2>&1; then NO_GPU="nvidia-smi -L failed: $(head -n 1 "$WORK/gpus.txt")"
elif ! grep -q '^GPU ' "$WORK/gpus.txt"; then NO_GPU="nvidia-smi lists no GPU"
fi
(( DRY_RUN )) && NO_GPU="dry run${NO_GPU:+; $NO_GPU}"

# Expected seconds of each stage on an H200 with the carried pack (docs/cuda.md).
declare -A EXPECT=([environment]=3 [build]=0 [libraries]=1 [gpu_probe_test]=3 [gpu_kernels_test]=10
    [gpu_executor_test]=20 [gpu_scheduler_test]=25 [integration-cuda]=0 [bench]=90 [sanitizer-kernels]=60)

record() {  # record NAME STATUS SECONDS
    case "$2" in
        FAILED* | TIMED*) FAILED=1 ;;
        ok*) ;;
        *) SKIPPED=$((SKIPPED + 1)) SKIPPED_NAMES="${SKIPPED_NAMES:+$SKIPPED_NAMES, }$1" ;;
    esac
    log "stage $1: $2 (${3}s)"
    ROWS+=("| $1 | ${2//|//} | $3 | ${EXPECT[$1]:-?} |")  # no '|' inside a table cell
}
skip_stage() { record "$1" "skipped: $2" 0; printf 'skipped: %s\n' "$2" >"$WORK/$1.log"; }
no_gpu_stage() {  # no_gpu_stage NAME WHAT: a GPU stage on a machine without one
    log "stage $1: start"
    record "$1" "no GPU: skipped ($NO_GPU)" 0
    printf 'no GPU: skipped (%s)\nwould run: %s\n' "$NO_GPU" "$2" >"$WORK/$1.log"
}

# run_stage NAME LIMIT KIND CMD...: runs CMD (log WORK/NAME.log) inside the budget; KIND test,
# sanitizer or plain decides how the log is read.
run_stage() {
    local name="$1" limit="$2" kind="$3" start rc=0 status left secs clipped=0
    shift 3
    left=$(( BUDGET - ($(date +%s) - T0) - 15 ))
    if (( left < 5 )); then
        record "$name" "skipped: not started, the ${BUDGET}s budget is spent" 0
        return 0
    fi
    if (( limit > left )); then limit=$left; clipped=1; fi
    log "stage $name: $*"
    start=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
    secs=$(( $(date +%s) - start ))
    local refused
    if [[ $kind == sanitizer ]] && refused="$(sanitizer_refused "$WORK/$name.log")"; then
        status="skipped: compute-sanitizer not available here: $refused"
    elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
        # Cut by the run's budget rather than by its own limit: no verdict on the code.
        if (( clipped )); then status="skipped: cut after ${limit}s, when the ${BUDGET}s budget ran out"
        else status="TIMED OUT after ${limit}s"; fi
    elif [[ $kind == test || $kind == sanitizer ]]; then
        status="$(test_status "$WORK/$name.log" "$rc")"
        if [[ $kind == sanitizer ]]; then
            local summary; summary="$(grep -oE 'ERROR SUMMARY: [0-9]+ errors?' "$WORK/$name.log" | tail -n 1 || true)"
            if [[ -z "$summary" && $status != SKIPPED* ]]; then
                status="skipped: compute-sanitizer did not run the test: $(tail -n 1 "$WORK/$name.log")"
            elif [[ $summary != "ERROR SUMMARY: 0 errors" && -n "$summary" ]]; then
                status="FAILED ($summary)"
            else
                status="$status; $summary"
            fi
        fi
    elif [[ $rc -eq 0 ]]; then
        status="ok"
    else
        status="FAILED (exit $rc)"
    fi
    record "$name" "$status" "$secs"
    tail -n 3 "$WORK/$name.log" >&2 || true
}

# cuBLAS 13 from the toolkit, or from the nvidia-cublas wheel of the machine's Python.
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
if [[ -z "$NO_GPU" ]] && ! ldconfig -p 2>/dev/null | grep -q 'libcublas.so.13' && [[ ! -e /usr/local/cuda/lib64/libcublas.so.13 ]]; then
    for d in $(timeout 20 find /usr /opt -name 'libcublas.so.13' -printf '%h\n' 2>/dev/null | head -n 3); do
        export LD_LIBRARY_PATH="$d:$LD_LIBRARY_PATH"
    done
fi
export BATCHSCOPE_SOURCE_DIR="$ROOT"
# Packed binaries would look for the demo model at the build machine's source path.
export BATCHSCOPE_DEMO_MODEL="${BATCHSCOPE_DEMO_MODEL:-$ROOT/resources/models/demo.gguf}"
log "output in $OUT${NO_GPU:+ (no GPU: $NO_GPU)}"

# shellcheck disable=SC2016  # expanded by the inner shell
run_stage environment 30 plain bash -c 'date -u; uname -a; cat /etc/os-release 2>/dev/null | head -n 2;
    nvidia-smi || echo "nvidia-smi: not available"; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true;
    echo; nvcc --version 2>/dev/null || /usr/local/cuda/bin/nvcc --version 2>/dev/null || echo "nvcc: not found";
    cmake --version 2>/dev/null | head -n 1 || echo "cmake: not found"; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"'

# ---- binaries: the carried pack, or a build when this machine can make one -----------------------
have_cmake_package() {  # have_cmake_package NAME: a NAMEConfig.cmake / name-config.cmake exists
    local lower; lower="$(tr '[:upper:]' '[:lower:]' <<<"$1")"
    timeout 20 find /usr/lib /usr/share /usr/local /opt -maxdepth 6 \( -name "${1}Config.cmake" -o -name "${lower}-config.cmake" \) \
        -print -quit 2>/dev/null | grep -q .
}
declare -A BIN=()
BIN_KIND="none"
# Carried files may lose their mode bits on the way.
for t in "${PACKED[@]}"; do [[ -f "$PACK_DIR/$t" && ! -x "$PACK_DIR/$t" ]] && chmod u+x "$PACK_DIR/$t"; done
UI=OFF
if [[ -x "$PACK_DIR/gpu_executor_test" && -z "${GPU_CHECK_BUILD:-}" ]]; then
    BIN_KIND="carried pack (commit $(cat "$PACK_DIR/COMMIT" 2>/dev/null || echo unknown))"
    for t in "${PACKED[@]}"; do BIN[$t]="$PACK_DIR/$t"; done
    record build "ok: using the carried pack $PACK_DIR" 0
    echo "using the carried pack $PACK_DIR" >"$WORK/build.log"
else
    missing=()
    NVCC="$(find_tool nvcc)" || missing+=(nvcc)
    for tool in cmake ninja; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    have_cmake_package spdlog || missing+=(spdlog)
    pkg-config --exists libpcre2-8 2>/dev/null || missing+=(libpcre2-dev)
    have_cmake_package GTest || [[ -f /usr/include/gtest/gtest.h ]] || missing+=(GoogleTest)
    if [[ -n "$NO_GPU" ]]; then
        no_gpu_stage build "cmake + ninja of the GPU targets${missing[*]:+ (cannot here: no ${missing[*]})}"
    elif (( ${#missing[@]} )); then
        skip_stage build "cannot build here: no ${missing[*]} (carry build-gpu-bin from tools/gpu-check.sh --pack)"
    else
        BUILD="${GPU_CHECK_BUILD_DIR:-$ROOT/build-gpu}"
        targets=("${PACKED[@]}")
        if have_cmake_package Qt6; then UI=ON; targets+=(test_scheduler_integration); fi
        ui_flags=("-DBATCHSCOPE_BUILD_UI=$UI")
        [[ $UI == OFF ]] && ui_flags+=(-DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON)
        run_stage build 420 plain bash -c "cmake -S '$ROOT' -B '$BUILD' -G Ninja -DCMAKE_BUILD_TYPE=Release \
            -DBATCHSCOPE_ENABLE_CUDA=ON ${ui_flags[*]} -DCMAKE_CUDA_COMPILER='$NVCC' && ninja -C '$BUILD' -j${JOBS:-16} ${targets[*]}"
        BIN_KIND="built here ($BUILD, UI=$UI)"
        for t in "${GPU_TESTS[@]}"; do BIN[$t]="$BUILD/tests/gpu/$t"; done
        BIN[batchscope-gpu-bench]="$BUILD/gpu/batchscope-gpu-bench"
        [[ $UI == ON ]] && BIN[test_scheduler_integration]="$BUILD/tests/integration/test_scheduler_integration"
    fi
fi

# The executables start here: every library resolves (the pack's inside the pack).
if [[ $BIN_KIND == carried* ]]; then
    run_stage libraries 30 plain bash "$SELF" --check-pack "$PACK_DIR"
elif [[ $BIN_KIND == built* ]]; then
    # shellcheck disable=SC2016  # expanded by the inner shell
    run_stage libraries 30 plain bash -c 'bad=0; for b in "$@"; do [[ -e $b ]] || continue; echo "== $b";
        out="$(ldd "$b" 2>&1)" || bad=1; echo "$out"; ! grep -q "not found" <<<"$out" || bad=1; done; exit $bad' _ "${BIN[@]}"
else
    skip_stage libraries "no binaries"
fi

for t in "${GPU_TESTS[@]}"; do
    if [[ -n "$NO_GPU" ]]; then no_gpu_stage "$t" "${BIN[$t]:-$t (no binary)}"
    elif [[ -x "${BIN[$t]:-}" ]]; then run_stage "$t" 120 test "${BIN[$t]}" --gtest_output="xml:$WORK/$t.xml"
    else skip_stage "$t" "no binary"
    fi
done

# The scheduler integration suite on the CUDA executor (a Qt build only; it QSKIPs without one).
if [[ $BIN_KIND == carried* ]]; then why="needs Qt 6, which the pack leaves out"
elif [[ $BIN_KIND == built* && $UI == OFF ]]; then why="Qt 6 not found here: the suite was not built"
else why="no binary"; fi
if [[ -n "$NO_GPU" ]]; then
    no_gpu_stage integration-cuda "test_scheduler_integration with BATCHSCOPE_TEST_DEVICE=cuda${BIN[test_scheduler_integration]:+ }${BIN[test_scheduler_integration]:-" (cannot: $why)"}"
elif [[ ! -x "${BIN[test_scheduler_integration]:-}" ]]; then
    skip_stage integration-cuda "$why"
else
    run_stage integration-cuda 180 test env BATCHSCOPE_TEST_DEVICE=cuda QT_QPA_PLATFORM=offscreen \
        "${BIN[test_scheduler_integration]}" -o "$WORK/integration-cuda.xml,junitxml" -o -,txt
    if ! grep -q 'integration suite on the CUDA executor' "$WORK/integration-cuda.log"; then
        ROWS+=("| integration-cuda | note: the log never says the suite ran on the CUDA executor | 0 | 0 |")
    fi
fi

if [[ -n "$NO_GPU" ]]; then
    no_gpu_stage bench "${BIN[batchscope-gpu-bench]:-batchscope-gpu-bench (no binary)} ${GPU_CHECK_BENCH_ARGS:-}"
elif [[ -x "${BIN[batchscope-gpu-bench]:-}" ]]; then
    # shellcheck disable=SC2086
    run_stage bench 150 plain "${BIN[batchscope-gpu-bench]}" --out "$WORK/bench.md" ${GPU_CHECK_BENCH_ARGS:-}
else
    skip_stage bench "no binary"
fi

# compute-sanitizer last: the slowest stage, and the one most often refused by a machine.
if ! SANITIZER="$(find_tool compute-sanitizer)"; then
    SANITIZER=""
fi
if [[ -n "$NO_GPU" ]]; then
    no_gpu_stage sanitizer-kernels "${SANITIZER:-compute-sanitizer (not found here)} --tool memcheck ${BIN[gpu_kernels_test]:-gpu_kernels_test}"
elif [[ -z "$SANITIZER" ]]; then
    skip_stage sanitizer-kernels "compute-sanitizer not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda*/bin)"
elif [[ -x "${BIN[gpu_kernels_test]:-}" ]]; then
    run_stage sanitizer-kernels 150 sanitizer "$SANITIZER" --tool memcheck --error-exitcode 1 "${BIN[gpu_kernels_test]}"
else
    skip_stage sanitizer-kernels "no kernel test binary"
fi

# ---- summary and archive -------------------------------------------------------------------------
if (( FAILED )); then VERDICT="FAILED"
elif [[ -n "$NO_GPU" ]]; then VERDICT="NO GPU: nothing was checked on a GPU ($NO_GPU)"
elif (( SKIPPED )); then VERDICT="INCOMPLETE: skipped $SKIPPED_NAMES"
else VERDICT="PASSED"
fi
# Keep the archive well under the 16 MiB a returned file may have: cut huge logs in the middle.
for f in "$WORK"/*.log; do
    if (( $(stat -c %s "$f") > (4 << 20) )); then
        { head -c 1M "$f"; printf '\n[... cut by gpu-check ...]\n'; tail -c 2M "$f"; } >"$f.cut" && mv "$f.cut" "$f"
    fi
done
tar -czf "$OUT/gpu-check-logs.tar.gz" -C "$WORK" .
{
    echo "# GPU check $(date -u +%Y-%m-%dT%H:%M:%SZ)$( (( DRY_RUN )) && echo ' (dry run)')"
    echo
    echo "Verdict: **$VERDICT** after $(( $(date +%s) - T0 ))s (budget ${BUDGET}s)"
    echo
    echo "Commit: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || cat "$PACK_DIR/COMMIT" 2>/dev/null || echo unknown); binaries: $BIN_KIND"
    echo "GPU: $(grep -m 1 '^GPU ' "$WORK/gpus.txt" 2>/dev/null || echo none)"
    echo
    echo "| stage | status | seconds | expected s |"
    echo "|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Logs and XML in gpu-check-logs.tar.gz: $(find "$WORK" -type f -printf '%f\n' | sort | tr '\n' ' ')"
    if [[ -f "$WORK/bench.md" ]]; then
        echo
        cat "$WORK/bench.md"
    fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
exit $FAILED
