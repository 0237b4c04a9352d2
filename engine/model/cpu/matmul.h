// Matrix products of activations by weight matrices, the bulk of a forward pass.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/cpu/cpu_isa.h"
#include "engine/model/cpu/quant_types.h"
#include "engine/model/cpu/thread_pool.h"
#include "engine/model/cpu/weight_types.h"

namespace batchscope::engine::cpu {

/// A row-major weight matrix of `rows` (output features, N) x `cols` (input features, K),
/// each row weightRowBytes(type, cols) bytes, stored contiguously. Non-owning view (usually
/// into the model file's mapping). Quantised types need cols % 32 == 0.
struct WeightMatrix {
    WeightType type = WeightType::F32;
    const std::byte* data = nullptr;
    std::int64_t rows = 0;
    std::int64_t cols = 0;

    std::size_t rowBytes() const { return weightRowBytes(type, cols); }
    const std::byte* row(std::int64_t n) const { return data + static_cast<std::size_t>(n) * rowBytes(); }
};

/// Computes y[t * ldy + n] = sum_k x[t * K + k] * W[n][k] for t < T, n in [n0, n1) on one thread
/// with the kernels of `isa`. The integer dot products of quantised types take the activations
/// quantised as quantTraits(W.type).activation names: xq (quantizeActivations(), T * K / 32
/// blocks) for the 32-block types, xk (quantizeRowQ8K(), T * K / 256 super-blocks) for the K
/// types and IQ4_XS; either may be null when W does not need it. Every ISA level computes the
/// same products; only summation order differs.
void matmulRows(CpuIsa isa, const WeightMatrix& w, const float* x, const ActivationQ8* xq,
                std::int64_t tokens, float* y, std::int64_t ldy, std::int64_t n0, std::int64_t n1,
                const BlockQ8_K* xk = nullptr);

/// One product of a runMany() call: y [T x w->rows] = x * w^T.
struct MatmulTarget {
    const WeightMatrix* w;
    float* y;
};

/// Multi-threaded y[T x N] = x[T x K] * W^T. Reuses scratch buffers between calls.
/// Goes through matmulRows(), which reads each weight row once per call and reuses it for all
/// T tokens, or, where measured faster (large T without AVX-512), through OpenBLAS sgemm on
/// panels of rows converted to F32 (unquantised activations).
/// Threading: one call at a time per Matmul object (it owns the scratch).
class Matmul {
public:
    Matmul(ThreadPool& pool, CpuIsa isa);

    void run(const WeightMatrix& w, const float* x, std::int64_t tokens, float* y);
    /// Several products of the same input (all w->cols equal) in one parallel loop: Q/K/V,
    /// gate/up. Saves a fork-join per extra matrix on the small-batch path.
    void runMany(std::span<const MatmulTarget> targets, const float* x, std::int64_t tokens);

    CpuIsa isa() const { return m_isa; }
    /// The default BLAS choice: per ISA level and weight type, as measured.
    static constexpr std::int64_t kMeasuredPolicy = -1000;
    /// Threshold for the BLAS path (tokens per call); -1 disables BLAS; kMeasuredPolicy restores
    /// the default. Default: BATCHSCOPE_BLAS_MIN_TOKENS if set, else kMeasuredPolicy.
    void setBlasMinTokens(std::int64_t t) { m_blasMinTokens = t; }

private:
    void runBlas(const WeightMatrix& w, const float* x, std::int64_t tokens, float* y);

    ThreadPool& m_pool;
    CpuIsa m_isa;
    std::int64_t m_blasMinTokens;
    std::vector<ActivationQ8> m_xq;
    std::vector<BlockQ8_K> m_xk;
    std::vector<std::vector<float>> m_panels;  // per thread
    struct Chunk {
        const MatmulTarget* target;
        std::int64_t n0, n1;
    };
    std::vector<Chunk> m_chunks;
};

}  // namespace batchscope::engine::cpu
