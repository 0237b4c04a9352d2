// Decides when a request is done: EOS, max tokens, stop strings, sequence-length limit.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/types.h"
#include "engine/scheduling/sequence.h"
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

struct CompletionConfiguration {
    /// End-of-generation ids; empty = the tokenizer's endOfGenerationIds().
    std::vector<TokenId> eosTokenIds;
    /// Upper bound on prompt + generated tokens; 0 = no bound beyond each request's maxLength.
    std::int32_t maxSequenceLength = 0;
};

/// Stateless apart from its configuration; per-request state (the detokenizer) lives in the
/// Sequence. Thread-safe for concurrent use on different sequences.
class CompletionDetector {
public:
    CompletionDetector(CompletionConfiguration config, const Tokenizer& tokenizer);

    struct Verdict {
        FinishReason reason = FinishReason::None;
        std::string textDelta;  ///< text released by this token (stop string excluded)
    };

    /// Prepares a sequence's detokenizer (stop strings) before its first token.
    void begin(Sequence& seq) const;
    /// Records the token just appended to seq.tokens and returns whether the request is done.
    /// Order of precedence: EOS, stop string, max tokens, max length.
    Verdict onToken(Sequence& seq, TokenId token) const;
    /// Text still held back when a request ends for a reason other than a stop string.
    std::string finish(Sequence& seq) const;

    bool isEos(TokenId token) const;
    const Tokenizer& tokenizer() const { return m_tokenizer; }
    const CompletionConfiguration& config() const { return m_config; }

private:
    CompletionConfiguration m_config;
    const Tokenizer& m_tokenizer;
};

}  // namespace batchscope::engine
