#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One-shot verification of the CUDA backend on a GPU machine (see docs/cuda.md).
#
#   tools/gpu-check.sh OUTPUT_DIR     on the GPU machine: build (or use the carried pack), run
#                                     nvidia-smi, the gpu-labelled tests, compute-sanitizer on
#                                     the kernel tests, the scheduler integration suite with the
#                                     CUDA executor, and the benchmark; logs + summary.md in
#                                     OUTPUT_DIR. Every stage is timed; a failed stage is
#                                     recorded and the next one runs. Exit status 1 if any failed.
#   tools/gpu-check.sh --pack         on a build machine with nvcc but no GPU: build the GPU test
#                                     and bench binaries (sm_80 + sm_90, no Qt, no BLAS) into
#                                     build-gpu-bin/ (~5 MB, git-ignored) to carry to the GPU
#                                     machine when it cannot build the project itself.
#
# Environment: JOBS (build parallelism; 16 on the GPU machine, 2 here), GPU_CHECK_BUDGET (seconds
# for the whole run, default 540: stages are cut short to fit), GPU_CHECK_BUILD=1 to
# build on the GPU machine even when build-gpu-bin/ is present, GPU_CHECK_BUILD_DIR (default
# build-gpu), GPU_CHECK_BUILD_TYPE (default Release), GPU_CHECK_BENCH_ARGS (extra arguments of
# batchscope-gpu-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACK_DIR="$ROOT/build-gpu-bin"
GPU_TARGETS=(batchscope_gpu gpu_probe_test gpu_kernels_test gpu_executor_test gpu_scheduler_test batchscope-gpu-bench)
GPU_TESTS=(gpu_probe_test gpu_kernels_test gpu_executor_test gpu_scheduler_test)

