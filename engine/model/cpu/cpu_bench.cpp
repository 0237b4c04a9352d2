// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/cpu_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/metrics/percentile.h"
#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/machine_probe.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "engine/model/model_quantizer.h"

namespace batchscope::engine::cpu {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// p in 0..1; the project's one convention (engine/metrics/percentile.h).
double percentile(std::vector<double> v, double p) { return percentileOf(std::move(v), p * 100.0); }

// Resident set of this process in MiB (VmRSS; mapped file pages count once touched); 0 where
// /proc is not available.
double residentMiB() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0.0;
}

std::string loadReport(double seconds, double openSeconds, const std::string& path) {
    char line[240];
    std::error_code ec;
    const auto size = path.empty() ? 0 : std::filesystem::file_size(path, ec);
    std::snprintf(line, sizeof line, "loaded in %.3f s (opening/mapping the file %.3f s); resident %.0f MiB%s%.0f MiB",
                  seconds, openSeconds, residentMiB(), path.empty() || ec ? "" : ", file ",
                  path.empty() || ec ? 0.0 : static_cast<double>(size) / 1048576.0);
    return line;
}

struct Seq {
    std::vector<TokenId> tokens;
    std::vector<BlockId> blocks;
    std::int32_t computed = 0;
    int generated = 0;
};

// Bytes of every layer matrix (read once per step) and FLOPs per token through them.
struct Cost {
    double layerBytes = 0, outputBytes = 0, layerFlopsPerToken = 0, outputFlopsPerToken = 0;
};

Cost modelCost(const LlamaWeights& w) {
    Cost c;
    for (const auto& L : w.layers) {
        for (const WeightMatrix* m : L.matrices()) {
            c.layerBytes += static_cast<double>(m->rowBytes() * static_cast<std::size_t>(m->rows));
            c.layerFlopsPerToken += 2.0 * static_cast<double>(m->rows * m->cols);
        }
    }
    c.outputBytes = static_cast<double>(w.output.rowBytes() * static_cast<std::size_t>(w.output.rows));
    c.outputFlopsPerToken = 2.0 * static_cast<double>(w.output.rows * w.output.cols);
    return c;
}

// The scheduler's choice for one step: every unfinished sequence, prompts chunked under the
// prefill token budget; decodes are single tokens.
void buildStep(std::vector<Seq>& seqs, const CpuBenchOptions& o, ModelBatch& batch, std::vector<std::size_t>& idx) {
    batch.blockSize = o.blockSize;
    int budget = o.prefillTokenBudget;
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        Seq& s = seqs[i];
        const int remaining = static_cast<int>(s.tokens.size()) - s.computed;
        if (s.generated >= o.generatedTokens || remaining <= 0 || budget <= 0) continue;
        const int chunk = std::min(remaining, budget);
        budget -= chunk;
        SequenceStep st;
        st.requestId = i + 1;
        st.tokens = std::span<const TokenId>(s.tokens).subspan(static_cast<std::size_t>(s.computed),
                                                               static_cast<std::size_t>(chunk));
        st.startPosition = s.computed;
        st.blockTable = s.blocks;
        st.needsNextToken = s.computed + chunk == static_cast<int>(s.tokens.size());
        st.sampling.temperature = 0.0f;
        st.sampleIndex = s.generated;
        st.history = s.tokens;
        batch.sequences.push_back(st);
        idx.push_back(i);
    }
}

// Attention FLOPs and K/V bytes read by a step (each token over its context).
void attentionCost(const ModelBatch& batch, const LlamaConfig& cfg, KvType kv, double& flops, double& bytes) {
    for (const auto& st : batch.sequences) {
        for (std::size_t j = 0; j < st.tokens.size(); ++j) {
            const double ctx = st.startPosition + static_cast<double>(j) + 1;
            flops += 4.0 * cfg.layers * cfg.heads * ctx * cfg.headDim;
            bytes += 2.0 * (kv == KvType::F16 ? 2.0 : 4.0) * cfg.layers * ctx * cfg.kvDim();
        }
    }
}

