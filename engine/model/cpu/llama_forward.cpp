// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/llama_forward.h"

#include "engine/model/cpu/llama_model_common.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "engine/model/cpu/row_ops.h"
#include "engine/model/cpu/vec_ops.h"

namespace batchscope::engine::cpu {

LlamaForward::LlamaForward(const LlamaWeights& weights, int threads, CpuIsa isa, KvType kvType)
    : m_w(weights), m_pool(threads), m_matmul(m_pool, isa), m_isa(isa), m_kvType(kvType),
      m_scores(static_cast<std::size_t>(m_pool.threadCount())) {
    // Pair i rotates by pos * base^(-2i / ropeDim) (times the linear position scale, divided by
    // the file's frequency factor). Sliding-window layers use their own base and no linear
    // scaling (gemma3); the factors (phi3, whose layers are all local) apply to both.
    const auto& c = m_w.config;
    for (std::int64_t i = 0; i < c.ropeDim / 2; ++i) {
        const double e = -2.0 * double(i) / c.ropeDim;
        const double factor = m_w.ropeFactors.empty() ? 1.0 : double(m_w.ropeFactors[static_cast<std::size_t>(i)]);
        m_ropeGlobal.invFreq.push_back(std::pow(double(c.ropeBase), e) * double(c.ropePositionScale) / factor);
        m_ropeLocal.invFreq.push_back(std::pow(double(c.ropeBaseLocal), e) / factor);
    }
    m_ropeGlobal.attnFactor = m_ropeLocal.attnFactor = c.ropeAttnFactor;
}

void LlamaForward::setKvType(KvType type) {
    m_kvType = type;
    m_kv.clear();
    m_kv.shrink_to_fit();
    m_numBlocks = 0;
    m_blockSize = 0;
}

std::size_t LlamaForward::kvBytesPerBlock(std::int32_t blockSize) const {
    const auto& c = m_w.config;
    return static_cast<std::size_t>(c.layers) * 2 * static_cast<std::size_t>(blockSize) *
           static_cast<std::size_t>(c.kvDim()) * kvElementBytes();
}

void LlamaForward::configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) {
    if (numBlocks <= 0 || blockSize <= 0) throw std::invalid_argument("KV cache needs numBlocks > 0 and blockSize > 0");
    m_numBlocks = numBlocks;
    m_blockSize = blockSize;
    m_kv.assign(kvBytesPerBlock(blockSize) * static_cast<std::size_t>(numBlocks), std::byte{0});
}

std::string LlamaForward::checkSequence(const SequenceStep& s) const {
    return checkLlamaSequenceStep(m_w.config, s, m_blockSize, m_numBlocks);
}

std::byte* LlamaForward::kvSlot(int layer, int kOrV, const SequenceStep& s, std::int32_t pos) {
    const auto block = static_cast<std::size_t>(s.blockTable[static_cast<std::size_t>(pos / m_blockSize)]);
    const auto slot = static_cast<std::size_t>(pos % m_blockSize);
    const auto bs = static_cast<std::size_t>(m_blockSize);
    const auto pool = static_cast<std::size_t>(layer * 2 + kOrV) * static_cast<std::size_t>(m_numBlocks);
    return m_kv.data() + ((pool + block) * bs + slot) * static_cast<std::size_t>(m_w.config.kvDim()) * kvElementBytes();
}

