// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/llama_weights.h"

#include <optional>
#include <set>

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
        m_used.insert(name);
        auto t = findChecked(m_file, name, {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(rows)});
        if (!t) return t.error();
        if (auto s = step(**t); !s) return s.error();
        m_bytes += (*t)->sizeBytes;
        return WeightMatrix{*weightTypeOf((*t)->type), (*t)->data, rows, cols};
    }

    Result<std::vector<float>> vector(const std::string& name, std::int64_t n) {
        m_used.insert(name);
        auto t = findChecked(m_file, name, {static_cast<std::uint64_t>(n)});
        if (!t) return t.error();
        const WeightType wt = *weightTypeOf((*t)->type);  // any type: dequantised once here
        if (auto s = step(**t); !s) return s.error();
        std::vector<float> out(static_cast<std::size_t>(n));
        dequantizeRow(wt, (*t)->data, n, out.data());
        return out;
    }

    std::uint64_t bytes() const { return m_bytes; }
    /// Marks a tensor as belonging to the model without reading it (phi3's unused rope factors).
    void skip(const std::string& name) { m_used.insert(name); }
    /// The first tensor of the file that no loader call named ("" if none).
    std::string firstUnused() const {
        for (const auto& t : m_file.tensors())
            if (!m_used.count(t.name)) return t.name;
        return {};
    }
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
    std::set<std::string> m_used;
};

// Loads `name` into *dst when `present`; absent tensors stay empty.
Status loadVector(Loader& l, bool present, const std::string& name, std::int64_t n, std::vector<float>& dst) {
    if (!present) return Ok{};
    auto v = l.vector(name, n);
    if (!v) return v.error();
    dst = std::move(*v);
    return Ok{};
}

Status loadLayer(Loader& l, const LlamaConfig& c, int i, LlamaLayer& layer) {
    const std::string p = "blk." + std::to_string(i) + ".";
    struct VecSpec {
        bool present;
        const char* name;
        std::int64_t n;
        std::vector<float>* dst;
    };
    const VecSpec vectors[] = {
        {true, "attn_norm.weight", c.dim, &layer.attnNorm},
        {true, "ffn_norm.weight", c.dim, &layer.ffnNorm},
        {c.postNorms, "post_attention_norm.weight", c.dim, &layer.postAttnNorm},
        {c.postNorms, "post_ffw_norm.weight", c.dim, &layer.postFfnNorm},
        {c.qkNorm, "attn_q_norm.weight", c.headDim, &layer.qNorm},
        {c.qkNorm, "attn_k_norm.weight", c.headDim, &layer.kNorm},
        {c.qkvBias, "attn_q.bias", c.qDim(), &layer.bq},
        {c.qkvBias, "attn_k.bias", c.kvDim(), &layer.bk},
        {c.qkvBias, "attn_v.bias", c.kvDim(), &layer.bv},
    };
    for (const VecSpec& v : vectors)
        if (auto s = loadVector(l, v.present, p + v.name, v.n, *v.dst); !s) return s.error();
    struct Spec {
        bool present;
        const char* name;
        WeightMatrix* dst;
        std::int64_t rows, cols;
    };
    const std::int64_t q = c.qDim(), kv = c.kvDim();
    const Spec specs[] = {
        {!c.fusedQkv, "attn_q.weight", &layer.wq, q, c.dim},
        {!c.fusedQkv, "attn_k.weight", &layer.wk, kv, c.dim},
        {!c.fusedQkv, "attn_v.weight", &layer.wv, kv, c.dim},
        {c.fusedQkv, "attn_qkv.weight", &layer.wqkv, q + 2 * kv, c.dim},
        {true, "attn_output.weight", &layer.wo, c.dim, q},
        {!c.fusedGateUp, "ffn_gate.weight", &layer.gate, c.ffnDim, c.dim},
        {!c.fusedGateUp, "ffn_up.weight", &layer.up, c.ffnDim, c.dim},
        {c.fusedGateUp, "ffn_up.weight", &layer.gateUp, 2 * std::int64_t{c.ffnDim}, c.dim},
        {true, "ffn_down.weight", &layer.down, c.dim, c.ffnDim},
    };
    for (const Spec& s : specs) {
        if (!s.present) continue;
        auto m = l.matrix(p + s.name, s.rows, s.cols);
        if (!m) return m.error();
        *s.dst = *m;
    }
    return Ok{};
}

// Rope frequency factors: llama's rope_freqs.weight (Llama 3.x long context), phi3's long and
// short factors (the long ones when the context exceeds the original training context, as
// llama.cpp decides for the whole run).
Status loadRopeFactors(Loader& l, const GgufFile& f, const LlamaConfig& c, LlamaWeights& w) {
    const std::int64_t half = c.ropeDim / 2;
    if (c.arch == ModelArch::Llama) {
        if (!f.findTensor("rope_freqs.weight")) return Ok{};
        return loadVector(l, true, "rope_freqs.weight", half, w.ropeFactors);
    }
    if (c.arch != ModelArch::Phi3) return Ok{};
    const bool haveLong = f.findTensor("rope_factors_long.weight") != nullptr;
    const bool haveShort = f.findTensor("rope_factors_short.weight") != nullptr;
    if (!haveLong && !haveShort) return Ok{};
    if (haveLong != haveShort)
        return makeError(ErrorCode::InvalidFormat, std::string("tensor '") +
                                                       (haveLong ? "rope_factors_short.weight" : "rope_factors_long.weight") +
                                                       "': missing (phi3 files carry both rope factor sets or neither)");
    const auto original = f.getInt("phi3.rope.scaling.original_context_length");
    if (!original || *original <= 0)
        return makeError(ErrorCode::InvalidFormat, "missing integer key phi3.rope.scaling.original_context_length "
                                                   "(needed with rope_factors_long.weight)");
    const bool useLong = c.contextLength > *original;
    const std::string chosen = useLong ? "rope_factors_long.weight" : "rope_factors_short.weight";
    l.skip(useLong ? "rope_factors_short.weight" : "rope_factors_long.weight");
    return loadVector(l, true, chosen, half, w.ropeFactors);
}

}  // namespace

std::vector<const WeightMatrix*> LlamaLayer::matrices() const {
    std::vector<const WeightMatrix*> out;
    for (const WeightMatrix* m : {&wq, &wk, &wv, &wqkv, &wo, &gate, &up, &gateUp, &down})
        if (m->rows > 0) out.push_back(m);
    return out;
}

Result<LlamaWeights> llamaWeightsFromGguf(const GgufFile& f, const LlamaConfig& c,
                                          const std::function<void(double)>& progress, std::stop_token stop) {
    LlamaWeights w;
    w.config = c;
    w.tiedOutput = f.findTensor("output.weight") == nullptr;
    const std::size_t total = f.tensors().size();
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
    if (auto s = loadRopeFactors(l, f, c, w); !s) return s.error();
    if (const std::string extra = l.firstUnused(); !extra.empty())
        return makeError(ErrorCode::Unsupported, "tensor '" + extra + "': not part of a " +
                                                     std::string(modelArchName(c.arch)) + " model (refused rather than ignored)");
    w.weightBytes = l.bytes();
    g_touchSink = l.touched();
    return w;
}

}  // namespace batchscope::engine::cpu
