// The tokenizer interface the engine uses: text <-> token ids.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/ids.h"

namespace batchscope::engine {

/// Converts text to token ids and back. Implementations are immutable after construction,
/// so every method may be called from any thread concurrently.
class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    /// Encodes UTF-8 text. addBos prepends the BOS token when the vocabulary has one.
    /// Control-token text in the input is never parsed (a typed "<|im_end|>" is plain text);
    /// the vocabulary's user-defined tokens are matched in it (see UserTokenMatcher).
    virtual std::vector<TokenId> encode(std::string_view text, bool addBos) const = 0;

    /// The raw bytes token `id` contributes to the output when it is not the first token
    /// (SentencePiece's U+2581 becomes ' ', byte-fallback tokens become their byte,
    /// byte-level BPE symbols become their bytes; control tokens give ""). May be a partial
    /// UTF-8 sequence. Out-of-range ids give "".
    virtual std::string tokenBytes(TokenId id) const = 0;

    /// The token's vocabulary entry as stored (for display: `tokenize --pieces`).
    virtual std::string tokenPiece(TokenId id) const = 0;

    /// Decodes a whole sequence; SentencePiece tokenizers drop the leading space that encode
    /// added. Default: concatenation of tokenBytes().
    virtual std::string decode(std::span<const TokenId> ids) const;

    /// True when decode() strips one leading space from the first piece (SentencePiece).
    virtual bool stripsLeadingSpace() const { return false; }

    virtual int vocabSize() const = 0;
    virtual std::optional<TokenId> bosId() const = 0;
    virtual std::optional<TokenId> eosId() const = 0;
    /// Whether the model expects BOS at the start of a prompt (GGUF
    /// tokenizer.ggml.add_bos_token). Default: when there is a BOS token.
    virtual bool addsBosByDefault() const { return bosId().has_value(); }
    /// The id of a vocabulary entry given as stored (tokenPiece's inverse), if any.
    virtual std::optional<TokenId> pieceId(std::string_view /*piece*/) const { return std::nullopt; }
    /// Every id that ends generation (EOS, EOT, ...). Default: eosId() if present.
    virtual std::vector<TokenId> endOfGenerationIds() const;
    /// Short name of the algorithm: "byte", "llama" (SentencePiece), "gpt2" (byte-level BPE).
    virtual std::string_view kind() const = 0;
};

}  // namespace batchscope::engine
