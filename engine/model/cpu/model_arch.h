// The transformer families the CPU runtime runs, described by what differs between them, and
// the reading of their GGUF hyper-parameters.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/result.h"
#include "engine/model/gguf_file.h"

namespace batchscope::engine::cpu {

/// general.architecture values we run. Every other value is refused at load.
enum class ModelArch { Llama, Qwen2, Qwen3, Phi3, Gemma2, Gemma3 };

std::string_view modelArchName(ModelArch arch);
std::optional<ModelArch> modelArchFromName(std::string_view name);

/// Feed-forward activation of the gated FFN: act(gate) * up.
enum class FfnActivation { Silu, GeluTanh };

/// Hyper-parameters (GGUF `<arch>.*` keys) and the architecture's fixed traits. Invariants
/// after validate(): all counts > 0, heads % kvHeads == 0, ropeDim even and <= headDim,
/// 0 < slidingWindow when any layer is local.
struct LlamaConfig {
    ModelArch arch = ModelArch::Llama;
    std::int32_t dim = 0;            ///< <arch>.embedding_length
    std::int32_t layers = 0;         ///< <arch>.block_count
    std::int32_t heads = 0;          ///< <arch>.attention.head_count
    std::int32_t kvHeads = 0;        ///< <arch>.attention.head_count_kv (default heads)
    std::int32_t headDim = 0;        ///< <arch>.attention.key_length (default dim / heads)
    std::int32_t ffnDim = 0;         ///< <arch>.feed_forward_length
    std::int32_t vocabSize = 0;      ///< rows of token_embd.weight
    std::int32_t contextLength = 0;  ///< <arch>.context_length (tokens)
    std::int32_t ropeDim = 0;        ///< <arch>.rope.dimension_count (default headDim)
    float normEps = 1e-5f;           ///< <arch>.attention.layer_norm_rms_epsilon
    float ropeBase = 10000.0f;       ///< <arch>.rope.freq_base (global layers)
    float ropeBaseLocal = 10000.0f;  ///< rope base of sliding-window layers (gemma3: 10000)
    /// Linear rope scaling (<arch>.rope.scaling.type = linear): positions are multiplied by
    /// 1 / <arch>.rope.scaling.factor on global layers. 1 = none.
    float ropePositionScale = 1.0f;
    float ropeAttnFactor = 1.0f;     ///< cos/sin multiplier (phi3 long-context: rope.scaling.attn_factor)
    float attnScale = 0.0f;          ///< query scale (<arch>.attention.scale, default 1/sqrt(headDim))
    float attnSoftcap = 0.0f;        ///< gemma2.attn_logit_softcapping (0 = none)
    float finalSoftcap = 0.0f;       ///< gemma2.final_logit_softcapping (0 = none)
    /// <arch>.attention.sliding_window: a local layer attends to the positions
    /// (pos - slidingWindow, pos]. 0 = no local layers.
    std::int32_t slidingWindow = 0;
    /// Which layers are local: 0 none, 1 all, n > 1: layers with l % n != n - 1 (gemma2: 2,
    /// the even layers; gemma3: 6, five of six).
    std::int32_t slidingPattern = 0;

    // Traits fixed by the architecture.
    bool ropeNeox = false;     ///< rotate halves (i, i + ropeDim/2), not adjacent pairs
    bool qkvBias = false;      ///< attn_{q,k,v}.bias (qwen2)
    bool qkNorm = false;       ///< per-head RMSNorm of Q and K before rope (qwen3, gemma3)
    bool fusedQkv = false;     ///< attn_qkv.weight (phi3)
    bool fusedGateUp = false;  ///< ffn_up.weight holds gate then up (phi3)
    bool postNorms = false;    ///< post_attention_norm / post_ffw_norm (gemma2, gemma3)
    bool embedScale = false;   ///< embeddings times sqrt(dim) (gemma)
    FfnActivation activation = FfnActivation::Silu;

    std::int32_t qDim() const { return heads * headDim; }
    std::int32_t kvDim() const { return kvHeads * headDim; }
    bool isLocalLayer(std::int32_t layer) const {
        if (slidingWindow <= 0 || slidingPattern <= 0) return false;
        return slidingPattern == 1 || layer % slidingPattern != slidingPattern - 1;
    }
    /// True when every layer is local: then a position older than the window is read by no
    /// layer again and its KV block can be dropped.
    bool allLayersLocal() const { return slidingWindow > 0 && slidingPattern == 1; }
    Status validate() const;
    /// Parameters of a model of this shape (embedding + layers + norms + output; `tiedOutput`:
    /// output shares the embedding).
    std::uint64_t parameterCount(bool tiedOutput) const;
};

/// Reads the <arch>.* metadata. Unsupported for an architecture or rope scaling we do not run
/// (message names the key and value), InvalidFormat for missing or inconsistent keys.
Result<LlamaConfig> llamaConfigFromGguf(const GgufFile& file);

}  // namespace batchscope::engine::cpu
