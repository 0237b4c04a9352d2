#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Batchscope vs the peer engine (llama.cpp's CPU build, as the prebuilt binaries of the npm
# package node-llama-cpp) on the same GGUF files, interleaved in one run (bench/peer/).
#   tools/peer-bench.sh [--build DIR] [--work DIR] [--shapes small,medium] [--types Q4_K_M,Q4_0,Q8_0]
#                       [--rounds 2] [--threads 2] [--concurrency 1,4,16,32] [FILE.gguf...]
# Without FILEs it writes the random F16 model of each shape (batchscope_random_gguf, seed 1)
# and quantises it with `batchscope quantize` to each type (kept in the work dir for reruns).
# node-llama-cpp is installed into the work dir at run time with npm (install scripts off: no
# llama.cpp download or build; the CPU binaries come from @node-llama-cpp/linux-x64).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build" work="${TMPDIR:-/tmp}/batchscope-peer-bench"
shapes=small types=Q4_K_M,Q4_0,Q8_0 rounds=2 threads=2 concurrency=1,4,16,32
files=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --shapes) shapes="$2"; shift 2 ;;
        --types) types="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --concurrency) concurrency="$2"; shift 2 ;;
        -h|--help) sed -n '3,10p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) files+=("$1"); shift ;;
    esac
done
batchscope="$build/app/batchscope"
for tool in "$batchscope" "$build/tests/engine/cpu/batchscope_random_gguf"; do
    [ -x "$tool" ] || { echo "missing $tool: build the batchscope and batchscope_random_gguf targets" >&2; exit 1; }
done
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm (Node >= 20) are needed" >&2; exit 1; }
mkdir -p "$work/npm"
if [ ! -d "$work/npm/node_modules/@node-llama-cpp/linux-x64" ] || ! cmp -s "$root/bench/peer/package.json" "$work/npm/package.json"; then
    cp "$root/bench/peer/package.json" "$work/npm/"
    echo "npm install node-llama-cpp into $work/npm" >&2
    (cd "$work/npm" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --ignore-scripts --no-audit --no-fund >&2)
fi
cp "$root/bench/peer/peer.mjs" "$root/bench/peer/compare.mjs" "$work/npm/"
if [ ${#files[@]} -eq 0 ]; then
    for shape in ${shapes//,/ }; do
        f16="$work/$shape-F16.gguf"
        [ -s "$f16" ] || "$build/tests/engine/cpu/batchscope_random_gguf" "$shape" llama 1 "$f16" F16
        for type in ${types//,/ }; do
            out="$work/$shape-$type.gguf"
            [ -s "$out" ] || "$batchscope" quantize --threads "$threads" "$f16" "$out" "$type" >&2
            files+=("$out")
        done
    done
fi
echo "$(date -u '+%F %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs" >&2
node "$work/npm/compare.mjs" --batchscope "$batchscope" --rounds "$rounds" --threads "$threads" \
    --concurrency "$concurrency" "${files[@]}"
