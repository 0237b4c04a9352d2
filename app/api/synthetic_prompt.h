// Prompts of a chosen token length for driving a server with a trace that has no text: words
// from a small set that the server's tokenizer turns into exactly one token each (found by
// calibration against the server, see TraceLoadDriver), in a per-request random order so that
// unrelated requests share no prefix, and a shared opening where the trace says two requests
// share prefix blocks.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace batchscope::app::api {

/// Immutable after construction; any thread.
class SyntheticPromptBuilder {
public:
    /// Candidate word sets, tried in order by calibration: common English words with a leading
    /// space (one token each in BPE and SentencePiece vocabularies), then single letters (one
    /// token each for byte-level tokenizers such as the simulated executor's).
    static const std::vector<std::vector<std::string>>& candidateWordSets();

    /// `offset`: tokens the server adds around any prompt (BOS), measured by calibration.
    SyntheticPromptBuilder(std::vector<std::string> words, int offset) : m_words(std::move(words)), m_offset(offset) {}

    /// A prompt of `words` words, drawn from the set by `seed` (same seed, same prompt).
    std::string wordsFromSeed(int words, std::uint64_t seed) const;

    /// A prompt meant to encode to `tokens` tokens (offset included; at least one word).
    /// Prefix hashes: the first prefixWords words of block i are drawn from hash i, so requests
    /// with equal leading hashes get equal leading text (the prefix cache sees the sharing);
    /// the rest is drawn from `seed`.
    std::string build(int tokens, std::uint64_t seed, const std::vector<std::uint64_t>& prefixBlockHashes = {},
                      int blockTokens = 16) const;

    int offset() const { return m_offset; }
    const std::vector<std::string>& words() const { return m_words; }

private:
    std::vector<std::string> m_words;
    int m_offset = 0;
};

}  // namespace batchscope::app::api
