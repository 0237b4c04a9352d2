// From chat messages to prompt tokens: validate the messages, render them with the model's
// chat template, and encode the result with special tokens recognised only in the text the
// template wrote.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <vector>

#include "engine/chat/chat_template.h"
#include "engine/core/ids.h"
#include "engine/core/result.h"

namespace batchscope::engine {

class Tokenizer;
struct ModelInfo;

/// Caps on a conversation, checked before rendering.
inline constexpr std::size_t kMaxChatMessages = 4096;
inline constexpr std::size_t kMaxChatBytes = 4u << 20;  ///< all contents together

struct ChatPrompt {
    RenderedPrompt rendered;
    std::vector<TokenId> tokens;
};

/// InvalidArgument naming the message for: no messages, a role other than system, user,
/// assistant or tool, more than kMaxChatMessages messages; PromptTooLong past kMaxChatBytes.
Status validateChatMessages(const std::vector<ChatMessage>& messages);

/// Validates, renders with `templateText` (bos/eos from `info`) and encodes. Errors:
/// validateChatMessages's, InvalidFormat for a template that does not parse, InvalidArgument
/// for one that fails (raise_exception, limits).
Result<ChatPrompt> buildChatPrompt(const std::string& templateText, const std::vector<ChatMessage>& messages,
                                   const ModelInfo& info, const Tokenizer& tokenizer, bool addGenerationPrompt = true);

}  // namespace batchscope::engine
