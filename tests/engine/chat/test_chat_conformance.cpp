// Every template of ../shared/testdata/chat-templates renders every reference conversation
// exactly as Python's jinja2 did (expected/NAME.CASE.txt), or fails where jinja2 raised.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "tests/engine/chat/chat_test_data.h"

namespace batchscope::engine {
namespace {

using testdata::chatTemplateDir;

TEST(ChatTemplateConformance, RendersEveryReferenceTemplateExactly) {
    if (!std::filesystem::exists(chatTemplateDir())) {
        GTEST_SKIP() << "chat template test data not found at " << chatTemplateDir() << " (../shared is absent)";
    }
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(chatTemplateDir())) {
        if (entry.path().extension() != ".jinja") continue;
        const std::string name = entry.path().stem().string();
        auto tmpl = ChatTemplate::parse(testdata::readFile(entry.path()));
        ASSERT_TRUE(tmpl.ok()) << name << ": " << tmpl.error().message;
        for (const auto& [caseName, conv] : testdata::referenceConversations()) {
            auto expectedPath = chatTemplateDir() / "expected" / (name + "." + caseName + ".txt");
            ASSERT_TRUE(std::filesystem::exists(expectedPath)) << expectedPath;
            const std::string expected = testdata::readFile(expectedPath);
            auto rendered = tmpl->apply(conv.messages, testdata::referenceOptions(conv.addGenerationPrompt));
            if (expected.starts_with("ERROR: ")) {
                std::string message = expected.substr(7);
                while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
                ASSERT_FALSE(rendered.ok()) << name << "/" << caseName << " should fail with: " << message;
                EXPECT_NE(rendered.error().message.find(message), std::string::npos)
                    << name << "/" << caseName << ": " << rendered.error().message;
            } else {
                ASSERT_TRUE(rendered.ok()) << name << "/" << caseName << ": " << rendered.error().message;
                EXPECT_EQ(rendered->text, expected) << name << "/" << caseName;
            }
            ++checked;
        }
    }
    EXPECT_GE(checked, 35);
}

}  // namespace
}  // namespace batchscope::engine
