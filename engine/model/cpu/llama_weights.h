// Llama hyper-parameters and weight views read from a GGUF file.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/cpu/matmul.h"
#include "engine/model/gguf_file.h"

namespace batchscope::engine::cpu {

/// Hyper-parameters (GGUF llama.* keys). Invariants after validate(): all counts > 0,
/// dim == heads * headDim, heads % kvHeads == 0, ropeDim even and <= headDim.
struct LlamaConfig {
    std::int32_t dim = 0;            ///< llama.embedding_length
    std::int32_t layers = 0;         ///< llama.block_count
    std::int32_t heads = 0;          ///< llama.attention.head_count
    std::int32_t kvHeads = 0;        ///< llama.attention.head_count_kv (default heads)
    std::int32_t headDim = 0;        ///< dim / heads
    std::int32_t ffnDim = 0;         ///< llama.feed_forward_length
    std::int32_t vocabSize = 0;      ///< rows of token_embd.weight
    std::int32_t contextLength = 0;  ///< llama.context_length (tokens)
    std::int32_t ropeDim = 0;        ///< llama.rope.dimension_count (default headDim)
    float normEps = 1e-5f;           ///< llama.attention.layer_norm_rms_epsilon
    float ropeBase = 10000.0f;       ///< llama.rope.freq_base

    std::int32_t kvDim() const { return kvHeads * headDim; }
    Status validate() const;
    /// Parameters of a model of this shape (embedding + layers + norms + output; `tiedOutput`:
    /// output shares the embedding).
    std::uint64_t parameterCount(bool tiedOutput) const;
};

/// One transformer block. Matrices are [out x in] views into the file mapping; norms are
/// copied to F32 (they are tiny).
struct LlamaLayer {
    std::vector<float> attnNorm, ffnNorm;
    WeightMatrix wq, wk, wv, wo;  ///< [dim x dim], [kvDim x dim], [kvDim x dim], [dim x dim]
    WeightMatrix gate, up, down;  ///< [ffn x dim], [ffn x dim], [dim x ffn]
};

/// All weights. Non-owning: valid while the GgufFile (or buffer) they point into lives.
struct LlamaWeights {
    LlamaConfig config;
    WeightMatrix tokenEmbedding;  ///< [vocab x dim]
    std::vector<LlamaLayer> layers;
    std::vector<float> outputNorm;
    WeightMatrix output;          ///< [vocab x dim]; == tokenEmbedding when tied
    bool tiedOutput = false;
    std::uint64_t weightBytes = 0;  ///< bytes of matrix data referenced
};

/// Reads llama.* metadata. Unsupported for another general.architecture, InvalidFormat for
/// missing or inconsistent keys (message names the key).
Result<LlamaConfig> llamaConfigFromGguf(const GgufFile& file);

/// Maps the weight tensors, checking names, shapes and types (messages name the tensor).
/// `progress(fraction)` is called per tensor; returns Cancelled when `stop` is requested.
/// Touches every page of the weights so the first step does not pay the page faults.
Result<LlamaWeights> llamaWeightsFromGguf(const GgufFile& file, const LlamaConfig& config,
                                          const std::function<void(double)>& progress = {},
                                          std::stop_token stop = {});

}  // namespace batchscope::engine::cpu
