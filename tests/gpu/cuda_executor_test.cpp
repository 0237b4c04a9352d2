// SPDX-License-Identifier: GPL-3.0-or-later
// Whole-model logits of CudaLlamaExecutor against the CPU runtime's executor and the double
// reference on random tiny models, driven like the scheduler: mixed prefill chunks and decodes,
// shared-prefix block tables, preemption and recomputation, greedy and sampled requests.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "engine/sampling/sampler.h"
#include "gpu/cuda_llama_executor.h"
#include "gpu_test_util.h"
#include "tests/engine/cpu/llama_reference.h"

using namespace batchscope;
using namespace batchscope::engine;

namespace {

constexpr std::int32_t kBlockSize = 4;
constexpr std::int32_t kNumBlocks = 160;

struct Seq {
    std::vector<TokenId> tokens;  // known tokens (prompt + continuation so far)
    std::vector<TokenId> script;  // the continuation fed back (teacher forcing), same for all runs
    std::int32_t computed = 0;
    std::vector<BlockId> blocks;
    SamplingParams sampling;
    std::int32_t sampled = 0;
};

using Rows = std::map<std::pair<std::size_t, std::int32_t>, std::vector<float>>;  // (seq, pos) -> logits

// Drives any executor with executeWithLogits(); every run sees exactly the same inputs because
// the continuation is scripted, so logits rows of two executors compare one to one.
template <typename Executor>
class Driver {
public:
    Driver(Executor& ex, std::int32_t vocab) : m_ex(ex), m_vocab(vocab) {}

    Seq& add(std::vector<TokenId> prompt, bool greedy, std::vector<BlockId> shared = {}, std::int32_t computed = 0) {
        Seq s;
        s.tokens = std::move(prompt);
        for (int i = 0; i < 16; ++i) s.script.push_back((i * 53 + static_cast<int>(m_seqs.size()) * 17 + 1) % m_vocab);
        s.blocks = std::move(shared);
        s.computed = computed;
        while (static_cast<std::int32_t>(s.blocks.size()) * kBlockSize < 96) s.blocks.push_back(m_nextBlock++);
        s.sampling.temperature = greedy ? 0.0f : 0.9f;
        s.sampling.topK = greedy ? 0 : 20;
        s.sampling.seed = m_seqs.size() * 1000 + 7;
        m_seqs.push_back(std::move(s));
        return m_seqs.back();
    }

    void step(const std::vector<std::int32_t>& chunks) {
        ModelBatch batch;
        batch.blockSize = kBlockSize;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            if (chunks[i] == 0) continue;
            Seq& s = m_seqs[i];
            SequenceStep st;
            st.requestId = i + 1;
            st.tokens = std::span<const TokenId>(s.tokens).subspan(static_cast<std::size_t>(s.computed),
                                                                   static_cast<std::size_t>(chunks[i]));
            st.startPosition = s.computed;
            st.blockTable = s.blocks;
            st.needsNextToken = s.computed + chunks[i] == static_cast<std::int32_t>(s.tokens.size());
            st.sampling = s.sampling;
            st.sampleIndex = s.sampled;
            st.history = s.tokens;
            batch.sequences.push_back(st);
            which.push_back(i);
        }
        std::vector<float> logits;
        const StepResult r = m_ex.executeWithLogits(batch, &logits);
        std::size_t row = 0;
        for (std::size_t b = 0; b < which.size(); ++b) {
            Seq& s = m_seqs[which[b]];
            ASSERT_TRUE(r.sequenceErrors.size() <= b || r.sequenceErrors[b].empty()) << r.sequenceErrors[b];
            s.computed += chunks[which[b]];
            if (!batch.sequences[b].needsNextToken) continue;
            ASSERT_TRUE(r.nextTokens[b].has_value());
            const std::span<const float> got(logits.data() + row++ * static_cast<std::size_t>(m_vocab),
                                             static_cast<std::size_t>(m_vocab));
            // A NaN/inf row must fail here: the argmax and the sampler agree on all-NaN rows.
            EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](float v) { return std::isfinite(v); }))
                << "non-finite logit: sequence " << which[b] << " position " << s.computed - 1;
            m_rows[{which[b], s.computed - 1}].assign(got.begin(), got.end());
            // The executor's token is what the engine's sampler picks from the returned row
            // (greedy rows come from the device argmax, the others from the host sampler).
            Sampler sampler;
            EXPECT_EQ(*r.nextTokens[b], sampler.sample(got, s.sampling, s.tokens, s.sampled))
                << "sequence " << which[b] << " position " << s.computed - 1;
            s.tokens.push_back(s.script[static_cast<std::size_t>(s.sampled++)]);
        }
    }

    std::vector<Seq>& seqs() { return m_seqs; }
    const Rows& rows() const { return m_rows; }

