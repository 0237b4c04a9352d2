// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/model_arch.h"

#include <array>
#include <cmath>
#include <utility>

namespace batchscope::engine::cpu {

namespace {

constexpr std::array<std::pair<ModelArch, std::string_view>, 6> kArchNames{{
    {ModelArch::Llama, "llama"},
    {ModelArch::Qwen2, "qwen2"},
    {ModelArch::Qwen3, "qwen3"},
    {ModelArch::Phi3, "phi3"},
    {ModelArch::Gemma2, "gemma2"},
    {ModelArch::Gemma3, "gemma3"},
}};

Error bad(const std::string& what) { return makeError(ErrorCode::InvalidFormat, what); }

// The traits every file of an architecture shares (llama.cpp's graph for the architecture and
// the published model definitions agree on these).
void setTraits(LlamaConfig& c) {
    switch (c.arch) {
    case ModelArch::Llama: break;
    case ModelArch::Qwen2: c.ropeNeox = c.qkvBias = true; break;
    case ModelArch::Qwen3: c.ropeNeox = c.qkNorm = true; break;
    case ModelArch::Phi3: c.ropeNeox = c.fusedQkv = c.fusedGateUp = true; break;
    case ModelArch::Gemma3: c.qkNorm = true; [[fallthrough]];
    case ModelArch::Gemma2:
        c.ropeNeox = c.postNorms = c.embedScale = true;
        c.activation = FfnActivation::GeluTanh;
        break;
    }
}

class KeyReader {
public:
    KeyReader(const GgufFile& f, std::string_view arch) : m_f(f), m_prefix(std::string(arch) + ".") {}
    std::string key(const char* suffix) const { return m_prefix + suffix; }

