// SPDX-License-Identifier: GPL-3.0-or-later
// The batched, paged executor against the simple reference forward pass on random tiny models:
// mixed prefill chunks and decodes, shared-prefix block tables, preemption and recomputation.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <numeric>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "forward_driver.h"
#include "llama_reference.h"

using namespace batchscope::engine;

namespace {

struct Loaded {
    std::unique_ptr<GgufFile> refFile;
    std::unique_ptr<CpuLlamaExecutor> ex;
};

Loaded load(GgmlType type, std::uint64_t seed, cpu::CpuIsa isa, int threads = 2,
            cpu::KvType kvType = cpu::KvType::F32) {
    auto bytes = cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny"), type, seed);
    EXPECT_TRUE(bytes.ok());
    Loaded l;
    l.refFile = GgufFile::fromBytes(*bytes).value();
    auto ex = CpuLlamaExecutor::create(GgufFile::fromBytes(*bytes).value(), threads, {}, {}, isa);
    EXPECT_TRUE(ex.ok()) << (ex.ok() ? "" : ex.error().message);
    l.ex = std::move(*ex);
    l.ex->setKvCacheType(kvType);
    l.ex->configureKvCache(kNumBlocks, kBlockSize);
    return l;
}

// The mixed schedule: chunked prefills of odd sizes, decodes, a late arrival, a shared prefix,
// a preempted sequence recomputed into new blocks, and a 50-token chunk (the BLAS path).
double runMixedSchedule(GgmlType type, cpu::CpuIsa isa, std::size_t* rows = nullptr,
                        cpu::KvType kvType = cpu::KvType::F32) {
    Loaded l = load(type, 7, isa, 2, kvType);
    Driver d(*l.ex);
    d.add(prompt(13, 1));
    d.add(prompt(7, 2));
    d.step({5, 7});        // A chunk 1, B whole prompt
    d.step({5, 1});        // A chunk 2, B decode
    d.step({3, 1});        // A last chunk, B decode
    d.add(prompt(11, 3));  // C arrives
    d.step({1, 1, 6});
    d.step({1, 1, 5});
    // D shares A's first 8 positions (2 full blocks) and computes only the rest.
    std::vector<TokenId> dPrompt(d.seqs()[0].tokens.begin(), d.seqs()[0].tokens.begin() + 8);
    for (TokenId t : prompt(6, 4)) dPrompt.push_back(t);
    d.add(dPrompt, {d.seqs()[0].blocks[0], d.seqs()[0].blocks[1]}, 8);
    d.step({1, 1, 1, 6});
    d.step({1, 0, 1, 1});
    // E: B "preempted" and recomputed from scratch (prompt + generated) into fresh blocks.
    d.add(d.seqs()[1].tokens);
    d.step({1, 0, 1, 1, static_cast<std::int32_t>(d.seqs()[4].tokens.size())});
    // F: a long prompt in one chunk (the sgemm path at the scalar and AVX2 levels).
    d.add(prompt(50, 5));
    d.step({1, 0, 1, 1, 1, 50});
    d.step({1, 0, 1, 1, 1, 1});
    if (rows) *rows = d.rowCount();
    const reference::Model ref(*l.refFile);
    return d.maxRelativeError([&](const std::vector<int>& t) { return ref.run(t); });
}

std::vector<cpu::CpuIsa> isaLevels() {
    std::vector<cpu::CpuIsa> out{cpu::CpuIsa::Scalar};
    if (cpu::detectCpuIsa() >= cpu::CpuIsa::Avx2) out.push_back(cpu::CpuIsa::Avx2);
    if (cpu::detectCpuIsa() >= cpu::CpuIsa::Avx512) out.push_back(cpu::CpuIsa::Avx512);
    return out;
}

}  // namespace

TEST(CpuLlamaForward, F32MatchesReferenceOnMixedBatches) {
    for (cpu::CpuIsa isa : isaLevels()) {
        std::size_t rows = 0;
        const double err = runMixedSchedule(GgmlType::F32, isa, &rows);
        EXPECT_EQ(rows, 30u);  // every needsNextToken row of the schedule
        EXPECT_LE(err, 1e-4) << cpu::cpuIsaName(isa);
        std::printf("%s: max relative logit error %.3g over %zu rows\n", std::string(cpu::cpuIsaName(isa)).c_str(), err, rows);
    }
}

TEST(CpuLlamaForward, HalfKvCacheStaysCloseToReference) {
    // K/V rounded to half precision: ~5e-4 relative per element.
    for (cpu::CpuIsa isa : isaLevels()) {
        const double err = runMixedSchedule(GgmlType::F32, isa, nullptr, cpu::KvType::F16);
        EXPECT_LE(err, 1e-3) << cpu::cpuIsaName(isa);
        std::printf("%s F16 KV: max relative logit error %.3g\n", std::string(cpu::cpuIsaName(isa)).c_str(), err);
    }
}