log() { printf '[gpu-check %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

find_nvcc() {
    if command -v nvcc >/dev/null 2>&1; then command -v nvcc; return; fi
    for c in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
        [[ -x "$c" ]] && { echo "$c"; return; }
    done
    return 1
}

pack() {
    local build="$ROOT/build-gpu-pack" nvcc
    nvcc="$(find_nvcc)" || { log "no nvcc found"; exit 1; }
    log "configuring $build (nvcc $nvcc)"
    cmake -S "$ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBATCHSCOPE_ENABLE_CUDA=ON \
        -DBATCHSCOPE_BUILD_UI=OFF -DCMAKE_DISABLE_FIND_PACKAGE_BLAS=ON -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null
    log "building ${GPU_TARGETS[*]} with -j${JOBS:-2}"
    ninja -C "$build" -j"${JOBS:-2}" "${GPU_TARGETS[@]}"
    rm -rf "$PACK_DIR" && mkdir -p "$PACK_DIR"
    strip -o "$PACK_DIR/batchscope-gpu-bench" "$build/gpu/batchscope-gpu-bench"
    for t in "${GPU_TESTS[@]}"; do strip -o "$PACK_DIR/$t" "$build/tests/gpu/$t"; done
    git -C "$ROOT" describe --always --dirty >"$PACK_DIR/COMMIT" 2>/dev/null || true
    log "packed into $PACK_DIR ($(du -sh "$PACK_DIR" | cut -f1)); carry build-gpu-bin to the GPU machine"
}

if [[ "${1:-}" == "--pack" ]]; then
    pack
    exit 0
fi
if [[ $# -ne 1 || "$1" == -* ]]; then
    echo "usage: $0 OUTPUT_DIR | --pack" >&2
    exit 2
fi

OUT="$(mkdir -p "$1" && cd "$1" && pwd)"
T0=$(date +%s)
BUDGET="${GPU_CHECK_BUDGET:-540}"
SUMMARY="$OUT/summary.md"
FAILED=0
declare -a ROWS=()

# run_stage NAME TIMEOUT_S CMD...: runs CMD with output in OUT/NAME.log, records status and time.
run_stage() {
    local name="$1" limit="$2" start rc=0 status left
    shift 2
    # Keep the whole run inside GPU_CHECK_BUDGET seconds so the summary is always written.
    left=$(( BUDGET - ($(date +%s) - T0) - 20 ))
    if (( left < 10 )); then
        skip_stage "$name" "no time left in the ${BUDGET}s budget"; FAILED=1
        return 0
    fi
    (( limit > left )) && limit=$left
    log "stage $name: $*"
    start=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
    local secs=$(( $(date +%s) - start ))
    if [[ $rc -eq 0 ]]; then
        status="ok"
        local skipped
        skipped=$(grep -oE '^\[  SKIPPED \] [0-9]+ test' "$OUT/$name.log" 2>/dev/null | grep -oE '[0-9]+' | head -n 1 || true)
        if [[ -n "$skipped" ]]; then
            status="ok but $skipped test(s) SKIPPED: $(grep -m 1 -B 1 '^\[  SKIPPED \] [A-Z]' "$OUT/$name.log" | head -n 1)"
        fi
    elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
        status="TIMED OUT after ${limit}s"
        FAILED=1
    else
        status="FAILED (exit $rc)"
        FAILED=1
    fi
    log "stage $name: $status in ${secs}s"
    tail -n 5 "$OUT/$name.log" >&2 || true
    ROWS+=("| $name | $status | $secs |")
}

skip_stage() { log "stage $1 skipped: $2"; ROWS+=("| $1 | skipped: $2 | 0 |"); }

write_summary() {
    {
        echo "# GPU check $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo
        echo "Commit: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown); binaries: $BIN_KIND"
        echo
        echo "| stage | status | seconds |"
        echo "|---|---|---|"
        printf '%s\n' "${ROWS[@]}"
        if [[ -f "$OUT/bench.md" ]]; then
            echo
            cat "$OUT/bench.md"
        fi
    } >"$SUMMARY"
    cat "$SUMMARY"
}

# cuBLAS 13 from the toolkit, or from the pip wheel of PyTorch's environment.
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas.so.13' && [[ ! -e /usr/local/cuda/lib64/libcublas.so.13 ]]; then
    for d in $(timeout 30 find /usr /opt -name 'libcublas.so.13' -printf '%h\n' 2>/dev/null | head -n 3); do
        export LD_LIBRARY_PATH="$d:$LD_LIBRARY_PATH"
    done
fi
export BATCHSCOPE_SOURCE_DIR="$ROOT"
log "output in $OUT"

# shellcheck disable=SC2016  # expanded by the inner shell
run_stage environment 60 bash -c 'date -u; uname -a; nvidia-smi; nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm --format=csv; echo; nvcc --version || true; cmake --version || true; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"'

# Binaries: build here unless a carried pack exists (and GPU_CHECK_BUILD is not set).
BIN_KIND="none"
BUILD="${GPU_CHECK_BUILD_DIR:-$ROOT/build-gpu}"
BUILD_TYPE="${GPU_CHECK_BUILD_TYPE:-Release}"
declare -A BIN=()
if [[ -x "$PACK_DIR/gpu_executor_test" && -z "${GPU_CHECK_BUILD:-}" ]]; then
    BIN_KIND="carried pack (commit $(cat "$PACK_DIR/COMMIT" 2>/dev/null || echo unknown))"
    for t in "${GPU_TESTS[@]}" batchscope-gpu-bench; do BIN[$t]="$PACK_DIR/$t"; done
    skip_stage build "using $PACK_DIR"
else
    NVCC="$(find_nvcc || echo nvcc)"
    UI=ON
    run_stage configure 180 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
        -DBATCHSCOPE_ENABLE_CUDA=ON -DBATCHSCOPE_CUDA_APP=ON -DBATCHSCOPE_BUILD_UI=ON -DCMAKE_CUDA_COMPILER="$NVCC"
    if ! grep -q 'Build files have been written' "$OUT/configure.log"; then
        UI=OFF  # no Qt here: engine and GPU targets only (no integration suite)
        run_stage configure-no-ui 180 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
            -DBATCHSCOPE_ENABLE_CUDA=ON -DBATCHSCOPE_BUILD_UI=OFF -DCMAKE_CUDA_COMPILER="$NVCC"
    fi
    targets=("${GPU_TARGETS[@]}")
    [[ $UI == ON ]] && targets+=(test_scheduler_integration)
    run_stage build 420 ninja -C "$BUILD" -j"${JOBS:-16}" "${targets[@]}"
    BIN_KIND="built here ($BUILD, UI=$UI)"
    for t in "${GPU_TESTS[@]}"; do BIN[$t]="$BUILD/tests/gpu/$t"; done
    BIN[batchscope-gpu-bench]="$BUILD/gpu/batchscope-gpu-bench"
    [[ $UI == ON ]] && BIN[test_scheduler_integration]="$BUILD/tests/integration/test_scheduler_integration"
fi

for t in "${GPU_TESTS[@]}"; do
    if [[ -x "${BIN[$t]:-}" ]]; then
        run_stage "$t" 240 "${BIN[$t]}" --gtest_output="xml:$OUT/$t.xml"
    else
        skip_stage "$t" "binary missing"; FAILED=1
    fi
done

if command -v compute-sanitizer >/dev/null 2>&1 && [[ -x "${BIN[gpu_kernels_test]:-}" ]]; then
    run_stage sanitizer-kernels 240 compute-sanitizer --tool memcheck --error-exitcode 1 "${BIN[gpu_kernels_test]}"
else
    skip_stage sanitizer-kernels "compute-sanitizer or the kernel test missing"
fi

# The scheduler integration suite on the CUDA executor (the engine reads BATCHSCOPE_TEST_DEVICE).
if [[ -x "${BIN[test_scheduler_integration]:-}" ]]; then
    run_stage integration-cuda 300 env BATCHSCOPE_TEST_DEVICE=cuda QT_QPA_PLATFORM=offscreen \
        "${BIN[test_scheduler_integration]}"
    if ! grep -qiE 'cuda (executor|backend|device)|CudaLlamaExecutor' "$OUT/integration-cuda.log"; then
        ROWS+=("| integration-cuda | note: its log never mentions CUDA; the suite may have ignored BATCHSCOPE_TEST_DEVICE | 0 |")
    fi
else
    skip_stage integration-cuda "test_scheduler_integration not built (needs Qt 6)"
fi

if [[ -x "${BIN[batchscope-gpu-bench]:-}" ]]; then
    # shellcheck disable=SC2086
    run_stage bench 420 "${BIN[batchscope-gpu-bench]}" --out "$OUT/bench.md" ${GPU_CHECK_BENCH_ARGS:-}
else
    skip_stage bench "binary missing"; FAILED=1
fi

write_summary
exit $FAILED
