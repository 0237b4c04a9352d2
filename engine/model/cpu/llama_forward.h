// The batched, paged-attention forward pass of the Llama family (llama, qwen2, qwen3, phi3,
// gemma2, gemma3) on the CPU.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/cpu/aligned_vector.h"
#include "engine/model/cpu/llama_weights.h"
#include "engine/model/cpu/matmul.h"
#include "engine/model/cpu/thread_pool.h"
#include "engine/model/cpu/vec_ops.h"
#include "engine/model/model_executor.h"

namespace batchscope::engine::cpu {

/// Runs steps of a ModelBatch: every token of the step goes through each weight matrix in one
/// batched matmul (weights read once per step for all sequences); attention reads each token's
/// own sequence's K/V through its block table. KV storage is F32 by default (exactness of the
/// reference test; at our model sizes KV memory is small next to the weights) or F16 (half the
/// KV traffic at large batches), layout per layer and K/V: [numBlocks][blockSize][kvHeads *
/// headDim].
/// Threading: one thread calls everything (it owns the thread pool and scratch buffers).
class LlamaForward {
public:
    LlamaForward(const LlamaWeights& weights, int threads, CpuIsa isa, KvType kvType = KvType::F32);

    const LlamaConfig& config() const { return m_w.config; }
    std::size_t kvBytesPerBlock(std::int32_t blockSize) const;
    void configureKvCache(std::int32_t numBlocks, std::int32_t blockSize);
    std::int32_t numBlocks() const { return m_numBlocks; }
    std::int32_t blockSize() const { return m_blockSize; }
    std::size_t kvCacheBytes() const { return m_kv.size(); }
    KvType kvType() const { return m_kvType; }
    /// Changes the KV element type; drops the pool (call configureKvCache() again).
    void setKvType(KvType type);

    /// Per-sequence input check (token ids, positions, block table): "" when fine.
    std::string checkSequence(const SequenceStep& s) const;

    /// Computes the step for the sequences whose `errors` entry is empty. Fills `logits` with
    /// one row of vocabSize floats per such sequence with needsNextToken, in batch order, and
    /// `logitRow[i]` = that row's index (-1 for none). Throws std::runtime_error when the KV
    /// cache is not configured or the batch's block size differs.
    void forward(const ModelBatch& batch, const std::vector<std::string>& errors,
                 std::vector<float>& logits, std::vector<int>& logitRow);

    const LlamaWeights& weights() const { return m_w; }
    ThreadPool& pool() { return m_pool; }
    CpuIsa isa() const { return m_isa; }
    Matmul& matmul() { return m_matmul; }

private:
    struct TokenInfo {
        const SequenceStep* seq;
        std::int32_t pos;
    };
    /// cos/sin of one rope variant (global layers; sliding-window layers when they differ).
    struct RopeTable {
        std::vector<double> invFreq;    // [ropeDim / 2]: base^(-2i/ropeDim) * positionScale / factor_i
        float attnFactor = 1.0f;        // cos/sin multiplier
        std::vector<float> cos, sin;    // [position][ropeDim / 2], grown on demand
        /// Extends the table to cover positions [0, maxPos].
        void grow(std::int32_t maxPos);
    };
    void prepareTokens(const ModelBatch& batch, const std::vector<std::string>& errors);
    void layerForward(int layer);
    void projectQkv(const LlamaLayer& L);
    void storeKv(int layer);
    void feedForward(const LlamaLayer& L);
    void attention(int layer);
    /// RMSNorm of `rows` rows of `width` values (in place allowed).
    void rmsNorm(const float* x, const std::vector<float>& w, float* out, std::int64_t rows, std::int64_t width);
    void rope(float* v, std::int64_t heads, const RopeTable& table);
    const RopeTable& ropeFor(int layer) const;
    void addResidual();  ///< m_x += m_tmp
    /// body(t0, t1) over [0, rows): inline for few rows, on the pool for prefill-sized steps.
    template <class F>
    void forRows(std::int64_t rows, F&& body);
    /// Byte address of a position's K (kOrV = 0) or V row in the pool.
    std::byte* kvSlot(int layer, int kOrV, const SequenceStep& s, std::int32_t pos);
    std::size_t kvElementBytes() const { return m_kvType == KvType::F16 ? 2 : 4; }

    const LlamaWeights& m_w;
    ThreadPool m_pool;
    Matmul m_matmul;
    CpuIsa m_isa;
    KvType m_kvType;
    AlignedVector<std::byte> m_kv;  // rows of kvDim elements start on cache lines
    std::int32_t m_numBlocks = 0;
    std::int32_t m_blockSize = 0;

    // Per-step state and scratch (resized per step, reused).
    std::vector<TokenInfo> m_tokens;
    RopeTable m_ropeGlobal, m_ropeLocal;
    // Token-major activations, 64-byte aligned (rows are multiples of 16 floats). m_fused holds
    // a fused projection's output (phi3's QKV or gate/up) before it is split.
    AlignedVector<float> m_x, m_xn, m_q, m_k, m_v, m_att, m_tmp, m_gate, m_up, m_fused;
    struct AttentionScratch {
        std::vector<float> scores;
        std::vector<const void*> kBlocks, vBlocks;
    };
    std::vector<AttentionScratch> m_scores;  // per thread
};

}  // namespace batchscope::engine::cpu
