// A tokenizer vocabulary read from GGUF `tokenizer.ggml.*` metadata, shared by the SentencePiece
// and byte-level BPE tokenizers.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/result.h"
#include "engine/tokenizer/string_index.h"

namespace batchscope::engine {

class GgufFile;

/// `tokenizer.ggml.token_type` values (as llama.cpp's llama_token_type).
enum class TokenType : std::int32_t {
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

/// Hash that lets unordered_map<std::string, ...> be searched with a string_view.
struct StringViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/// Invariants: pieces, scores and types have the same size (>= 1, < 2^31); every id held is in
/// [0, size()). Immutable after loadVocab(), so any thread may read it.
struct Vocab {
    std::vector<std::string> pieces;
    std::vector<float> scores;  ///< 0 when the file has no scores
    std::vector<TokenType> types;
    /// Piece -> id over `pieces`; for a piece listed twice the later id wins (as llama.cpp).
    StringIndex pieceIndex;
    std::optional<TokenId> bos, eos, eot, unk;
    std::vector<TokenId> endOfGeneration;  ///< eos, eot, eom and well-known end-of-turn controls
    bool addBos = false;                   ///< tokenizer.ggml.add_bos_token, or the model default

    int size() const { return static_cast<int>(pieces.size()); }
    std::optional<TokenId> find(std::string_view piece) const;
    TokenType type(TokenId id) const { return types[static_cast<std::size_t>(id)]; }
};

/// Reads tokens/scores/token_type and the special ids. `defaultAddBos` applies when
/// tokenizer.ggml.add_bos_token is absent; `spmDefaults` gives bos=1, eos=2, unk=0 when those
/// keys are absent (llama.cpp's SentencePiece defaults). InvalidFormat, naming the key, when an
/// array is missing, has the wrong type or length, or a special id is out of range.
Result<Vocab> loadVocab(const GgufFile& file, bool defaultAddBos, bool spmDefaults);

}  // namespace batchscope::engine
