// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/byte_tokenizer.h"

#include <array>

namespace batchscope::engine {

namespace {
// Words the simulated executor's ids above 257 decode to, so its output is readable.
constexpr std::array<const char*, 16> kWords = {" the", " model", " token", " batch",
    " block", " cache", " step", " queue", " and", " of", " a", " to", " is", " in", ".", ","};
}  // namespace

ByteTokenizer::ByteTokenizer(int vocabSize) : m_vocabSize(vocabSize < 258 ? 258 : vocabSize) {}

std::vector<TokenId> ByteTokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<TokenId> ids;
    ids.reserve(text.size() + 1);
    if (addBos) ids.push_back(kBos);
    for (unsigned char c : text) ids.push_back(static_cast<TokenId>(c));
    return ids;
}

std::string ByteTokenizer::tokenBytes(TokenId id) const {
    if (id < 0 || id >= m_vocabSize || id == kBos || id == kEos) return {};
    if (id < 256) return std::string(1, static_cast<char>(id));
    return kWords[static_cast<size_t>(id - 258) % kWords.size()];
}

}  // namespace batchscope::engine
