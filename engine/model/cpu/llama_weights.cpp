// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/llama_weights.h"

#include <optional>

#include "engine/model/cpu/quant_types.h"

namespace batchscope::engine::cpu {

namespace {

std::optional<WeightType> weightTypeOf(GgmlType t) { return weightTypeFromGgml(t); }

std::string shapeString(const std::vector<std::uint64_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}

Error tensorError(ErrorCode code, const std::string& name, const std::string& what) {
    return makeError(code, "tensor '" + name + "': " + what);
}

// Finds a tensor and checks its shape (ne[0] first) and type.
Result<const GgufTensorInfo*> findChecked(const GgufFile& f, const std::string& name,
                                          std::vector<std::uint64_t> shape) {
    const GgufTensorInfo* t = f.findTensor(name);
    if (!t) return tensorError(ErrorCode::InvalidFormat, name, "missing");
    if (t->dims != shape)
        return tensorError(ErrorCode::InvalidFormat, name,
                           "shape " + shapeString(t->dims) + ", expected " + shapeString(shape));
    if (!weightTypeOf(t->type))
        return tensorError(ErrorCode::Unsupported, name,
                           "type " + std::string(ggmlTypeName(t->type)) +
                               " is not supported by the CPU runtime (" + supportedWeightTypesText() + ")");
    return t;
}

// Keeps the page-touching reads from being optimised out.
volatile std::uint8_t g_touchSink = 0;

// Reads a byte per page so the mapping is resident before the first step.
std::uint8_t touchPages(const std::byte* p, std::uint64_t n) {
    std::uint8_t acc = 0;
    for (std::uint64_t i = 0; i < n; i += 4096) acc ^= static_cast<std::uint8_t>(p[i]);
    return acc;
}

class Loader {
public:
    Loader(const GgufFile& f, const std::function<void(double)>& progress, std::stop_token stop, std::size_t total)
        : m_file(f), m_progress(progress), m_stop(std::move(stop)), m_total(total) {}

    Result<WeightMatrix> matrix(const std::string& name, std::int64_t rows, std::int64_t cols) {
        auto t = findChecked(m_file, name, {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(rows)});
        if (!t) return t.error();
        if (auto s = step(**t); !s) return s.error();
        m_bytes += (*t)->sizeBytes;
        return WeightMatrix{*weightTypeOf((*t)->type), (*t)->data, rows, cols};
    }

    Result<std::vector<float>> vector(const std::string& name, std::int64_t n) {
        auto t = findChecked(m_file, name, {static_cast<std::uint64_t>(n)});
        if (!t) return t.error();
        const WeightType wt = *weightTypeOf((*t)->type);  // any type: dequantised once here
        if (auto s = step(**t); !s) return s.error();
        std::vector<float> out(static_cast<std::size_t>(n));
        dequantizeRow(wt, (*t)->data, n, out.data());
        return out;
    }

    std::uint64_t bytes() const { return m_bytes; }
    std::uint8_t touched() const { return m_touched; }

private:
    Status step(const GgufTensorInfo& t) {
        if (m_stop.stop_requested()) return makeError(ErrorCode::Cancelled, "model load cancelled");
        m_touched ^= touchPages(t.data, t.sizeBytes);
        ++m_done;
        if (m_progress) m_progress(static_cast<double>(m_done) / static_cast<double>(m_total));
        return Ok{};
    }

    const GgufFile& m_file;
    const std::function<void(double)>& m_progress;
    std::stop_token m_stop;
    std::size_t m_total;
    std::size_t m_done = 0;
    std::uint64_t m_bytes = 0;
    std::uint8_t m_touched = 0;
};

Status loadLayer(Loader& l, const LlamaConfig& c, int i, LlamaLayer& layer) {
    const std::string p = "blk." + std::to_string(i) + ".";
    auto norm1 = l.vector(p + "attn_norm.weight", c.dim);
    if (!norm1) return norm1.error();
    layer.attnNorm = std::move(*norm1);
    auto norm2 = l.vector(p + "ffn_norm.weight", c.dim);
    if (!norm2) return norm2.error();
    layer.ffnNorm = std::move(*norm2);
    struct Spec {
        const char* name;
        WeightMatrix* dst;
        std::int64_t rows, cols;
    };
    const Spec specs[] = {
        {"attn_q.weight", &layer.wq, c.dim, c.dim},      {"attn_k.weight", &layer.wk, c.kvDim(), c.dim},
        {"attn_v.weight", &layer.wv, c.kvDim(), c.dim},  {"attn_output.weight", &layer.wo, c.dim, c.dim},
        {"ffn_gate.weight", &layer.gate, c.ffnDim, c.dim}, {"ffn_up.weight", &layer.up, c.ffnDim, c.dim},
        {"ffn_down.weight", &layer.down, c.dim, c.ffnDim},
    };
    for (const Spec& s : specs) {
        auto m = l.matrix(p + s.name, s.rows, s.cols);
        if (!m) return m.error();
        *s.dst = *m;
    }
    return Ok{};
}

}  // namespace

Status LlamaConfig::validate() const {
    auto bad = [](const std::string& what) { return Status(makeError(ErrorCode::InvalidFormat, what)); };
    if (dim <= 0 || dim > 65536) return bad("llama.embedding_length " + std::to_string(dim) + " out of range");
    if (layers <= 0 || layers > 1024) return bad("llama.block_count " + std::to_string(layers) + " out of range");
    if (heads <= 0 || dim % heads != 0) return bad("llama.attention.head_count " + std::to_string(heads) + " does not divide the embedding length");
    if (kvHeads <= 0 || heads % kvHeads != 0) return bad("llama.attention.head_count_kv " + std::to_string(kvHeads) + " does not divide the head count");
    if (headDim != dim / heads || headDim % 2 != 0) return bad("head dimension " + std::to_string(headDim) + " must be embedding_length / head_count and even");
    if (ffnDim <= 0 || ffnDim > (1 << 20)) return bad("llama.feed_forward_length " + std::to_string(ffnDim) + " out of range");
    if (vocabSize <= 0) return bad("vocabulary size " + std::to_string(vocabSize) + " out of range");
    if (contextLength <= 0 || contextLength > (1 << 24)) return bad("llama.context_length " + std::to_string(contextLength) + " out of range");
    if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) return bad("llama.rope.dimension_count " + std::to_string(ropeDim) + " must be even and <= the head dimension");
    if (!(normEps > 0.0f)) return bad("llama.attention.layer_norm_rms_epsilon must be > 0");
    if (!(ropeBase > 0.0f)) return bad("llama.rope.freq_base must be > 0");
    return Ok{};
}

