// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/random_llama_gguf.h"

#include "engine/model/cpu/quant_types.h"

#include <cmath>
#include <cstdio>

#include "engine/model/cpu/model_arch.h"
#include "engine/model/cpu/weight_types.h"
#include "engine/model/gguf_writer.h"
#include "engine/sampling/sampler.h"

namespace batchscope::engine::cpu {

namespace {

// Box-Muller over a splitmix64 counter stream: fast enough for 10^8 weights.
class NormalStream {
public:
    explicit NormalStream(std::uint64_t seed) : m_state(seed) {}
    float next() {
        if (m_hasSpare) {
            m_hasSpare = false;
            return m_spare;
        }
        const double u1 = (static_cast<double>(splitmix64(m_state++) >> 11) + 0.5) * 0x1.0p-53;
        const double u2 = static_cast<double>(splitmix64(m_state++) >> 11) * 0x1.0p-53;
        const double r = std::sqrt(-2.0 * std::log(u1));
        m_spare = static_cast<float>(r * std::sin(2.0 * M_PI * u2));
        m_hasSpare = true;
        return static_cast<float>(r * std::cos(2.0 * M_PI * u2));
    }

private:
    std::uint64_t m_state;
    float m_spare = 0.0f;
    bool m_hasSpare = false;
};

std::optional<WeightType> toWeightType(GgmlType t) { return weightTypeFromGgml(t); }

Status addMatrix(GgufWriter& w, const std::string& name, std::int64_t rows, std::int64_t cols, GgmlType type,
                 NormalStream& rng) {
    const WeightType wt = *toWeightType(type);
    const std::size_t rowBytes = weightRowBytes(wt, cols);
    std::vector<std::uint8_t> data(rowBytes * static_cast<std::size_t>(rows));
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        for (float& v : row) v = 0.02f * rng.next();
        quantizeRow(wt, row.data(), cols, reinterpret_cast<std::byte*>(data.data()) + r * rowBytes);
    }
    return w.addTensor(name, {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(rows)}, type, data);
}

// F32 vector: base + spread * N(0, 1) (spread 0: all `base`).
Status addVector(GgufWriter& w, const std::string& name, std::int64_t n, float base, float spread, NormalStream& rng) {
    std::vector<float> v(static_cast<std::size_t>(n), base);
    if (spread != 0.0f)
        for (float& x : v) x += spread * rng.next();
    return w.addTensorF32(name, {static_cast<std::uint64_t>(n)}, v);
}

// A SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, the 256 byte-fallback tokens, then
// U+2581 alone, then filler word pieces up to `vocab` (at least 260 tokens).
void addTokenizer(GgufWriter& w, std::int32_t vocab) {
    std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
    std::vector<std::int32_t> types{2, 3, 3};  // unknown, control, control
    std::vector<float> scores{0.0f, 0.0f, 0.0f};
    char buf[16];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.emplace_back(buf);
        types.push_back(6);  // byte
        scores.push_back(0.0f);
    }
    tokens.emplace_back("\xe2\x96\x81");  // the word-boundary piece alone, so spaces round-trip
    types.push_back(1);
    scores.push_back(-1.0f);
    for (std::int32_t i = static_cast<std::int32_t>(tokens.size()); i < vocab; ++i) {
        tokens.push_back("\xe2\x96\x81w" + std::to_string(i));  // U+2581 word prefix
        types.push_back(1);
        scores.push_back(-static_cast<float>(i));
    }
    w.setString("tokenizer.ggml.model", "llama");
    w.setStringArray("tokenizer.ggml.tokens", std::move(tokens));
    w.setInt32Array("tokenizer.ggml.token_type", std::move(types));
    w.setFloat32Array("tokenizer.ggml.scores", std::move(scores));
    w.setUInt32("tokenizer.ggml.unknown_token_id", 0);
    w.setUInt32("tokenizer.ggml.bos_token_id", 1);
    w.setUInt32("tokenizer.ggml.eos_token_id", 2);
}

}  // namespace

