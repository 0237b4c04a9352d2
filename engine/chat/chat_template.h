// Chat templates: a GGUF's `tokenizer.chat_template` (Jinja) rendered by our own sandboxed,
// bounded interpreter (engine/chat/jinja_*), with track of which bytes of the prompt came
// from message contents (user text, never parsed for special tokens) and which the template
// wrote (where special tokens such as <|im_start|> are recognised).
// Threading: a ChatTemplate is immutable after parse(); apply()/render() may run
// concurrently from any threads.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chat/jinja_evaluator.h"
#include "engine/core/result.h"
#include "engine/core/text_span.h"

namespace batchscope::engine {

struct ChatMessage {
    std::string role;     ///< "system", "user", "assistant", "tool"
    std::string content;  ///< UTF-8 text
};

/// A rendered prompt. Invariant: userSpans are sorted, disjoint, non-empty and inside text.
struct RenderedPrompt {
    std::string text;
    std::vector<TextSpan> userSpans;  ///< bytes that came from the caller's data
};

struct ChatTemplateOptions {
    bool addGenerationPrompt = true;
    std::string bosToken;  ///< given to the template as bos_token (template text: special)
    std::string eosToken;
    jinja::RenderOptions render;
};

class ChatTemplate {
public:
    /// Parses a template. Errors (InvalidFormat) name the line and what was wrong.
    static Result<ChatTemplate> parse(std::string_view source);

    /// Renders `messages` as Hugging Face's apply_chat_template does (variables messages,
    /// add_generation_prompt, bos_token, eos_token). Errors: the template's
    /// raise_exception message or a limit that was hit (InvalidArgument).
    Result<RenderedPrompt> apply(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options) const;

    /// Renders with arbitrary variables (a JSON object). Every string in it is user text,
    /// except top-level keys ending in "_token" (bos_token, eos_token, ...), which are the
    /// model's special tokens.
    Result<RenderedPrompt> render(const nlohmann::ordered_json& variables, const jinja::RenderOptions& options) const;

    const std::string& source() const { return *m_source; }

private:
    ChatTemplate() = default;
    Result<RenderedPrompt> renderVariables(const jinja::Variables& vars, const jinja::RenderOptions& options) const;
    std::shared_ptr<const std::string> m_source;
    std::shared_ptr<const jinja::TemplateAst> m_ast;
};

/// One-call entry (for fuzzers and tools): parse + render. Never throws, never hangs
/// (limits in `options`).
Result<RenderedPrompt> renderChatTemplate(std::string_view templateText, const nlohmann::ordered_json& variables,
                                          const jinja::RenderOptions& options = {});

}  // namespace batchscope::engine
