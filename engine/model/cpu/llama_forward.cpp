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
    // llama.cpp NORM mode: pair (2i, 2i+1) rotates by pos * base^(-2i / ropeDim).
    const auto& c = m_w.config;
    for (std::int64_t i = 0; i < c.ropeDim / 2; ++i)
        m_ropeInvFreq.push_back(std::pow(static_cast<double>(c.ropeBase), -2.0 * double(i) / c.ropeDim));
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
    const std::size_t kv = static_cast<std::size_t>(c.kvDim()), ffn = static_cast<std::size_t>(c.ffnDim);
    for (auto* v : {&m_x, &m_xn, &m_q, &m_att, &m_tmp}) v->resize(T * dim);
    for (auto* v : {&m_k, &m_v}) v->resize(T * kv);
    for (auto* v : {&m_gate, &m_up}) v->resize(T * ffn);
    std::int32_t maxPos = 0;
    for (std::size_t t = 0; t < T; ++t) {
        const auto& tok = m_tokens[t];
        const TokenId id = tok.seq->tokens[static_cast<std::size_t>(tok.pos - tok.seq->startPosition)];
        dequantizeRow(m_w.tokenEmbedding.type, m_w.tokenEmbedding.row(id), c.dim, m_x.data() + t * dim);
        maxPos = std::max(maxPos, tok.pos);
    }
    growRopeTable(maxPos);
}

void LlamaForward::growRopeTable(std::int32_t maxPos) {
    const auto half = static_cast<std::size_t>(m_w.config.ropeDim / 2);
    const std::size_t have = half == 0 ? 0 : m_ropeCos.size() / half;
    if (static_cast<std::size_t>(maxPos) < have) return;
    // Doubling keeps the number of regrowths logarithmic in the longest context seen.
    const std::size_t rows = std::max<std::size_t>(static_cast<std::size_t>(maxPos) + 1, 2 * have);
    m_ropeCos.resize(rows * half);
    m_ropeSin.resize(rows * half);
    for (std::size_t p = have; p < rows; ++p) {
        for (std::size_t i = 0; i < half; ++i) {
            const double theta = static_cast<double>(p) * m_ropeInvFreq[i];
            m_ropeCos[p * half + i] = static_cast<float>(std::cos(theta));
            m_ropeSin[p * half + i] = static_cast<float>(std::sin(theta));
        }
    }
}

void LlamaForward::rmsNorm(const float* x, const std::vector<float>& w, float* out, std::int64_t rows) {
    const std::int64_t dim = m_w.config.dim;
    const RowOps& ops = rowOps(m_isa);
    forRows(rows, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) ops.rmsNorm(x + t * dim, w.data(), out + t * dim, dim, m_w.config.normEps);
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

void LlamaForward::rope(float* v, std::int64_t heads) {
    const auto& c = m_w.config;
    const std::int64_t half = c.ropeDim / 2, hd = c.headDim;
    for (std::size_t t = 0; t < m_tokens.size(); ++t) {
        const auto row = static_cast<std::size_t>(m_tokens[t].pos) * static_cast<std::size_t>(half);
        const float* cs = m_ropeCos.data() + row;
        const float* sn = m_ropeSin.data() + row;
        for (std::int64_t h = 0; h < heads; ++h) {
            float* p = v + (static_cast<std::int64_t>(t) * heads + h) * hd;
            for (std::int64_t i = 0; i < half; ++i) {
                const float a = p[2 * i], b = p[2 * i + 1];
                p[2 * i] = a * cs[i] - b * sn[i];
                p[2 * i + 1] = a * sn[i] + b * cs[i];
            }
        }
    }
}

void LlamaForward::attention(int layer) {
    const auto& c = m_w.config;
    const std::int64_t T = static_cast<std::int64_t>(m_tokens.size());
    const std::int64_t hd = c.headDim, group = c.heads / c.kvHeads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
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
            const std::int64_t positions = tok.pos + 1;
            const std::int64_t nb = (positions + m_blockSize - 1) / m_blockSize;
            kBlocks.resize(static_cast<std::size_t>(nb));
            vBlocks.resize(static_cast<std::size_t>(nb));
            for (std::int64_t b = 0; b < nb; ++b) {
                const auto p = static_cast<std::int32_t>(b * m_blockSize);
                const auto off = static_cast<std::size_t>(kvOff) * kvElementBytes();
                kBlocks[static_cast<std::size_t>(b)] = kvSlot(layer, 0, *tok.seq, p) + off;
                vBlocks[static_cast<std::size_t>(b)] = kvSlot(layer, 1, *tok.seq, p) + off;
            }
            scratch.scores.resize(static_cast<std::size_t>(positions * group));
            const std::int64_t h0 = kvh * group;
            AttendArgs args{m_q.data() + t * c.dim + h0 * hd, kBlocks.data(), vBlocks.data(),
                            m_blockSize, c.kvDim(), hd, positions, scale, scratch.scores.data(),
                            m_att.data() + t * c.dim + h0 * hd};
            args.heads = group;
            (m_kvType == KvType::F16 ? ops.attendF16 : ops.attend)(args);
        }
    });
}

void LlamaForward::layerForward(int layer) {
    const auto& c = m_w.config;
    const LlamaLayer& L = m_w.layers[static_cast<std::size_t>(layer)];
    const std::int64_t T = static_cast<std::int64_t>(m_tokens.size());
    rmsNorm(m_x.data(), L.attnNorm, m_xn.data(), T);
    const MatmulTarget qkv[] = {{&L.wq, m_q.data()}, {&L.wk, m_k.data()}, {&L.wv, m_v.data()}};
    m_matmul.runMany(qkv, m_xn.data(), T);
    rope(m_q.data(), c.heads);
    rope(m_k.data(), c.kvHeads);
    const std::size_t kv = static_cast<std::size_t>(c.kvDim());
    const VecOps& ops = vecOps(m_isa);
    for (std::int64_t t = 0; t < T; ++t) {
        const TokenInfo& tok = m_tokens[static_cast<std::size_t>(t)];
        const float* k = m_k.data() + static_cast<std::size_t>(t) * kv;
        const float* v = m_v.data() + static_cast<std::size_t>(t) * kv;
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
    attention(layer);
    m_matmul.run(L.wo, m_att.data(), T, m_tmp.data());
    addResidual();
    rmsNorm(m_x.data(), L.ffnNorm, m_xn.data(), T);
    const MatmulTarget gateUp[] = {{&L.gate, m_gate.data()}, {&L.up, m_up.data()}};
    m_matmul.runMany(gateUp, m_xn.data(), T);
    const std::int64_t ffn = c.ffnDim;
    const RowOps& rows = rowOps(m_isa);
    m_pool.parallelFor(T, 1, [&](std::int64_t t0, std::int64_t t1, int) {
        rows.swiglu(m_gate.data() + t0 * ffn, m_up.data() + t0 * ffn, (t1 - t0) * ffn);
    });
    m_matmul.run(L.down, m_gate.data(), T, m_tmp.data());
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
    rmsNorm(m_tmp.data(), m_w.outputNorm, m_xn.data(), static_cast<std::int64_t>(rows));
    logits.resize(rows * static_cast<std::size_t>(m_w.config.vocabSize));
    m_matmul.run(m_w.output, m_xn.data(), static_cast<std::int64_t>(rows), logits.data());
}

}  // namespace batchscope::engine::cpu
