// A chat template chosen by the user (`--chat-template FILE`, the GUI's model panel): the file
// is read and parsed with errors naming it, and the engine renders chat turns with it (also
// when set while running), and goes back to the model's own on reset.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/chat/chat_template_file.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"

using namespace batchscope::engine;
namespace fs = std::filesystem;

namespace {

const char* const kBracketTemplate =
    "{% for m in messages %}[{{ m.role }}]{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";

class EngineChatTemplate : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() /
                ("batchscope-chat-template-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                 "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }
    std::string write(const std::string& name, const std::string& text) {
        const fs::path p = m_dir / name;
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    static std::unique_ptr<Engine> makeEngine() {
        SimulatedExecutorConfig sim;
        sim.eosProbability = 0;
        EngineConfig config;
        config.numKvBlocks = 256;
        auto engine = Engine::create(config, std::make_unique<SimulatedExecutor>(sim));
        return engine ? std::move(engine.value()) : nullptr;
    }
    /// The prompt preview of the request the engine queued for `messages`.
    static std::string renderedBy(Engine& engine, const std::vector<ChatMessage>& messages) {
        GenerationOptions o;
        o.maxTokens = 1;
        auto id = engine.submitChat(messages, o, {});
        if (!id) return "error: " + id.error().message;
        for (const auto& r : engine.snapshot().requests)
            if (r.id == id.value()) return r.promptPreview;
        return "(request not in the snapshot)";
    }
    fs::path m_dir;
};

}  // namespace

TEST_F(EngineChatTemplate, AFileLoadsWithItsPathAsTheSource) {
    const std::string path = write("bracket.jinja", kBracketTemplate);
    auto file = loadChatTemplateFile(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(file->text, kBracketTemplate);
    EXPECT_EQ(file->source, "file: " + path);
}

TEST_F(EngineChatTemplate, BadFilesGetErrorsNamingTheFile) {
    const std::string missing = (m_dir / "missing.jinja").string();
    auto a = loadChatTemplateFile(missing);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code, ErrorCode::NotFound);
    EXPECT_NE(a.error().message.find(missing), std::string::npos) << a.error().message;

    const std::string empty = write("empty.jinja", "");
    auto b = loadChatTemplateFile(empty);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.error().message.find(empty), std::string::npos) << b.error().message;
    EXPECT_NE(b.error().message.find("empty"), std::string::npos) << b.error().message;

    const std::string broken = write("broken.jinja", "{% for m in messages %}{{ m.content }");
    auto c = loadChatTemplateFile(broken);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::InvalidFormat);
    EXPECT_NE(c.error().message.find(broken), std::string::npos) << c.error().message;
    EXPECT_GT(c.error().message.size(), broken.size() + 20) << "the parse error itself is missing: " << c.error().message;

    const std::string huge = write("huge.jinja", std::string(kMaxChatTemplateFileBytes + 1, 'x'));
    auto d = loadChatTemplateFile(huge);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().message.find("larger than"), std::string::npos) << d.error().message;

    EXPECT_FALSE(loadChatTemplateFile(m_dir.string()).ok()) << "a directory is not a template";
}

TEST_F(EngineChatTemplate, TheEngineRendersWithTheFileAndResetsToTheModelsOwn) {
    auto engine = makeEngine();
    ASSERT_NE(engine, nullptr);
    const std::string own = engine->modelInfo().chatTemplateSource;
    ASSERT_EQ(own, "built-in: chatml (simulated model)");
    EXPECT_EQ(renderedBy(*engine, {{"user", "hi"}}).rfind("<|im_start|>user", 0), 0u);

    auto file = loadChatTemplateFile(write("bracket.jinja", kBracketTemplate));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(engine->setChatTemplate(file->text, file->source).ok());
    EXPECT_EQ(engine->modelInfo().chatTemplateSource, file->source);
    EXPECT_EQ(renderedBy(*engine, {{"system", "be brief"}, {"user", "hi"}}), "[system]be brief [user]hi [assistant]");

    // A template that does not parse is refused and the file's stays.
    EXPECT_FALSE(engine->setChatTemplate("{% if %}", "file: bad").ok());
    EXPECT_EQ(engine->modelInfo().chatTemplateSource, file->source);

    engine->resetChatTemplate();
    EXPECT_EQ(engine->modelInfo().chatTemplateSource, own);
    EXPECT_EQ(renderedBy(*engine, {{"user", "hi"}}).rfind("<|im_start|>user", 0), 0u);
}

// The GUI sets the template while the API submits chats from other threads (TSan checks it).
TEST_F(EngineChatTemplate, SettingItWhileChatsAreSubmittedIsSafe) {
    auto engine = makeEngine();
    ASSERT_NE(engine, nullptr);
    engine->start();
    std::atomic<bool> done{false};
    std::atomic<int> submitted{0};
    std::thread submitter([&] {
        GenerationOptions o;
        o.maxTokens = 1;
        while (!done.load()) {
            if (engine->submitChat({{"user", "hello"}}, o, {}).ok()) submitted.fetch_add(1);
            (void)engine->modelInfo().chatTemplateSource.size();
        }
    });
    for (int i = 0; i < 200; ++i) {
        if (i % 2) {
            ASSERT_TRUE(engine->setChatTemplate(kBracketTemplate, "file: " + std::to_string(i)).ok());
        } else {
            engine->resetChatTemplate();
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (submitted.load() < 10 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    done = true;
    submitter.join();
    EXPECT_GE(submitted.load(), 10);
    engine->stop();
}
