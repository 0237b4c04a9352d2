// SPDX-License-Identifier: GPL-3.0-or-later
// Whole-model logits of CudaLlamaExecutor against the CPU runtime's executor and the double
// reference on random tiny models, driven like the scheduler: mixed prefill chunks and decodes,
// shared-prefix block tables, preemption and recomputation, greedy and sampled requests.
#include <cmath>
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

// max over rows of max|a - b| / max|b|
double maxRelativeError(const Rows& got, const Rows& want) {
    double worst = 0;
    for (const auto& [key, row] : want) {
        const auto it = got.find(key);
        if (it == got.end()) return INFINITY;
        double err = 0, mag = 0;
        for (std::size_t v = 0; v < row.size(); ++v) {
            err = std::max(err, std::fabs(double(it->second[v]) - row[v]));
            mag = std::max(mag, std::fabs(double(row[v])));
        }
        worst = std::max(worst, err / mag);
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
