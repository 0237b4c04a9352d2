// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/chat_prompt.h"

#include "engine/model/model_info.h"
#include "engine/tokenizer/special_tokens.h"
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

Status validateChatMessages(const std::vector<ChatMessage>& messages) {
    if (messages.empty()) return makeError(ErrorCode::InvalidArgument, "messages must not be empty");
    if (messages.size() > kMaxChatMessages) {
        return makeError(ErrorCode::InvalidArgument, "messages has " + std::to_string(messages.size()) +
                                                         " entries, at most " + std::to_string(kMaxChatMessages));
    }
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const std::string& role = messages[i].role;
        if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
            return makeError(ErrorCode::InvalidArgument, "messages[" + std::to_string(i) + "].role '" + role +
                                                             "' is not one of system, user, assistant, tool");
        }
        bytes += messages[i].content.size();
    }
    if (bytes > kMaxChatBytes) {
        return makeError(ErrorCode::PromptTooLong, "the conversation has " + std::to_string(bytes) +
                                                       " bytes of content, at most " + std::to_string(kMaxChatBytes));
    }
    return Ok{};
}

Result<ChatPrompt> buildChatPrompt(const std::string& templateText, const std::vector<ChatMessage>& messages,
                                   const ModelInfo& info, const Tokenizer& tokenizer, bool addGenerationPrompt) {
    if (auto valid = validateChatMessages(messages); !valid) return valid.error();
    auto tmpl = ChatTemplate::parse(templateText);
    if (!tmpl) return tmpl.error();
    ChatTemplateOptions options;
    options.addGenerationPrompt = addGenerationPrompt;
    options.bosToken = info.bosToken;
    options.eosToken = info.eosToken;
    auto rendered = tmpl->apply(messages, options);
    if (!rendered) return rendered.error();
    ChatPrompt prompt;
    prompt.tokens = encodeWithSpecialTokens(tokenizer, rendered->text, rendered->userSpans, tokenizer.addsBosByDefault());
    prompt.rendered = std::move(rendered).value();
    return prompt;
}

}  // namespace batchscope::engine
