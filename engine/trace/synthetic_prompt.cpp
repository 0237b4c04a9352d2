// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/synthetic_prompt.h"

#include <algorithm>

namespace batchscope::engine {
namespace {

/// SplitMix64: a tiny, fully specified generator (prompts must not depend on the library).
std::uint64_t splitMix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr int kShort = 8, kLong = 24, kMix = 40;  // words per probe

std::string repeat(const std::string& word, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += word;
    return out;
}

}  // namespace

std::string SyntheticPromptBuilder::wordsFromSeed(int count, std::uint64_t seed) const {
    std::string out;
    std::uint64_t state = seed;
    for (int i = 0; i < count; ++i) out += m_words[splitMix(state) % m_words.size()];
    return out;
}

std::string SyntheticPromptBuilder::build(int tokens, std::uint64_t seed, const std::vector<std::uint64_t>& prefixBlockHashes,
                                          int blockTokens) const {
    int words = std::max(1, tokens - m_offset);
    std::string out;
    for (std::uint64_t hash : prefixBlockHashes) {
        const int n = std::min(words, blockTokens);
        if (n <= 0) break;
        out += wordsFromSeed(n, hash);
        words -= n;
    }
    return out + wordsFromSeed(words, seed ^ 0x5bd1e995ULL);
}

const std::vector<std::vector<std::string>>& PromptCalibration::candidateGroups() {
    static const std::vector<std::vector<std::string>> groups = {
        {" the", " of", " and", " to", " in", " is", " was", " he", " she", " it", " on", " with", " as", " at",
         " by", " for", " his", " her", " they", " you", " we", " said", " had", " not", " but", " so", " all", " up"},
        {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"},
    };
    return groups;
}

PromptCalibration::PromptCalibration() {
    for (const auto& g : candidateGroups()) m_expected += 2 * g.size();
}

std::vector<PromptCalibration::Probe> PromptCalibration::probes() const {
    std::vector<Probe> out;
    const auto& groups = candidateGroups();
    if (m_stage == Stage::Words) {
        for (std::size_t g = 0; g < groups.size(); ++g)
            for (std::size_t w = 0; w < groups[g].size(); ++w)
                for (int n : {kShort, kLong})
                    out.push_back({"w" + std::to_string(g) + "." + std::to_string(w) + "." + std::to_string(n),
                                   repeat(groups[g][w], n)});
    } else if (m_stage == Stage::Mix) {
        for (std::size_t g = 0; g < m_groupWords.size(); ++g)
            if (m_groupWords[g].size() >= 2)
                out.push_back({"m" + std::to_string(g), SyntheticPromptBuilder(m_groupWords[g], 0).wordsFromSeed(kMix, g + 1)});
    }
    return out;
}

void PromptCalibration::record(const std::string& id, int promptTokens) {
    if (m_stage == Stage::Done) return;
    const auto expected = probes();
    if (std::none_of(expected.begin(), expected.end(), [&](const Probe& p) { return p.id == id; })) return;
    m_replies[id] = promptTokens;
    if (m_replies.size() < m_expected) return;
    if (m_stage == Stage::Words) finishWords();
    else finishMix();
}

void PromptCalibration::finishWords() {
    const auto& groups = candidateGroups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        // Offset of each one-token word; the group keeps the words of the most common offset.
        std::map<int, std::vector<std::string>> byOffset;
        for (std::size_t w = 0; w < groups[g].size(); ++w) {
            const std::string key = "w" + std::to_string(g) + "." + std::to_string(w) + ".";
            const int a = m_replies[key + std::to_string(kShort)], b = m_replies[key + std::to_string(kLong)];
            if (b - a == kLong - kShort) byOffset[a - kShort].push_back(groups[g][w]);
        }
        std::vector<std::string> best;
        int bestOffset = 0;
        for (auto& [offset, words] : byOffset)
            if (words.size() > best.size()) best = words, bestOffset = offset;
        m_groupWords.push_back(best);
        m_groupOffset.push_back(std::max(0, bestOffset));
    }
    m_replies.clear();
    m_stage = Stage::Mix;
    m_expected = probes().size();
    if (m_expected == 0) finishMix();
}

void PromptCalibration::finishMix() {
    m_stage = Stage::Done;
    for (std::size_t g = 0; g < m_groupWords.size(); ++g) {
        auto it = m_replies.find("m" + std::to_string(g));
        if (it != m_replies.end() && it->second == m_groupOffset[g] + kMix) {
            m_chosen = g;
            m_exact = true;
            return;
        }
    }
    // Best effort: the group with the most one-token words.
    for (std::size_t g = 0; g < m_groupWords.size(); ++g)
        if (m_groupWords[g].size() > m_groupWords[m_chosen].size()) m_chosen = g;
}

SyntheticPromptBuilder PromptCalibration::builder() const {
    if (m_groupWords.empty() || m_groupWords[m_chosen].empty())
        return SyntheticPromptBuilder(candidateGroups()[0], m_groupOffset.empty() ? 1 : m_groupOffset[0]);
    return SyntheticPromptBuilder(m_groupWords[m_chosen], m_groupOffset[m_chosen]);
}

}  // namespace batchscope::engine