void LlamaForward::prepareTokens(const ModelBatch& batch, const std::vector<std::string>& errors) {
    const auto& c = m_w.config;
    m_tokens.clear();
    for (std::size_t i = 0; i < batch.sequences.size(); ++i) {
        if (i < errors.size() && !errors[i].empty()) continue;
        const SequenceStep& s = batch.sequences[i];
        for (std::size_t j = 0; j < s.tokens.size(); ++j)
            m_tokens.push_back({&s, s.startPosition + static_cast<std::int32_t>(j)});
    }
    const std::size_t T = m_tokens.size(), dim = static_cast<std::size_t>(c.dim);
    const std::size_t q = static_cast<std::size_t>(c.qDim());
    const std::size_t kv = static_cast<std::size_t>(c.kvDim()), ffn = static_cast<std::size_t>(c.ffnDim);
    for (auto* v : {&m_x, &m_xn, &m_tmp}) v->resize(T * dim);
    for (auto* v : {&m_q, &m_att}) v->resize(T * q);
    for (auto* v : {&m_k, &m_v}) v->resize(T * kv);
    for (auto* v : {&m_gate, &m_up}) v->resize(T * ffn);
    if (c.fusedQkv || c.fusedGateUp) m_fused.resize(T * std::max(q + 2 * kv, 2 * ffn));
    // Gemma scales embeddings by sqrt(dim) (rounded to float, as its reference does).
    const float embedScale = c.embedScale ? std::sqrt(static_cast<float>(c.dim)) : 1.0f;
    std::int32_t maxPos = 0;
    for (std::size_t t = 0; t < T; ++t) {
        const auto& tok = m_tokens[t];
        const TokenId id = tok.seq->tokens[static_cast<std::size_t>(tok.pos - tok.seq->startPosition)];
        float* row = m_x.data() + t * dim;
        dequantizeRow(m_w.tokenEmbedding.type, m_w.tokenEmbedding.row(id), c.dim, row);
        if (c.embedScale)
            for (std::size_t i = 0; i < dim; ++i) row[i] *= embedScale;
        maxPos = std::max(maxPos, tok.pos);
    }
    m_ropeGlobal.grow(maxPos);
    if (c.slidingPattern > 0) m_ropeLocal.grow(maxPos);
}

void LlamaForward::RopeTable::grow(std::int32_t maxPos) {
    const std::size_t half = invFreq.size();
    const std::size_t have = half == 0 ? 0 : cos.size() / half;
    if (static_cast<std::size_t>(maxPos) < have) return;
    // Doubling keeps the number of regrowths logarithmic in the longest context seen.
    const std::size_t rows = std::max<std::size_t>(static_cast<std::size_t>(maxPos) + 1, 2 * have);
    cos.resize(rows * half);
    sin.resize(rows * half);
    for (std::size_t p = have; p < rows; ++p) {
        for (std::size_t i = 0; i < half; ++i) {
            const double theta = static_cast<double>(p) * invFreq[i];
            cos[p * half + i] = static_cast<float>(std::cos(theta) * attnFactor);
            sin[p * half + i] = static_cast<float>(std::sin(theta) * attnFactor);
        }
    }
}

const LlamaForward::RopeTable& LlamaForward::ropeFor(int layer) const {
    return m_w.config.isLocalLayer(layer) ? m_ropeLocal : m_ropeGlobal;
}

void LlamaForward::rmsNorm(const float* x, const std::vector<float>& w, float* out, std::int64_t rows,
                           std::int64_t width) {
    const RowOps& ops = rowOps(m_isa);
    forRows(rows, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) ops.rmsNorm(x + t * width, w.data(), out + t * width, width, m_w.config.normEps);
    });
}

void LlamaForward::addResidual() {
    const auto dim = static_cast<std::size_t>(m_w.config.dim);
    forRows(static_cast<std::int64_t>(m_tokens.size()), [&](std::int64_t t0, std::int64_t t1) {
        for (std::size_t i = static_cast<std::size_t>(t0) * dim; i < static_cast<std::size_t>(t1) * dim; ++i)
            m_x[i] += m_tmp[i];
    });
}

template <class F>
void LlamaForward::forRows(std::int64_t rows, F&& body) {
    // Element-wise row work is worth spreading only at prefill sizes (a wake-up costs more than
    // a few decode rows).
    constexpr std::int64_t kParallelRows = 64;
    if (rows < kParallelRows) {
        body(std::int64_t{0}, rows);
        return;
    }
    m_pool.parallelFor(rows, 16, [&](std::int64_t t0, std::int64_t t1, int) { body(t0, t1); });
}

