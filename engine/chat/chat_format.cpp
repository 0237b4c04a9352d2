// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/chat_format.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "engine/chat/chat_template.h"

namespace batchscope::engine {
namespace {

struct Format {
    const char* name;
    const char* marker;  ///< a special token only this family's template writes
    std::array<const char*, 3> nameHints;
    const char* text;
};

// Written for our interpreter; each mirrors its family's reference template for plain
// system/user/assistant conversations.
const std::array<Format, 5> kFormats = {{
    {"chatml", "<|im_start|>", {"qwen", "hermes", "chatml"},
     "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"llama3", "<|start_header_id|>", {"llama-3", "llama3", "llama 3"},
     "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
     " + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
     "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"},
    {"gemma", "<start_of_turn>", {"gemma", nullptr, nullptr},
     "{{ bos_token }}{% set ns = namespace(system='') %}{% for message in messages %}"
     "{% if message['role'] == 'system' %}{% set ns.system = ns.system + message['content'] + '\\n\\n' %}"
     "{% else %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
     "{{ '<start_of_turn>' + role + '\\n' + (ns.system if role == 'user' else '') + message['content'] | trim"
     " + '<end_of_turn>\\n' }}{% if role == 'user' %}{% set ns.system = '' %}{% endif %}{% endif %}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"},
    {"phi3", "<|end|>", {"phi-3", "phi3", "phi 3"},
     "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"},
    {"mistral", "[INST]", {"mistral", "mixtral", "llama-2"},
     "{{ bos_token }}{% set ns = namespace(system='') %}{% for message in messages %}"
     "{% if message['role'] == 'system' %}{% set ns.system = message['content'] + '\\n\\n' %}"
     "{% elif message['role'] == 'user' %}{{ '[INST] ' + ns.system + message['content'] + ' [/INST]' }}"
     "{% set ns.system = '' %}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}"},
}};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

ResolvedChatTemplate builtin(const Format& f, const std::string& reason) {
    return {f.text, std::string("built-in: ") + f.name + " (" + reason + ")"};
}

}  // namespace

std::vector<std::string> builtinChatFormats() {
    std::vector<std::string> names;
    for (const auto& f : kFormats) names.emplace_back(f.name);
    return names;
}

std::optional<std::string> builtinChatTemplate(std::string_view format) {
    for (const auto& f : kFormats) {
        if (format == f.name) return std::string(f.text);
    }
    return std::nullopt;
}

ResolvedChatTemplate resolveChatTemplate(const std::optional<std::string>& ggufTemplate, const ChatModelHints& hints) {
    std::string why;
    if (ggufTemplate && !ggufTemplate->empty()) {
        auto parsed = ChatTemplate::parse(*ggufTemplate);
        if (parsed.ok()) return {*ggufTemplate, "gguf"};
        // Detect the family from the text we could not parse.
        for (const auto& f : kFormats) {
            if (ggufTemplate->find(f.marker) != std::string::npos) {
                return builtin(f, "the file's template did not parse: " + parsed.error().message + "; it writes " + f.marker);
            }
        }
        why = "the file's template did not parse: " + parsed.error().message + "; ";
    } else {
        why = "the file has no chat template; ";
    }
    if (hints.hasPiece) {
        for (const auto& f : kFormats) {
            if (hints.hasPiece(f.marker)) return builtin(f, why + "the vocabulary has " + f.marker);
        }
    }
    const std::string name = lower(hints.name);
    for (const auto& f : kFormats) {
        for (const char* hint : f.nameHints) {
            if (hint && name.find(hint) != std::string::npos) return builtin(f, why + "the model is named '" + hints.name + "'");
        }
    }
    return builtin(kFormats[0], why + "no family recognised, ChatML is the default");
}

}  // namespace batchscope::engine
