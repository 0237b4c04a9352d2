// Byte-level BPE tokenizer (GPT-2 style) for GGUF `tokenizer.ggml.model = "gpt2"` vocabularies.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/result.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace batchscope::engine {

/// Reproduces llama.cpp's llm_tokenizer_bpe with the GPT-2 pre-tokenizer: the text is split
/// into words (gpt2PreTokenize), each word's bytes are mapped to printable code points (GPT-2's
/// bytes_to_unicode), and adjacent symbols are merged by the lowest merge rank (ties: leftmost).
/// Encoding is O(n log n). Immutable, thread-safe.
class BpeTokenizer final : public Tokenizer {
public:
    /// `merges`: "left right" strings, rank = index. InvalidFormat naming the index of a merge
    /// without a separating space.
    static Result<std::unique_ptr<BpeTokenizer>> create(Vocab vocab, const std::vector<std::string>& merges);

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

    /// GPT-2's byte -> code point mapping (printable bytes map to themselves).
    static std::uint32_t byteToCodepoint(unsigned char b);

private:
    explicit BpeTokenizer(Vocab vocab);
    void encodeWord(std::string_view word, std::string& mapped, std::vector<TokenId>& out) const;
    std::optional<int> mergeRank(std::string_view left, std::string_view right, std::string& key) const;

    Vocab m_vocab;
    /// "left right" -> rank.
    std::unordered_map<std::string, int, StringViewHash, std::equal_to<>> m_ranks;
};

}  // namespace batchscope::engine
