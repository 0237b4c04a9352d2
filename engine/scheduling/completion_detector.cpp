// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/scheduling/completion_detector.h"

#include <algorithm>

namespace batchscope::engine {

CompletionDetector::CompletionDetector(CompletionConfiguration config, const Tokenizer& tokenizer)
    : m_config(std::move(config)), m_tokenizer(tokenizer) {
    if (m_config.eosTokenIds.empty()) m_config.eosTokenIds = m_tokenizer.endOfGenerationIds();
}

bool CompletionDetector::isEos(TokenId token) const {
    return std::find(m_config.eosTokenIds.begin(), m_config.eosTokenIds.end(), token) !=
           m_config.eosTokenIds.end();
}

void CompletionDetector::begin(Sequence& seq) const { seq.detokenizer.reset(seq.options.stopStrings); }

CompletionDetector::Verdict CompletionDetector::onToken(Sequence& seq, TokenId token) const {
    Verdict v;
    if (!seq.options.ignoreEos && isEos(token)) {
        v.reason = FinishReason::Eos;
        return v;
    }
    auto delta = seq.detokenizer.push(m_tokenizer, token);
    v.textDelta = std::move(delta.text);
    if (delta.stopMatched) {
        v.reason = FinishReason::StopString;
        return v;
    }
    if (seq.generatedCount() >= seq.options.maxTokens) {
        v.reason = FinishReason::MaxTokens;
        return v;
    }
    std::int32_t limit = seq.maxLength;
    if (m_config.maxSequenceLength > 0)
        limit = limit > 0 ? std::min(limit, m_config.maxSequenceLength) : m_config.maxSequenceLength;
    if (limit > 0 && std::int32_t(seq.tokens.size()) >= limit) v.reason = FinishReason::MaxLength;
    return v;
}

std::string CompletionDetector::finish(Sequence& seq) const { return seq.detokenizer.flush(); }

}  // namespace batchscope::engine