void LlamaForward::rope(float* v, std::int64_t heads, const RopeTable& table) {
    const auto& c = m_w.config;
    const std::int64_t half = c.ropeDim / 2, hd = c.headDim;
    // NORM (llama): pairs (2i, 2i+1). NEOX (qwen, phi3, gemma): pairs (i, i + ropeDim/2).
    const std::int64_t stride = c.ropeNeox ? 1 : 2, partner = c.ropeNeox ? half : 1;
    for (std::size_t t = 0; t < m_tokens.size(); ++t) {
        const auto row = static_cast<std::size_t>(m_tokens[t].pos) * static_cast<std::size_t>(half);
        const float* cs = table.cos.data() + row;
        const float* sn = table.sin.data() + row;
        for (std::int64_t h = 0; h < heads; ++h) {
            float* p = v + (static_cast<std::int64_t>(t) * heads + h) * hd;
            for (std::int64_t i = 0; i < half; ++i) {
                float& a = p[stride * i];
                float& b = p[stride * i + partner];
                const float x0 = a, x1 = b;
                a = x0 * cs[i] - x1 * sn[i];
                b = x0 * sn[i] + x1 * cs[i];
            }
        }
    }
}

void LlamaForward::attention(int layer) {
    const auto& c = m_w.config;
    const std::int64_t T = static_cast<std::int64_t>(m_tokens.size());
    const std::int64_t hd = c.headDim, group = c.heads / c.kvHeads, qDim = c.qDim();
    // Local layers read only the blocks holding (pos - window, pos]; `masked` drops the part of
    // the first block before the window.
    const std::int64_t window = c.isLocalLayer(layer) ? c.slidingWindow : 0;
    const VecOps& ops = vecOps(m_isa);
    // One item per (token, KV head): the GQA group's query heads share each K/V read.
    const std::int64_t items = T * c.kvHeads;
    const std::int64_t grain = std::max<std::int64_t>(1, items / (m_pool.threadCount() * 8));
    m_pool.parallelFor(items, grain, [&](std::int64_t i0, std::int64_t i1, int thread) {
        auto& scratch = m_scores[static_cast<std::size_t>(thread)];
        std::vector<const void*>& kBlocks = scratch.kBlocks;
        std::vector<const void*>& vBlocks = scratch.vBlocks;
        for (std::int64_t item = i0; item < i1; ++item) {
            const std::int64_t t = item / c.kvHeads, kvh = item % c.kvHeads, kvOff = kvh * hd;
            const TokenInfo& tok = m_tokens[static_cast<std::size_t>(t)];
            const std::int64_t first = window > 0 ? std::max<std::int64_t>(0, tok.pos + 1 - window) : 0;
            const std::int64_t firstBlock = first / m_blockSize, base = firstBlock * m_blockSize;
            const std::int64_t positions = tok.pos + 1 - base;
            const std::int64_t nb = (positions + m_blockSize - 1) / m_blockSize;
            kBlocks.resize(static_cast<std::size_t>(nb));
            vBlocks.resize(static_cast<std::size_t>(nb));
            for (std::int64_t b = 0; b < nb; ++b) {
                const auto p = static_cast<std::int32_t>(base + b * m_blockSize);
                const auto off = static_cast<std::size_t>(kvOff) * kvElementBytes();
                kBlocks[static_cast<std::size_t>(b)] = kvSlot(layer, 0, *tok.seq, p) + off;
                vBlocks[static_cast<std::size_t>(b)] = kvSlot(layer, 1, *tok.seq, p) + off;
            }
            scratch.scores.resize(static_cast<std::size_t>(positions * group));
            const std::int64_t h0 = kvh * group;
            AttendArgs args{m_q.data() + t * qDim + h0 * hd, kBlocks.data(), vBlocks.data(),
                            m_blockSize, c.kvDim(), hd, positions, c.attnScale, scratch.scores.data(),
                            m_att.data() + t * qDim + h0 * hd};
            args.heads = group;
            args.masked = first - base;
            args.softcap = c.attnSoftcap;
            (m_kvType == KvType::F16 ? ops.attendF16 : ops.attend)(args);
        }
    });
}

