#!/usr/bin/env bash
# Real clients against `batchscope serve --model simulated --http-port 0`:
#   promtool    Debian's `promtool check metrics` on /metrics after a few completions
#   openai-sdk  the official OpenAI SDK for JavaScript (npm `openai`, installed at test time
#               into CACHE_DIR, kept there for later runs): completions and chat completions,
#               plain and streamed
#   prometheus  a real Prometheus server (Debian `prometheus`) scrapes /metrics every second;
#               vllm:num_requests_running is read back through its HTTP query API
# Exit 77 (CTest SKIP) with a message when the tool or the npm registry is not reachable.
# Usage: http_clients_test.sh MODE /path/to/batchscope [CACHE_DIR]
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
mode=$1
binary=$2
cache=${3:-}
token=http-clients-test-token-0123456789
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }

case $mode in
promtool) command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)";;
prometheus) command -v prometheus >/dev/null || skip "prometheus not installed (Debian package prometheus)";;
openai-sdk)
    command -v node >/dev/null && command -v npm >/dev/null || skip "node/npm not installed"
    # Installed once into the cache folder (the build tree), before the server starts; a
    # registry that cannot be reached skips the test instead of failing it.
    sdk=${cache:-$work/sdk}
    mkdir -p "$sdk"
    if [ ! -f "$sdk/node_modules/openai/package.json" ]; then
        (cd "$sdk" && { [ -f package.json ] || npm init -y >/dev/null; } &&
         timeout 180 npm install --no-audit --no-fund --prefer-offline --fetch-retries=1 --fetch-timeout=20000 openai@4 >npm.log 2>&1) ||
            skip "npm could not install the openai package (no registry access?): $(tail -n 3 "$sdk/npm.log" | tr '\n' ' ')"
    fi
    ;;
*) echo "unknown mode $mode"; exit 2;;
esac

"$binary" serve --model simulated --port 0 --http-port 0 --http-rate 1000 --token "$token" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
url=
for _ in $(seq 1 100); do
    url=$(sed -n 's/^http listening on //p' "$work/serve.out")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err"; echo "FAIL: serve exited"; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.err"; echo "FAIL: no HTTP URL printed"; exit 1; }
url=${url%/}
echo "server at $url"

if [ "$mode" = prometheus ]; then
    # Keep requests running while Prometheus scrapes: four clients loop over streamed
    # completions (the simulated model ends each within about a second).
    for _ in 1 2 3 4; do
        (while :; do curl -sN -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d '{"prompt": "hello", "max_tokens": 400, "stream": true}' "$url/v1/completions" >/dev/null || sleep 0.2; done) &
    done
    prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: batchscope
    metrics_path: /metrics
    authorization: {type: Bearer, credentials: $token}
    static_configs: [{targets: ['${url#http://}']}]
YAML
    prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
        --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
    prom_pid=$!
    trap 'kill $prom_pid 2>/dev/null; wait $prom_pid 2>/dev/null; kill $(jobs -p) 2>/dev/null; cleanup' EXIT
    query='max_over_time(vllm:num_requests_running[30s])'
    # A generous deadline (it normally answers within a few seconds): on a loaded 2-core CI
    # machine Prometheus' start (TSDB, first scrapes) took long enough to fail a 25 s wait once.
    for _ in $(seq 1 240); do
        sleep 0.5
        answer=$(curl -sfG "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$query" || true)
        value=$(printf '%s' "$answer" | python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["metric"].get("model_name", "?") + " " + r[0]["value"][1] if r else "")
except Exception: print("")' )
        if [ -n "$value" ] && [ "${value##* }" != 0 ]; then
            echo "PASS: Prometheus read back $query = ${value##* } (model_name=${value%% *})"
            curl -sfG "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode 'query=up{job="batchscope"}'; echo
            exit 0
        fi
    done
    echo "last answer: $answer"
    tail -n 20 "$work/prometheus.log"
    echo "FAIL: Prometheus did not report vllm:num_requests_running >= 1 within 120 s"
    exit 1
fi

