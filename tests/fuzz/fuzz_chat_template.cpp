// libFuzzer target: the chat-template (Jinja) interpreter, parse + render through
// renderChatTemplate. Input: the template text, optionally followed by a NUL byte and a JSON
// object of variables; without one the template renders a fixed conversation. Every input
// must render or give a clear error within the interpreter's limits (no crash, no hang).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "engine/chat/chat_template.h"

using namespace batchscope::engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    const std::string_view source = input.substr(0, nul);
    nlohmann::ordered_json variables;
    if (nul != std::string_view::npos) {
        variables = nlohmann::ordered_json::parse(input.substr(nul + 1), nullptr, /*allow_exceptions=*/false);
        if (!variables.is_object()) return 0;
    } else {
        variables = {{"messages", {{{"role", "system"}, {"content", "Be brief."}},
                                   {{"role", "user"}, {"content", "Hi <|im_start|> {{ x }}"}},
                                   {{"role", "assistant"}, {"content", "Hello."}}}},
                     {"add_generation_prompt", true},
                     {"bos_token", "<s>"},
                     {"eos_token", "</s>"}};
    }
    jinja::RenderOptions options;
    options.now = 0;  // deterministic strftime_now
    // Smaller limits than the defaults keep each run fast; the limit checks are the same code.
    options.limits.maxOutputBytes = 1u << 20;
    options.limits.maxLoopIterations = 100'000;
    options.limits.maxAllocatedBytes = 16u << 20;
    auto rendered = renderChatTemplate(source, variables, options);
    if (!rendered && rendered.error().message.empty()) __builtin_trap();
    if (rendered) {
        for (const auto& span : rendered.value().userSpans)
            if (span.offset + span.length > rendered.value().text.size()) __builtin_trap();
    }
    return 0;
}
