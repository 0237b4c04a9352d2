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
#include "engine/model/cpu/model_arch.h"
#include "engine/model/gguf_file.h"

namespace batchscope::engine::cpu {

/// One transformer block. Matrices are [out x in] views into the file mapping; norms are
/// copied to F32 (they are tiny).
/// Which members are set follows the config's traits (fused matrices replace the separate
/// ones; empty vectors/matrices are absent tensors).
struct LlamaLayer {
    std::vector<float> attnNorm, ffnNorm;
    std::vector<float> postAttnNorm, postFfnNorm;  ///< [dim] (postNorms)
    std::vector<float> qNorm, kNorm;               ///< [headDim] (qkNorm)
    std::vector<float> bq, bk, bv;                 ///< [qDim], [kvDim], [kvDim] (qkvBias)
    WeightMatrix wq, wk, wv, wo;  ///< [qDim x dim], [kvDim x dim], [kvDim x dim], [dim x qDim]
    WeightMatrix wqkv;            ///< [(qDim + 2 kvDim) x dim] (fusedQkv): Q rows, then K, then V
    WeightMatrix gate, up, down;  ///< [ffn x dim], [ffn x dim], [dim x ffn]
    WeightMatrix gateUp;          ///< [2 ffn x dim] (fusedGateUp): gate rows, then up rows

    /// The matrices present (for byte and FLOP counts).
    std::vector<const WeightMatrix*> matrices() const;
};

/// All weights. Non-owning: valid while the GgufFile (or buffer) they point into lives.
struct LlamaWeights {
    LlamaConfig config;
    WeightMatrix tokenEmbedding;  ///< [vocab x dim]
    std::vector<LlamaLayer> layers;
    std::vector<float> outputNorm;
    WeightMatrix output;          ///< [vocab x dim]; == tokenEmbedding when tied
    bool tiedOutput = false;
    /// Rope frequency divisors, [ropeDim / 2] (llama: rope_freqs.weight; phi3: the long or short
    /// factors); empty = all 1.
    std::vector<float> ropeFactors;
    std::uint64_t weightBytes = 0;  ///< bytes of matrix data referenced
};

/// Maps the weight tensors the architecture needs, checking names, shapes and types; a missing
/// tensor or one the architecture does not use is refused (messages name the tensor).
/// `progress(fraction)` is called per tensor; returns Cancelled when `stop` is requested.
/// Touches every page of the weights so the first step does not pay the page faults.
Result<LlamaWeights> llamaWeightsFromGguf(const GgufFile& file, const LlamaConfig& config,
                                          const std::function<void(double)>& progress = {},
                                          std::stop_token stop = {});

}  // namespace batchscope::engine::cpu
