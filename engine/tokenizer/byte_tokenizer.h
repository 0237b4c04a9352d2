// A byte-level tokenizer for running the scheduler without a model (tests, bench, demo).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

/// Token ids 0..255 are the bytes themselves; 256 is BOS and 257 is EOS. Ids above 257 up to
/// vocabSize-1 decode to a short printable word so simulated output reads like text.
/// Immutable, thread-safe.
class ByteTokenizer final : public Tokenizer {
public:
    static constexpr TokenId kBos = 256;
    static constexpr TokenId kEos = 257;

    explicit ByteTokenizer(int vocabSize = 1024);

    std::vector<TokenId> encode(std::string_view text, bool addBos) const override;
    std::string tokenBytes(TokenId id) const override;
    std::string tokenPiece(TokenId id) const override { return tokenBytes(id); }
    int vocabSize() const override { return m_vocabSize; }
    std::optional<TokenId> bosId() const override { return kBos; }
    std::optional<TokenId> eosId() const override { return kEos; }
    std::string_view kind() const override { return "byte"; }

private:
    int m_vocabSize;
};

}  // namespace batchscope::engine
