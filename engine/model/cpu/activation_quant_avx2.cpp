// SPDX-License-Identifier: GPL-3.0-or-later
// AVX2 activation quantisers for the integer kernels: the same results, byte for byte, as the
// scalar references quantizeActivations() (weight_types.cpp, 32-value blocks) and
// quantizeRowQ8K() (quant_quantize.cpp, 256-value super-blocks) for finite inputs (the
// scalar ones round every value by a libm call; see docs/cpu-runtime.md for their cost).
// Same arithmetic: one float multiply per value, then rounding to nearest even (the default
// MXCSR mode, as lrintf and nearbyint use), so the outputs are identical.
#include "engine/model/cpu/matmul_kernels.h"

#if defined(__x86_64__)
#include <cstring>

#include "engine/model/cpu/x86_simd.h"

#define BS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BS_AVX2_INLINE BS_AVX2 __attribute__((always_inline)) inline

namespace batchscope::engine::cpu::detail {
namespace {

BS_AVX2_INLINE __m256 absPs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// max(|x|, acc) keeps acc where x is NaN (maxps returns its second operand then), as the scalar
// loops, whose comparisons are false for NaN, ignore NaN.
BS_AVX2_INLINE __m256 absMax(const float* x, int n) {
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(absPs(_mm256_loadu_ps(x + i)), m);
    return m;
}

BS_AVX2_INLINE float hmax(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
}

BS_AVX2_INLINE int hsumEpi32(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    return _mm_cvtsi128_si32(_mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1)));
}

// Four vectors of 8 int32 (each within int8 range) to 32 int8 in element order.
BS_AVX2_INLINE __m256i packToI8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    // packs works per 128-bit lane: undo the lane interleave.
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

}  // namespace

BS_AVX2 void quantizeActivationsAvx2(const float* in, std::int64_t cols, ActivationQ8* out) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        const float amax = hmax(absMax(x, kQBlock));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        out[b].d = d;
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * j), vid));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), packToI8(q[0], q[1], q[2], q[3]));
    }
}

BS_AVX2 void quantizeRowQ8KAvx2(const float* in, std::int64_t cols, BlockQ8_K* out) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        const float* x = in + b * kQK;
        BlockQ8_K& y = out[b];
        const float amax = hmax(absMax(x, kQK));
        if (amax == 0.0f) {
            std::memset(&y, 0, sizeof y);
            continue;
        }
        // The reference keeps the sign of the first value with the largest magnitude.
        int first = 0;
        const __m256 vamax = _mm256_set1_ps(amax);
        for (int i = 0; i < kQK; i += 8) {
            const int mask = _mm256_movemask_ps(_mm256_cmp_ps(absPs(_mm256_loadu_ps(x + i)), vamax, _CMP_EQ_OQ));
            if (mask != 0) {
                first = i + __builtin_ctz(static_cast<unsigned>(mask));
                break;
            }
        }
        const float iscale = -127.f / x[first];
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i cap = _mm256_set1_epi32(127);
        for (int j = 0; j < kQK; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; ++k)
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), vs)), cap);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + j), packToI8(q[0], q[1], q[2], q[3]));
            y.bsums[j / 16] = static_cast<std::int16_t>(hsumEpi32(_mm256_add_epi32(q[0], q[1])));
            y.bsums[j / 16 + 1] = static_cast<std::int16_t>(hsumEpi32(_mm256_add_epi32(q[2], q[3])));
        }
        y.d = 1 / iscale;
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
void quantizeActivationsAvx2(const float* in, std::int64_t cols, ActivationQ8* out) { quantizeActivations(in, cols, out); }
void quantizeRowQ8KAvx2(const float* in, std::int64_t cols, BlockQ8_K* out) { quantizeRowQ8K(in, cols, out); }
}  // namespace batchscope::engine::cpu::detail
#endif
