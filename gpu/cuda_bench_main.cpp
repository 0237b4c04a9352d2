// SPDX-License-Identifier: GPL-3.0-or-later
// batchscope-gpu-bench: decode and prefill throughput of the CUDA executor on a random-weight
// model (default: the TinyLlama 1.1B shape in F16) or a GGUF file. See docs/cuda.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/model/cpu/random_llama_gguf.h"
#include "gpu/cuda_llama_executor.h"

using namespace batchscope;
using engine::BlockId;
using engine::TokenId;

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Options {
    std::string model, shape = "tinyllama", out;
    std::vector<int> batches{1, 16, 64, 256};
    int prompt = 128, decodeSteps = 32, prefillSeqs = 8, prefillLen = 512;
};

struct Seq {
    std::vector<TokenId> tokens;
    std::vector<BlockId> blocks;
};

constexpr int kBlockSize = 16;

// Sequences of `len` prompt tokens with room for `extra` more, blocks from `next`.
std::vector<Seq> makeSeqs(int count, int len, int extra, int vocab, BlockId& next) {
    std::vector<Seq> seqs(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        for (int j = 0; j < len; ++j) seqs[static_cast<std::size_t>(i)].tokens.push_back((i * 7919 + j * 104729 + 3) % vocab);
        for (int b = 0; b < (len + extra + kBlockSize - 1) / kBlockSize; ++b) seqs[static_cast<std::size_t>(i)].blocks.push_back(next++);
    }
    return seqs;
}

// One step: for each sequence compute tokens [from, size) (all of them need the next token).
void step(gpu::CudaLlamaExecutor& ex, std::vector<Seq>& seqs, std::size_t first, std::size_t last, bool decode) {
    engine::ModelBatch batch;
    batch.blockSize = kBlockSize;
    for (std::size_t i = first; i < last; ++i) {
        engine::SequenceStep s;
        s.requestId = i + 1;
        const auto size = static_cast<std::int32_t>(seqs[i].tokens.size());
        s.startPosition = decode ? size - 1 : 0;
        s.tokens = std::span<const TokenId>(seqs[i].tokens).subspan(static_cast<std::size_t>(s.startPosition));
        s.blockTable = seqs[i].blocks;
        s.needsNextToken = true;
        s.sampling.temperature = 0.0f;
        s.history = seqs[i].tokens;
        batch.sequences.push_back(s);
    }
    const engine::StepResult r = ex.execute(batch);
    for (std::size_t i = first; i < last; ++i) {
        if (!r.sequenceErrors.empty() && !r.sequenceErrors[i - first].empty())
            throw std::runtime_error("sequence failed: " + r.sequenceErrors[i - first]);
        seqs[i].tokens.push_back(r.nextTokens[i - first].value_or(0));
    }
}

std::vector<int> parseList(const char* s) {
    std::vector<int> out;
    for (const char* p = s; *p;) {
        out.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
    }
    return out;
}

Options parseArgs(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : "";
        if (a == "--model") o.model = v, ++i;
        else if (a == "--shape") o.shape = v, ++i;
        else if (a == "--batches") o.batches = parseList(v), ++i;
        else if (a == "--prompt") o.prompt = std::atoi(v), ++i;
        else if (a == "--decode-steps") o.decodeSteps = std::atoi(v), ++i;
        else if (a == "--prefill") o.prefillSeqs = std::atoi(v), ++i;
        else if (a == "--prefill-len") o.prefillLen = std::atoi(v), ++i;
        else if (a == "--out") o.out = v, ++i;
        else {
            std::fprintf(stderr, "usage: batchscope-gpu-bench [--model GGUF | --shape tinyllama|small|tiny] "
                                 "[--batches 1,16,64,256] [--prompt 128] [--decode-steps 32] [--prefill 8] "
                                 "[--prefill-len 512] [--out summary.md]\n");
            std::exit(a == "--help" ? 0 : 2);
        }
    }
    return o;
}

std::unique_ptr<engine::GgufFile> loadModel(const Options& o) {
    if (!o.model.empty()) return engine::GgufFile::open(o.model).value();
    auto shape = o.shape == "tinyllama"
                     ? std::optional(engine::cpu::LlamaShape{"tinyllama", 2048, 22, 32, 4, 5632, 32000, 2048, false})
                     : engine::cpu::llamaShapeByName(o.shape);
    if (!shape) throw std::runtime_error("unknown shape " + o.shape);
    auto bytes = engine::cpu::makeRandomLlamaGguf(*shape, engine::GgmlType::F16, 1);
    if (!bytes) throw std::runtime_error(bytes.error().message);
    return engine::GgufFile::fromBytes(std::move(*bytes)).value();
}

}  // namespace