private:
    Executor& m_ex;
    std::int32_t m_vocab;
    std::vector<Seq> m_seqs;
    BlockId m_nextBlock = 0;
    Rows m_rows;
};

std::vector<TokenId> prompt(int n, int salt, int vocab) {
    std::vector<TokenId> t(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = (i * 37 + salt * 101 + 5) % vocab;
    return t;
}

// The CPU test's schedule: chunked prefills, decodes, a late arrival, a shared prefix, a
// preempted sequence recomputed into fresh blocks, a long chunk; greedy and sampled requests.
template <typename Executor>
Rows runSchedule(Executor& ex, std::int32_t vocab, std::vector<std::vector<TokenId>>* finalTokens = nullptr) {
    Driver<Executor> d(ex, vocab);
    d.add(prompt(13, 1, vocab), true);
    d.add(prompt(7, 2, vocab), false);
    d.step({5, 7});
    d.step({5, 1});
    d.step({3, 1});
    d.add(prompt(11, 3, vocab), true);
    d.step({1, 1, 6});
    d.step({1, 1, 5});
    std::vector<TokenId> shared(d.seqs()[0].tokens.begin(), d.seqs()[0].tokens.begin() + 8);
    for (TokenId t : prompt(6, 4, vocab)) shared.push_back(t);
    d.add(shared, false, {d.seqs()[0].blocks[0], d.seqs()[0].blocks[1]}, 8);
    d.step({1, 1, 1, 6});
    d.step({1, 0, 1, 1});
    d.add(d.seqs()[1].tokens, true);  // B preempted, recomputed from scratch
    d.step({1, 0, 1, 1, static_cast<std::int32_t>(d.seqs()[4].tokens.size())});
    d.add(prompt(50, 5, vocab), false);
    d.step({1, 0, 1, 1, 1, 50});
    d.step({1, 0, 1, 1, 1, 1});
    if (finalTokens)
        for (const Seq& s : d.seqs()) finalTokens->push_back(s.tokens);
    return d.rows();
}

// max over rows of max|a - b| / max|b|. Any non-finite value, missing row or row of another
// length is an infinite error: std::max(err, NaN) would quietly keep err.
double maxRelativeError(const Rows& got, const Rows& want) {
    double worst = 0;
    for (const auto& [key, row] : want) {
        const auto it = got.find(key);
        if (it == got.end() || it->second.size() != row.size()) return INFINITY;
        double err = 0, mag = 0;
        for (std::size_t v = 0; v < row.size(); ++v) {
            const double a = it->second[v], b = row[v];
            if (!std::isfinite(a) || !std::isfinite(b)) return INFINITY;
            err = std::max(err, std::fabs(a - b));
            mag = std::max(mag, std::fabs(b));
        }
        worst = std::max(worst, mag > 0 ? err / mag : err);
    }
    return worst;
}

Rows referenceRows(const GgufFile& file, const std::vector<std::vector<TokenId>>& tokens, const Rows& like) {
    const reference::Model ref(file);
    Rows out;
    for (const auto& [key, row] : like) {
        const auto& toks = tokens[key.first];
        const auto all = ref.run(std::vector<int>(toks.begin(), toks.begin() + key.second + 1));
        out[key] = std::vector<float>(all.back().begin(), all.back().end());
    }
    return out;
}

const cpu::LlamaShape kGqaShape{"gqa64", 256, 2, 4, 2, 512, 400, 512, false};  // headDim 64, untied

// Applies `edit` to the F32 tensor `name` of GGUF `bytes` in place (generated norms are always
// F32; so is every matrix of an F32 model).
void editF32Tensor(std::vector<std::uint8_t>& bytes, const std::string& name,
                   const std::function<void(std::vector<float>&)>& edit) {
    const auto file = GgufFile::fromBytes(bytes).value();
    const GgufTensorInfo* t = file->findTensor(name);
    ASSERT_TRUE(t && t->type == GgmlType::F32) << name;
    const std::size_t at = file->dataOffset() + t->offset;
    std::vector<float> v(t->elementCount());
    std::memcpy(v.data(), bytes.data() + at, v.size() * sizeof(float));
    edit(v);
    std::memcpy(bytes.data() + at, v.data(), v.size() * sizeof(float));
}

std::string layerTensor(int layer, const char* name) { return "blk." + std::to_string(layer) + "." + name; }

// With weights ~ N(0, 0.02) and unit norms the attention scores of these models are ~0.03 apart,
// so attention is nearly uniform and a RoPE or Q.K wiring error moves the logits by 0.8x (tiny,
// RoPE pairing: it would pass) to 10x the 1e-2 tolerance. Scaling every attn_norm by kPeakScale
// scales Q, K and V by it and the scores by its square: attention then picks few positions, and
// such errors move the logits by 28x (tiny) to 170x (gqa64) the tolerance, as PeakedAttentionCase
// shows on the CPU runtime. 4, not more: F16 rounding grows with the scores too (the F16 KV
// cache's error x2 at 4, x9 at 8).
constexpr float kPeakScale = 4.0f;

std::vector<std::uint8_t> peakedModel(const cpu::LlamaShape& shape, GgmlType type, std::uint64_t seed) {
    auto bytes = cpu::makeRandomLlamaGguf(shape, type, seed).value();
    for (int l = 0; l < shape.layers; ++l)
        editF32Tensor(bytes, layerTensor(l, "attn_norm.weight"), [](std::vector<float>& v) {
            for (float& x : v) x *= kPeakScale;
        });
    return bytes;
}

// Wiring errors of the GPU path, emulated on the CPU runtime by editing an F32 model.
// RoPE rotating the pairs (i, i + d/2) ("NeoX" order) instead of (2i, 2i + 1): the same as the
// correct RoPE on Q and K rows permuted within each head (row 2i <- i, 2i + 1 <- i + d/2); the
// permutation alone leaves every q.k unchanged, so the difference is the pairing only.
void ropeWithHalfSplitPairs(std::vector<std::uint8_t>& bytes, const cpu::LlamaShape& shape) {
    const std::size_t headDim = static_cast<std::size_t>(shape.dim / shape.heads), cols = static_cast<std::size_t>(shape.dim);
    auto permute = [&](std::vector<float>& w) {
        const std::vector<float> old = w;
        for (std::size_t h = 0; h < w.size() / cols / headDim; ++h)
            for (std::size_t i = 0; i < headDim / 2; ++i)
                for (int half = 0; half < 2; ++half) {
                    const std::size_t to = h * headDim + 2 * i + static_cast<std::size_t>(half);
                    const std::size_t from = h * headDim + i + static_cast<std::size_t>(half) * headDim / 2;
                    std::copy_n(old.begin() + static_cast<std::ptrdiff_t>(from * cols), cols,
                                w.begin() + static_cast<std::ptrdiff_t>(to * cols));
                }
    };
    for (int l = 0; l < shape.layers; ++l) {
        editF32Tensor(bytes, layerTensor(l, "attn_q.weight"), permute);
        editF32Tensor(bytes, layerTensor(l, "attn_k.weight"), permute);
    }
}

// Q.K against the K of the other KV head (a grouped-query mapping error; V stays right).
void keysOfOtherKvHead(std::vector<std::uint8_t>& bytes, const cpu::LlamaShape& shape) {
    const std::size_t headRows = static_cast<std::size_t>(shape.dim / shape.heads) * static_cast<std::size_t>(shape.dim);
    for (int l = 0; l < shape.layers; ++l)
        editF32Tensor(bytes, layerTensor(l, "attn_k.weight"), [&](std::vector<float>& w) {
            std::swap_ranges(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(headRows),
                             w.begin() + static_cast<std::ptrdiff_t>(headRows));
        });
}

Rows cpuRows(const std::vector<std::uint8_t>& bytes, std::int32_t vocab, bool f16Kv = false) {
    auto ex = CpuLlamaExecutor::create(GgufFile::fromBytes(bytes).value(), 2).value();
    if (f16Kv) ex->setKvCacheType(cpu::KvType::F16);
    ex->configureKvCache(kNumBlocks, kBlockSize);
    return runSchedule(*ex, vocab);
}

std::unique_ptr<gpu::CudaLlamaExecutor> loadCuda(const std::vector<std::uint8_t>& bytes) {
    auto ex = gpu::CudaLlamaExecutor::create(GgufFile::fromBytes(bytes).value());
    EXPECT_TRUE(ex.ok()) << (ex.ok() ? "" : ex.error().message);
    if (!ex.ok()) return nullptr;
    (*ex)->configureKvCache(kNumBlocks, kBlockSize);
    return std::move(*ex);
}

}  // namespace

