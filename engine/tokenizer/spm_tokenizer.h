// SentencePiece-style tokenizer for GGUF `tokenizer.ggml.model = "llama"` vocabularies.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/user_token_matcher.h"
#include "engine/tokenizer/vocab.h"

namespace batchscope::engine {

/// Reproduces llama.cpp's llm_tokenizer_spm: user-defined tokens are cut out of the text first
/// (UserTokenMatcher; control tokens never are), in the rest spaces become U+2581, a leading
/// space is added (addSpacePrefix) at the start and after a user-defined token, then adjacent symbols are merged greedily by the highest score of the
/// merged piece (ties: leftmost), and characters that never form a token fall back to
/// <0xXX> byte tokens. Encoding is O(n log n) in the text length. Immutable, thread-safe.
class SpmTokenizer final : public Tokenizer {
public:
    SpmTokenizer(Vocab vocab, bool addSpacePrefix);

    std::vector<TokenId> encode(std::string_view text, bool addBos) const override;
    std::string tokenBytes(TokenId id) const override;
    std::string tokenPiece(TokenId id) const override;
    bool stripsLeadingSpace() const override { return m_addSpacePrefix; }
    int vocabSize() const override { return m_vocab.size(); }
    std::optional<TokenId> bosId() const override { return m_vocab.bos; }
    std::optional<TokenId> eosId() const override { return m_vocab.eos; }
    bool addsBosByDefault() const override { return m_vocab.addBos && m_vocab.bos.has_value(); }
    std::optional<TokenId> pieceId(std::string_view piece) const override { return m_vocab.find(piece); }
    std::vector<TokenId> endOfGenerationIds() const override { return m_vocab.endOfGeneration; }
    std::string_view kind() const override { return "llama"; }

private:
    void encodeEscaped(const std::string& text, std::vector<TokenId>& out) const;
    void emitBytes(std::string_view text, std::vector<TokenId>& out) const;

    Vocab m_vocab;
    bool m_addSpacePrefix;
    UserTokenMatcher m_userTokens;
    std::array<std::optional<TokenId>, 256> m_byteTokens;  ///< <0xXX> (or the raw byte) per byte
};

}  // namespace batchscope::engine
