// SPDX-License-Identifier: GPL-3.0-or-later
// Plain C++ kernels: the reference every SIMD level is tested against, and the fallback on
// CPUs without AVX2.
#include <cstring>

#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/quant_types.h"

namespace batchscope::engine::cpu::detail {

float loadElement(WeightType type, const std::byte* row, std::int64_t k) {
    if (type == WeightType::F32) {
        float f;
        std::memcpy(&f, row + 4 * k, 4);
        return f;
    }
    std::uint16_t v;
    std::memcpy(&v, row + 2 * k, 2);
    return type == WeightType::F16 ? halfToFloat(v) : bf16ToFloat(v);
}

namespace {

float dotFloat(WeightType type, const std::byte* row, const float* x, std::int64_t K) {
    float s = 0.0f;
    for (std::int64_t k = 0; k < K; ++k) s += loadElement(type, row, k) * x[k];
    return s;
}

// Weight block as int8 values and its scale.
void unpackBlock(WeightType type, const std::byte* row, std::int64_t b, std::int8_t* q, float* d) {
    if (type == WeightType::Q8_0) {
        BlockQ8_0 blk;
        std::memcpy(&blk, row + b * sizeof blk, sizeof blk);
        std::memcpy(q, blk.qs, kQBlock);
        *d = halfToFloat(blk.d);
        return;
    }
    BlockQ4_0 blk;
    std::memcpy(&blk, row + b * sizeof blk, sizeof blk);
    for (int i = 0; i < kQBlock / 2; ++i) {
        q[i] = static_cast<std::int8_t>((blk.qs[i] & 0x0f) - 8);
        q[i + 16] = static_cast<std::int8_t>((blk.qs[i] >> 4) - 8);
    }
    *d = halfToFloat(blk.d);
}

float dotQuant(WeightType type, const std::byte* row, const ActivationQ8* xq, std::int64_t K) {
    float s = 0.0f;
    std::int8_t q[kQBlock];
    for (std::int64_t b = 0; b < K / kQBlock; ++b) {
        float d;
        unpackBlock(type, row, b, q, &d);
        std::int32_t isum = 0;
        for (int i = 0; i < kQBlock; ++i) isum += q[i] * xq[b].qs[i];
        s += (d * xq[b].d) * static_cast<float>(isum);
    }
    return s;
}

}  // namespace

void matmulRowsScalar(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const WeightMatrix& w = *a.w;
    const std::int64_t K = w.cols;
    const bool floatLike = w.type == WeightType::F32 || w.type == WeightType::F16 || w.type == WeightType::BF16;
    const bool ownQuant = w.type == WeightType::Q8_0 || w.type == WeightType::Q4_0;
    if (!floatLike && !ownQuant) {
        // Every other quantised type: the format's scalar reference dot (quant_types.h) on the
        // activation blocks its traits name.
        const QuantTraits& q = quantTraits(w.type);
        for (std::int64_t n = n0; n < n1; ++n) {
            for (std::int64_t t = 0; t < a.tokens; ++t) {
                const void* xt = q.activation == ActivationKind::Q8_K
                                     ? static_cast<const void*>(a.xk + t * (K / kQK))
                                     : static_cast<const void*>(a.xq + t * (K / kQBlock));
                a.y[t * a.ldy + n] = q.dotQ8(w.row(n), xt, K);
            }
        }
        return;
    }
    for (std::int64_t n = n0; n < n1; ++n) {
        const std::byte* row = w.row(n);
        for (std::int64_t t = 0; t < a.tokens; ++t) {
            a.y[t * a.ldy + n] = ownQuant ? dotQuant(w.type, row, a.xq + t * (K / kQBlock), K)
                                          : dotFloat(w.type, row, a.x + t * K, K);
        }
    }
}

}  // namespace batchscope::engine::cpu::detail