TEST(CudaLlamaExecutor, MatchesCpuExecutorOnMixedBatches) {
    SKIP_WITHOUT_CUDA();
    for (const cpu::LlamaShape& shape : {*cpu::llamaShapeByName("tiny"), kGqaShape})
        for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
            const auto bytes = cpu::makeRandomLlamaGguf(shape, type, 7).value();
            auto cuda = loadCuda(bytes);
            ASSERT_TRUE(cuda);
            auto cpuEx = CpuLlamaExecutor::create(GgufFile::fromBytes(bytes).value(), 2).value();
            cpuEx->configureKvCache(kNumBlocks, kBlockSize);
            const Rows cpuRows = runSchedule(*cpuEx, shape.vocabSize);
            const Rows gpuRows = runSchedule(*cuda, shape.vocabSize);
            EXPECT_EQ(gpuRows.size(), 30u);
            const double err = maxRelativeError(gpuRows, cpuRows);
            EXPECT_LE(err, 1e-2) << shape.name << " " << ggmlTypeName(type);
            std::printf("%s %s: max relative logit error vs CPU %.3g over %zu rows\n", shape.name.c_str(),
                        std::string(ggmlTypeName(type)).c_str(), err, gpuRows.size());
        }
}

TEST(CudaLlamaExecutor, QuantisedAndBf16ModelsMatchDequantisedReference) {
    SKIP_WITHOUT_CUDA();
    // Q8_0/Q4_0 are dequantised to F16 at load (exact up to F16 rounding); BF16 models compute
    // with BF16 GEMM inputs (8-bit mantissa), hence the looser bound.
    const std::pair<GgmlType, double> cases[] = {{GgmlType::Q8_0, 1e-2}, {GgmlType::Q4_0, 1e-2}, {GgmlType::BF16, 3e-2}};
    for (auto [type, tol] : cases) {
        const auto bytes = cpu::makeRandomLlamaGguf(kGqaShape, type, 9).value();
        auto cuda = loadCuda(bytes);
        ASSERT_TRUE(cuda);
        EXPECT_EQ(cuda->computeType(), type == GgmlType::BF16 ? "BF16" : "F16");
        std::vector<std::vector<TokenId>> tokens;
        const Rows gpuRows = runSchedule(*cuda, kGqaShape.vocabSize, &tokens);
        const auto file = GgufFile::fromBytes(bytes).value();
        const double err = maxRelativeError(gpuRows, referenceRows(*file, tokens, gpuRows));
        EXPECT_LE(err, tol) << ggmlTypeName(type);
        std::printf("%s: max relative logit error vs reference %.3g\n", std::string(ggmlTypeName(type)).c_str(), err);
    }
}

