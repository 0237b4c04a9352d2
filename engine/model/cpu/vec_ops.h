// Small dispatched vector operations for attention (dot products, scaled accumulation, the
// attention of one head over paged K/V) and F32 -> F16 conversion for the KV cache.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

#include "engine/model/cpu/cpu_isa.h"

namespace batchscope::engine::cpu {

/// Element type of the KV cache.
enum class KvType { F32, F16 };

struct AttendArgs {
    const float* q;
    /// Per block: the first slot's K (V) row of this head, as float* or IEEE-half uint16_t*
    /// depending on the KvType of the attend function called.
    const void* const* kBlocks;
    const void* const* vBlocks;
    std::int64_t blockSize, stride, headDim, positions;  ///< stride: elements between slots
    float scale;
    float* scores;  ///< heads * positions floats of scratch
    float* out;     ///< heads * headDim
    /// Query heads sharing these K/V (GQA group): q and out hold `heads` consecutive rows of
    /// headDim; each K/V row is read once for all of them.
    std::int64_t heads = 1;
    /// Leading positions excluded from the softmax (weight 0): a sliding window that starts
    /// inside the first block passed. 0 <= masked < positions.
    std::int64_t masked = 0;
    /// Scores become softcap * tanh(score / softcap) before the softmax (gemma2); 0 = off.
    float softcap = 0.0f;
};

/// Function table of one ISA level. Pure functions, thread-safe.
struct VecOps {
    /// sum_i a[i] * b[i]
    float (*dot)(const float* a, const float* b, std::int64_t n);
    /// y[i] += s * x[i]
    void (*axpy)(float* y, float s, const float* x, std::int64_t n);
    /// One head of causal attention over positions [0, positions): K/V rows of position j are
    /// at kBlocks[j / blockSize] + (j % blockSize) * stride (likewise V), headDim values each.
    /// out[headDim] = softmax(q . K^T * scale) V over positions [masked, positions), with the
    /// optional soft-cap. scores: scratch of `positions` floats.
    void (*attend)(const AttendArgs& a);     ///< F32 K/V
    void (*attendF16)(const AttendArgs& a);  ///< F16 K/V
    /// out[i] = half(in[i]), round to nearest even.
    void (*toHalf)(const float* in, std::uint16_t* out, std::int64_t n);
};

const VecOps& vecOps(CpuIsa isa);

}  // namespace batchscope::engine::cpu
