#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2012  # single-quoted scripts run by bash -c; ls -A of a folder we made
# SPDX-License-Identifier: GPL-3.0-or-later
# tools/gpu-check.sh without a GPU (no CUDA needed): (1) the dry run starts every stage, the GPU
# stages read "no GPU: skipped (reason)", and OUTPUT_DIR gets summary.md + gpu-check-logs.tar.gz
# only; (2) on a fake GPU machine (fake nvidia-smi, compute-sanitizer and packed binaries that
# print gtest output) all-skipped, partly skipped and failed tests, a refusing sanitizer and the
# verdict read right; (3) Qt Test logs; (4) --check-pack accepts only allowed or packed libraries
# and the 40 MiB limit.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRIPT="$ROOT/tools/gpu-check.sh"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0

check() {  # check DESCRIPTION COMMAND...: one assertion
    if "${@:2}"; then echo "ok    $1"; else echo "FAIL  $1"; FAILS=$((FAILS + 1)); fi
}
row() { grep -F "| $2 |" "$1/summary.md"; }                    # a stage's summary row
row_has() { row "$1" "$2" | grep -qF -- "$3"; }
only_two_files() { [[ "$(cd "$1" && ls -A | tr '\n' ' ')" == "gpu-check-logs.tar.gz summary.md " ]]; }
GPU_STAGES=(build gpu_probe_test gpu_kernels_test gpu_executor_test gpu_scheduler_test integration-cuda bench sanitizer-kernels)
ALL_STAGES=(environment libraries "${GPU_STAGES[@]}")

# ---- 1. dry run ----------------------------------------------------------------------------------
mkdir -p "$TMP/nopack"
GPU_CHECK_PACK_DIR="$TMP/nopack" "$SCRIPT" --dry-run "$TMP/dry" >"$TMP/dry.out" 2>&1
check "dry run exits 0" [ $? -eq 0 ]
check "dry run writes exactly summary.md and gpu-check-logs.tar.gz" only_two_files "$TMP/dry"
for s in "${GPU_STAGES[@]}"; do
    check "dry run: $s reads 'no GPU: skipped (dry run...)'" row_has "$TMP/dry" "$s" "no GPU: skipped (dry run"
done
check "dry run: environment runs" row_has "$TMP/dry" environment "| ok |"
check "dry run: verdict says no GPU" grep -qF "Verdict: **NO GPU" "$TMP/dry/summary.md"
tar -tzf "$TMP/dry/gpu-check-logs.tar.gz" >"$TMP/dry.list"
for s in "${ALL_STAGES[@]}"; do check "dry run: archive holds $s.log" grep -qx "./$s.log" "$TMP/dry.list"; done

