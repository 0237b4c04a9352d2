#!/usr/bin/env bash
# Batchscope quick start on Debian 12: installs what is missing (apt-get), builds, then
#   tools/quickstart.sh run    builds the app only and starts it on the bundled demo model
#   tools/quickstart.sh test   builds from scratch and runs every test (what CI runs)
# Extra arguments after `run` go to batchscope (e.g. `run serve`, `run generate --prompt ...`).
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
[ $# -gt 0 ] && shift

packages=(cmake ninja-build g++ ccache pkg-config file libsqlite3-dev
          qt6-base-dev libqt6sql6-sqlite qt6-websockets-dev libqcustomplot-dev libqcustomplot2.1-qt6
          libspdlog-dev libopenblas-dev libgtest-dev nlohmann-json3-dev libpcre2-dev
          libcpp-httplib-dev prometheus openssl
          python3 python3-websockets dpkg-dev lintian appstream
          clang libclang-rt-14-dev)  # clang: the libFuzzer targets (tools/fuzz.sh)

install_missing() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

jobs=$(nproc)
# ccache (~/.cache/ccache, or CCACHE_DIR): a rebuild from scratch of an unchanged tree takes
# seconds; CI gives it an empty cache of its own, shared by its stages (.ci/run).
launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)

case "$mode" in
run)
    install_missing
    # The app finds the demo model in the source tree (resources/models, next to build/).
    if [ ! -s resources/models/demo.gguf ]; then
        echo "error: resources/models/demo.gguf (the bundled demo model) is missing" >&2
        exit 1
    fi
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"
    # Only the program and what it links: no test executables, no CUDA backend.
    cmake --build build -j "$jobs" --target batchscope
    exec build/app/batchscope "$@"
    ;;
test)
    install_missing
    rm -rf build-test
    cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"
    cmake --build build-test -j "$jobs"
    ctest --test-dir build-test --output-on-failure -j "$jobs" "$@"
    ;;
*)
    echo "usage: tools/quickstart.sh run|test [args...]" >&2
    exit 2
    ;;
esac
