// Internal to the kernel files: vector e^x for AVX2 and AVX-512 (include inside their
// __x86_64__ blocks). x = n ln2 + r with |r| <= ln2 / 2, e^r by the Cephes expf polynomial
// (relative error < 2e-7), 2^n through the exponent field; x is clamped to [-87, 88] so every
// result is a normal float (callers that need e^x -> 0 below -87 handle it). The two widths
// are the same steps; they are spelled out because the intrinsics differ by name.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include "engine/model/cpu/x86_simd.h"

namespace batchscope::engine::cpu::detail {

inline constexpr float kExpLog2e = 1.44269504088896341f;
inline constexpr float kExpLn2Hi = 0.693359375f, kExpLn2Lo = -2.12194440e-4f;
inline constexpr float kExpP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                   4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

/// e^x, 8 lanes.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kExpLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kExpLn2Hi), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kExpLn2Lo), r);
    __m256 p = _mm256_set1_ps(kExpP[0]);
    for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP[i]));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/// e^x, 16 lanes.
__attribute__((target("avx512f,avx2,fma"), always_inline)) inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kExpLog2e)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kExpLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kExpLn2Lo), r);
    __m512 p = _mm512_set1_ps(kExpP[0]);
    for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP[i]));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

// tanh as Cephes' tanhf computes it: an odd polynomial below |x| = 0.625 (where 1 - 2/(e^2x + 1)
// would cancel), 1 - 2/(e^(2|x|) + 1) with the sign restored above. Absolute error < 2e-7.
inline constexpr float kTanhP[5] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                                    1.33314422036e-1f, -3.33332819422e-1f};

/// tanh(x), 8 lanes.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 tanh8(__m256 x) {
    const __m256 signMask = _mm256_set1_ps(-0.0f);
    const __m256 ax = _mm256_andnot_ps(signMask, x);
    const __m256 s = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(kTanhP[0]);
    for (int i = 1; i < 5; ++i) p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(kTanhP[i]));
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, s), x, x);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp8(_mm256_add_ps(ax, ax));  // clamped at 88: tanh is 1 to float precision
    const __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    const __m256 bigSigned = _mm256_or_ps(big, _mm256_and_ps(x, signMask));
    return _mm256_blendv_ps(bigSigned, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

}  // namespace batchscope::engine::cpu::detail
