// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/random_llama_gguf.h"

#include "engine/model/cpu/quant_types.h"

#include <cmath>
#include <cstdio>

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

Status addNorm(GgufWriter& w, const std::string& name, std::int64_t n) {
    const std::vector<float> ones(static_cast<std::size_t>(n), 1.0f);
    return w.addTensorF32(name, {static_cast<std::uint64_t>(n)}, ones);
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

std::optional<LlamaShape> llamaShapeByName(std::string_view name) {
    if (name == "tiny") return LlamaShape{"tiny", 64, 2, 4, 2, 160, 300, 256, true};
    if (name == "small") return LlamaShape{"small", 512, 8, 8, 4, 1408, 32000, 2048, false};
    if (name == "medium") return LlamaShape{"medium", 768, 12, 12, 12, 2048, 32000, 2048, false};
    return std::nullopt;
}

Result<std::vector<std::uint8_t>> makeRandomLlamaGguf(const LlamaShape& s, GgmlType type, std::uint64_t seed) {
    if (!toWeightType(type))
        return makeError(ErrorCode::Unsupported, "weight type " + std::string(ggmlTypeName(type)) + " not supported");
    GgufWriter w;
    w.setString("general.architecture", "llama");
    w.setString("general.name", "random-" + s.name + "-" + std::string(ggmlTypeName(type)));
    w.setUInt32("llama.context_length", static_cast<std::uint32_t>(s.contextLength));
    w.setUInt32("llama.embedding_length", static_cast<std::uint32_t>(s.dim));
    w.setUInt32("llama.block_count", static_cast<std::uint32_t>(s.layers));
    w.setUInt32("llama.feed_forward_length", static_cast<std::uint32_t>(s.ffnDim));
    w.setUInt32("llama.attention.head_count", static_cast<std::uint32_t>(s.heads));
    w.setUInt32("llama.attention.head_count_kv", static_cast<std::uint32_t>(s.kvHeads));
    w.setFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.setFloat32("llama.rope.freq_base", 10000.0f);
    w.setUInt32("llama.rope.dimension_count", static_cast<std::uint32_t>(s.dim / s.heads));
    w.setUInt32("llama.vocab_size", static_cast<std::uint32_t>(s.vocabSize));
    if (s.vocabSize < 260) return makeError(ErrorCode::InvalidArgument, "random models need a vocabulary of >= 260 tokens");
    addTokenizer(w, s.vocabSize);
    NormalStream rng(seed);
    const std::int64_t kvDim = static_cast<std::int64_t>(s.kvHeads) * (s.dim / s.heads);
    if (auto st = addMatrix(w, "token_embd.weight", s.vocabSize, s.dim, type, rng); !st) return st.error();
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        struct M {
            const char* name;
            std::int64_t rows, cols;
        };
        const M mats[] = {{"attn_q.weight", s.dim, s.dim},    {"attn_k.weight", kvDim, s.dim},
                          {"attn_v.weight", kvDim, s.dim},    {"attn_output.weight", s.dim, s.dim},
                          {"ffn_gate.weight", s.ffnDim, s.dim}, {"ffn_up.weight", s.ffnDim, s.dim},
                          {"ffn_down.weight", s.dim, s.ffnDim}};
        if (auto st = addNorm(w, p + "attn_norm.weight", s.dim); !st) return st.error();
        for (const M& m : mats)
            if (auto st = addMatrix(w, p + m.name, m.rows, m.cols, type, rng); !st) return st.error();
        if (auto st = addNorm(w, p + "ffn_norm.weight", s.dim); !st) return st.error();
    }
    if (auto st = addNorm(w, "output_norm.weight", s.dim); !st) return st.error();
    if (!s.tiedOutput)
        if (auto st = addMatrix(w, "output.weight", s.vocabSize, s.dim, type, rng); !st) return st.error();
    return w.serialize();
}

}  // namespace batchscope::engine::cpu
