// SPDX-License-Identifier: GPL-3.0-or-later
// The peer side of tools/peer-bench.sh: llama.cpp (the prebuilt CPU binaries node-llama-cpp
// ships) on a GGUF file, measured like Batchscope's `bench --model`: N sequences of one context
// (evaluated together in one llama.cpp batch per step), each a 128-token prompt then exactly 64
// generated tokens (greedy, EOS ignored), 2 threads, flash attention, CPU only.
//   node peer.mjs FILE [N,N,...] [threads]
// Prints a JSON line {"info": llama.cpp release and system info}, then one per N: {"n",
// "promptTokPerSec", "decodeTokPerSec", ...}.
// Prompt tok/s: N x 128 prompt tokens / time until every sequence has its first token.
// Decode tok/s: N x 63 tokens / time from the last first token to the last 64th token (the
// tokens produced by decode steps, as Batchscope's bench counts them).
import { writeSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const [file, nList = "1,4,16,32", threadArg = "2"] = process.argv.slice(2);
if (!file) {
    console.error("usage: node peer.mjs FILE [N,N,...] [threads]");
    process.exit(2);
}
const threads = Number(threadArg);
const promptTokens = 128, generated = 64;

const llama = await getLlama({
    gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
    maxThreads: threads, logLevel: LlamaLogLevel.error,
});
const model = await llama.loadModel({ modelPath: file, gpuLayers: 0, useMmap: true });
const vocab = model.fileInsights.ggufFileInfo?.metadata?.tokenizer?.ggml?.tokens?.length ?? 32000;

// Deterministic pseudo-random prompt ids, away from the control tokens at the start.
function prompt(seq) {
    const ids = [];
    let x = 12345 + 7919 * seq;
    for (let i = 0; i < promptTokens; ++i) {
        x = (x * 1103515245 + 12345) % 2147483648;
        ids.push(3 + (x % (vocab - 3)));
    }
    return ids;
}

async function runOne(n) {
    const context = await model.createContext({
        sequences: n, contextSize: promptTokens + generated + 64, batchSize: 2048,
        flashAttention: true, threads,
    });
    try {
        const seqs = Array.from({ length: n }, () => context.getSequence());
        const t0 = performance.now();
        const firsts = new Array(n), lasts = new Array(n), counts = new Array(n).fill(0);
        await Promise.all(seqs.map(async (s, i) => {
            for await (const _tok of s.evaluate(prompt(i), { temperature: 0, yieldEogToken: true })) {
                const t = performance.now();
                if (counts[i] === 0) firsts[i] = t;
                lasts[i] = t;
                if (++counts[i] >= generated) break;
            }
        }));
        const prefillEnd = Math.max(...firsts), end = Math.max(...lasts);
        return {
            n, promptTokPerSec: (n * promptTokens) / ((prefillEnd - t0) / 1e3),
            decodeTokPerSec: (n * (generated - 1)) / ((end - prefillEnd) / 1e3),
            generated: counts.reduce((a, b) => a + b, 0), flashAttention: context.flashAttention,
            threads: context.currentThreads,
        };
    } finally {
        await context.dispose();
    }
}

writeSync(1, JSON.stringify({ info: { llamaCpp: llama.llamaCppRelease, systemInfo: llama.systemInfo } }) + "\n");
// Written synchronously: a pipe write still pending at exit would be lost.
for (const n of nList.split(",").map(Number)) writeSync(1, JSON.stringify({ file, ...(await runOne(n)) }) + "\n");
await model.dispose();
await llama.dispose();
