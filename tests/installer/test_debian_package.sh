#!/usr/bin/env bash
# End-to-end test of the Debian package: builds it with cpack from BUILD_DIR, checks it with
# lintian (errors fail), installs it with apt-get, runs the installed program (--version,
# generate on the demo model, serve + one WebSocket connection), removes it and checks that
# nothing is left. The machine is left as it was: a trap purges the package on any exit.
# usage: test_debian_package.sh BUILD_DIR EXPECTED_VERSION
# Exit 0 pass, 1 fail, 77 skipped (not root, no apt/dpkg, or batchscope already installed).
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

build_dir=${1:?usage: test_debian_package.sh BUILD_DIR EXPECTED_VERSION}
expected_version=${2:?usage: test_debian_package.sh BUILD_DIR EXPECTED_VERSION}

failures=0
skips=()
step() { echo; echo "== $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
skip_step() { echo "SKIP: $*"; skips+=("$*"); }
ok() { echo "ok: $*"; }

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (installs a package)"; exit 77; fi
cpack=${BATCHSCOPE_CPACK:-cpack}
for tool in apt-get dpkg dpkg-deb setsid "$cpack"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not available"; exit 77; }
done
for name in batchscope batchscope-cuda; do
    if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "ok installed"; then
        echo "SKIP: $name is already installed on this machine; not touching it"
        exit 77
    fi
done

# apt-get in its own session: an interrupt of this script (Ctrl+C, a process-group kill) must
# never hit dpkg half-way; bash runs the cleanup trap once apt-get has finished. It waits for
# the dpkg lock instead of failing when another apt run holds it.
apt_run() {
    setsid -w env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 "$@"
}

work=$(mktemp -d /tmp/batchscope-deb-test.XXXXXX)
chmod 755 "$work"  # apt's sandbox user must be able to read the .deb
package=""
serve_pid=""
placeholder=""
# The trap can fire inside a redirected command: write to the original stdout/stderr.
exec 3>&1 4>&2
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    exec 1>&3 2>&4
    [ "${interrupted:-0}" = 1 ] && [ -f "$work/apt.log" ] && { echo "interrupted; apt-get said:"; tail -n 5 "$work/apt.log"; }
    [ -n "$placeholder" ] && rm -f "$placeholder"
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; fi
    if [ -n "$package" ] && dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        echo "cleanup: purging $package"
        apt_run purge "$package" >/dev/null 2>&1 ||
            { setsid -w dpkg --configure -a; apt_run purge "$package"; }
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'interrupted=1; exit 1' INT TERM

# --- 1. Build the package.
step "cpack in $build_dir"
if ! (cd "$build_dir" && "$cpack" -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1); then
    cat "$work/cpack.log" >&2
    echo "FAIL: cpack failed" >&2
    exit 1
fi
deb=$(find "$work/cpack" -maxdepth 1 -name 'batchscope*_*.deb' | head -n1)
[ -n "$deb" ] || { cat "$work/cpack.log" >&2; echo "FAIL: cpack wrote no .deb" >&2; exit 1; }
cp "$deb" "$work/" && deb="$work/$(basename "$deb")"
package=$(dpkg-deb -f "$deb" Package)
ok "built $(basename "$deb") (package $package)"
dpkg-deb -f "$deb"

[ "$(dpkg-deb -f "$deb" Version)" = "$expected_version" ] ||
    fail "package version $(dpkg-deb -f "$deb" Version) != project version $expected_version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "$depends" | grep -q 'libqt6gui6' || fail "Depends lacks libqt6gui6 (Qt platform plugins): $depends"
if echo "$depends" | grep -qiE 'cuda|nvidia|cublas'; then fail "Depends names CUDA libraries: $depends"; fi
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/batchscope ./usr/share/man/man1/batchscope.1.gz ./usr/share/doc/batchscope/copyright \
            ./usr/share/applications/io.github.batchscope.Batchscope.desktop \
            ./usr/share/metainfo/io.github.batchscope.Batchscope.metainfo.xml \
            ./usr/share/icons/hicolor/scalable/apps/batchscope.svg \
            ./usr/share/icons/hicolor/48x48/apps/batchscope.png; do
    echo "$contents" | grep -q " $path\$" || fail "package lacks $path"
done
if echo "$contents" | grep -q ' \./usr/local\|/include/\|\.a$'; then fail "package contains stray files"; fi

# --- 2. lintian: errors fail; warnings are listed in docs/installing.md.
step "lintian"
if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1
    cat "$work/lintian.log"
    if grep -q '^E:' "$work/lintian.log"; then fail "lintian reports errors"; else ok "no lintian errors"; fi
else
    skip_step "lintian is not installed (apt-get install lintian)"
fi

# --- 3. Metadata validators, when present.
step "desktop entry and AppStream metadata"
tmpx="$work/extract"
dpkg-deb -x "$deb" "$tmpx"
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$tmpx/usr/share/metainfo/io.github.batchscope.Batchscope.metainfo.xml" ||
        fail "appstreamcli validate failed"
    grep -q "<release version=\"$expected_version\"" "$tmpx/usr/share/metainfo/io.github.batchscope.Batchscope.metainfo.xml" ||
        fail "metainfo has no release $expected_version"
else
    skip_step "appstreamcli is not installed"
fi
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$tmpx/usr/share/applications/io.github.batchscope.Batchscope.desktop" ||
        fail "desktop-file-validate failed"
fi

# --- 3b. Would a minimal Debian system resolve the dependencies? Simulate apt-get install
# against a dpkg status holding only the required/important packages and their dependencies.
step "dependency resolution on a minimal system (apt-get -s)"
if /usr/bin/python3 - "$work/minimal-status" <<'PY'
import re, sys
paras, provides = {}, {}
for para in open("/var/lib/dpkg/status", encoding="utf-8").read().split("\n\n"):
    m = re.search(r"^Package: (\S+)", para, re.M)
    if not m or "Status: install ok installed" not in para:
        continue
    paras[m.group(1)] = para
    pm = re.search(r"^Provides: (.*)$", para, re.M)
    for p in (pm.group(1).split(",") if pm else []):
        provides.setdefault(p.strip().split()[0], m.group(1))
def deps(para):
    for field in ("Pre-Depends", "Depends"):
        m = re.search(r"^%s: (.*)$" % field, para, re.M)
        for alt in (m.group(1).split(",") if m else []):
            for a in alt.split("|"):
                n = a.strip().split()[0].split(":")[0]
                if n in paras or n in provides:
                    yield n if n in paras else provides[n]
                    break
todo = [n for n, p in paras.items() if re.search(r"^(Priority: (required|important)|Essential: yes)", p, re.M)]
seen = set()
while todo:
    n = todo.pop()
    if n not in seen:
        seen.add(n)
        todo.extend(deps(paras[n]))
open(sys.argv[1], "w", encoding="utf-8").write("\n\n".join(paras[n] for n in sorted(seen)) + "\n")
print(f"minimal system: {len(seen)} packages")
PY
then
    if apt-get -s -o Dir::State::status="$work/minimal-status" install --no-install-recommends "$deb" \
        >"$work/simulate.log" 2>&1 && grep -q "^Inst $package " "$work/simulate.log"; then
        ok "apt resolves every dependency from the archive ($(grep -c '^Inst' "$work/simulate.log") packages)"
    elif grep -qE "Unable to locate|has no installation candidate|unmet dependencies" "$work/simulate.log"; then
        cat "$work/simulate.log"
        fail "a minimal Debian 12 could not install the package"
    else
        tail -n 5 "$work/simulate.log"
        skip_step "simulation: apt-get -s did not run (no package lists? run apt-get update)"
    fi
else
    skip_step "simulation: could not derive a minimal dpkg status"
fi

# --- 4. Install with apt-get, as a user would.
step "apt-get install $deb"
if ! apt_run install --no-install-recommends "$deb" >"$work/apt.log" 2>&1; then
    cat "$work/apt.log" >&2
    echo "FAIL: apt-get install failed" >&2
    exit 1
fi
ok "installed"
[ -x /usr/bin/batchscope ] || fail "/usr/bin/batchscope is not installed"
if ldd /usr/bin/batchscope | grep -q 'not found'; then
    ldd /usr/bin/batchscope | grep 'not found' >&2
    fail "the installed program misses shared libraries"
fi
if readelf -d /usr/bin/batchscope 2>/dev/null | grep -qE 'RPATH|RUNPATH'; then fail "the installed binary has an RPATH"; fi

# Run the installed program with a private HOME/XDG so that nothing of root's changes.
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
export QT_QPA_PLATFORM=offscreen
unset BATCHSCOPE_DEMO_MODEL
mkdir -p "$XDG_CONFIG_HOME"
cd "$work" || exit 1

# --- 5. --version agrees with project(VERSION).
step "batchscope --version"
version_out=$(/usr/bin/batchscope --version 2>&1)
echo "$version_out"
[ "$version_out" = "batchscope $expected_version" ] || fail "--version printed '$version_out', expected 'batchscope $expected_version'"

# --- 6. generate on the installed demo model.
step "batchscope generate on the installed demo model"
model=/usr/share/batchscope/models/demo.gguf
demo_works=0
if [ ! -f "$model" ]; then
    skip_step "generate: $model is not packaged (resources/models/demo.gguf is missing from this tree)"
    # Still prove the relocatable lookup (exe/../share/batchscope/models): with a stand-in file
    # there, the installed program must try to open exactly that path.
    printf 'not a gguf file' >"$model" && placeholder=$model
    /usr/bin/batchscope tokenize --text hi >"$work/tokenize.out" 2>&1
    cat "$work/tokenize.out"
    if grep -q "$model" "$work/tokenize.out"; then
        ok "the installed program looks for the demo model at $model"
    else
        fail "the installed program did not look for the demo model at $model"
    fi
    rm -f "$model"; placeholder=""
else
    timeout 120 /usr/bin/batchscope generate --max-tokens 8 --prompt "The capital of France is" \
        >"$work/generate.out" 2>"$work/generate.err"
    rc=$?
    cat "$work/generate.out"; cat "$work/generate.err"
    if [ $rc -ne 0 ] && grep -q "runtime is not built yet" "$work/generate.err"; then
        skip_step "generate: the model runtime is not part of this build yet (the model was found: the error names $model)"
        grep -q "$model" "$work/generate.err" || fail "generate did not look for the model at $model"
    elif [ $rc -ne 0 ]; then
        fail "generate exited with $rc"
    elif ! grep -q '[^[:space:]]' "$work/generate.out"; then
        fail "generate printed no text"
    elif ! grep -q 'generated' "$work/generate.err"; then
        fail "generate printed no summary line"
    else
        demo_works=1
        ok "generate produced a completion from $model"
    fi
fi

# --- 7. serve --port 0 and one WebSocket connection.
step "batchscope serve --port 0 and a WebSocket client"
model_args=()
if [ "$demo_works" -ne 1 ]; then model_args=(--model simulated); fi
if ! /usr/bin/batchscope serve --help 2>/dev/null | grep -q -- '--port'; then
    skip_step "serve: this build's serve has no --port option yet (the WebSocket API is not merged)"
elif ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    skip_step "serve: /usr/bin/python3 lacks the websockets module (apt-get install python3-websockets)"
else
    token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    /usr/bin/batchscope serve --port 0 --token "$token" "${model_args[@]}" >"$work/serve.log" 2>&1 &
    serve_pid=$!
    url=""
    for _ in $(seq 1 120); do
        url=$(grep -oE 'ws://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+' "$work/serve.log" | head -n1)
        [ -n "$url" ] && break
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.5
    done
    if [ -z "$url" ]; then
        cat "$work/serve.log"
        if kill -0 "$serve_pid" 2>/dev/null; then
            skip_step "serve: it runs but prints no ws://HOST:PORT listening URL, so a client cannot find the port"
        else
            fail "serve exited early"
        fi
    else
        echo "server: $url"
        if URL="$url" TOKEN="$token" timeout 30 /usr/bin/python3 - <<'PY'
import asyncio, json, os, sys
import websockets

async def main():
    headers = {"Authorization": "Bearer " + os.environ["TOKEN"]}
    async with websockets.connect(os.environ["URL"] + "/", extra_headers=headers) as ws:
        await ws.send(json.dumps({"type": "hello", "id": "h1", "protocol": "batchscope.v1",
                                  "token": os.environ["TOKEN"], "client": "package-test"}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        print("reply:", reply)
        if reply.get("type") != "welcome":
            sys.exit("expected a welcome reply")

asyncio.run(main())
PY
        then
            ok "a WebSocket client connected to the installed server"
        else
            cat "$work/serve.log"
            fail "WebSocket connection to $url failed"
        fi
    fi
    kill "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
    serve_pid=""
fi
[ -e "$HOME/.config" ] && find "$HOME" -type f | sed 's/^/config written: /'
find /usr/share/batchscope -newer "$deb" -type f 2>/dev/null | grep -q . &&
    fail "the program wrote into /usr/share/batchscope"

# --- 8. Remove: nothing may be left.
step "apt-get purge $package"
cd / || exit 1
if ! apt_run purge "$package" >"$work/remove.log" 2>&1; then
    cat "$work/remove.log" >&2
    fail "apt-get purge failed"
fi
[ -e /usr/bin/batchscope ] && fail "/usr/bin/batchscope is still there after removal"
[ -e /usr/share/batchscope ] && fail "/usr/share/batchscope is still there after removal: $(find /usr/share/batchscope)"
for path in /usr/share/applications/io.github.batchscope.Batchscope.desktop /usr/share/man/man1/batchscope.1.gz \
            /usr/share/doc/batchscope /usr/share/icons/hicolor/scalable/apps/batchscope.svg; do
    [ -e "$path" ] && fail "$path is still there after removal"
done
dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" && fail "$package is still installed"

echo
if [ ${#skips[@]} -gt 0 ]; then
    echo "skipped steps (not passes):"
    printf '  - %s\n' "${skips[@]}"
fi
if [ "$failures" -gt 0 ]; then echo "FAILED: $failures check(s)"; exit 1; fi
echo "PASSED"
exit 0
