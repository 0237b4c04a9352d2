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

/// Shape of a generated model.
struct LlamaShape {
    std::string name;
    std::int32_t dim = 0, layers = 0, heads = 0, kvHeads = 0, ffnDim = 0, vocabSize = 0;
    std::int32_t contextLength = 0;
    bool tiedOutput = false;
    /// general.architecture: llama, qwen2, qwen3, phi3, gemma2 or gemma3. Each gets its own
    /// tensors and keys (biases, Q/K norms, fused matrices, post norms, soft-capping, ...).
    std::string architecture = "llama";
    std::int32_t headDim = 0;        ///< attention.key_length; 0 = dim / heads (key not written)
    std::int32_t slidingWindow = 0;  ///< gemma2/3, phi3: attention.sliding_window (0: none for phi3)
    bool ropeFreqs = false;          ///< llama: a Llama-3-style rope_freqs.weight
    bool randomNorms = false;        ///< norm weights 1 + 0.1 N(0,1) instead of 1
};

/// tiny: dim 64, 2 layers, 4 heads, 2 KV heads, FFN 160, vocab 300, context 256, tied output.
/// small: dim 512, 8 layers, 8/4 heads, FFN 1408, vocab 32000, untied (56.4M parameters).
/// medium: dim 768, 12 layers, 12/12 heads, FFN 2048, vocab 32000, untied (134.1M parameters).
/// tinyllama: TinyLlama-1.1B's shape: dim 2048, 22 layers, 32/4 heads, FFN 5632, vocab 32000,
/// untied (1.1B parameters; 2.2 GB in F16: for benchmarks only).
/// small, medium and tinyllama have a context of 2048.
/// For another `architecture`, the same sizes with that family's parts; tiny variants also
/// exercise what differs (random norms, key_length != dim / heads for qwen3 and gemma, a
/// sliding window of 8 or 24 tokens, 6 layers for gemma3 so one is global, rope_freqs for
/// "llama3"). "llama3" is the llama architecture with rope_freqs.weight.
std::optional<LlamaShape> llamaShapeByName(std::string_view name, std::string_view architecture = "llama");

/// A GGUF file of the shape's architecture: weights ~ normal(0, 0.02) stored as `weightType`
/// (F32, F16, BF16, Q8_0 or Q4_0; norms and biases always F32), metadata with the shape, and a
/// SentencePiece ("llama")
/// vocabulary of <unk>, <s>, </s>, 256 byte tokens and filler pieces. Deterministic in `seed`.
Result<std::vector<std::uint8_t>> makeRandomLlamaGguf(const LlamaShape& shape, GgmlType weightType,
                                                      std::uint64_t seed);

}  // namespace batchscope::engine::cpu
