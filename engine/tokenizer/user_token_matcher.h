// Finds the vocabulary's user-defined tokens in plain text, so they are encoded as themselves
// (HuggingFace "added tokens" that are not special; llama.cpp's tokenizer_st_partition).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "engine/core/ids.h"
#include "engine/tokenizer/vocab.h"

namespace batchscope::engine {

/// One part of the text: either plain text to run the tokenizer over, or a user-defined token.
struct TextFragment {
    std::string_view text;         ///< view into the partitioned text
    std::optional<TokenId> token;  ///< set when `text` is a user-defined token's piece
};

/// A byte trie of the pieces of every TokenType::UserDefined token. Control and unknown tokens
/// are never matched: text a user typed (for example "<|im_end|>") stays plain text and can
/// not end a turn or impersonate the chat template. Immutable after construction; thread-safe.
class UserTokenMatcher {
public:
    explicit UserTokenMatcher(const Vocab& vocab);

    /// Splits `text` at the user-defined tokens, scanning left to right and taking the longest
    /// token that starts at each position (HuggingFace's leftmost-longest match). Plain runs in
    /// between are returned as fragments without a token. O(text bytes x longest piece).
    std::vector<TextFragment> partition(std::string_view text) const;

    bool empty() const { return m_nodes.size() <= 1; }

private:
    struct Node {
        std::vector<std::pair<unsigned char, int>> children;  ///< sorted by byte
        std::optional<TokenId> token;
    };
    int child(int node, unsigned char byte) const;

    std::vector<Node> m_nodes;  ///< m_nodes[0] is the root
};

}  // namespace batchscope::engine