std::uint64_t LlamaConfig::parameterCount(bool tiedOutput) const {
    const std::uint64_t d = static_cast<std::uint64_t>(dim), kv = static_cast<std::uint64_t>(kvDim());
    const std::uint64_t perLayer = 2 * d * d + 2 * d * kv + 3 * d * static_cast<std::uint64_t>(ffnDim) + 2 * d;
    const std::uint64_t embed = static_cast<std::uint64_t>(vocabSize) * d;
    return embed * (tiedOutput ? 1 : 2) + perLayer * static_cast<std::uint64_t>(layers) + d;
}

Result<LlamaConfig> llamaConfigFromGguf(const GgufFile& f) {
    const auto arch = f.getString("general.architecture");
    if (!arch) return makeError(ErrorCode::InvalidFormat, "missing key general.architecture");
    if (*arch != "llama")
        return makeError(ErrorCode::Unsupported, "architecture '" + *arch + "' is not supported (only llama)");
    auto need = [&](const char* key) -> Result<std::int64_t> {
        auto v = f.getInt(key);
        if (!v) return makeError(ErrorCode::InvalidFormat, std::string("missing integer key ") + key);
        if (*v <= 0 || *v > (std::int64_t{1} << 30))
            return makeError(ErrorCode::InvalidFormat, std::string("key ") + key + " out of range: " + std::to_string(*v));
        return *v;
    };
    LlamaConfig c;
    for (auto [key, dst] : {std::pair{"llama.embedding_length", &c.dim}, std::pair{"llama.block_count", &c.layers},
                            std::pair{"llama.attention.head_count", &c.heads},
                            std::pair{"llama.feed_forward_length", &c.ffnDim},
                            std::pair{"llama.context_length", &c.contextLength}}) {
        auto v = need(key);
        if (!v) return v.error();
        *dst = static_cast<std::int32_t>(*v);
    }
    c.kvHeads = static_cast<std::int32_t>(f.getInt("llama.attention.head_count_kv").value_or(c.heads));
    c.headDim = c.dim / c.heads;
    c.ropeDim = static_cast<std::int32_t>(f.getInt("llama.rope.dimension_count").value_or(c.headDim));
    c.normEps = static_cast<float>(f.getFloat("llama.attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.ropeBase = static_cast<float>(f.getFloat("llama.rope.freq_base").value_or(10000.0));
    const GgufTensorInfo* embd = f.findTensor("token_embd.weight");
    if (!embd) return makeError(ErrorCode::InvalidFormat, "tensor 'token_embd.weight': missing");
    if (embd->dims.size() != 2 || embd->dims[1] > (1u << 24))
        return makeError(ErrorCode::InvalidFormat, "tensor 'token_embd.weight': shape " + shapeString(embd->dims) + " is not [dim, vocab]");
    c.vocabSize = static_cast<std::int32_t>(embd->dims[1]);
    if (auto v = f.getInt("llama.vocab_size"); v && *v != c.vocabSize)
        return makeError(ErrorCode::InvalidFormat, "llama.vocab_size " + std::to_string(*v) +
                                                       " differs from token_embd.weight rows " + std::to_string(c.vocabSize));
    if (auto s = c.validate(); !s) return s.error();
    return c;
}

Result<LlamaWeights> llamaWeightsFromGguf(const GgufFile& f, const LlamaConfig& c,
                                          const std::function<void(double)>& progress, std::stop_token stop) {
    LlamaWeights w;
    w.config = c;
    w.tiedOutput = f.findTensor("output.weight") == nullptr;
    const std::size_t total = static_cast<std::size_t>(c.layers) * 9 + (w.tiedOutput ? 2 : 3);
    Loader l(f, progress, std::move(stop), total);
    auto embd = l.matrix("token_embd.weight", c.vocabSize, c.dim);
    if (!embd) return embd.error();
    w.tokenEmbedding = *embd;
    w.layers.resize(static_cast<std::size_t>(c.layers));
    for (int i = 0; i < c.layers; ++i) {
        if (auto s = loadLayer(l, c, i, w.layers[static_cast<std::size_t>(i)]); !s) return s.error();
    }
    auto norm = l.vector("output_norm.weight", c.dim);
    if (!norm) return norm.error();
    w.outputNorm = std::move(*norm);
    if (w.tiedOutput) {
        w.output = w.tokenEmbedding;
    } else {
        auto out = l.matrix("output.weight", c.vocabSize, c.dim);
        if (!out) return out.error();
        w.output = *out;
    }
    w.weightBytes = l.bytes();
    g_touchSink = l.touched();
    return w;
}

}  // namespace batchscope::engine::cpu
