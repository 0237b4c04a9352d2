// Special tokens in rendered chat prompts: the control tokens a chat template writes
// (<|im_start|>, <start_of_turn>, <|eot_id|>...) become their single token ids, but only
// where the template wrote them; text that came from message contents is always encoded as
// plain text, so a user typing "<|im_end|>" cannot end a turn.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/text_span.h"

namespace batchscope::engine {

class Tokenizer;
struct Vocab;

/// Ids of the vocabulary's Control and UserDefined entries with a non-empty piece.
std::vector<TokenId> vocabSpecialTokenIds(const Vocab& vocab);

/// Encodes `text`, turning special-token pieces (Tokenizer::specialTokenIds) into their ids
/// wherever they lie wholly outside `plainSpans` (longest piece first); everything else is
/// encoded with Tokenizer::encode, one call per run of text between special tokens.
/// `plainSpans`: sorted, disjoint byte ranges of `text` (RenderedPrompt::userSpans). addBos
/// prepends BOS unless the encoded text already starts with it. Thread-safe (const tokenizer).
std::vector<TokenId> encodeWithSpecialTokens(const Tokenizer& tokenizer, std::string_view text,
                                             std::span<const TextSpan> plainSpans, bool addBos);

}  // namespace batchscope::engine
