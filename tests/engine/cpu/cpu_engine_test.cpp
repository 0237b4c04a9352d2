// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: the real scheduler (chunked prefill, prefix caching, preemption under a small KV
// pool) driving the CPU executor produces, for every request, exactly the greedy continuation
// the simple reference forward pass computes for that request alone.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "engine/runtime/engine.h"
#include "forward_driver.h"
#include "llama_reference.h"

using namespace batchscope::engine;

namespace {

std::vector<int> greedyReference(const reference::Model& ref, std::vector<int> tokens, int count) {
    std::vector<int> out;
    for (int i = 0; i < count; ++i) {
        const auto logits = ref.run(tokens).back();
        const int next = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        out.push_back(next);
        tokens.push_back(next);
    }
    return out;
}

}  // namespace

TEST(CpuEngine, BatchedScheduledGenerationEqualsReferenceGreedy) {
    auto bytes = cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny"), GgmlType::F32, 21);
    ASSERT_TRUE(bytes.ok());
    auto refFile = GgufFile::fromBytes(*bytes);
    ASSERT_TRUE(refFile.ok());
    auto ex = CpuLlamaExecutor::create(GgufFile::fromBytes(*bytes).value(), 2);
    ASSERT_TRUE(ex.ok());

    EngineConfig config;
    config.blockSize = 4;
    config.numKvBlocks = 20;          // 6 requests need up to 48: forces preemption
    config.settings.tokenBudget = 16;  // forces chunked prefill
    config.settings.maxBatchSize = 6;
    auto engine = Engine::create(config, std::unique_ptr<ModelExecutor>(std::move(*ex)));
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    (*engine)->start();

    constexpr int kTokens = 10;
    std::mutex mu;
    std::condition_variable cv;
    std::map<RequestId, GenerationResult> results;
    std::map<RequestId, std::string> promptOf;
    auto runWave = [&](const std::vector<std::string>& prompts) {
        const std::size_t before = promptOf.size();
        for (const auto& p : prompts) {
            GenerationOptions opts;
            opts.maxTokens = kTokens;
            opts.ignoreEos = true;
            opts.sampling.temperature = 0.0f;
            RequestCallbacks cb;
            cb.onFinished = [&](const GenerationResult& r) {
                std::lock_guard lock(mu);
                results[r.id] = r;
                cv.notify_all();
            };
            auto id = (*engine)->submit(p, opts, cb);
            ASSERT_TRUE(id.ok()) << id.error().message;
            std::lock_guard lock(mu);
            promptOf[*id] = p;
        }
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120),
                                [&] { return results.size() == before + prompts.size(); }));
    };
    runWave({"the quick brown fox jumps", "the quick brown fox sleeps all day", "hello world", "a",
             "numbers 12345 and more numbers 678", "the quick brown fox jumps again and again"});
    // A second wave reuses the first wave's cached prefix blocks.
    runWave({"the quick brown fox jumps over the lazy dog", "hello world, hello"});
    const SchedulerSnapshot snap = (*engine)->snapshot();
    EXPECT_GT(snap.batchStats.preemptions, 0);
    EXPECT_GT(snap.kv.prefixHits, 0);

    const reference::Model ref(**refFile);
    for (const auto& [id, r] : results) {
        ASSERT_EQ(r.tokens.size(), static_cast<std::size_t>(kTokens)) << promptOf[id];
        const auto promptIds = (*engine)->tokenizer().encode(promptOf[id], true);
        const auto expected = greedyReference(ref, std::vector<int>(promptIds.begin(), promptIds.end()), kTokens);
        EXPECT_EQ(std::vector<int>(r.tokens.begin(), r.tokens.end()), expected) << promptOf[id];
    }
    (*engine)->stop();
}

namespace {

void runSlidingWindowEngine(MemoryPolicy policy) {
    // phi3 tiny: every layer attends to the last 24 positions. 12 blocks of 4 hold 48 positions;
    // a prompt plus 70 generated tokens needs 20 blocks without the window's release, so the
    // request completes only because blocks that slid out of the window go back to the pool.
    auto bytes = cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny", "phi3"), GgmlType::F32, 21);
    ASSERT_TRUE(bytes.ok());
    auto ex = CpuLlamaExecutor::create(GgufFile::fromBytes(*bytes).value(), 2);
    ASSERT_TRUE(ex.ok());
    ASSERT_EQ((*ex)->kvSlidingWindow(), 24);
    auto refEx = CpuLlamaExecutor::create(GgufFile::fromBytes(*bytes).value(), 1);
    ASSERT_TRUE(refEx.ok());
    (*refEx)->configureKvCache(kNumBlocks, kBlockSize);

    EngineConfig config;
    config.blockSize = 4;
    config.numKvBlocks = 12;
    config.settings.tokenBudget = 8;
    config.settings.memoryPolicy = policy;
    auto engine = Engine::create(config, std::unique_ptr<ModelExecutor>(std::move(*ex)));
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    (*engine)->start();
    constexpr int kTokens = 70;
    std::mutex mu;
    std::condition_variable cv;
    std::optional<GenerationResult> result;
    GenerationOptions opts;
    opts.maxTokens = kTokens;
    opts.ignoreEos = true;
    opts.sampling.temperature = 0.0f;
    RequestCallbacks cb;
    cb.onFinished = [&](const GenerationResult& r) {
        std::lock_guard lock(mu);
        result = r;
        cv.notify_all();
    };
    const std::string prompt = "a sliding window";
    ASSERT_TRUE((*engine)->submit(prompt, opts, cb).ok());
    {
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return result.has_value(); }));
    }
    ASSERT_EQ(result->tokens.size(), static_cast<std::size_t>(kTokens)) << result->errorMessage << " finish " << static_cast<int>(result->finishReason);
    EXPECT_LE((*engine)->snapshot().kv.usedBlocks, 12);

    // The same greedy continuation, one token per step with every block kept.
    const auto ids = (*engine)->tokenizer().encode(prompt, true);
    std::vector<TokenId> tokens(ids.begin(), ids.end());
    Driver d(**refEx, 96);
    d.add(tokens);
    d.step({static_cast<std::int32_t>(tokens.size())});
    for (int i = 1; i < kTokens; ++i) d.step({1});
    const auto& all = d.seqs()[0].tokens;
    EXPECT_EQ(std::vector<TokenId>(all.begin() + static_cast<long>(tokens.size()), all.end()),
              std::vector<TokenId>(result->tokens.begin(), result->tokens.end()));
    (*engine)->stop();
}

}  // namespace

TEST(CpuEngine, SlidingWindowModelReleasesBlocksAndStillGeneratesTheSameTokens) {
    runSlidingWindowEngine(MemoryPolicy::Preempt);
    // Reserve: a request reserves at most a pool's worth, and still completes.
    runSlidingWindowEngine(MemoryPolicy::Reserve);
}