# ---- 2. a fake GPU machine -------------------------------------------------------------------------
mkdir -p "$TMP/fakebin" "$TMP/pack"
cat >"$TMP/fakebin/nvidia-smi" <<'EOF'
#!/bin/sh
[ "$1" = "-L" ] && { echo "GPU 0: Fake H200 (UUID: GPU-0)"; exit 0; }
echo "fake nvidia-smi"
EOF
cat >"$TMP/fakebin/compute-sanitizer" <<'EOF'
#!/bin/sh
echo "========= COMPUTE-SANITIZER"
echo "========= Error: Device not supported. Please refer to the documentation."
exit 1
EOF
# gtest-style fake test: fake_gtest TOTAL SKIPPED FAILED
gtest_fake() {
    cat <<EOF
#!/bin/sh
echo "[==========] Running $1 tests from 1 test suite."
i=0; while [ \$i -lt $2 ]; do echo "[ RUN      ] Fake.Skip\$i"; echo "fake.cpp:10: Skipped"; echo "no CUDA device: fake reason"; echo "[  SKIPPED ] Fake.Skip\$i (0 ms)"; i=\$((i+1)); done
echo "[==========] $1 tests from 1 test suite ran. (1 ms total)"
echo "[  PASSED  ] $(($1 - $2 - $3)) tests."
[ $2 -gt 0 ] && echo "[  SKIPPED ] $2 tests, listed below:"
[ $3 -gt 0 ] && { echo "[  FAILED  ] $3 tests, listed below:"; echo " $3 FAILED TESTS"; exit 1; }
exit 0
EOF
}
gtest_fake 2 0 0 >"$TMP/pack/gpu_probe_test"
gtest_fake 7 7 0 >"$TMP/pack/gpu_kernels_test"
gtest_fake 3 1 0 >"$TMP/pack/gpu_executor_test"
gtest_fake 2 0 1 >"$TMP/pack/gpu_scheduler_test"
cat >"$TMP/pack/batchscope-gpu-bench" <<'EOF'
#!/bin/sh
[ "$1" = "--out" ] && printf '| N | decode tok/s |\n|---|---|\n| 1 | 123 |\n' >"$2"
echo "bench done"
EOF
echo fake >"$TMP/pack/COMMIT"
chmod +x "$TMP/fakebin"/* "$TMP/pack"/*
PATH="$TMP/fakebin:$PATH" GPU_CHECK_PACK_DIR="$TMP/pack" "$SCRIPT" "$TMP/fake" >"$TMP/fake.out" 2>&1
check "fake GPU: a failed stage makes the run exit 1" [ $? -eq 1 ]
check "fake GPU: exactly summary.md and the archive" only_two_files "$TMP/fake"
check "fake GPU: build reads ok (the pack)" row_has "$TMP/fake" build "ok: using the carried pack"
check "fake GPU: libraries of the pack ok" row_has "$TMP/fake" libraries "| ok |"
check "fake GPU: all-passed test reads ok" row_has "$TMP/fake" gpu_probe_test "ok (2 tests)"
check "fake GPU: all-skipped test reads SKIPPED with the reason" \
    row_has "$TMP/fake" gpu_kernels_test "SKIPPED: all 7 tests skipped: no CUDA device: fake reason"
check "fake GPU: partly skipped test says how many" row_has "$TMP/fake" gpu_executor_test "ok, 1 of 3 tests skipped"
check "fake GPU: failed test reads FAILED" row_has "$TMP/fake" gpu_scheduler_test "FAILED (exit 1; 1 of 2 tests failed)"
check "fake GPU: integration skipped without Qt" row_has "$TMP/fake" integration-cuda "skipped: needs Qt 6"
check "fake GPU: bench ok and its table in the summary" grep -qF "| 1 | 123 |" "$TMP/fake/summary.md"
check "fake GPU: a sanitizer refusing the device reads not available" \
    row_has "$TMP/fake" sanitizer-kernels "skipped: compute-sanitizer not available here: ========= Error: Device not supported"
check "fake GPU: verdict FAILED" grep -qF "Verdict: **FAILED**" "$TMP/fake/summary.md"

# Without the failing test the run passes with verdict INCOMPLETE (skips are no failure).
gtest_fake 2 0 0 >"$TMP/pack/gpu_scheduler_test"
PATH="$TMP/fakebin:$PATH" GPU_CHECK_PACK_DIR="$TMP/pack" "$SCRIPT" "$TMP/fake2" >"$TMP/fake2.out" 2>&1
check "fake GPU, no failure: exit 0" [ $? -eq 0 ]
check "fake GPU, no failure: verdict INCOMPLETE, naming the skipped stages" \
    grep -qF "Verdict: **INCOMPLETE: skipped gpu_kernels_test, integration-cuda, sanitizer-kernels**" "$TMP/fake2/summary.md"

# A stage cut by the run's budget reads as skipped (no verdict on the code), later ones as not started.
printf '#!/bin/sh\nsleep 60\n' >"$TMP/pack/gpu_probe_test"
PATH="$TMP/fakebin:$PATH" GPU_CHECK_PACK_DIR="$TMP/pack" GPU_CHECK_BUDGET=26 "$SCRIPT" "$TMP/fake3" >"$TMP/fake3.out" 2>&1
check "budget: exit 0" [ $? -eq 0 ]
check "budget: the running stage reads cut" row_has "$TMP/fake3" gpu_probe_test "skipped: cut after"
check "budget: a later stage reads not started" row_has "$TMP/fake3" bench "skipped: not started, the 26s budget is spent"

# ---- 3. Qt Test logs ------------------------------------------------------------------------------
cat >"$TMP/qskip.log" <<'EOF'
********* Start testing of SchedulerIntegrationTest *********
SKIP   : SchedulerIntegrationTest::initTestCase() no CUDA executor: CUDA backend unavailable
Totals: 0 passed, 0 failed, 1 skipped, 0 blacklisted, 1ms
EOF
check "Qt Test: QSKIP in initTestCase reads SKIPPED" \
    bash -c '[[ "$("$0" --test-status "$1" 0)" == "SKIPPED: all 1 tests skipped: no CUDA executor: CUDA backend unavailable" ]]' "$SCRIPT" "$TMP/qskip.log"
cat >"$TMP/qpart.log" <<'EOF'
PASS   : T::initTestCase()
PASS   : T::a()
SKIP   : T::b() needs more
PASS   : T::cleanupTestCase()
Totals: 3 passed, 0 failed, 1 skipped, 0 blacklisted, 5ms
EOF
check "Qt Test: one of two skipped reads ok, 1 of 2" \
    bash -c '[[ "$("$0" --test-status "$1" 0)" == "ok, 1 of 2 tests skipped: needs more" ]]' "$SCRIPT" "$TMP/qpart.log"

# ---- 4. --check-pack -------------------------------------------------------------------------------
mkdir -p "$TMP/okpack" "$TMP/badpack"
for b in gpu_probe_test gpu_kernels_test gpu_executor_test gpu_scheduler_test batchscope-gpu-bench; do
    cp "$(type -P true)" "$TMP/okpack/$b"      # libc only
    cp "$(type -P true)" "$TMP/badpack/$b"
done
cp "$(type -P tar)" "$TMP/badpack/gpu_probe_test"  # libacl, libselinux: outside the allow-list
check "check-pack: libc-only executables pass" "$SCRIPT" --check-pack "$TMP/okpack"
"$SCRIPT" --check-pack "$TMP/badpack" >"$TMP/bad.out" 2>&1
check "check-pack: a library from the system outside the allow-list fails" [ $? -ne 0 ]
check "check-pack: names the library" grep -q "BAD .*gpu_probe_test: libacl" "$TMP/bad.out"
truncate -s 41M "$TMP/okpack/big"
check "check-pack: over 40 MiB fails" bash -c '! "$0" --check-pack "$1" >/dev/null' "$SCRIPT" "$TMP/okpack"

if (( FAILS )); then
    echo "$FAILS check(s) failed; outputs:"
    cat "$TMP/dry.out" "$TMP/fake.out"
    exit 1
fi
echo "all checks passed"