std::optional<LlamaShape> llamaShapeByName(std::string_view name, std::string_view architecture) {
    std::optional<LlamaShape> s;
    if (name == "tiny") s = LlamaShape{"tiny", 64, 2, 4, 2, 160, 300, 256, true};
    if (name == "small") s = LlamaShape{"small", 512, 8, 8, 4, 1408, 32000, 2048, false};
    if (name == "medium") s = LlamaShape{"medium", 768, 12, 12, 12, 2048, 32000, 2048, false};
    if (name == "tinyllama") s = LlamaShape{"tinyllama", 2048, 22, 32, 4, 5632, 32000, 2048, false};
    if (!s) return s;
    const bool tiny = name == "tiny";
    s->architecture = std::string(architecture);
    if (architecture == "llama3") {
        s->architecture = "llama";
        s->ropeFreqs = true;
    }
    const auto arch = modelArchFromName(s->architecture);
    if (!arch) return std::nullopt;
    s->randomNorms = tiny && (*arch != ModelArch::Llama || s->ropeFreqs);
    switch (*arch) {
    case ModelArch::Llama: case ModelArch::Qwen2: break;
    case ModelArch::Qwen3: if (tiny) s->headDim = 32; break;
    case ModelArch::Phi3: s->slidingWindow = tiny ? 24 : 1024; break;
    case ModelArch::Gemma2: case ModelArch::Gemma3:
        s->tiedOutput = true;
        s->slidingWindow = tiny ? 8 : 1024;
        if (tiny) s->headDim = 32;
        if (tiny && *arch == ModelArch::Gemma3) s->layers = 6;
        break;
    }
    return s;
}

namespace {

void addArchKeys(GgufWriter& w, const LlamaShape& s, ModelArch arch, std::int32_t headDim) {
    const std::string a = s.architecture + ".";
    w.setString("general.architecture", s.architecture);
    w.setUInt32(a + "context_length", static_cast<std::uint32_t>(s.contextLength));
    w.setUInt32(a + "embedding_length", static_cast<std::uint32_t>(s.dim));
    w.setUInt32(a + "block_count", static_cast<std::uint32_t>(s.layers));
    w.setUInt32(a + "feed_forward_length", static_cast<std::uint32_t>(s.ffnDim));
    w.setUInt32(a + "attention.head_count", static_cast<std::uint32_t>(s.heads));
    w.setUInt32(a + "attention.head_count_kv", static_cast<std::uint32_t>(s.kvHeads));
    w.setFloat32(a + "attention.layer_norm_rms_epsilon", arch == ModelArch::Llama ? 1e-5f : 1e-6f);
    w.setUInt32(a + "rope.dimension_count", static_cast<std::uint32_t>(headDim));
    w.setUInt32(a + "vocab_size", static_cast<std::uint32_t>(s.vocabSize));
    if (s.headDim > 0) {
        w.setUInt32(a + "attention.key_length", static_cast<std::uint32_t>(headDim));
        w.setUInt32(a + "attention.value_length", static_cast<std::uint32_t>(headDim));
    }
    const bool tiny = s.name == "tiny";
    switch (arch) {
    case ModelArch::Llama: w.setFloat32(a + "rope.freq_base", s.ropeFreqs ? 500000.0f : 10000.0f); break;
    case ModelArch::Qwen2: case ModelArch::Qwen3: w.setFloat32(a + "rope.freq_base", 1000000.0f); break;
    case ModelArch::Phi3:
        w.setFloat32(a + "rope.freq_base", 10000.0f);
        w.setUInt32(a + "attention.sliding_window", static_cast<std::uint32_t>(s.slidingWindow));
        w.setUInt32(a + "rope.scaling.original_context_length", static_cast<std::uint32_t>(s.contextLength / 4));
        w.setFloat32(a + "rope.scaling.attn_factor", 1.19f);
        break;
    case ModelArch::Gemma2:
        w.setFloat32(a + "rope.freq_base", 10000.0f);
        w.setUInt32(a + "attention.sliding_window", static_cast<std::uint32_t>(s.slidingWindow));
        // Real files: 50 and 30. The tiny model's scores and logits are small, so its caps are
        // small enough to bend them.
        w.setFloat32(a + "attn_logit_softcapping", tiny ? 0.05f : 50.0f);
        w.setFloat32(a + "final_logit_softcapping", tiny ? 0.3f : 30.0f);
        break;
    case ModelArch::Gemma3:
        w.setFloat32(a + "rope.freq_base", 1000000.0f);
        w.setUInt32(a + "attention.sliding_window", static_cast<std::uint32_t>(s.slidingWindow));
        w.setString(a + "rope.scaling.type", "linear");
        w.setFloat32(a + "rope.scaling.factor", 8.0f);
        break;
    }
}

struct Mat {
    std::string name;
    std::int64_t rows, cols;
};

// The matrices and vectors of layer `l`, in file order.
Status addLayer(GgufWriter& w, const LlamaShape& s, ModelArch arch, std::int32_t headDim, int l, GgmlType type,
                NormalStream& rng) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const std::int64_t q = std::int64_t{s.heads} * headDim, kv = std::int64_t{s.kvHeads} * headDim;
    const float spread = s.randomNorms ? 0.1f : 0.0f;
    const bool gemma = arch == ModelArch::Gemma2 || arch == ModelArch::Gemma3;
    auto vec = [&](const std::string& n, std::int64_t len, float base, float sp) { return addVector(w, p + n, len, base, sp, rng); };
    if (auto st = vec("attn_norm.weight", s.dim, 1.0f, spread); !st) return st;
    std::vector<Mat> mats;
    if (arch == ModelArch::Phi3) {
        mats.push_back({"attn_qkv.weight", q + 2 * kv, s.dim});
    } else {
        mats.insert(mats.end(), {{"attn_q.weight", q, s.dim}, {"attn_k.weight", kv, s.dim}, {"attn_v.weight", kv, s.dim}});
    }
    mats.push_back({"attn_output.weight", s.dim, q});
    if (arch == ModelArch::Phi3) mats.push_back({"ffn_up.weight", 2 * std::int64_t{s.ffnDim}, s.dim});
    else mats.insert(mats.end(), {{"ffn_gate.weight", s.ffnDim, s.dim}, {"ffn_up.weight", s.ffnDim, s.dim}});
    mats.push_back({"ffn_down.weight", s.dim, s.ffnDim});
    for (const Mat& m : mats)
        if (auto st = addMatrix(w, p + m.name, m.rows, m.cols, type, rng); !st) return st;
    if (arch == ModelArch::Qwen2)
        for (auto [n, len] : {std::pair{"attn_q.bias", q}, std::pair{"attn_k.bias", kv}, std::pair{"attn_v.bias", kv}})
            if (auto st = vec(n, len, 0.0f, 0.1f); !st) return st;
    if (arch == ModelArch::Qwen3 || arch == ModelArch::Gemma3)
        for (const char* n : {"attn_q_norm.weight", "attn_k_norm.weight"})
            if (auto st = vec(n, headDim, 1.0f, spread); !st) return st;
    if (gemma)
        for (const char* n : {"post_attention_norm.weight", "post_ffw_norm.weight"})
            if (auto st = vec(n, s.dim, 1.0f, spread); !st) return st;
    return vec("ffn_norm.weight", s.dim, 1.0f, spread);
}