    Result<std::int32_t> required(const char* suffix) const {
        const std::string k = key(suffix);
        auto v = m_f.getInt(k);
        if (!v) return bad("missing integer key " + k);
        if (*v <= 0 || *v > (std::int64_t{1} << 30)) return bad("key " + k + " out of range: " + std::to_string(*v));
        return static_cast<std::int32_t>(*v);
    }
    std::optional<std::int64_t> optionalInt(const char* suffix) const { return m_f.getInt(key(suffix)); }
    std::optional<double> optionalFloat(const char* suffix) const { return m_f.getFloat(key(suffix)); }
    Result<float> requiredFloat(const char* suffix) const {
        auto v = m_f.getFloat(key(suffix));
        if (!v) return bad("missing float key " + key(suffix));
        return static_cast<float>(*v);
    }
    std::optional<std::string> optionalString(const char* suffix) const { return m_f.getString(key(suffix)); }

private:
    const GgufFile& m_f;
    std::string m_prefix;
};

Status readCounts(const KeyReader& k, LlamaConfig& c) {
    for (auto [key, dst] : {std::pair{"embedding_length", &c.dim}, std::pair{"block_count", &c.layers},
                            std::pair{"attention.head_count", &c.heads}, std::pair{"feed_forward_length", &c.ffnDim},
                            std::pair{"context_length", &c.contextLength}}) {
        auto v = k.required(key);
        if (!v) return v.error();
        *dst = *v;
    }
    c.kvHeads = static_cast<std::int32_t>(k.optionalInt("attention.head_count_kv").value_or(c.heads));
    c.headDim = static_cast<std::int32_t>(k.optionalInt("attention.key_length").value_or(c.dim / c.heads));
    if (auto vl = k.optionalInt("attention.value_length"); vl && *vl != c.headDim)
        return Status(makeError(ErrorCode::Unsupported, k.key("attention.value_length") + " " + std::to_string(*vl) +
                                                             " differs from the key length " + std::to_string(c.headDim)));
    c.ropeDim = static_cast<std::int32_t>(k.optionalInt("rope.dimension_count").value_or(c.headDim));
    c.normEps = static_cast<float>(k.optionalFloat("attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.ropeBase = static_cast<float>(k.optionalFloat("rope.freq_base").value_or(10000.0));
    return Ok{};
}

// Rope scaling we implement: none and linear. Anything else (yarn, longrope as a key, ...) is
// refused rather than run with unscaled positions.
Status readRopeScaling(const KeyReader& k, LlamaConfig& c) {
    const auto type = k.optionalString("rope.scaling.type");
    if (!type || *type == "none") return Ok{};
    if (*type != "linear")
        return Status(makeError(ErrorCode::Unsupported, k.key("rope.scaling.type") + " '" + *type +
                                                             "' is not supported (none, linear)"));
    const auto factor = k.optionalFloat("rope.scaling.factor");
    if (!factor || !(*factor > 0.0)) return Status(bad("missing or non-positive " + k.key("rope.scaling.factor")));
    c.ropePositionScale = static_cast<float>(1.0 / *factor);
    return Ok{};
}

// Sliding windows, soft-capping and the query scale.
Status readAttention(const KeyReader& k, LlamaConfig& c) {
    if (c.arch == ModelArch::Gemma2 || c.arch == ModelArch::Gemma3) {
        auto w = k.required("attention.sliding_window");
        if (!w) return w.error();
        c.slidingWindow = *w;
        c.slidingPattern = c.arch == ModelArch::Gemma2 ? 2 : 6;
    } else if (c.arch == ModelArch::Phi3) {
        // Phi-3 files carry the window of the published config (every layer local).
        if (auto w = k.optionalInt("attention.sliding_window"); w && *w > 0) {
            c.slidingWindow = static_cast<std::int32_t>(*w);
            c.slidingPattern = 1;
        }
    }
    if (c.arch == ModelArch::Gemma2) {
        auto a = k.requiredFloat("attn_logit_softcapping");
        if (!a) return a.error();
        auto f = k.requiredFloat("final_logit_softcapping");
        if (!f) return f.error();
        c.attnSoftcap = *a;
        c.finalSoftcap = *f;
    }
    if (c.arch == ModelArch::Gemma3)
        c.ropeBaseLocal = static_cast<float>(k.optionalFloat("rope.freq_base_swa").value_or(10000.0));
    else
        c.ropeBaseLocal = c.ropeBase;
    if (c.arch == ModelArch::Phi3)
        c.ropeAttnFactor = static_cast<float>(k.optionalFloat("rope.scaling.attn_factor").value_or(1.0));
    c.attnScale = 1.0f / std::sqrt(static_cast<float>(c.headDim));
    // Gemma 27B models scale queries by 1/sqrt(dim / heads) (query_pre_attn_scalar), not by the
    // head size; llama.cpp recognises them by layer count, as we do when the file has no key.
    if ((c.arch == ModelArch::Gemma2 && c.layers == 46) || (c.arch == ModelArch::Gemma3 && c.layers == 62))
        c.attnScale = 1.0f / std::sqrt(static_cast<float>(c.dim / c.heads));
    if (auto s = k.optionalFloat("attention.scale"); s && *s > 0.0) c.attnScale = static_cast<float>(*s);
    return Ok{};
}

std::string shapeString(const std::vector<std::uint64_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

}  // namespace

std::string_view modelArchName(ModelArch arch) {
    for (auto [a, n] : kArchNames)
        if (a == arch) return n;
    return "?";
}

std::optional<ModelArch> modelArchFromName(std::string_view name) {
    for (auto [a, n] : kArchNames)
        if (n == name) return a;
    return std::nullopt;
}

Status LlamaConfig::validate() const {
    auto b = [](const std::string& what) { return Status(bad(what)); };
    if (dim <= 0 || dim > 65536) return b("embedding_length " + std::to_string(dim) + " out of range");
    if (layers <= 0 || layers > 1024) return b("block_count " + std::to_string(layers) + " out of range");
    if (heads <= 0 || heads > 1024) return b("attention.head_count " + std::to_string(heads) + " out of range");
    if (kvHeads <= 0 || heads % kvHeads != 0) return b("attention.head_count_kv " + std::to_string(kvHeads) + " does not divide the head count");
    if (headDim <= 0 || headDim > 1024 || headDim % 2 != 0) return b("head dimension " + std::to_string(headDim) + " must be even and <= 1024");
    if (ffnDim <= 0 || ffnDim > (1 << 20)) return b("feed_forward_length " + std::to_string(ffnDim) + " out of range");
    if (vocabSize <= 0) return b("vocabulary size " + std::to_string(vocabSize) + " out of range");
    if (contextLength <= 0 || contextLength > (1 << 24)) return b("context_length " + std::to_string(contextLength) + " out of range");
    if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) return b("rope.dimension_count " + std::to_string(ropeDim) + " must be even and <= the head dimension");
    if (!(normEps > 0.0f)) return b("attention.layer_norm_rms_epsilon must be > 0");
    if (!(ropeBase > 0.0f) || !(ropeBaseLocal > 0.0f)) return b("rope.freq_base must be > 0");
    if (slidingPattern > 0 && slidingWindow <= 0) return b("attention.sliding_window must be > 0");
    if (attnSoftcap < 0.0f || finalSoftcap < 0.0f) return b("soft-capping values must be >= 0");
    return Ok{};
}

std::uint64_t LlamaConfig::parameterCount(bool tiedOutput) const {
    const std::uint64_t d = static_cast<std::uint64_t>(dim), kv = static_cast<std::uint64_t>(kvDim());
    const std::uint64_t q = static_cast<std::uint64_t>(qDim()), hd = static_cast<std::uint64_t>(headDim);
    std::uint64_t perLayer = 2 * d * q + 2 * d * kv + 3 * d * static_cast<std::uint64_t>(ffnDim) + 2 * d;
    if (qkvBias) perLayer += q + 2 * kv;
    if (qkNorm) perLayer += 2 * hd;
    if (postNorms) perLayer += 2 * d;
    const std::uint64_t embed = static_cast<std::uint64_t>(vocabSize) * d;
    return embed * (tiedOutput ? 1 : 2) + perLayer * static_cast<std::uint64_t>(layers) + d;
}

Result<LlamaConfig> llamaConfigFromGguf(const GgufFile& f) {
    const auto archName = f.getString("general.architecture");
    if (!archName) return bad("missing key general.architecture");
    const auto arch = modelArchFromName(*archName);
    if (!arch)
        return makeError(ErrorCode::Unsupported, "general.architecture '" + *archName +
                                                     "' is not supported (llama, qwen2, qwen3, phi3, gemma2, gemma3)");
    LlamaConfig c;
    c.arch = *arch;
    setTraits(c);
    const KeyReader k(f, *archName);
    if (auto s = readCounts(k, c); !s) return s.error();
    if (auto s = readRopeScaling(k, c); !s) return s.error();
    if (auto s = readAttention(k, c); !s) return s.error();
    const GgufTensorInfo* embd = f.findTensor("token_embd.weight");
    if (!embd) return bad("tensor 'token_embd.weight': missing");
    if (embd->dims.size() != 2 || embd->dims[1] > (1u << 24))
        return bad("tensor 'token_embd.weight': shape " + shapeString(embd->dims) + " is not [dim, vocab]");
    c.vocabSize = static_cast<std::int32_t>(embd->dims[1]);
    if (auto v = k.optionalInt("vocab_size"); v && *v != c.vocabSize)
        return bad(k.key("vocab_size") + " " + std::to_string(*v) + " differs from token_embd.weight rows " +
                   std::to_string(c.vocabSize));
    if (auto s = c.validate(); !s) return s.error();
    return c;
}

}  // namespace batchscope::engine::cpu
