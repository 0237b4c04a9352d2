// Prompts of a chosen token length for driving a server with a workload that has no text.
// The server's tokenizer is unknown to the client, so PromptCalibration finds, by sending a few
// short prompts and reading back their token counts, words that encode to exactly one token
// each and the constant the server adds (BOS, a leading "▁"). SyntheticPromptBuilder then
// writes a prompt of N tokens as N - offset of those words, in a per-request random order (so
// unrelated requests share no prefix) with a shared opening where the workload says requests
// share prefix blocks.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace batchscope::engine {

/// Immutable after construction; any thread.
class SyntheticPromptBuilder {
public:
    /// `offset`: tokens the server's encoding adds to any prompt of these words.
    SyntheticPromptBuilder(std::vector<std::string> words, int offset) : m_words(std::move(words)), m_offset(offset) {}

    /// `count` words drawn from the set by `seed` (same seed, same text).
    std::string wordsFromSeed(int count, std::uint64_t seed) const;

    /// A prompt meant to encode to `tokens` tokens (offset included; at least one word).
    /// The words of prefix block i are drawn from prefixBlockHashes[i] (blockTokens words per
    /// block), so requests with equal leading hashes get equal leading text; the rest from `seed`.
    std::string build(int tokens, std::uint64_t seed, const std::vector<std::uint64_t>& prefixBlockHashes = {},
                      int blockTokens = 16) const;

    int offset() const { return m_offset; }
    const std::vector<std::string>& words() const { return m_words; }

private:
    std::vector<std::string> m_words;
    int m_offset = 0;
};

/// Finds one-token words for a tokenizer the caller can only query by prompt-token counts.
/// Stage 1 probes every candidate word alone at two repeat counts (its tokens per repetition
/// and the offset); stage 2 checks, per candidate group, that a random mix of the group's
/// one-token words encodes to exactly offset + words tokens (no merges across words). The first
/// group that passes wins. Single-threaded; the caller sends the probes and records replies.
class PromptCalibration {
public:
    struct Probe {
        std::string id;      ///< echo it back to record()
        std::string prompt;
    };

    PromptCalibration();
    /// The probes of the current stage (empty when done()).
    std::vector<Probe> probes() const;
    /// The prompt-token count of a probe's reply; unknown ids are ignored. When the stage's last
    /// reply arrives, the next stage starts (probes() changes).
    void record(const std::string& id, int promptTokens);
    bool done() const { return m_stage == Stage::Done; }
    /// 0, 1, 2: changes when record() moves to the next stage.
    int stageIndex() const { return int(m_stage); }
    /// After done(): whether a group passed the mixed check (else the result is a best effort).
    bool exact() const { return m_exact; }
    /// After done(): the words and offset to build prompts with.
    SyntheticPromptBuilder builder() const;

    /// Candidate groups, tried in order: common English words with a leading space (one token
    /// each in most BPE and SentencePiece vocabularies), then single letters (byte tokenizers).
    static const std::vector<std::vector<std::string>>& candidateGroups();

private:
    enum class Stage { Words, Mix, Done };
    void finishWords();
    void finishMix();

    Stage m_stage = Stage::Words;
    std::map<std::string, int> m_replies;
    std::size_t m_expected = 0;
    /// Per group: its one-token words and their common offset (after stage 1).
    std::vector<std::vector<std::string>> m_groupWords;
    std::vector<int> m_groupOffset;
    bool m_exact = false;
    std::size_t m_chosen = 0;
};

}  // namespace batchscope::engine