CpuBenchResult runOnce(CpuLlamaExecutor& ex, const CpuBenchOptions& o, int n, const Cost& cost) {
    const LlamaConfig& cfg = ex.config();
    const int maxLen = o.promptTokens + o.generatedTokens;
    const int blocksPerSeq = (maxLen + o.blockSize - 1) / o.blockSize;
    std::vector<Seq> seqs(static_cast<std::size_t>(n));
    BlockId next = 0;
    for (int i = 0; i < n; ++i) {
        auto& s = seqs[static_cast<std::size_t>(i)];
        for (int t = 0; t < o.promptTokens; ++t) s.tokens.push_back((t * 131 + i * 977 + 17) % cfg.vocabSize);
        for (int b = 0; b < blocksPerSeq; ++b) s.blocks.push_back(next++);
    }
    CpuBenchResult r;
    r.sequences = n;
    std::vector<double> ttft, stepMs;
    double decodeFlops = 0, decodeBytes = 0, prefillFlops = 0;
    int decodeTokens = 0;
    const auto start = Clock::now();
    Clock::time_point prefillEnd = start;
    bool prefillDone = false;
    while (true) {
        ModelBatch batch;
        std::vector<std::size_t> idx;
        buildStep(seqs, o, batch, idx);
        if (batch.sequences.empty()) break;
        const bool decodeStep = prefillDone;
        double attnFlops = 0, kvBytes = 0;
        attentionCost(batch, cfg, ex.forwardPass().kvType(), attnFlops, kvBytes);
        const auto t0 = Clock::now();
        const StepResult res = ex.execute(batch);
        const auto t1 = Clock::now();
        int sampled = 0;
        for (std::size_t b = 0; b < idx.size(); ++b) {
            Seq& s = seqs[idx[b]];
            s.computed += static_cast<std::int32_t>(batch.sequences[b].tokens.size());
            if (!res.nextTokens[b]) continue;
            ++sampled;
            if (s.generated == 0) ttft.push_back(msSince(start, t1));
            ++s.generated;
            if (s.generated < o.generatedTokens) s.tokens.push_back(*res.nextTokens[b]);
        }
        const double stepFlops = static_cast<double>(batch.tokenCount()) * cost.layerFlopsPerToken +
                                 sampled * cost.outputFlopsPerToken + attnFlops;
        if (decodeStep) {
            stepMs.push_back(msSince(t0, t1));
            decodeTokens += sampled;
            decodeFlops += stepFlops;
            decodeBytes += cost.layerBytes + cost.outputBytes + kvBytes;
        } else {
            prefillFlops += stepFlops;
        }
        if (!prefillDone && std::all_of(seqs.begin(), seqs.end(), [](const Seq& s) { return s.generated > 0; })) {
            prefillDone = true;
            prefillEnd = t1;
        }
    }
    const auto end = Clock::now();
    const double prefillS = msSince(start, prefillEnd) / 1000.0, decodeS = msSince(prefillEnd, end) / 1000.0;
    r.wallSeconds = msSince(start, end) / 1000.0;
    r.promptTokensPerSec = n * o.promptTokens / prefillS;
    r.decodeTokensPerSec = decodeS > 0 ? decodeTokens / decodeS : 0;
    r.totalTokensPerSec = n * (o.promptTokens + o.generatedTokens) / r.wallSeconds;
    double sum = 0;
    for (double v : ttft) sum += v;
    r.ttftMsMean = ttft.empty() ? 0 : sum / static_cast<double>(ttft.size());
    r.tokenLatencyP50Ms = percentile(stepMs, 0.5);
    r.tokenLatencyP99Ms = percentile(stepMs, 0.99);
    r.decodeGflops = decodeS > 0 ? decodeFlops / decodeS / 1e9 : 0;
    r.decodeGBps = decodeS > 0 ? decodeBytes / decodeS / 1e9 : 0;
    r.promptGflops = prefillS > 0 ? prefillFlops / prefillS / 1e9 : 0;
    return r;
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

CpuBenchResult medianOf(const std::vector<CpuBenchResult>& runs) {
    CpuBenchResult m = runs.front();
    auto med = [&](double CpuBenchResult::*f) {
        std::vector<double> v;
        for (const auto& r : runs) v.push_back(r.*f);
        m.*f = median(v);
    };
    for (auto f : {&CpuBenchResult::promptTokensPerSec, &CpuBenchResult::decodeTokensPerSec,
                   &CpuBenchResult::totalTokensPerSec, &CpuBenchResult::ttftMsMean, &CpuBenchResult::tokenLatencyP50Ms,
                   &CpuBenchResult::tokenLatencyP99Ms, &CpuBenchResult::decodeGflops, &CpuBenchResult::decodeGBps,
                   &CpuBenchResult::promptGflops, &CpuBenchResult::wallSeconds, &CpuBenchResult::machineReadGBps,
                   &CpuBenchResult::machinePeakGflops, &CpuBenchResult::decodeBandwidthFraction,
                   &CpuBenchResult::decodePeakFraction, &CpuBenchResult::promptPeakFraction})
        med(f);
    return m;
}

}  // namespace