TEST(CudaLlamaExecutor, BadSequenceFailsAloneAndMisuseThrows) {
    SKIP_WITHOUT_CUDA();
    const auto bytes = cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny"), GgmlType::F16, 3).value();
    auto unconfigured = gpu::CudaLlamaExecutor::create(GgufFile::fromBytes(bytes).value()).value();
    ModelBatch batch;
    batch.blockSize = kBlockSize;
    const std::vector<TokenId> good{1, 2, 3, 4, 5}, bad{1, 2, 300};
    const std::vector<BlockId> blocksA{0, 1}, blocksB{2, 3}, outside{4, kNumBlocks};
    for (auto [toks, table] : {std::pair{&good, &blocksA}, {&bad, &blocksB}, {&good, &outside}}) {
        SequenceStep s;
        s.tokens = *toks;
        s.blockTable = *table;
        s.needsNextToken = true;
        s.sampling.temperature = 0.0f;
        s.history = *toks;
        batch.sequences.push_back(s);
    }
    EXPECT_THROW(unconfigured->execute(batch), std::runtime_error);  // KV cache not configured
    auto ex = loadCuda(bytes);
    ASSERT_TRUE(ex);
    const StepResult r = ex->execute(batch);
    ASSERT_EQ(r.sequenceErrors.size(), 3u);
    EXPECT_TRUE(r.sequenceErrors[0].empty());
    EXPECT_TRUE(r.nextTokens[0].has_value());
    EXPECT_NE(r.sequenceErrors[1].find("outside the vocabulary"), std::string::npos) << r.sequenceErrors[1];
    EXPECT_NE(r.sequenceErrors[2].find("outside the pool"), std::string::npos) << r.sequenceErrors[2];
    batch.blockSize = 16;
    EXPECT_THROW(ex->execute(batch), std::runtime_error);  // block size differs from the pool's
    EXPECT_THROW(ex->configureKvCache(1 << 30, 1024), std::runtime_error);  // far beyond the device
    EXPECT_GT(ex->suggestedKvBlocks(16), 0);
    EXPECT_EQ(ex->modelInfo().backend, "cuda");
}

