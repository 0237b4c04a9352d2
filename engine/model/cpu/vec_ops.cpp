// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/vec_ops.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "engine/model/cpu/row_ops.h"
#include "engine/model/cpu/weight_types.h"

#if defined(__x86_64__)
#include "engine/model/cpu/simd_exp.h"
#include "engine/model/cpu/x86_simd.h"
#endif

namespace batchscope::engine::cpu {

namespace {

// Attention of one head, shared by every level and element type; a macro rather than a
// template so the ISA-specific DOT/AXPY inline into each target-attributed function (g++ will
// not inline them into a generic one).
#define BATCHSCOPE_ATTEND_BODY(E, DOT, AXPY, SOFTMAX, CAP)                                          \
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {                 \
        const E* k = static_cast<const E*>(a.kBlocks[b]);                                        \
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);                          \
        for (std::int64_t s = 0; s < n; ++s) a.scores[j0 + s] = DOT(a.q, k + s * a.stride, a.headDim) * a.scale; \
    }                                                                                            \
    softmaxScores<SOFTMAX, CAP>(a, a.scores);                                                    \
    for (std::int64_t i = 0; i < a.headDim; ++i) a.out[i] = 0.0f;                                \
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {                 \
        const E* v = static_cast<const E*>(a.vBlocks[b]);                                       \
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);                          \
        for (std::int64_t s = 0; s < n; ++s) AXPY(a.out, a.scores[j0 + s], v + s * a.stride, a.headDim); \
    }

// s[i] = e^(s[i] - max) / sum, in place, n >= 1.
void softmaxScalar(float* s, std::int64_t n) {
    float maxScore = -INFINITY;
    for (std::int64_t j = 0; j < n; ++j) maxScore = std::max(maxScore, s[j]);
    float sum = 0.0f;
    for (std::int64_t j = 0; j < n; ++j) {
        s[j] = std::exp(s[j] - maxScore);
        sum += s[j];
    }
    const float inv = 1.0f / sum;
    for (std::int64_t j = 0; j < n; ++j) s[j] *= inv;
}

// Soft-caps (a.softcap > 0) and normalises one head's scores; the a.masked leading positions
// (before a sliding window) get weight 0.
template <void (*Softmax)(float*, std::int64_t), void (*Softcap)(float*, std::int64_t, float)>
void softmaxScores(const AttendArgs& a, float* s) {
    if (a.softcap > 0.0f) Softcap(s + a.masked, a.positions - a.masked, a.softcap);
    Softmax(s + a.masked, a.positions - a.masked);
    for (std::int64_t j = 0; j < a.masked; ++j) s[j] = 0.0f;
}

// Runs a single-head attend function for each head of a group.
template <void (*One)(const AttendArgs&)>
void eachHead(const AttendArgs& group) {
    for (std::int64_t h = 0; h < group.heads; ++h) {
        AttendArgs a = group;
        a.q = group.q + h * group.headDim;
        a.out = group.out + h * group.headDim;
        a.scores = group.scores + h * group.positions;
        a.heads = 1;
        One(a);
    }
}

inline float elem(const float* p) { return *p; }
inline float elem(const std::uint16_t* p) { return halfToFloat(*p); }

template <typename E>
float dotScalar(const float* a, const E* b, std::int64_t n) {
    float s = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) s += a[i] * elem(b + i);
    return s;
}

template <typename E>
void axpyScalar(float* y, float s, const E* x, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] += s * elem(x + i);
}

void attendScalar(const AttendArgs& a) { BATCHSCOPE_ATTEND_BODY(float, dotScalar<float>, axpyScalar<float>, softmaxScalar, softcapScalar) }
void attendScalarF16(const AttendArgs& a) {
    BATCHSCOPE_ATTEND_BODY(std::uint16_t, dotScalar<std::uint16_t>, axpyScalar<std::uint16_t>, softmaxScalar, softcapScalar)
}
void toHalfScalar(const float* in, std::uint16_t* out, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = floatToHalf(in[i]);
}

#if defined(__x86_64__)
#define BS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BS_AVX2_INLINE BS_AVX2 __attribute__((always_inline)) inline
#define BS_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma,f16c")))
#define BS_AVX512_INLINE BS_AVX512 __attribute__((always_inline)) inline

BS_AVX2_INLINE __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
BS_AVX2_INLINE __m256 load8(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

BS_AVX2_INLINE float hsum8(__m256 v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// softmaxScalar with 8-lane max, exp and sum.
BS_AVX2 void softmaxAvx2(float* s, std::int64_t n) {
    std::int64_t j = 0;
    __m256 mv = _mm256_set1_ps(-INFINITY);
    for (; j + 8 <= n; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + j));
    const __m128 h = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    const __m128 q = _mm_max_ps(h, _mm_movehl_ps(h, h));
    float maxScore = _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
    for (; j < n; ++j) maxScore = std::max(maxScore, s[j]);
    const __m256 m = _mm256_set1_ps(maxScore);
    __m256 sv = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = detail::exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), m));
        _mm256_storeu_ps(s + j, e);
        sv = _mm256_add_ps(sv, e);
    }
    float sum = hsum8(sv);
    for (; j < n; ++j) sum += (s[j] = std::exp(s[j] - maxScore));
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (; j < n; ++j) s[j] *= 1.0f / sum;
}

