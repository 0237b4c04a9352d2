// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/vec_ops.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
// g++ 12's AVX-512 intrinsics trip -Wuninitialized (see matmul_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

namespace batchscope::engine::cpu {

namespace {

float dotScalar(const float* a, const float* b, std::int64_t n) {
    float s = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

void axpyScalar(float* y, float s, const float* x, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] += s * x[i];
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"), always_inline)) inline float dotAvx2(const float* a, const float* b, std::int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    const __m256 acc = _mm256_add_ps(acc0, acc1);
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    float s = _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"), always_inline)) inline void axpyAvx2(float* y, float s, const float* x, std::int64_t n) {
    const __m256 sv = _mm256_set1_ps(s);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(sv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += s * x[i];
}

#define BS_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
BS_AVX512 __attribute__((always_inline)) inline float dotAvx512(const float* a, const float* b, std::int64_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    }
    if (i + 16 <= n) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        i += 16;
    }
    const __m512 acc = _mm512_add_ps(acc0, acc1);
    const __m256 lo = _mm512_castps512_ps256(acc);
    const __m256 hi = _mm256_castpd_ps(_mm512_castpd512_pd256(_mm512_shuffle_f64x2(
        _mm512_castps_pd(acc), _mm512_castps_pd(acc), 0x4e)));
    const __m256 v = _mm256_add_ps(lo, hi);
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    float s = _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

BS_AVX512 __attribute__((always_inline)) inline void axpyAvx512(float* y, float s, const float* x, std::int64_t n) {
    const __m512 sv = _mm512_set1_ps(s);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(sv, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += s * x[i];
}
#endif

// Shared by every level; a macro rather than a template so the ISA-specific dot/axpy inline
// into each target-attributed attend function (g++ will not inline them into a generic one).
#define BATCHSCOPE_ATTEND_BODY(DOT, AXPY)                                                        \
    float maxScore = -INFINITY;                                                                  \
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {                 \
        const float* k = a.kBlocks[b];                                                           \
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);                          \
        for (std::int64_t s = 0; s < n; ++s) {                                                   \
            const float v = DOT(a.q, k + s * a.stride, a.headDim) * a.scale;                     \
            a.scores[j0 + s] = v;                                                                \
            maxScore = std::max(maxScore, v);                                                    \
        }                                                                                        \
    }                                                                                            \
    float sum = 0.0f;                                                                            \
    for (std::int64_t j = 0; j < a.positions; ++j) {                                             \
        a.scores[j] = std::exp(a.scores[j] - maxScore);                                          \
        sum += a.scores[j];                                                                      \
    }                                                                                            \
    const float inv = 1.0f / sum;                                                                \
    for (std::int64_t i = 0; i < a.headDim; ++i) a.out[i] = 0.0f;                                \
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {                 \
        const float* v = a.vBlocks[b];                                                           \
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);                          \
        for (std::int64_t s = 0; s < n; ++s) AXPY(a.out, a.scores[j0 + s] * inv, v + s * a.stride, a.headDim); \
    }

void attendScalar(const AttendArgs& a) { BATCHSCOPE_ATTEND_BODY(dotScalar, axpyScalar) }
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void attendAvx2(const AttendArgs& a) { BATCHSCOPE_ATTEND_BODY(dotAvx2, axpyAvx2) }
BS_AVX512 void attendAvx512(const AttendArgs& a) { BATCHSCOPE_ATTEND_BODY(dotAvx512, axpyAvx512) }
#endif

}  // namespace

const VecOps& vecOps(CpuIsa isa) {
    static const VecOps scalar{dotScalar, axpyScalar, attendScalar};
#if defined(__x86_64__)
    static const VecOps avx2{dotAvx2, axpyAvx2, attendAvx2};
    static const VecOps avx512{dotAvx512, axpyAvx512, attendAvx512};
    if (isa == CpuIsa::Avx512) return avx512;
    if (isa == CpuIsa::Avx2) return avx2;
#else
    (void)isa;
#endif
    return scalar;
}

}  // namespace batchscope::engine::cpu