// Runs everywhere (no GPU): the checks above can fail. Non-finite logits are an infinite error.
TEST(CudaExecutorTestHelpers, NonFiniteLogitsNeverPass) {
    const Rows want{{{0, 3}, {1.0f, -2.0f, 0.5f}}};
    Rows got = want;
    EXPECT_EQ(maxRelativeError(got, want), 0.0);
    got.begin()->second[1] = NAN;
    EXPECT_EQ(maxRelativeError(got, want), INFINITY);
    got.begin()->second.assign(3, NAN);
    EXPECT_EQ(maxRelativeError(got, want), INFINITY);
    got.begin()->second = {1.0f, INFINITY, 0.5f};
    EXPECT_EQ(maxRelativeError(got, want), INFINITY);
    got.begin()->second = {1.0f, -2.0f};
    EXPECT_EQ(maxRelativeError(got, want), INFINITY);
}

// Runs everywhere (CPU runtime only): the peaked case discriminates. Emulated RoPE and Q.K
// wiring errors move its logits far beyond the 1e-2 tolerance, while F16 rounding of the KV
// cache (what the GPU path does differently on purpose) stays well inside it. The plain models'
// figures are printed for comparison.
TEST(PeakedAttentionCase, WiringErrorsFailClearlyRoundingDoesNot) {
    using Perturb = void (*)(std::vector<std::uint8_t>&, const cpu::LlamaShape&);
    const std::pair<const char*, Perturb> errors[] = {{"RoPE on (i, i + d/2) pairs", ropeWithHalfSplitPairs},
                                                      {"K of the other KV head", keysOfOtherKvHead}};
    for (const cpu::LlamaShape& shape : {*cpu::llamaShapeByName("tiny"), kGqaShape})
        for (bool peaked : {false, true}) {
            const char* kind = peaked ? "peaked" : "plain";
            const auto bytes = peaked ? peakedModel(shape, GgmlType::F32, 11)
                                      : cpu::makeRandomLlamaGguf(shape, GgmlType::F32, 11).value();
            const Rows right = cpuRows(bytes, shape.vocabSize);
            ASSERT_EQ(right.size(), 30u);
            const double rounding = maxRelativeError(cpuRows(bytes, shape.vocabSize, true), right);
            std::printf("%s %s: F16 KV cache vs F32: %.3g\n", shape.name.c_str(), kind, rounding);
            EXPECT_LT(rounding, 2e-3) << shape.name << " " << kind << ": too little room left for rounding";
            for (auto [name, perturb] : errors) {
                auto wrong = bytes;
                perturb(wrong, shape);
                const double err = maxRelativeError(cpuRows(wrong, shape.vocabSize), right);
                std::printf("%s %s: %s: max relative logit change %.3g\n", shape.name.c_str(), kind, name, err);
                if (peaked) {
                    EXPECT_GT(err, 0.2) << shape.name << " " << name << ": the peaked case does not discriminate";
                }
            }
        }
}

TEST(CudaLlamaExecutor, MatchesCpuExecutorWithPeakedAttention) {
    SKIP_WITHOUT_CUDA();
    for (const cpu::LlamaShape& shape : {*cpu::llamaShapeByName("tiny"), kGqaShape})
        for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
            const auto bytes = peakedModel(shape, type, 13);
            auto cuda = loadCuda(bytes);
            ASSERT_TRUE(cuda);
            const Rows cpuRowsOf = cpuRows(bytes, shape.vocabSize);
            const Rows gpuRows = runSchedule(*cuda, shape.vocabSize);
            EXPECT_EQ(gpuRows.size(), 30u);
            const double err = maxRelativeError(gpuRows, cpuRowsOf);
            EXPECT_LE(err, 1e-2) << shape.name << " " << ggmlTypeName(type) << " (peaked attention)";
            std::printf("peaked %s %s: max relative logit error vs CPU %.3g\n", shape.name.c_str(),
                        std::string(ggmlTypeName(type)).c_str(), err);
        }
}
