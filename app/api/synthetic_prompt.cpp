// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/synthetic_prompt.h"

#include <algorithm>

namespace batchscope::app::api {
namespace {

/// SplitMix64: a tiny, fully specified generator (prompts must not depend on the library).
std::uint64_t splitMix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

const std::vector<std::vector<std::string>>& SyntheticPromptBuilder::candidateWordSets() {
    static const std::vector<std::vector<std::string>> sets = {
        {" the", " of", " and", " to", " in", " is", " that", " for", " it", " on", " with", " as", " was", " at",
         " by", " be"},
        {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"},
    };
    return sets;
}

std::string SyntheticPromptBuilder::wordsFromSeed(int words, std::uint64_t seed) const {
    std::string out;
    std::uint64_t state = seed;
    for (int i = 0; i < words; ++i) out += m_words[splitMix(state) % m_words.size()];
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

}  // namespace batchscope::app::api
