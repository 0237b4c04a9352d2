// SPDX-License-Identifier: GPL-3.0-or-later
// The real scheduler (queue, KV manager with prefix caching, batch manager) driving the CUDA
// executor on a random tiny model, next to the same run on the CPU executor. Qt-free, so it
// also runs from the carried binaries of tools/gpu-check.sh --pack.
#include <chrono>
#include <future>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "gpu/cuda_llama_executor.h"
#include "gpu_test_util.h"
#include "tests/integration/scheduler_fixture.h"

using namespace batchscope;
using namespace batchscope::engine;

namespace {

// Greedy completions (16 tokens, EOS ignored) of 24 prompts, 8 of them sharing a long prefix.
std::vector<GenerationResult> runScheduler(std::unique_ptr<ModelExecutor> executor) {
    tests::FixtureOptions o;
    o.numKvBlocks = 512;
    tests::SchedulerFixture fx(o, std::move(executor));
    fx.build();
    fx.scheduler->start();
    std::vector<std::future<GenerationResult>> futures;
    const std::string shared(120, 'a');
    for (int i = 0; i < 24; ++i) {
        GenerationOptions g;
        g.maxTokens = 16;
        g.ignoreEos = true;
        g.sampling.temperature = i % 3 == 2 ? 0.8f : 0.0f;  // a third sampled on the host
        g.sampling.seed = static_cast<std::uint64_t>(i);
        const std::string prompt = (i % 3 == 0 ? shared : std::string()) + "request " + std::to_string(i) +
                                   std::string(static_cast<std::size_t>(i * 7 % 50), 'x');
        futures.push_back(fx.client->generate(prompt, g));
    }
    std::vector<GenerationResult> out;
    for (auto& f : futures) {
        if (f.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
            ADD_FAILURE() << "a request did not finish within 120 s";
            return out;
        }
        out.push_back(f.get());
    }
    return out;
}

std::vector<std::uint8_t> model() {
    return cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny"), GgmlType::F16, 11).value();
}

}  // namespace

TEST(CudaScheduler, CompletesMixedWorkloadLikeTheCpuRuntime) {
    SKIP_WITHOUT_CUDA();
    auto cuda = gpu::CudaLlamaExecutor::create(GgufFile::fromBytes(model()).value());
    ASSERT_TRUE(cuda.ok()) << cuda.error().message;
    const auto gpuResults = runScheduler(std::move(*cuda));
    const auto cpuResults = runScheduler(CpuLlamaExecutor::create(GgufFile::fromBytes(model()).value(), 2).value());
    ASSERT_EQ(gpuResults.size(), 24u);
    ASSERT_EQ(cpuResults.size(), 24u);
    int identical = 0;
    for (std::size_t i = 0; i < gpuResults.size(); ++i) {
        EXPECT_EQ(gpuResults[i].finishReason, FinishReason::MaxTokens) << i << ": " << gpuResults[i].errorMessage;
        EXPECT_EQ(gpuResults[i].tokens.size(), 16u) << i;
        identical += gpuResults[i].tokens == cpuResults[i].tokens ? 1 : 0;
    }
    // F16 on the GPU vs F32 on the CPU: a near-tie can flip one token and the rest of that
    // sequence; a broken executor agrees on (almost) none.
    std::printf("%d of 24 completions identical to the CPU runtime's\n", identical);
    EXPECT_GE(identical, 12);
}