void LlamaForward::projectQkv(const LlamaLayer& L) {
    const auto& c = m_w.config;
    const std::int64_t T = static_cast<std::int64_t>(m_tokens.size());
    const std::size_t q = static_cast<std::size_t>(c.qDim()), kv = static_cast<std::size_t>(c.kvDim());
    if (c.fusedQkv) {
        m_matmul.run(L.wqkv, m_xn.data(), T, m_fused.data());
        forRows(T, [&](std::int64_t t0, std::int64_t t1) {
            for (auto t = static_cast<std::size_t>(t0); t < static_cast<std::size_t>(t1); ++t) {
                const float* row = m_fused.data() + t * (q + 2 * kv);
                std::copy_n(row, q, m_q.data() + t * q);
                std::copy_n(row + q, kv, m_k.data() + t * kv);
                std::copy_n(row + q + kv, kv, m_v.data() + t * kv);
            }
        });
    } else {
        const MatmulTarget qkv[] = {{&L.wq, m_q.data()}, {&L.wk, m_k.data()}, {&L.wv, m_v.data()}};
        m_matmul.runMany(qkv, m_xn.data(), T);
    }
    if (c.qkvBias) {
        forRows(T, [&](std::int64_t t0, std::int64_t t1) {
            for (auto t = static_cast<std::size_t>(t0); t < static_cast<std::size_t>(t1); ++t) {
                for (std::size_t i = 0; i < q; ++i) m_q[t * q + i] += L.bq[i];
                for (std::size_t i = 0; i < kv; ++i) {
                    m_k[t * kv + i] += L.bk[i];
                    m_v[t * kv + i] += L.bv[i];
                }
            }
        });
    }
    if (c.qkNorm) {  // every head's row of Q and K normalised on its own
        rmsNorm(m_q.data(), L.qNorm, m_q.data(), T * c.heads, c.headDim);
        rmsNorm(m_k.data(), L.kNorm, m_k.data(), T * c.kvHeads, c.headDim);
    }
}

void LlamaForward::storeKv(int layer) {
    const std::size_t kv = static_cast<std::size_t>(m_w.config.kvDim());
    const VecOps& ops = vecOps(m_isa);
    for (std::size_t t = 0; t < m_tokens.size(); ++t) {
        const TokenInfo& tok = m_tokens[t];
        const float* k = m_k.data() + t * kv;
        const float* v = m_v.data() + t * kv;
        std::byte* kd = kvSlot(layer, 0, *tok.seq, tok.pos);
        std::byte* vd = kvSlot(layer, 1, *tok.seq, tok.pos);
        if (m_kvType == KvType::F16) {
            ops.toHalf(k, reinterpret_cast<std::uint16_t*>(kd), static_cast<std::int64_t>(kv));
            ops.toHalf(v, reinterpret_cast<std::uint16_t*>(vd), static_cast<std::int64_t>(kv));
        } else {
            std::memcpy(kd, k, kv * sizeof(float));
            std::memcpy(vd, v, kv * sizeof(float));
        }
    }
}

