// Random Llama models as GGUF bytes: for tests and the CPU benchmark.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/gguf_types.h"

namespace batchscope::engine::cpu {

/// Shape of a generated model. headDim = dim / heads.
struct LlamaShape {
    std::string name;
    std::int32_t dim = 0, layers = 0, heads = 0, kvHeads = 0, ffnDim = 0, vocabSize = 0;
    std::int32_t contextLength = 0;
    bool tiedOutput = false;
};

/// tiny: dim 64, 2 layers, 4 heads, 2 KV heads, FFN 160, vocab 300, context 256, tied output.
/// small: dim 512, 8 layers, 8/4 heads, FFN 1408, vocab 32000, untied (56.4M parameters).
/// medium: dim 768, 12 layers, 12/12 heads, FFN 2048, vocab 32000, untied (134.1M parameters).
/// small and medium have a context of 2048.
std::optional<LlamaShape> llamaShapeByName(std::string_view name);

/// A GGUF llama file: weights ~ normal(0, 0.02) stored as `weightType` (F32, F16, BF16, Q8_0 or
/// Q4_0; norms always F32 = 1), metadata with the shape, and a SentencePiece ("llama")
/// vocabulary of <unk>, <s>, </s>, 256 byte tokens and filler pieces. Deterministic in `seed`.
Result<std::vector<std::uint8_t>> makeRandomLlamaGguf(const LlamaShape& shape, GgmlType weightType,
                                                      std::uint64_t seed);

}  // namespace batchscope::engine::cpu
