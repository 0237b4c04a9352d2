// SPDX-License-Identifier: GPL-3.0-or-later
// Batchscope's model bench and the peer (peer.mjs: llama.cpp through node-llama-cpp) on the same
// GGUF files, interleaved in one run so the machine's load hits both alike: each round runs
// every file once on each engine, alternating which engine goes first. Prints medians over the
// rounds and the median of the per-round ratios Batchscope / peer.
//   node compare.mjs --batchscope PATH [--rounds R] [--threads T] [--concurrency 1,4,16,32] FILE...
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const args = process.argv.slice(2);
const opt = { batchscope: "", rounds: 2, threads: 2, concurrency: "1,4,16,32" };
const files = [];
for (let i = 0; i < args.length; ++i) {
    const a = args[i];
    if (a.startsWith("--")) opt[a.slice(2)] = args[++i];
    else files.push(a);
}
if (!opt.batchscope || files.length === 0) {
    console.error("usage: node compare.mjs --batchscope PATH [--rounds R] [--threads T] [--concurrency LIST] FILE...");
    process.exit(2);
}
const rounds = Number(opt.rounds), ns = opt.concurrency.split(",").map(Number);
const peerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "peer.mjs");

function run(cmd, argv) {
    const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`);
    return r.stdout;
}

// {n: {prompt, decode, readGBps}} from `batchscope bench --model`'s Markdown table.
function ours(file) {
    const out = run(opt.batchscope, ["bench", "--model", file, "--threads", String(opt.threads), "--repetitions", "1",
        "--concurrency", opt.concurrency]);
    const res = {};
    for (const line of out.split("\n")) {
        const c = line.split("|").map((s) => s.trim());
        if (c.length < 12 || !/^\d+$/.test(c[1])) continue;
        res[Number(c[1])] = { prompt: Number(c[2]), decode: Number(c[3]), read: c[10], probe: c[11] };
    }
    return res;
}

let peerInfo;
function peer(file) {
    const res = {};
    const out = run(process.execPath, [peerScript, file, opt.concurrency, String(opt.threads)]);
    for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const j = JSON.parse(line);
        if (j.info) {
            peerInfo ??= j.info;
            continue;
        }
        if (j.generated !== j.n * 64) throw new Error(`peer generated ${j.generated} tokens at N=${j.n}`);
        res[j.n] = { prompt: j.promptTokPerSec, decode: j.decodeTokPerSec };
    }
    return res;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const data = files.map(() => ({ ours: [], peer: [] }));
for (let r = 0; r < rounds; ++r) {
    files.forEach((f, i) => {
        const order = (r + i) % 2 === 0 ? ["ours", "peer"] : ["peer", "ours"];
        for (const who of order) {
            const t0 = Date.now();
            const res = who === "ours" ? ours(f) : peer(f);
            data[i][who].push(res);
            console.error(`round ${r + 1} ${path.basename(f)} ${who}: ` +
                ns.map((n) => `N=${n} ${res[n].decode.toFixed(1)}`).join(", ") +
                `, prompt ${res[1]?.prompt.toFixed(0)} tok/s (${((Date.now() - t0) / 1e3).toFixed(0)} s)`);
        }
    });
}
if (peerInfo) console.log(`peer: llama.cpp ${JSON.stringify(peerInfo.llamaCpp)}; ${peerInfo.systemInfo}`);
const f1 = (x) => x >= 100 ? x.toFixed(0) : x.toFixed(1);
console.log(`threads ${opt.threads}, ${rounds} rounds, medians; cells: Batchscope / peer tok/s (median of per-round ratios)`);
console.log(`| file | ${ns.map((n) => `N=${n}`).join(" | ")} | prompt tok/s at N=1 |`);
console.log(`|---|${ns.map(() => "---").join("|")}|---|`);
files.forEach((f, i) => {
    const d = data[i];
    const cell = (n, key) => {
        const o = median(d.ours.map((x) => x[n][key])), p = median(d.peer.map((x) => x[n][key]));
        const ratio = median(d.ours.map((x, r) => x[n][key] / d.peer[r][n][key]));
        return `${f1(o)} / ${f1(p)} (**${ratio.toFixed(2)}×**)`;
    };
    console.log(`| ${path.basename(f)} | ${ns.map((n) => cell(n, "decode")).join(" | ")} | ${ns.includes(1) ? cell(1, "prompt") : "-"} |`);
});
console.log(`Batchscope at N=${ns[0]} per round: decode weight+KV read GB/s (% of its probe) [probe: read GB/s, FMA GFLOP/s]:`);
files.forEach((f, i) => console.log(`  ${path.basename(f)}: ${data[i].ours.map((x) => `${x[ns[0]].read} [${x[ns[0]].probe}]`).join("; ")}`));
