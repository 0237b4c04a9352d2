// Small dispatched vector operations for attention (dot products and scaled accumulation).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

#include "engine/model/cpu/cpu_isa.h"

namespace batchscope::engine::cpu {

/// Function table of one ISA level. Pure functions, thread-safe.
struct VecOps {
    /// sum_i a[i] * b[i]
    float (*dot)(const float* a, const float* b, std::int64_t n);
    /// y[i] += s * x[i]
    void (*axpy)(float* y, float s, const float* x, std::int64_t n);
};

const VecOps& vecOps(CpuIsa isa);

}  // namespace batchscope::engine::cpu
