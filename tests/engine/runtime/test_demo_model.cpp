// The bundled demo model through the engine: the tokenizer reproduces the training script's
// cases (resources/models/demo-reference.json), greedy text through the scheduler matches, and
// the model knows the capitals it was trained on. (Logits against PyTorch, per ISA, are in
// tests/engine/cpu/demo_model_test.cpp.)
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/gguf_file.h"
#include "engine/runtime/engine.h"
#include "engine/runtime/executor_factory.h"
#include "engine/scheduling/scheduler_client.h"

using namespace batchscope::engine;

namespace {
std::string resourcesDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    return std::string(env && *env ? env : BATCHSCOPE_SOURCE_DIR) + "/resources/models";
}

nlohmann::json loadReference() {
    std::ifstream in(resourcesDir() + "/demo-reference.json");
    return nlohmann::json::parse(in);
}

std::unique_ptr<CpuLlamaExecutor> openDemo() {
    auto file = GgufFile::open(resourcesDir() + "/demo.gguf");
    if (!file) return nullptr;
    auto exec = CpuLlamaExecutor::create(std::move(file.value()), 2);
    return exec ? std::move(exec.value()) : nullptr;
}

class DemoModel : public ::testing::Test {
protected:
    void SetUp() override {
        // The demo model ships with the sources: missing is a failure, not a skip.
        ASSERT_TRUE(std::filesystem::exists(resourcesDir() + "/demo.gguf")) << "resources/models/demo.gguf is missing";
        m_exec = openDemo();
        ASSERT_NE(m_exec, nullptr);
        m_ref = loadReference();
    }
    std::unique_ptr<CpuLlamaExecutor> m_exec;
    nlohmann::json m_ref;
};

/// Greedy text from the engine (real scheduler, real model).
std::string complete(Engine& engine, const std::string& prompt, int maxTokens) {
    GenerationOptions o;
    o.maxTokens = maxTokens;
    o.sampling.temperature = 0;
    return engine.client().generate(prompt, o).get().text;
}
}  // namespace

TEST_F(DemoModel, TokenizerMatchesTheTrainingScript) {
    const Tokenizer& tok = m_exec->tokenizer();
    int checked = 0;
    for (const auto& c : m_ref["tokenizer_cases"]) {
        const std::string text = c["text"];
        const auto expected = c["ids_with_bos"].get<std::vector<TokenId>>();
        EXPECT_EQ(tok.encode(text, true), expected) << "text: '" << text << "'";
        std::vector<TokenId> body(expected.begin() + 1, expected.end());
        EXPECT_EQ(tok.decode(body), c["decoded"].get<std::string>()) << "text: '" << text << "'";
        ++checked;
    }
    EXPECT_GE(checked, 10);
}

TEST_F(DemoModel, GreedyContinuationMatchesThroughTheScheduler) {
    EngineConfig config;
    auto engine = Engine::create(config, std::move(m_exec));
    ASSERT_TRUE(engine.ok());
    engine.value()->start();
    for (const auto& c : m_ref["cases"]) {
        const std::size_t reliable = c["greedy_reliable_prefix"];
        const auto want = c["greedy_ids"].get<std::vector<TokenId>>();
        GenerationOptions o;
        o.maxTokens = 12;
        o.sampling.temperature = 0;
        o.ignoreEos = true;
        const GenerationResult r = engine.value()->client().generate(c["prompt"].get<std::string>(), o).get();
        ASSERT_GE(r.tokens.size(), reliable);
        EXPECT_TRUE(std::equal(want.begin(), want.begin() + std::ptrdiff_t(reliable), r.tokens.begin()))
            << c["prompt"].get<std::string>() << " -> '" << r.text << "'";
    }
    EXPECT_NE(complete(*engine.value(), "The capital of France is", 8).find("Paris"), std::string::npos);
}

TEST_F(DemoModel, KnowsTheCapitalsOfItsCorpus) {
    const std::vector<std::pair<std::string, std::string>> capitals = {
        {"Germany", "Berlin"}, {"Italy", "Rome"}, {"Spain", "Madrid"}, {"Portugal", "Lisbon"},
        {"the United Kingdom", "London"}, {"Ireland", "Dublin"}, {"Belgium", "Brussels"},
        {"Austria", "Vienna"}, {"Poland", "Warsaw"}, {"Hungary", "Budapest"}, {"Greece", "Athens"},
        {"Denmark", "Copenhagen"}, {"Norway", "Oslo"}, {"Sweden", "Stockholm"}, {"Finland", "Helsinki"},
        {"Ukraine", "Kyiv"}, {"Russia", "Moscow"}, {"Serbia", "Belgrade"}, {"Croatia", "Zagreb"},
        {"Romania", "Bucharest"}, {"Bulgaria", "Sofia"}, {"Switzerland", "Bern"}, {"Estonia", "Tallinn"},
    };
    EngineConfig config;
    config.settings.maxBatchSize = 32;
    auto engine = Engine::create(config, std::move(m_exec));
    ASSERT_TRUE(engine.ok());
    // All at once: the batched path must give every sequence its own correct answer.
    std::vector<std::future<GenerationResult>> answers;
    for (const auto& [country, capital] : capitals) {
        GenerationOptions o;
        o.maxTokens = 6;
        o.sampling.temperature = 0;
        answers.push_back(engine.value()->client().generate("The capital of " + country + " is", o));
    }
    engine.value()->start();
    int right = 0;
    for (std::size_t i = 0; i < capitals.size(); ++i) {
        const std::string text = answers[i].get().text;
        const bool ok = text.find(capitals[i].second) != std::string::npos;
        right += ok;
        EXPECT_TRUE(ok) << capitals[i].first << " -> '" << text << "'";
    }
    EXPECT_EQ(right, int(capitals.size()));
}

TEST(DemoModelFactory, DefaultExecutorIsTheDemoModel) {
    ASSERT_TRUE(std::filesystem::exists(resourcesDir() + "/demo.gguf")) << "resources/models/demo.gguf is missing";
    auto exec = createExecutor(ExecutorOptions{resourcesDir() + "/demo.gguf"});
    ASSERT_TRUE(exec.ok()) << exec.error().message;
    EXPECT_EQ(exec.value()->modelInfo().architecture, "llama");
    auto bad = createExecutor(ExecutorOptions{resourcesDir() + "/MODEL_CARD.md"});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("MODEL_CARD.md"), std::string::npos) << bad.error().message;
}