int main(int argc, char** argv) try {
    const Options o = parseArgs(argc, argv);
    const gpu::CudaAvailability avail = gpu::probeCuda();
    std::printf("%s\n", avail.summary().c_str());
    if (!avail.usable) return 3;
    auto t0 = Clock::now();
    auto file = loadModel(o);
    std::printf("model prepared in %.1f s\n", secondsSince(t0));
    t0 = Clock::now();
    auto ex = gpu::CudaLlamaExecutor::create(std::move(file));
    if (!ex) throw std::runtime_error(ex.error().message);
    gpu::CudaLlamaExecutor& e = **ex;
    const auto& c = e.config();
    const engine::ModelInfo info = e.modelInfo();
    std::printf("uploaded %s (%s, %.2f GB on the device) in %.1f s\n", info.name.c_str(), e.computeType().c_str(),
                static_cast<double>(info.weightBytes) / 1e9, secondsSince(t0));
    int maxBatch = 1;
    for (int n : o.batches) maxBatch = std::max(maxBatch, n);
    const int blocksNeeded = std::max(maxBatch * ((o.prompt + o.decodeSteps + 8) / kBlockSize + 1),
                                      o.prefillSeqs * ((o.prefillLen + 1) / kBlockSize + 2));
    e.configureKvCache(std::min(blocksNeeded, e.suggestedKvBlocks(kBlockSize)), kBlockSize);
    // Matmul FLOPs per token (layers; the output projection runs only for sampled rows).
    const double layerParams = static_cast<double>(c.layers) *
                               (2.0 * c.dim * c.dim + 2.0 * c.dim * c.kvDim() + 3.0 * c.dim * c.ffnDim);
    std::string table = "| phase | N | tokens/s | step ms | achieved |\n|---|---|---|---|---|\n";
    char line[256];
    for (int n : o.batches) {
        BlockId next = 0;
        auto seqs = makeSeqs(n, o.prompt, o.decodeSteps + 4, c.vocabSize, next);
        const std::size_t chunk = static_cast<std::size_t>(std::max(1, 4096 / o.prompt));
        for (std::size_t i = 0; i < seqs.size(); i += chunk) step(e, seqs, i, std::min(seqs.size(), i + chunk), false);
        for (int w = 0; w < 2; ++w) step(e, seqs, 0, seqs.size(), true);  // warm-up
        t0 = Clock::now();
        for (int s = 0; s < o.decodeSteps; ++s) step(e, seqs, 0, seqs.size(), true);
        const double sec = secondsSince(t0), tps = n * o.decodeSteps / sec;
        const double gbps = static_cast<double>(info.weightBytes) * o.decodeSteps / sec / 1e9;
        std::snprintf(line, sizeof line, "| decode (context %d) | %d | %.0f | %.2f | %.0f GB/s weights |\n",
                      o.prompt, n, tps, 1e3 * sec / o.decodeSteps, gbps);
        std::printf("%s", line);
        table += line;
    }
    {
        BlockId next = 0;
        auto seqs = makeSeqs(o.prefillSeqs, o.prefillLen, 1, c.vocabSize, next);
        step(e, seqs, 0, seqs.size(), false);  // warm-up (cuBLAS heuristics for these shapes)
        for (auto& s : seqs) s.tokens.resize(static_cast<std::size_t>(o.prefillLen));
        t0 = Clock::now();
        step(e, seqs, 0, seqs.size(), false);
        const double sec = secondsSince(t0), tokens = static_cast<double>(o.prefillSeqs) * o.prefillLen;
        std::snprintf(line, sizeof line, "| prefill (%d x %d) | %d | %.0f | %.2f | %.1f TFLOP/s matmul |\n",
                      o.prefillSeqs, o.prefillLen, o.prefillSeqs, tokens / sec, 1e3 * sec,
                      2.0 * layerParams * tokens / sec / 1e12);
        std::printf("%s", line);
        table += line;
    }
    if (!o.out.empty()) {
        if (FILE* f = std::fopen(o.out.c_str(), "w")) {
            std::fprintf(f, "%s\n\nModel: %s, %s, %.2f GB of weights on %s\n\n%s", avail.summary().c_str(),
                         info.name.c_str(), e.computeType().c_str(), static_cast<double>(info.weightBytes) / 1e9,
                         avail.devices.empty() ? "?" : avail.devices[0].name.c_str(), table.c_str());
            std::fclose(f);
        }
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "batchscope-gpu-bench: %s\n", e.what());
    return 1;
}
