// SPDX-License-Identifier: GPL-3.0-or-later
// The bundled demo model (resources/models/demo.gguf, a trained 4x256 Llama in F16) against the
// reference logits and greedy tokens its trainer computed in PyTorch (demo-reference.json).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model/cpu/cpu_llama_executor.h"

using namespace batchscope::engine;

namespace {

std::string sourceDir() {
    if (const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR"); env && *env) return env;
    return BATCHSCOPE_SOURCE_DIR;
}

}  // namespace

TEST(CpuDemoModel, MatchesTrainerReferenceLogitsAndGreedyTokens) {
    const std::string dir = sourceDir() + "/resources/models/";
    // The demo model and its reference ship with the sources: missing is a failure.
    ASSERT_TRUE(std::filesystem::exists(dir + "demo.gguf") && std::filesystem::exists(dir + "demo-reference.json"))
        << "no demo model in " << dir;
    std::ifstream in(dir + "demo-reference.json");
    const auto ref = nlohmann::json::parse(in);
    for (cpu::CpuIsa isa : {cpu::CpuIsa::Scalar, cpu::activeCpuIsa()}) {
        auto file = GgufFile::open(dir + "demo.gguf");
        ASSERT_TRUE(file.ok()) << file.error().message;
        auto ex = CpuLlamaExecutor::create(std::move(*file), 2, {}, {}, isa);
        ASSERT_TRUE(ex.ok()) << ex.error().message;
        CpuLlamaExecutor& e = **ex;
        EXPECT_EQ(e.config().vocabSize, ref["vocab_size"].get<int>());
        e.configureKvCache(8 * 16, 16);
        BlockId nextBlock = 0;
        double worst = 0;
        for (const auto& c : ref["cases"]) {
            const std::string prompt = c["prompt"];
            std::vector<TokenId> tokens = c["prompt_ids"].get<std::vector<TokenId>>();
            EXPECT_EQ(e.tokenizer().encode(prompt, true), tokens) << prompt;
            std::vector<BlockId> blocks;
            for (int b = 0; b < 2; ++b) blocks.push_back(nextBlock++ % 128);
            const auto expectedLogits = c["next_token_logits"].get<std::vector<float>>();
            const auto greedy = c["greedy_ids"].get<std::vector<TokenId>>();
            const int reliable = c["greedy_reliable_prefix"].get<int>();
            std::int32_t computed = 0;
            for (int step = 0; step <= reliable && step < static_cast<int>(greedy.size()); ++step) {
                ModelBatch batch;
                SequenceStep s;
                s.tokens = std::span<const TokenId>(tokens).subspan(static_cast<std::size_t>(computed));
                s.startPosition = computed;
                s.blockTable = blocks;
                s.needsNextToken = true;
                s.sampling.temperature = 0.0f;
                batch.sequences.push_back(s);
                std::vector<float> logits;
                const StepResult r = e.executeWithLogits(batch, &logits);
                ASSERT_TRUE(r.nextTokens[0].has_value()) << prompt;
                if (step == 0) {
                    ASSERT_EQ(logits.size(), expectedLogits.size());
                    double err = 0, mag = 0;
                    for (std::size_t v = 0; v < logits.size(); ++v) {
                        err = std::max(err, std::fabs(double(logits[v]) - expectedLogits[v]));
                        mag = std::max(mag, std::fabs(double(expectedLogits[v])));
                    }
                    EXPECT_LE(err / mag, 1e-4) << prompt << " isa=" << cpu::cpuIsaName(isa);
                    worst = std::max(worst, err / mag);
                }
                if (step < reliable) {
                    EXPECT_EQ(*r.nextTokens[0], greedy[static_cast<std::size_t>(step)]) << prompt << " step " << step;
                }
                computed = static_cast<std::int32_t>(tokens.size());
                tokens.push_back(greedy[static_cast<std::size_t>(step)]);  // follow the reference path
            }
        }
        std::printf("%s: worst relative logit error %.3g\n", std::string(cpu::cpuIsaName(isa)).c_str(), worst);
    }
}
