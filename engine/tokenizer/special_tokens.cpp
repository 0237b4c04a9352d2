// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/special_tokens.h"

#include <algorithm>
#include <array>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace batchscope::engine {

std::vector<TokenId> vocabSpecialTokenIds(const Vocab& vocab) {
    std::vector<TokenId> ids;
    for (int i = 0; i < vocab.size(); ++i) {
        TokenType t = vocab.type(i);
        if ((t == TokenType::Control || t == TokenType::UserDefined) && !vocab.pieces[static_cast<std::size_t>(i)].empty()) {
            ids.push_back(i);
        }
    }
    return ids;
}

namespace {

struct SpecialPiece {
    std::string text;
    TokenId id;
};

/// Special pieces bucketed by first byte, longest first within a bucket.
using PieceIndex = std::array<std::vector<SpecialPiece>, 256>;

PieceIndex buildIndex(const Tokenizer& tokenizer) {
    PieceIndex index;
    for (TokenId id : tokenizer.specialTokenIds()) {
        std::string piece = tokenizer.tokenPiece(id);
        if (!piece.empty()) index[static_cast<unsigned char>(piece[0])].push_back({std::move(piece), id});
    }
    for (auto& bucket : index) {
        std::stable_sort(bucket.begin(), bucket.end(),
                         [](const SpecialPiece& a, const SpecialPiece& b) { return a.text.size() > b.text.size(); });
    }
    return index;
}

}  // namespace

std::vector<TokenId> encodeWithSpecialTokens(const Tokenizer& tokenizer, std::string_view text,
                                             std::span<const TextSpan> plainSpans, bool addBos) {
    const PieceIndex index = buildIndex(tokenizer);
    std::vector<TokenId> out;
    std::size_t runStart = 0;  // start of the plain text not yet encoded
    auto flush = [&](std::size_t end) {
        if (end > runStart) {
            auto ids = tokenizer.encode(text.substr(runStart, end - runStart), false);
            out.insert(out.end(), ids.begin(), ids.end());
        }
    };
    std::size_t span = 0;  // first plain span that ends after pos
    for (std::size_t pos = 0; pos < text.size();) {
        while (span < plainSpans.size() && plainSpans[span].offset + plainSpans[span].length <= pos) ++span;
        bool inPlain = span < plainSpans.size() && plainSpans[span].offset <= pos;
        if (inPlain) {
            pos = plainSpans[span].offset + plainSpans[span].length;
            continue;
        }
        // Template text runs to the next plain span; a special piece must fit inside it.
        std::size_t limit = span < plainSpans.size() ? plainSpans[span].offset : text.size();
        const SpecialPiece* match = nullptr;
        for (const auto& piece : index[static_cast<unsigned char>(text[pos])]) {
            if (piece.text.size() <= limit - pos && text.compare(pos, piece.text.size(), piece.text) == 0) {
                match = &piece;
                break;
            }
        }
        if (!match) {
            ++pos;
            continue;
        }
        flush(pos);
        out.push_back(match->id);
        pos += match->text.size();
        runStart = pos;
    }
    flush(text.size());
    auto bos = tokenizer.bosId();
    if (addBos && bos && (out.empty() || out.front() != *bos)) out.insert(out.begin(), *bos);
    return out;
}

}  // namespace batchscope::engine
