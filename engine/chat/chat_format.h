// Which chat template a model uses: the GGUF's `tokenizer.chat_template` when our
// interpreter parses it, else a built-in format for the model's family, detected from the
// template text, the vocabulary's special tokens or the model's name, and said so.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchscope::engine {

/// A template and where it came from ("gguf", "built-in: chatml (reason)", "file: path").
struct ResolvedChatTemplate {
    std::string text;
    std::string source;
};

/// What family detection may look at besides the template text.
struct ChatModelHints {
    std::string name;                                   ///< general.name / file name
    std::function<bool(std::string_view)> hasPiece;     ///< vocabulary has this token (may be empty)
};

/// Names of the built-in formats: chatml, llama3, gemma, phi3, mistral.
std::vector<std::string> builtinChatFormats();
/// The Jinja text of a built-in format; nullopt for an unknown name.
std::optional<std::string> builtinChatTemplate(std::string_view format);

/// The template to use for a model whose GGUF carries `ggufTemplate` (nullopt: none).
ResolvedChatTemplate resolveChatTemplate(const std::optional<std::string>& ggufTemplate, const ChatModelHints& hints);

}  // namespace batchscope::engine
