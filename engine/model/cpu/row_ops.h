// Element-wise row operations of the forward pass (RMSNorm, SwiGLU, GeGLU), dispatched per ISA.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

#include "engine/model/cpu/cpu_isa.h"

namespace batchscope::engine::cpu {

/// Function table of one ISA level (AVX-512 machines use the AVX2 entries: these rows are
/// short and memory-resident, the width gains nothing measurable). Pure functions, thread-safe.
struct RowOps {
    /// out[i] = x[i] * w[i] / sqrt(mean(x^2) + eps), for one row of n values. The sum of squares
    /// is accumulated in float (relative error ~1e-7 at n = 4096).
    void (*rmsNorm)(const float* x, const float* w, float* out, std::int64_t n, float eps);
    /// gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g). The vector exp is a degree-6
    /// polynomial after range reduction (relative error < 2e-7 over [-87, 88]; clamped outside,
    /// so results smaller than 1e-35 in magnitude, at gate < -88, come out as 0).
    void (*swiglu)(float* gate, const float* up, std::int64_t n);
    /// gate[i] = gelu_tanh(gate[i]) * up[i] (the tanh approximation of GELU, as Gemma uses),
    /// through the same vector exp.
    void (*geglu)(float* gate, const float* up, std::int64_t n);
    /// x[i] = cap * tanh(x[i] / cap) (Gemma 2's logit soft-capping), cap > 0; absolute error
    /// < 2e-7 * cap (detail::tanh8).
    void (*softcap)(float* x, std::int64_t n, float cap);
};

/// The soft-capping entries of the table, for kernels that pick them at compile time.
void softcapScalar(float* x, std::int64_t n, float cap);
#if defined(__x86_64__)
void softcapAvx2(float* x, std::int64_t n, float cap);
#endif

const RowOps& rowOps(CpuIsa isa);

}  // namespace batchscope::engine::cpu
