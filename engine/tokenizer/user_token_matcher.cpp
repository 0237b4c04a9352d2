// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/user_token_matcher.h"

#include <algorithm>

namespace batchscope::engine {

UserTokenMatcher::UserTokenMatcher(const Vocab& vocab) : m_nodes(1) {
    for (TokenId id = 0; id < vocab.size(); ++id) {
        if (vocab.type(id) != TokenType::UserDefined) continue;
        const std::string& piece = vocab.pieces[static_cast<std::size_t>(id)];
        if (piece.empty()) continue;
        // A piece listed twice maps to the id the vocabulary's lookup gives (the later one).
        const auto canonical = vocab.find(piece);
        int node = 0;
        for (unsigned char byte : piece) {
            auto& children = m_nodes[static_cast<std::size_t>(node)].children;
            auto it = std::lower_bound(children.begin(), children.end(), byte,
                                       [](const auto& c, unsigned char b) { return c.first < b; });
            if (it != children.end() && it->first == byte) {
                node = it->second;
                continue;
            }
            const int created = static_cast<int>(m_nodes.size());
            children.insert(it, {byte, created});  // before emplace_back, which invalidates `children`
            m_nodes.emplace_back();
            node = created;
        }
        m_nodes[static_cast<std::size_t>(node)].token = canonical ? *canonical : id;
    }
}

int UserTokenMatcher::child(int node, unsigned char byte) const {
    const auto& children = m_nodes[static_cast<std::size_t>(node)].children;
    auto it = std::lower_bound(children.begin(), children.end(), byte,
                               [](const auto& c, unsigned char b) { return c.first < b; });
    return it != children.end() && it->first == byte ? it->second : -1;
}

std::vector<TextFragment> UserTokenMatcher::partition(std::string_view text) const {
    std::vector<TextFragment> out;
    if (empty()) {
        if (!text.empty()) out.push_back({text, std::nullopt});
        return out;
    }
    std::size_t plainStart = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        // Longest user-defined piece starting at pos.
        std::size_t matchLength = 0;
        std::optional<TokenId> matchToken;
        int node = 0;
        for (std::size_t k = pos; k < text.size(); ++k) {
            node = child(node, static_cast<unsigned char>(text[k]));
            if (node < 0) break;
            if (const auto& token = m_nodes[static_cast<std::size_t>(node)].token) {
                matchLength = k + 1 - pos;
                matchToken = token;
            }
        }
        if (!matchToken) {
            ++pos;
            continue;
        }
        if (pos > plainStart) out.push_back({text.substr(plainStart, pos - plainStart), std::nullopt});
        out.push_back({text.substr(pos, matchLength), matchToken});
        pos += matchLength;
        plainStart = pos;
    }
    if (plainStart < text.size()) out.push_back({text.substr(plainStart), std::nullopt});
    return out;
}

}  // namespace batchscope::engine