TEST(CpuLlamaForward, HalfAndQuantisedModelsMatchDequantisedReference) {
    // F16/BF16 weights are converted exactly; Q8_0/Q4_0 also quantise activations to 8 bits.
    const std::pair<GgmlType, double> cases[] = {
        {GgmlType::F16, 1e-4}, {GgmlType::BF16, 1e-4}, {GgmlType::Q8_0, 3e-2}, {GgmlType::Q4_0, 3e-2}};
    for (auto [type, tol] : cases) {
        const double err = runMixedSchedule(type, cpu::activeCpuIsa());
        EXPECT_LE(err, tol) << ggmlTypeName(type);
        std::printf("%s: max relative logit error %.3g\n", std::string(ggmlTypeName(type)).c_str(), err);
    }
}

TEST(CpuLlamaForward, BadSequenceFailsAloneOthersProceed) {
    Loaded l = load(GgmlType::F32, 3, cpu::activeCpuIsa());
    const std::vector<TokenId> good = prompt(6, 9), badToken{1, 2, 300}, ctx = prompt(2, 1);
    std::vector<BlockId> blocksA{0, 1}, blocksB{2, 3}, shortTable{4}, far{5, 6};
    ModelBatch batch;
    batch.blockSize = kBlockSize;
    auto add = [&](std::span<const TokenId> toks, std::span<const BlockId> bt, std::int32_t start) {
        SequenceStep s;
        s.tokens = toks;
        s.blockTable = bt;
        s.startPosition = start;
        s.needsNextToken = true;
        s.sampling.temperature = 0.0f;
        batch.sequences.push_back(s);
    };
    add(badToken, blocksB, 0);
    add(good, blocksA, 0);
    add(good, shortTable, 0);  // 6 positions need 2 blocks
    add(ctx, far, 255);        // positions 255, 256 exceed the context of 256
    std::vector<float> logits;
    const StepResult r = l.ex->executeWithLogits(batch, &logits);
    ASSERT_EQ(r.sequenceErrors.size(), 4u);
    EXPECT_NE(r.sequenceErrors[0].find("token id 300"), std::string::npos) << r.sequenceErrors[0];
    EXPECT_TRUE(r.sequenceErrors[1].empty());
    EXPECT_NE(r.sequenceErrors[2].find("block table"), std::string::npos) << r.sequenceErrors[2];
    EXPECT_NE(r.sequenceErrors[3].find("context length"), std::string::npos) << r.sequenceErrors[3];
    EXPECT_FALSE(r.nextTokens[0] || r.nextTokens[2] || r.nextTokens[3]);
    ASSERT_TRUE(r.nextTokens[1]);
    ASSERT_EQ(logits.size(), 300u);
    const auto ref = reference::Model(*l.refFile).run(std::vector<int>(good.begin(), good.end()));
    double err = 0, mag = 0;
    for (std::size_t v = 0; v < 300; ++v) {
        err = std::max(err, std::fabs(logits[v] - ref[5][v]));
        mag = std::max(mag, std::fabs(ref[5][v]));
    }
    EXPECT_LE(err / mag, 1e-4);
    const auto best = std::max_element(ref[5].begin(), ref[5].end()) - ref[5].begin();
    EXPECT_EQ(*r.nextTokens[1], best);
}

TEST(CpuLlamaForward, RejectsUnsupportedModels) {
    cpu::LlamaShape shape = *cpu::llamaShapeByName("tiny");
    auto bytes = cpu::makeRandomLlamaGguf(shape, GgmlType::F32, 1);
    ASSERT_TRUE(bytes.ok());
    EXPECT_FALSE(cpu::makeRandomLlamaGguf(shape, GgmlType::Q4_K, 1).ok());
    // Reports KV sizes and model facts.
    auto ex = CpuLlamaExecutor::create(GgufFile::fromBytes(*bytes).value(), 1);
    ASSERT_TRUE(ex.ok());
    EXPECT_EQ((*ex)->kvBytesPerBlock(16), 2u * 2 * 16 * 32 * 4);  // layers * K,V * slots * kvDim * f32
    EXPECT_EQ((*ex)->modelInfo().parameterCount, shape.vocabSize * 64u + 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 160 + 128) + 64);
    EXPECT_EQ((*ex)->maxContextLength(), 256);
    EXPECT_EQ((*ex)->modelInfo().kvCacheBytes, 0u);
    (*ex)->configureKvCache(10, 16);
    EXPECT_EQ((*ex)->modelInfo().kvCacheBytes, 10 * (*ex)->kvBytesPerBlock(16));
    // A step before configureKvCache or with another block size fails as a whole.
    ModelBatch batch;
    batch.blockSize = 8;
    EXPECT_THROW((*ex)->execute(batch), std::exception);
}
