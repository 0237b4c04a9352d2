// Choosing a model's chat template: the GGUF's when it parses, else a built-in format for
// the detected family, with the reason.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/chat/chat_format.h"
#include "engine/chat/chat_template.h"

namespace batchscope::engine {
namespace {

TEST(ChatFormat, UsesTheFilesTemplateWhenItParses) {
    auto r = resolveChatTemplate(std::string("{{ messages[0].content }}"), {});
    EXPECT_EQ(r.source, "gguf");
    EXPECT_EQ(r.text, "{{ messages[0].content }}");
}

TEST(ChatFormat, UnparsableTemplateFallsBackToItsFamily) {
    auto r = resolveChatTemplate(std::string("{% weird %}<|start_header_id|>"), {});
    EXPECT_EQ(r.text, builtinChatTemplate("llama3").value());
    EXPECT_TRUE(r.source.starts_with("built-in: llama3 (the file's template did not parse")) << r.source;
}

TEST(ChatFormat, NoTemplateDetectsFromVocabularyThenName) {
    ChatModelHints vocab{"whatever", [](std::string_view p) { return p == "<start_of_turn>"; }};
    EXPECT_TRUE(resolveChatTemplate(std::nullopt, vocab).source.starts_with("built-in: gemma (the file has no chat template; "
                                                                            "the vocabulary has <start_of_turn>)"));
    ChatModelHints name{"Phi-3.5 Mini Instruct", nullptr};
    EXPECT_TRUE(resolveChatTemplate(std::nullopt, name).source.starts_with("built-in: phi3"));
    auto fallback = resolveChatTemplate(std::nullopt, {"tiny", nullptr});
    EXPECT_EQ(fallback.source, "built-in: chatml (the file has no chat template; no family recognised, ChatML is the default)");
}

// Every built-in renders the reference conversations (system + user + assistant) without
// error and writes its family's markers.
TEST(ChatFormat, BuiltinsRenderConversations) {
    const std::vector<ChatMessage> conv{{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "Bye"}};
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"chatml", "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
                   "Hello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
        {"llama3", "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user"
                   "<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                   "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
        {"gemma", "<s><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
                  "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"},
        {"phi3", "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nBye<|end|>\n"
                 "<|assistant|>\n"},
        {"mistral", "<s>[INST] Be brief.\n\nHi [/INST]Hello.</s>[INST] Bye [/INST]"},
    };
    ASSERT_EQ(builtinChatFormats().size(), expected.size());
    for (const auto& [name, text] : expected) {
        auto t = ChatTemplate::parse(builtinChatTemplate(name).value());
        ASSERT_TRUE(t.ok()) << name << ": " << t.error().message;
        ChatTemplateOptions o;
        o.bosToken = "<s>";
        o.eosToken = "</s>";
        auto r = t->apply(conv, o);
        ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
        EXPECT_EQ(r->text, text) << name;
    }
}

}  // namespace
}  // namespace batchscope::engine
