// Byte-level BPE pre-tokenizers: the regex splits selected by GGUF `tokenizer.ggml.pre`.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/tokenizer/regex_splitter.h"

namespace batchscope::engine {

/// The distinct split rules (several GGUF names share one). Each is the HuggingFace
/// `pre_tokenizer` of the models that use it, written as a sequence of regexes applied one after
/// another (each splits the pieces the previous one produced); see pre_tokenizer.cpp.
enum class PreTokenizerType {
    Default,        ///< llama.cpp's fallback for a missing/unknown name
    Gpt2,           ///< GPT-2's ByteLevel regex
    Llama3,         ///< Llama 3 (tiktoken-style; numbers in groups of up to 3)
    Qwen2,          ///< Qwen 2 (as Llama 3, single digits)
    Starcoder,      ///< single digits, then the GPT-2 regex (StarCoder, Refact, SmolLM, ...)
    Falcon,         ///< punctuation runs, the GPT-2 regex, groups of 3 ASCII digits
    DeepseekLlm,    ///< DeepSeek LLM (Latin/Greek/Cyrillic letter runs, CJK runs, numbers)
    DeepseekCoder,  ///< DeepSeek Coder
    Bloom,          ///< BLOOM / Poro / GPT-3 Finnish
};

/// One accepted value of `tokenizer.ggml.pre` and what it selects.
struct PreTokenizerName {
    std::string_view name;
    PreTokenizerType type;
    bool ignoreMerges;  ///< a word that is itself a vocabulary entry is one token (llama.cpp)
    bool addBos;        ///< add_bos default when tokenizer.ggml.add_bos_token is absent
};

/// Every accepted name, in documentation order.
std::span<const PreTokenizerName> preTokenizerNames();

/// The entry for `name`; nullopt when it is not a known name. An absent key is "default".
std::optional<PreTokenizerName> findPreTokenizer(std::string_view name);

/// The patterns of `type`, applied in order (HuggingFace / Python `regex` syntax).
std::span<const std::string_view> preTokenizerPatterns(PreTokenizerType type);

/// Splits UTF-8 text into the words byte-level BPE merges within. Immutable after create();
/// split() may be called from any thread concurrently.
class PreTokenizer {
public:
    /// Compiles the patterns of `type`; Internal if one does not compile (a bug: the patterns
    /// are fixed).
    static Result<PreTokenizer> create(PreTokenizerType type);

    /// The pieces of `text` (views into it) in order; they concatenate to `text` exactly.
    std::vector<std::string_view> split(std::string_view text) const;

    PreTokenizerType type() const { return m_type; }

private:
    PreTokenizerType m_type = PreTokenizerType::Default;
    std::vector<RegexSplitter> m_splitters;
};

}  // namespace batchscope::engine