// Rope factors, 1 to 4 over the frequencies (Llama 3 divides its low frequencies by up to 8).
std::vector<float> ropeFactorRamp(std::int32_t half, float top) {
    std::vector<float> f(static_cast<std::size_t>(half));
    for (std::int32_t i = 0; i < half; ++i) f[static_cast<std::size_t>(i)] = 1.0f + (top - 1.0f) * float(i) / float(half);
    return f;
}

}  // namespace

Result<std::vector<std::uint8_t>> makeRandomLlamaGguf(const LlamaShape& s, GgmlType type, std::uint64_t seed) {
    if (!toWeightType(type))
        return makeError(ErrorCode::Unsupported, "weight type " + std::string(ggmlTypeName(type)) + " not supported");
    const auto arch = modelArchFromName(s.architecture);
    if (!arch) return makeError(ErrorCode::InvalidArgument, "unknown architecture '" + s.architecture + "'");
    if (s.vocabSize < 260) return makeError(ErrorCode::InvalidArgument, "random models need a vocabulary of >= 260 tokens");
    const std::int32_t headDim = s.headDim > 0 ? s.headDim : s.dim / s.heads;
    GgufWriter w;
    w.setString("general.name", "random-" + s.name + "-" + s.architecture + "-" + std::string(ggmlTypeName(type)));
    addArchKeys(w, s, *arch, headDim);
    addTokenizer(w, s.vocabSize);
    NormalStream rng(seed);
    if (auto st = addMatrix(w, "token_embd.weight", s.vocabSize, s.dim, type, rng); !st) return st.error();
    for (int l = 0; l < s.layers; ++l)
        if (auto st = addLayer(w, s, *arch, headDim, l, type, rng); !st) return st.error();
    if (auto st = addVector(w, "output_norm.weight", s.dim, 1.0f, s.randomNorms ? 0.1f : 0.0f, rng); !st) return st.error();
    if (!s.tiedOutput)
        if (auto st = addMatrix(w, "output.weight", s.vocabSize, s.dim, type, rng); !st) return st.error();
    if (s.ropeFreqs && *arch == ModelArch::Llama)
        if (auto st = w.addTensorF32("rope_freqs.weight", {std::uint64_t(headDim / 2)}, ropeFactorRamp(headDim / 2, 8.0f)); !st)
            return st.error();
    if (*arch == ModelArch::Phi3) {
        if (auto st = w.addTensorF32("rope_factors_long.weight", {std::uint64_t(headDim / 2)}, ropeFactorRamp(headDim / 2, 4.0f)); !st)
            return st.error();
        if (auto st = w.addTensorF32("rope_factors_short.weight", {std::uint64_t(headDim / 2)}, ropeFactorRamp(headDim / 2, 1.5f)); !st)
            return st.error();
    }
    return w.serialize();
}

}  // namespace batchscope::engine::cpu