Result<std::vector<CpuBenchResult>> runCpuBench(const CpuBenchOptions& o, const std::function<void(const std::string&)>& log) {
    if (o.promptTokens <= 0 || o.generatedTokens <= 0 || o.prefillTokenBudget <= 0 || o.blockSize <= 0 || o.repeats <= 0)
        return makeError(ErrorCode::InvalidArgument, "bench token counts, block size and repeats must be > 0");
    if (o.concurrency.empty() || *std::min_element(o.concurrency.begin(), o.concurrency.end()) <= 0)
        return makeError(ErrorCode::InvalidArgument, "concurrency levels must be a non-empty list of values > 0");
    Result<std::unique_ptr<GgufFile>> file = makeError(ErrorCode::Internal, "");
    using Clock = std::chrono::steady_clock;
    const auto loadStart = Clock::now();
    double openSeconds = 0;
    if (!o.modelPath.empty()) {
        file = GgufFile::open(o.modelPath);
        openSeconds = std::chrono::duration<double>(Clock::now() - loadStart).count();
    } else {
        const auto shape = llamaShapeByName(o.shape, o.architecture);
        if (!shape)
            return makeError(ErrorCode::InvalidArgument, "unknown model shape '" + o.shape + "' (tiny, small, medium, tinyllama) or architecture '" +
                                                             o.architecture + "' (llama, llama3, qwen2, qwen3, phi3, gemma2, gemma3)");
        std::optional<QuantPreset> preset;
        if (!o.preset.empty() && !(preset = quantPresetFromName(o.preset)))
            return makeError(ErrorCode::InvalidArgument, "unknown quantisation preset '" + o.preset + "' (" + quantPresetList() + ")");
        const GgmlType type = preset ? GgmlType::F16 : o.weightType;
        if (log) log("generating random " + o.shape + " " + o.architecture + " model (" + std::string(ggmlTypeName(type)) + ")");
        auto bytes = makeRandomLlamaGguf(*shape, type, o.seed);
        if (!bytes) return bytes.error();
        file = GgufFile::fromBytes(std::move(*bytes));
        if (preset && file) {
            if (log) log("quantising it to " + o.preset);
            auto quantised = quantizeModelBytes(**file, *preset, QuantizeOptions{.threads = o.threads});
            if (!quantised) return quantised.error();
            file = GgufFile::fromBytes(std::move(*quantised));
        }
    }
    if (!file) return file.error();
    auto ex = CpuLlamaExecutor::create(std::move(*file), o.threads);
    if (!ex) return ex.error();
    // Load time of a model file (for a random model: the executor only; generation excluded).
    if (log && !o.modelPath.empty())
        log(loadReport(std::chrono::duration<double>(Clock::now() - loadStart).count(), openSeconds, o.modelPath));
    if (o.promptTokens + o.generatedTokens > (*ex)->maxContextLength())
        return makeError(ErrorCode::InvalidArgument, "prompt + generated tokens exceed the model's context");
    (*ex)->setKvCacheType(o.kvCache);
    if (log) log(std::string("KV cache: ") + ((*ex)->forwardPass().kvType() == KvType::F16 ? "F16" : "F32"));
    const int maxN = *std::max_element(o.concurrency.begin(), o.concurrency.end());
    const int blocksPerSeq = (o.promptTokens + o.generatedTokens + o.blockSize - 1) / o.blockSize;
    (*ex)->configureKvCache(maxN * blocksPerSeq, o.blockSize);
    const Cost cost = modelCost((*ex)->forwardPass().weights());
    MachineProbe probe((*ex)->forwardPass().pool(), (*ex)->forwardPass().isa(), o.probeBufferBytes);
    std::vector<CpuBenchResult> results;
    for (int n : o.concurrency) {
        std::vector<CpuBenchResult> runs;
        for (int rep = 0; rep < o.repeats; ++rep) {
            const double readGBps = probe.readBandwidthGBps(), peak = probe.fmaPeakGflops();
            CpuBenchResult r = runOnce(**ex, o, n, cost);
            r.machineReadGBps = readGBps;
            r.machinePeakGflops = peak;
            r.decodeBandwidthFraction = r.decodeGBps / readGBps;
            r.decodePeakFraction = r.decodeGflops / peak;
            r.promptPeakFraction = r.promptGflops / peak;
            runs.push_back(r);
            if (log) {
                char line[200];
                std::snprintf(line, sizeof line, "N=%d run %d: decode %.1f tok/s, prompt %.1f tok/s", n, rep + 1,
                              runs.back().decodeTokensPerSec, runs.back().promptTokensPerSec);
                log(line);
            }
        }
        results.push_back(medianOf(runs));
        if (log) log("resident after N=" + std::to_string(n) + ": " + std::to_string(static_cast<long>(residentMiB())) + " MiB");
    }
    return results;
}

std::string formatCpuBenchTable(const std::vector<CpuBenchResult>& results) {
    std::string out =
        "| N | prompt tok/s | decode tok/s | total tok/s | TTFT ms | token p50 ms | token p99 ms "
        "| prompt GFLOP/s (% peak) | decode GFLOP/s (% peak) | decode GB/s (% read bw) | machine: read GB/s, peak GFLOP/s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
        char line[320];
        std::snprintf(line, sizeof line,
                      "| %d | %.0f | %.1f | %.1f | %.0f | %.2f | %.2f | %.0f (%.0f%%) | %.0f (%.0f%%) | %.1f (%.0f%%) | %.0f, %.0f |\n",
                      r.sequences, r.promptTokensPerSec, r.decodeTokensPerSec, r.totalTokensPerSec, r.ttftMsMean,
                      r.tokenLatencyP50Ms, r.tokenLatencyP99Ms, r.promptGflops, 100 * r.promptPeakFraction,
                      r.decodeGflops, 100 * r.decodePeakFraction, r.decodeGBps, 100 * r.decodeBandwidthFraction,
                      r.machineReadGBps, r.machinePeakGflops);
        out += line;
    }
    return out;
}

}  // namespace batchscope::engine::cpu