template <typename E>
BS_AVX2_INLINE float dotAvx2(const float* a, const E* b, std::int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load8(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), load8(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load8(b + i), acc0);
    float s = hsum8(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) s += a[i] * elem(b + i);
    return s;
}

template <typename E>
BS_AVX2_INLINE void axpyAvx2(float* y, float s, const E* x, std::int64_t n) {
    const __m256 sv = _mm256_set1_ps(s);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(sv, load8(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += s * elem(x + i);
}

BS_AVX2 float dotAvx2F32(const float* a, const float* b, std::int64_t n) { return dotAvx2<float>(a, b, n); }
BS_AVX2 void axpyAvx2F32(float* y, float s, const float* x, std::int64_t n) { axpyAvx2<float>(y, s, x, n); }
BS_AVX2 void attendAvx2(const AttendArgs& a) { BATCHSCOPE_ATTEND_BODY(float, dotAvx2<float>, axpyAvx2<float>, softmaxAvx2, softcapAvx2) }
BS_AVX2 void attendAvx2F16(const AttendArgs& a) {
    BATCHSCOPE_ATTEND_BODY(std::uint16_t, dotAvx2<std::uint16_t>, axpyAvx2<std::uint16_t>, softmaxAvx2, softcapAvx2)
}
BS_AVX2 void toHalfAvx2(const float* in, std::uint16_t* out, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; ++i) out[i] = floatToHalf(in[i]);
}

BS_AVX512_INLINE __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
BS_AVX512_INLINE __m512 load16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

BS_AVX512_INLINE __m256 halfSum(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

template <typename E>
BS_AVX512_INLINE float dotAvx512(const float* a, const E* b, std::int64_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load16(b + i + 16), acc1);
    }
    if (i + 16 <= n) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(b + i), acc0);
        i += 16;
    }
    float s = hsum8(halfSum(_mm512_add_ps(acc0, acc1)));
    for (; i < n; ++i) s += a[i] * elem(b + i);
    return s;
}

