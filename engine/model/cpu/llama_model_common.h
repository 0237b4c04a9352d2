// What every Llama executor (CPU here, CUDA in gpu/) shares: the tokenizer a file implies, the
// ModelInfo it shows, and the validation of one sequence's step against the model and the pool.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/result.h"
#include "engine/model/cpu/llama_weights.h"
#include "engine/model/gguf_file.h"
#include "engine/model/model_executor.h"

namespace batchscope::engine::cpu {

/// The file's own tokenizer; a file without tokenizer metadata gets the byte tokenizer.
/// Padded embeddings (more rows than tokens) are accepted; fewer rows than tokens are not.
Result<std::unique_ptr<Tokenizer>> llamaTokenizerFromGguf(const GgufFile& file, std::int32_t vocabRows);

/// ModelInfo of a loaded Llama model; backend "cpu" or "cuda"; weightBytes resident on it.
ModelInfo describeLlamaModel(const GgufFile& file, const LlamaWeights& weights, const Tokenizer& tokenizer,
                             std::string_view backend, std::uint64_t weightBytes);

/// Why one sequence's step cannot run ("" if it can): empty slice, positions past the context,
/// token ids outside the vocabulary, a block table too short or naming blocks outside the pool.
std::string checkLlamaSequenceStep(const LlamaConfig& config, const SequenceStep& step, std::int32_t blockSize,
                                   std::int32_t numBlocks);

}  // namespace batchscope::engine::cpu
