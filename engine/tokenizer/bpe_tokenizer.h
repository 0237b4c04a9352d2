// Byte-level BPE tokenizer (GPT-2 style) for GGUF `tokenizer.ggml.model = "gpt2"` vocabularies.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/string_index.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/user_token_matcher.h"
#include "engine/tokenizer/vocab.h"

namespace batchscope::engine {

/// Reproduces llama.cpp's llm_tokenizer_bpe: user-defined tokens are cut out of the text first
/// (UserTokenMatcher; control tokens never are), the rest is split into words by the
/// model's pre-tokenizer (PreTokenizer, chosen by tokenizer.ggml.pre), each word's bytes are
/// mapped to printable code points (GPT-2's bytes_to_unicode), and adjacent symbols are merged
/// by the lowest merge rank (ties: leftmost). With ignoreMerges (Llama 3) a word that is itself
/// a vocabulary entry is that one token. Encoding is O(n log n). Immutable, thread-safe.
class BpeTokenizer final : public Tokenizer {
public:
    /// `merges`: "left right" strings, rank = index. InvalidFormat naming the index of a merge
    /// without a separating space.
    static Result<std::unique_ptr<BpeTokenizer>> create(Vocab vocab, const std::vector<std::string>& merges,
                                                        PreTokenizer preTokenizer, bool ignoreMerges = false);

    std::vector<TokenId> encode(std::string_view text, bool addBos) const override;
    std::string tokenBytes(TokenId id) const override;
    std::string tokenPiece(TokenId id) const override;
    int vocabSize() const override { return m_vocab.size(); }
    std::optional<TokenId> bosId() const override { return m_vocab.bos; }
    std::optional<TokenId> eosId() const override { return m_vocab.eos; }
    bool addsBosByDefault() const override { return m_vocab.addBos && m_vocab.bos.has_value(); }
    std::optional<TokenId> pieceId(std::string_view piece) const override { return m_vocab.find(piece); }
    std::vector<TokenId> endOfGenerationIds() const override { return m_vocab.endOfGeneration; }
    std::string_view kind() const override { return "gpt2"; }

    PreTokenizerType preTokenizerType() const { return m_pre.type(); }
    bool ignoresMerges() const { return m_ignoreMerges; }

    /// GPT-2's byte -> code point mapping (printable bytes map to themselves).
    static std::uint32_t byteToCodepoint(unsigned char b);

private:
    BpeTokenizer(Vocab vocab, PreTokenizer preTokenizer, bool ignoreMerges);
    void encodeWord(std::string_view word, std::string& mapped, std::vector<TokenId>& out) const;
    std::optional<int> mergeRank(std::string_view left, std::string_view right, std::string& key) const;

    Vocab m_vocab;
    PreTokenizer m_pre;
    UserTokenMatcher m_userTokens;
    bool m_ignoreMerges;
    /// "left right" per merge, index = rank, and the index over them.
    std::vector<std::string> m_merges;
    StringIndex m_ranks;
};

}  // namespace batchscope::engine
