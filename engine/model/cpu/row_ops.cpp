// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/row_ops.h"

#include <cmath>

#if defined(__x86_64__)
#include "engine/model/cpu/simd_exp.h"
#endif

namespace batchscope::engine::cpu {

namespace {

void rmsNormScalar(const float* x, const float* w, float* out, std::int64_t n, float eps) {
    double ss = 0.0;
    for (std::int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const auto scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (std::int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void swigluScalar(float* gate, const float* up, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// gelu_tanh(g) = 0.5 g (1 + tanh(u)) = g / (1 + e^(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3).
constexpr float kGeluC = 0.7978845608028654f;
constexpr float kGeluA = 0.044715f;

void gegluScalar(float* gate, const float* up, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        const float u = kGeluC * (g + kGeluA * g * g * g);
        gate[i] = 0.5f * g * (1.0f + std::tanh(u)) * up[i];
    }
}

}  // namespace

void softcapScalar(float* x, std::int64_t n, float cap) {
    const float inv = 1.0f / cap;
    for (std::int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inv);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void softcapAvx2(float* x, std::int64_t n, float cap) {
    const __m256 c = _mm256_set1_ps(cap), inv = _mm256_set1_ps(1.0f / cap);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(c, detail::tanh8(_mm256_mul_ps(_mm256_loadu_ps(x + i), inv))));
    softcapScalar(x + i, n - i, cap);
}
#endif

namespace {

#if defined(__x86_64__)
#define BS_AVX2 __attribute__((target("avx2,fma")))
#define BS_AVX2_INLINE BS_AVX2 __attribute__((always_inline)) inline

BS_AVX2_INLINE float hsum8(__m256 v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

BS_AVX2 void rmsNormAvx2(const float* x, const float* w, float* out, std::int64_t n, float eps) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        a0 = _mm256_fmadd_ps(v0, v0, a0);
        a1 = _mm256_fmadd_ps(v1, v1, a1);
    }
    float ss = hsum8(_mm256_add_ps(a0, a1));
    for (std::int64_t j = i; j < n; ++j) ss += x[j] * x[j];
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    const __m256 sv = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), sv), _mm256_loadu_ps(w + i)));
    for (; i < n; ++i) out[i] = x[i] * scale * w[i];
}

BS_AVX2 void swigluAvx2(float* gate, const float* up, std::int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 floor = _mm256_set1_ps(-88.0f);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = detail::exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
        const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        // Below -88, e^-g is past the clamp: silu(g) = g e^g underflows to 0 there.
        const __m256 live = _mm256_cmp_ps(g, floor, _CMP_GE_OQ);
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_and_ps(s, live), _mm256_loadu_ps(up + i)));
    }
    swigluScalar(gate + i, up + i, n - i);
}

BS_AVX2 void gegluAvx2(float* gate, const float* up, std::int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), c2 = _mm256_set1_ps(-2.0f * kGeluC), a = _mm256_set1_ps(kGeluA);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(a, g), _mm256_mul_ps(g, g), g);
        // The exp clamps its argument to [-87, 88]: beyond, g / (1 + e) is within 1e-37 of
        // the exact value (0 or g).
        const __m256 e = detail::exp8(_mm256_mul_ps(c2, inner));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
    }
    gegluScalar(gate + i, up + i, n - i);
}
#endif

}  // namespace

const RowOps& rowOps(CpuIsa isa) {
    static const RowOps scalar{rmsNormScalar, swigluScalar, gegluScalar, softcapScalar};
#if defined(__x86_64__)
    static const RowOps avx2{rmsNormAvx2, swigluAvx2, gegluAvx2, softcapAvx2};
    if (isa != CpuIsa::Scalar) return avx2;
#else
    (void)isa;
#endif
    return scalar;
}

}  // namespace batchscope::engine::cpu
