// Small dispatched vector operations for attention (dot products and scaled accumulation).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

#include "engine/model/cpu/cpu_isa.h"

namespace batchscope::engine::cpu {

struct AttendArgs {
    const float* q;
    const float* const* kBlocks;
    const float* const* vBlocks;
    std::int64_t blockSize, stride, headDim, positions;
    float scale;
    float* scores;
    float* out;
};

/// Function table of one ISA level. Pure functions, thread-safe.
struct VecOps {
    /// sum_i a[i] * b[i]
    float (*dot)(const float* a, const float* b, std::int64_t n);
    /// y[i] += s * x[i]
    void (*axpy)(float* y, float s, const float* x, std::int64_t n);
    /// One head of causal attention over positions [0, positions): K/V rows of position j are
    /// at kBlocks[j / blockSize] + (j % blockSize) * stride (likewise V), headDim floats each.
    /// out[headDim] = softmax(q . K^T * scale) V. scores: scratch of `positions` floats.
    void (*attend)(const AttendArgs& a);
};

const VecOps& vecOps(CpuIsa isa);

}  // namespace batchscope::engine::cpu