void LlamaForward::feedForward(const LlamaLayer& L) {
    const auto& c = m_w.config;
    const std::int64_t T = static_cast<std::int64_t>(m_tokens.size()), ffn = c.ffnDim;
    const RowOps& rows = rowOps(m_isa);
    const auto act = c.activation == FfnActivation::GeluTanh ? rows.geglu : rows.swiglu;
    if (c.fusedGateUp) {
        // [gate | up] per token: activate in place, then pack the products for the down matmul.
        m_matmul.run(L.gateUp, m_xn.data(), T, m_fused.data());
        m_pool.parallelFor(T, 1, [&](std::int64_t t0, std::int64_t t1, int) {
            for (std::int64_t t = t0; t < t1; ++t) {
                float* row = m_fused.data() + t * 2 * ffn;
                act(row, row + ffn, ffn);
                std::copy_n(row, ffn, m_gate.data() + t * ffn);
            }
        });
    } else {
        const MatmulTarget gateUp[] = {{&L.gate, m_gate.data()}, {&L.up, m_up.data()}};
        m_matmul.runMany(gateUp, m_xn.data(), T);
        m_pool.parallelFor(T, 1, [&](std::int64_t t0, std::int64_t t1, int) {
            act(m_gate.data() + t0 * ffn, m_up.data() + t0 * ffn, (t1 - t0) * ffn);
        });
    }
    m_matmul.run(L.down, m_gate.data(), T, m_tmp.data());
}

void LlamaForward::layerForward(int layer) {
    const auto& c = m_w.config;
    const LlamaLayer& L = m_w.layers[static_cast<std::size_t>(layer)];
    const std::int64_t T = static_cast<std::int64_t>(m_tokens.size());
    rmsNorm(m_x.data(), L.attnNorm, m_xn.data(), T, c.dim);
    projectQkv(L);
    rope(m_q.data(), c.heads, ropeFor(layer));
    rope(m_k.data(), c.kvHeads, ropeFor(layer));
    storeKv(layer);
    attention(layer);
    m_matmul.run(L.wo, m_att.data(), T, m_tmp.data());
    if (c.postNorms) rmsNorm(m_tmp.data(), L.postAttnNorm, m_tmp.data(), T, c.dim);
    addResidual();
    rmsNorm(m_x.data(), L.ffnNorm, m_xn.data(), T, c.dim);
    feedForward(L);
    if (c.postNorms) rmsNorm(m_tmp.data(), L.postFfnNorm, m_tmp.data(), T, c.dim);
    addResidual();
}

void LlamaForward::forward(const ModelBatch& batch, const std::vector<std::string>& errors,
                           std::vector<float>& logits, std::vector<int>& logitRow) {
    if (m_numBlocks == 0) throw std::runtime_error("KV cache not configured");
    if (batch.blockSize != m_blockSize)
        throw std::runtime_error("batch block size " + std::to_string(batch.blockSize) +
                                 " differs from the KV cache's " + std::to_string(m_blockSize));
    prepareTokens(batch, errors);
    logitRow.assign(batch.sequences.size(), -1);
    logits.clear();
    if (m_tokens.empty()) return;
    for (int l = 0; l < m_w.config.layers; ++l) layerForward(l);

    // Final norm and output projection only for the last token of sequences that sample.
    const auto dim = static_cast<std::size_t>(m_w.config.dim);
    std::size_t t = 0, rows = 0;
    for (std::size_t i = 0; i < batch.sequences.size(); ++i) {
        if (i < errors.size() && !errors[i].empty()) continue;
        const SequenceStep& s = batch.sequences[i];
        t += s.tokens.size();
        if (!s.needsNextToken) continue;
        std::copy_n(m_x.data() + (t - 1) * dim, dim, m_tmp.data() + rows * dim);
        logitRow[i] = static_cast<int>(rows++);
    }
    if (rows == 0) return;
    rmsNorm(m_tmp.data(), m_w.outputNorm, m_xn.data(), static_cast<std::int64_t>(rows), m_w.config.dim);
    logits.resize(rows * static_cast<std::size_t>(m_w.config.vocabSize));
    m_matmul.run(m_w.output, m_xn.data(), static_cast<std::int64_t>(rows), logits.data());
    if (const float cap = m_w.config.finalSoftcap; cap > 0.0f)  // gemma2: cap * tanh(logit / cap)
        rowOps(m_isa).softcap(logits.data(), static_cast<std::int64_t>(logits.size()), cap);
}

}  // namespace batchscope::engine::cpu
