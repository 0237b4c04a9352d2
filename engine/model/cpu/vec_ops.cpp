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
BS_AVX512 void attendAvx512Generic(const AttendArgs& a) { BATCHSCOPE_ATTEND_BODY(dotAvx512, axpyAvx512) }

BS_AVX512 __attribute__((always_inline)) inline __m256 halfSum(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// Sums of four vectors as one __m128 {sum a, sum b, sum c, sum d}.
BS_AVX512 __attribute__((always_inline)) inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(halfSum(a), halfSum(b)), _mm256_hadd_ps(halfSum(c), halfSum(d)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// headDim = 16 * NV: q and the output stay in registers; scores are computed four positions at
// a time so one horizontal reduction serves four dot products.
template <int NV>
BS_AVX512 void attendAvx512Fixed(const AttendArgs& a) {
    __m512 q[NV];
    for (int v = 0; v < NV; ++v) q[v] = _mm512_loadu_ps(a.q + 16 * v);
    float maxScore = -INFINITY;
    const __m128 scale = _mm_set1_ps(a.scale);
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {
        const float* k = a.kBlocks[b];
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);
        std::int64_t s = 0;
        for (; s + 4 <= n; s += 4) {
            __m512 acc[4];
            for (int r = 0; r < 4; ++r) {
                const float* kr = k + (s + r) * a.stride;
                acc[r] = _mm512_mul_ps(q[0], _mm512_loadu_ps(kr));
                for (int v = 1; v < NV; ++v) acc[r] = _mm512_fmadd_ps(q[v], _mm512_loadu_ps(kr + 16 * v), acc[r]);
            }
            const __m128 sc = _mm_mul_ps(reduce4(acc[0], acc[1], acc[2], acc[3]), scale);
            _mm_storeu_ps(a.scores + j0 + s, sc);
        }
        for (; s < n; ++s) a.scores[j0 + s] = dotAvx512(a.q, k + s * a.stride, a.headDim) * a.scale;
    }
    for (std::int64_t j = 0; j < a.positions; ++j) maxScore = std::max(maxScore, a.scores[j]);
    float sum = 0.0f;
    for (std::int64_t j = 0; j < a.positions; ++j) {
        a.scores[j] = std::exp(a.scores[j] - maxScore);
        sum += a.scores[j];
    }
    const float inv = 1.0f / sum;
    __m512 o[NV];
    for (int v = 0; v < NV; ++v) o[v] = _mm512_setzero_ps();
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {
        const float* vb = a.vBlocks[b];
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);
        for (std::int64_t s = 0; s < n; ++s) {
            const __m512 w = _mm512_set1_ps(a.scores[j0 + s] * inv);
            const float* vr = vb + s * a.stride;
            for (int v = 0; v < NV; ++v) o[v] = _mm512_fmadd_ps(w, _mm512_loadu_ps(vr + 16 * v), o[v]);
        }
    }
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(a.out + 16 * v, o[v]);
}

void attendAvx512(const AttendArgs& a) {
    switch (a.headDim) {
    case 64: attendAvx512Fixed<4>(a); return;
    case 128: attendAvx512Fixed<8>(a); return;
    default: attendAvx512Generic(a); return;
    }
}
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