template <typename E>
BS_AVX512_INLINE void axpyAvx512(float* y, float s, const E* x, std::int64_t n) {
    const __m512 sv = _mm512_set1_ps(s);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(sv, load16(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += s * elem(x + i);
}

// softmaxScalar with 16-lane max, exp and sum.
BS_AVX512 void softmaxAvx512(float* s, std::int64_t n) {
    std::int64_t j = 0;
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (; j + 16 <= n; j += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(s + j));
    float maxScore = _mm512_reduce_max_ps(mv);
    for (; j < n; ++j) maxScore = std::max(maxScore, s[j]);
    const __m512 m = _mm512_set1_ps(maxScore);
    __m512 sv = _mm512_setzero_ps();
    for (j = 0; j + 16 <= n; j += 16) {
        const __m512 e = detail::exp16(_mm512_sub_ps(_mm512_loadu_ps(s + j), m));
        _mm512_storeu_ps(s + j, e);
        sv = _mm512_add_ps(sv, e);
    }
    float sum = _mm512_reduce_add_ps(sv);
    for (; j < n; ++j) sum += (s[j] = std::exp(s[j] - maxScore));
    const __m512 inv = _mm512_set1_ps(1.0f / sum);
    for (j = 0; j + 16 <= n; j += 16) _mm512_storeu_ps(s + j, _mm512_mul_ps(_mm512_loadu_ps(s + j), inv));
    for (; j < n; ++j) s[j] *= 1.0f / sum;
}

// Sums of four vectors as one __m128 {sum a, sum b, sum c, sum d}.
BS_AVX512_INLINE __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(halfSum(a), halfSum(b)), _mm256_hadd_ps(halfSum(c), halfSum(d)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// headDim = 16 * NV, G query heads per K/V head: q and the outputs stay in registers, each K/V
// row is loaded once for the G heads, and scores are computed four positions at a time so one
// horizontal reduction serves four dot products.
template <typename E, int NV, int G>
BS_AVX512 void attendAvx512Fixed(const AttendArgs& a) {
    __m512 q[G][NV];
    #pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) q[g][v] = _mm512_loadu_ps(a.q + g * a.headDim + 16 * v);
    const __m128 scale = _mm_set1_ps(a.scale);
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {
        const E* k = static_cast<const E*>(a.kBlocks[b]);
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);
        std::int64_t s = 0;
        for (; s + 4 <= n; s += 4) {
            __m512 acc[G][4];
            #pragma GCC unroll 16
            for (int r = 0; r < 4; ++r) {
                const E* kr = k + (s + r) * a.stride;
                const __m512 k0 = load16(kr);
                #pragma GCC unroll 16
                for (int g = 0; g < G; ++g) acc[g][r] = _mm512_mul_ps(q[g][0], k0);
                #pragma GCC unroll 16
                for (int v = 1; v < NV; ++v) {
                    const __m512 kv = load16(kr + 16 * v);
                    #pragma GCC unroll 16
                    for (int g = 0; g < G; ++g) acc[g][r] = _mm512_fmadd_ps(q[g][v], kv, acc[g][r]);
                }
            }
            #pragma GCC unroll 16
            for (int g = 0; g < G; ++g)
                _mm_storeu_ps(a.scores + g * a.positions + j0 + s,
                              _mm_mul_ps(reduce4(acc[g][0], acc[g][1], acc[g][2], acc[g][3]), scale));
        }
        for (; s < n; ++s)
            #pragma GCC unroll 16
            for (int g = 0; g < G; ++g)
                a.scores[g * a.positions + j0 + s] = dotAvx512(a.q + g * a.headDim, k + s * a.stride, a.headDim) * a.scale;
    }
    for (int g = 0; g < G; ++g) softmaxScores<softmaxAvx512, softcapAvx2>(a, a.scores + g * a.positions);
    __m512 o[G][NV];
    #pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) o[g][v] = _mm512_setzero_ps();
    for (std::int64_t j0 = 0, b = 0; j0 < a.positions; j0 += a.blockSize, ++b) {
        const E* vb = static_cast<const E*>(a.vBlocks[b]);
        const std::int64_t n = std::min(a.blockSize, a.positions - j0);
        for (std::int64_t s = 0; s < n; ++s) {
            const E* vr = vb + s * a.stride;
            __m512 w[G];
            #pragma GCC unroll 16
            for (int g = 0; g < G; ++g) w[g] = _mm512_set1_ps(a.scores[g * a.positions + j0 + s]);
            #pragma GCC unroll 16
            for (int v = 0; v < NV; ++v) {
                const __m512 vv = load16(vr + 16 * v);
                #pragma GCC unroll 16
                for (int g = 0; g < G; ++g) o[g][v] = _mm512_fmadd_ps(w[g], vv, o[g][v]);
            }
        }
    }
    #pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
        #pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(a.out + g * a.headDim + 16 * v, o[g][v]);
}

BS_AVX512 void attendAvx512Generic(const AttendArgs& a) {
    BATCHSCOPE_ATTEND_BODY(float, dotAvx512<float>, axpyAvx512<float>, softmaxAvx512, softcapAvx2)
}
BS_AVX512 void attendAvx512GenericF16(const AttendArgs& a) {
    BATCHSCOPE_ATTEND_BODY(std::uint16_t, dotAvx512<std::uint16_t>, axpyAvx512<std::uint16_t>, softmaxAvx512, softcapAvx2)
}

// Register budget: G * NV q vectors + G * 4 accumulators (+ G * NV outputs later) <= 32.
template <typename E, int NV>
void attendAvx512Heads(const AttendArgs& a) {
    if (a.heads == 2 && NV <= 4) {
        attendAvx512Fixed<E, NV, 2>(a);
    } else if (a.heads == 1) {
        attendAvx512Fixed<E, NV, 1>(a);
    } else if (a.heads % 2 == 0 && NV <= 4) {
        for (std::int64_t h = 0; h < a.heads; h += 2) {
            AttendArgs p = a;
            p.q = a.q + h * a.headDim;
            p.out = a.out + h * a.headDim;
            p.scores = a.scores + h * a.positions;
            p.heads = 2;
            attendAvx512Fixed<E, NV, 2>(p);
        }
    } else {
        eachHead<attendAvx512Fixed<E, NV, 1>>(a);
    }
}

template <typename E>
void attendAvx512(const AttendArgs& a) {
    switch (a.headDim) {
    case 64: attendAvx512Heads<E, 4>(a); return;
    case 128: attendAvx512Heads<E, 8>(a); return;
    default:
        if constexpr (std::is_same_v<E, float>) {
            eachHead<attendAvx512Generic>(a);
        } else {
            eachHead<attendAvx512GenericF16>(a);
        }
    }
}

BS_AVX512 float dotAvx512F32(const float* a, const float* b, std::int64_t n) { return dotAvx512<float>(a, b, n); }
BS_AVX512 void axpyAvx512F32(float* y, float s, const float* x, std::int64_t n) { axpyAvx512<float>(y, s, x, n); }
#endif

}  // namespace

const VecOps& vecOps(CpuIsa isa) {
    static const VecOps scalar{dotScalar<float>, axpyScalar<float>, eachHead<attendScalar>,
                               eachHead<attendScalarF16>, toHalfScalar};
#if defined(__x86_64__)
    static const VecOps avx2{dotAvx2F32, axpyAvx2F32, eachHead<attendAvx2>, eachHead<attendAvx2F16>, toHalfAvx2};
    static const VecOps avx512{dotAvx512F32, axpyAvx512F32, attendAvx512<float>, attendAvx512<std::uint16_t>,
                               toHalfAvx2};
    if (isa == CpuIsa::Avx512) return avx512;
    if (isa == CpuIsa::Avx2) return avx2;
#else
    (void)isa;
#endif
    return scalar;
}

}  // namespace batchscope::engine::cpu
