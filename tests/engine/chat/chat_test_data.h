// Shared helpers of the chat-template tests: where ../shared/testdata/chat-templates is, the
// five conversations its expected/ renders were made from.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/chat/chat_template.h"

namespace batchscope::engine::testdata {

inline std::filesystem::path chatTemplateDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::string root = env != nullptr ? env : BATCHSCOPE_SOURCE_DIR;
    return std::filesystem::path(root) / ".." / "shared" / "testdata" / "chat-templates";
}

inline std::string readFile(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct Conversation {
    std::vector<ChatMessage> messages;
    bool addGenerationPrompt = true;
};

/// The cases of the README's table.
inline std::map<std::string, Conversation> referenceConversations() {
    return {
        {"user", {{{"user", "Hello"}}, true}},
        {"system_user", {{{"system", "You are a helpful assistant."}, {"user", "What is the capital of France?"}}, true}},
        {"multi_turn",
         {{{"user", "What is the capital of France?"}, {"assistant", "Paris."}, {"user", "And of Japan?"}}, true}},
        {"multi_turn_no_gen", {{{"user", "What is the capital of France?"}, {"assistant", "Paris."}}, false}},
        {"unicode_newlines",
         {{{"system", "R\xc3\xa9ponds en fran\xc3\xa7" "ais.\n\nSois bref."},
           {"user", "Quelle est la capitale du Japon ? \xe6\x9d\xb1\xe4\xba\xac \"quoted\""}},
          true}},
    };
}

/// 2026-07-26 12:00 UTC: the date the reference renders' strftime_now returned.
constexpr std::time_t kReferenceNow = 1785067200;

inline ChatTemplateOptions referenceOptions(bool addGenerationPrompt) {
    ChatTemplateOptions o;
    o.addGenerationPrompt = addGenerationPrompt;
    o.bosToken = "<BOS>";
    o.eosToken = "<EOS>";
    o.render.now = kReferenceNow;
    return o;
}

}  // namespace batchscope::engine::testdata
