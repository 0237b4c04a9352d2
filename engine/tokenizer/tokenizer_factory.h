// Builds the right Tokenizer for a GGUF model from its `tokenizer.ggml.*` metadata.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <memory>

#include "engine/core/result.h"
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

class GgufFile;

/// tokenizer.ggml.model "llama" -> SpmTokenizer (kind "llama"), "gpt2" -> BpeTokenizer (kind
/// "gpt2", with the pre-tokenizer tokenizer.ggml.pre names: see pre_tokenizer.h; an unknown
/// name logs a warning naming it and uses "default"). Unsupported for any other
/// model name; InvalidFormat (naming the key) for missing or inconsistent metadata. The returned
/// tokenizer copies what it needs, so it may outlive `file`.
Result<std::unique_ptr<Tokenizer>> createTokenizerFromGguf(const GgufFile& file);

}  // namespace batchscope::engine
