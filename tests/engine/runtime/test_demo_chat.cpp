// The bundled demo model as a chat model: its GGUF carries a chat template whose role headers
// and end-of-turn are control tokens, the engine renders and encodes conversations exactly as
// the training script laid them out (resources/models/demo-reference.json, chat_cases), and
// greedy chat answers to "What is the capital of X?" name the capital and stop at <|end|>.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/chat/chat_prompt.h"
#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/gguf_file.h"
#include "engine/runtime/engine.h"

using namespace batchscope::engine;

namespace {

std::string resourcesDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    return std::string(env && *env ? env : BATCHSCOPE_SOURCE_DIR) + "/resources/models";
}

std::unique_ptr<CpuLlamaExecutor> openDemo() {
    auto file = GgufFile::open(resourcesDir() + "/demo.gguf");
    if (!file) return nullptr;
    auto exec = CpuLlamaExecutor::create(std::move(file.value()), 2);
    return exec ? std::move(exec.value()) : nullptr;
}

class DemoChat : public ::testing::Test {
protected:
    void SetUp() override {
        // The demo model ships with the sources: missing is a failure, not a skip.
        ASSERT_TRUE(std::filesystem::exists(resourcesDir() + "/demo.gguf")) << "resources/models/demo.gguf is missing";
        m_exec = openDemo();
        ASSERT_NE(m_exec, nullptr);
        std::ifstream in(resourcesDir() + "/demo-reference.json");
        m_ref = nlohmann::json::parse(in);
        ASSERT_TRUE(m_ref.contains("chat_cases")) << "demo-reference.json predates the chat model";
    }
    std::unique_ptr<CpuLlamaExecutor> m_exec;
    nlohmann::json m_ref;
};

std::vector<ChatMessage> messagesOf(const nlohmann::json& j) {
    std::vector<ChatMessage> out;
    for (const auto& m : j) out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    return out;
}

}  // namespace

TEST_F(DemoChat, TemplateComesFromTheFileAndItsTokensAreControlTokens) {
    const ModelInfo info = m_exec->modelInfo();
    EXPECT_EQ(info.chatTemplateSource, "gguf");
    EXPECT_EQ(info.chatTemplate, m_ref["chat_template"].get<std::string>());
    const Tokenizer& tok = m_exec->tokenizer();
    const auto special = tok.specialTokenIds();
    const auto eog = tok.endOfGenerationIds();
    for (const char* piece : {"<|system|>", "<|user|>", "<|assistant|>", "<|end|>"}) {
        auto id = tok.pieceId(piece);
        ASSERT_TRUE(id.has_value()) << piece;
        EXPECT_NE(std::find(special.begin(), special.end(), *id), special.end()) << piece << " is not a control token";
        // Typed by a user, the text is not the token.
        const auto typed = tok.encode(piece, false);
        EXPECT_EQ(std::count(typed.begin(), typed.end(), *id), 0) << piece;
    }
    EXPECT_NE(std::find(eog.begin(), eog.end(), *tok.pieceId("<|end|>")), eog.end()) << "<|end|> must end generation";
    EXPECT_NE(std::find(eog.begin(), eog.end(), *tok.eosId()), eog.end());
}

TEST_F(DemoChat, PromptsMatchTheTrainingScript) {
    const ModelInfo info = m_exec->modelInfo();
    int checked = 0;
    for (const auto& c : m_ref["chat_cases"]) {
        auto prompt = buildChatPrompt(info.chatTemplate, messagesOf(c["messages"]), info, m_exec->tokenizer());
        ASSERT_TRUE(prompt.ok()) << prompt.error().message;
        EXPECT_EQ(prompt->rendered.text, c["rendered"].get<std::string>());
        EXPECT_EQ(prompt->tokens, c["prompt_ids"].get<std::vector<TokenId>>()) << prompt->rendered.text;
        ++checked;
    }
    EXPECT_GE(checked, 4);
    // A role the template does not know fails with the template's own message.
    auto bad = buildChatPrompt(info.chatTemplate, {{"tool", "x"}}, info, m_exec->tokenizer());
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("roles system, user and assistant"), std::string::npos) << bad.error().message;
}

// France and 20 more, from every continent, all at once through the batched engine, greedy.
TEST_F(DemoChat, AnswersCapitalQuestions) {
    const std::vector<std::pair<std::string, std::string>> capitals = {
        {"France", "Paris"}, {"Germany", "Berlin"}, {"Japan", "Tokyo"}, {"Italy", "Rome"},
        {"Spain", "Madrid"}, {"Egypt", "Cairo"}, {"Kenya", "Nairobi"}, {"Canada", "Ottawa"},
        {"Brazil", "Brasilia"}, {"Argentina", "Buenos Aires"}, {"Australia", "Canberra"},
        {"China", "Beijing"}, {"India", "New Delhi"}, {"Russia", "Moscow"}, {"Peru", "Lima"},
        {"Norway", "Oslo"}, {"Poland", "Warsaw"}, {"Turkey", "Ankara"}, {"Mexico", "Mexico City"},
        {"Thailand", "Bangkok"}, {"Greece", "Athens"},
    };
    EngineConfig config;
    config.settings.maxBatchSize = 32;
    auto engine = Engine::create(config, std::move(m_exec));
    ASSERT_TRUE(engine.ok());
    const Tokenizer& tok = engine.value()->tokenizer();
    const TokenId end = *tok.pieceId("<|end|>");
    std::vector<std::shared_ptr<std::promise<GenerationResult>>> promises;
    std::vector<std::future<GenerationResult>> answers;
    for (const auto& [country, capital] : capitals) {
        GenerationOptions o;
        o.maxTokens = 16;
        o.sampling.temperature = 0;
        auto p = std::make_shared<std::promise<GenerationResult>>();
        answers.push_back(p->get_future());
        RequestCallbacks cb;
        cb.onFinished = [p](const GenerationResult& r) { p->set_value(r); };
        auto id = engine.value()->submitChat({{"user", "What is the capital of " + country + "?"}}, o, std::move(cb));
        ASSERT_TRUE(id.ok()) << id.error().message;
    }
    engine.value()->start();
    int right = 0;
    for (std::size_t i = 0; i < capitals.size(); ++i) {
        const GenerationResult r = answers[i].get();
        const bool named = r.text.find(capitals[i].second) != std::string::npos;
        const bool stopped = r.finishReason == FinishReason::Eos && !r.tokens.empty() && r.tokens.back() == end;
        right += named && stopped;
        EXPECT_TRUE(named) << capitals[i].first << " -> '" << r.text << "'";
        EXPECT_TRUE(stopped) << capitals[i].first << ": the answer must end with <|end|> -> '" << r.text << "'";
    }
    EXPECT_EQ(right, int(capitals.size()));
}