if [ "$mode" = promtool ]; then
    for stream in false true; do
        curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"prompt\": \"hello\", \"max_tokens\": 8, \"stream\": $stream}" "$url/v1/completions" >/dev/null
    done
    curl -sf -H "Authorization: Bearer $token" "$url/metrics" >"$work/metrics.txt"
    grep -q '^vllm:request_success_total{model_name=".*",finished_reason="length"} 2$' "$work/metrics.txt" ||
        { cat "$work/metrics.txt"; echo "FAIL: request_success_total is not 2"; exit 1; }
    # promtool parses the exposition (exit 1 on a format error) and then lints it (exit 3 on
    # problems). Its lint flags every name with ':' (colons are meant for recording rules);
    # vLLM's names, which Grafana dashboards expect, have them, and vLLM's own /metrics gets the
    # same notes. Every other lint problem fails the test.
    rc=0
    promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 || rc=$?
    cat "$work/promtool.out"
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 3 ] || { echo "FAIL: promtool exit $rc (not a lint-only result)"; exit 1; }
        if grep -v "metric names should not contain ':'" "$work/promtool.out" | grep -q .; then
            echo "FAIL: promtool found problems besides the ':' in vLLM's names"; exit 1
        fi
    fi
    echo "PASS: promtool check metrics (parse clean; lint: only the ':' of vLLM's names)"
    exit 0
fi

cat >"$work/client.mjs" <<'JS'
import OpenAI from 'openai';
const client = new OpenAI({ baseURL: process.env.BASE_URL + '/v1', apiKey: process.env.TOKEN });
const assert = (cond, what) => { if (!cond) { console.error('FAIL: ' + what); process.exit(1); } };
const models = await client.models.list();
const model = models.data[0].id;
assert(model, 'a model id');
const plain = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 6, temperature: 0, seed: 1 });
assert(plain.choices[0].finish_reason === 'length', 'finish_reason length: ' + JSON.stringify(plain));
assert(plain.usage.completion_tokens === 6, 'usage.completion_tokens 6');
const stream = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 6, temperature: 0,
                                                 seed: 1, stream: true, stream_options: { include_usage: true } });
let text = '', finish = null, usage = null;
for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) { text += c.text; if (c.finish_reason) finish = c.finish_reason; }
}
assert(finish === 'length', 'streamed finish_reason length');
assert(usage && usage.completion_tokens === 6, 'streamed usage');
assert(text.length > 0, 'streamed text');
try {
    await client.completions.create({ model, prompt: 'x', n: 2 });
    assert(false, 'n = 2 refused');
} catch (e) {
    assert(e instanceof OpenAI.APIError && e.status === 400 && e.param === 'n', 'n = 2 -> 400 param n: ' + e);
}
const chat = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'Be brief.' },
                                                                      { role: 'user', content: 'hi' }],
                                                     max_completion_tokens: 5, temperature: 0 });
assert(chat.choices[0].message.role === 'assistant' && chat.choices[0].finish_reason === 'length', 'chat reply');
assert(chat.usage.completion_tokens === 5, 'chat usage');
const chatStream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }],
                                                         max_tokens: 5, stream: true,
                                                         stream_options: { include_usage: true } });
let chatText = '', chatFinish = null, chatUsage = null;
for await (const chunk of chatStream) {
    if (chunk.usage) chatUsage = chunk.usage;
    for (const c of chunk.choices) { chatText += c.delta.content ?? ''; if (c.finish_reason) chatFinish = c.finish_reason; }
}
assert(chatFinish === 'length' && chatUsage && chatUsage.completion_tokens === 5, 'streamed chat');
try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }],
                                           tools: [{ type: 'function', function: { name: 'f' } }] });
    assert(false, 'tools refused');
} catch (e) {
    assert(e instanceof OpenAI.APIError && e.status === 400 && e.param === 'tools', 'tools -> 400 param tools: ' + e);
}
const bad = new OpenAI({ baseURL: process.env.BASE_URL + '/v1', apiKey: 'wrong-token-wrong-token', maxRetries: 0 });
try { await bad.models.list(); assert(false, 'wrong token refused'); }
catch (e) { assert(e.status === 401, 'wrong token -> 401'); }
console.log('PASS: openai SDK ' + (OpenAI.VERSION || ''));
JS
ln -s "$sdk/node_modules" "$work/node_modules"
(cd "$work" && BASE_URL=$url TOKEN=$token node client.mjs)
