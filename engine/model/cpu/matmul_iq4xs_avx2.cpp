// SPDX-License-Identifier: GPL-3.0-or-later
// AVX2 kernel for IQ4_XS weights with Q8_K activations. The weights stream from memory once per
// call for all T tokens (decode: once per step for the whole batch); each row's super-blocks are
// decoded to registers and used by up to 4 tokens at a time, the row staying in L1 between
// token groups. Blocking, prefetch and the row driver are the K-quant kernels'
// (matmul_kquant_unpack.h).
#include "engine/model/cpu/matmul_kernels.h"

#if defined(__x86_64__)
#include <algorithm>
#include <cstring>

#include "engine/model/cpu/matmul_kquant_unpack.h"

#define BS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BS_AVX2_INLINE BS_AVX2 __attribute__((always_inline)) inline

namespace batchscope::engine::cpu::detail {
namespace {

using kquant::kRowPanel;
using kquant::kTokenBlock;
using kquant::loadu256;

// IQ4_XS: value = d * (ls - 32) * grid[nibble] per 32-value sub-block. The grid values are
// signed, so the products take |x| as the unsigned operand and sign(w, x) as the signed one:
// exact also for Q8_K's -128 (|-128| = 128 as u8), pairs <= 2 * 128 * 127 < 32767; then
// madd by the sub-block scale (|ls - 32| <= 32): lanes stay below 2^24 over a super-block, so
// the int32 -> float conversion is exact too. The 8 sub-blocks are decoded to registers once per
// row and super-block and used by C tokens.
template <int C>
BS_AVX2_INLINE void iq4xsSuperBlock(const std::byte* blk, const BlockQ8_K* const* xb, __m256* acc) {
    const __m128i grid = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
    const __m256i grid2 = _mm256_set_m128i(grid, grid), m4 = _mm256_set1_epi8(0x0f);
    std::uint16_t sh;
    std::uint32_t sl;
    std::memcpy(&sh, blk + offsetof(BlockIQ4_XS, scales_h), 2);
    std::memcpy(&sl, blk + offsetof(BlockIQ4_XS, scales_l), 4);
    const std::byte* qs = blk + offsetof(BlockIQ4_XS, qs);
    __m256i sumi[C];
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
    #pragma GCC unroll 8
    for (int ib = 0; ib < 8; ++ib) {
        const int ls = static_cast<int>(((sl >> (4 * ib)) & 0xf) | ((static_cast<unsigned>(sh) >> (2 * ib)) & 3) << 4) - 32;
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 16 * ib));
        const __m256i w = _mm256_shuffle_epi8(grid2, _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), m4));
        const __m256i scale = _mm256_set1_epi16(static_cast<short>(ls));
        #pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
            const __m256i x = loadu256(xb[c]->qs + 32 * ib);
            const __m256i p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(x), _mm256_sign_epi8(w, x));
            sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(p16, scale));
        }
    }
    const float d = kquant::loadHalf(blk + offsetof(BlockIQ4_XS, d));
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * xb[c]->d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
}

// Row n for tokens [t, t + C): the row (K / 256 * 136 bytes) stays in L1 between token groups.
template <int C>
BS_AVX2 void iq4xsRow(const KernelArgs& a, std::int64_t n, std::int64_t t, bool prefetch) {
    kquant::rowTimesTokens<C, sizeof(BlockIQ4_XS), iq4xsSuperBlock<C>>(a, n, t, prefetch);
}

}  // namespace

void iq4xsRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    for (std::int64_t p0 = n0; p0 < n1; p0 += kRowPanel) {
        const std::int64_t p1 = std::min(n1, p0 + kRowPanel);
        for (std::int64_t t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
            const std::int64_t t1 = std::min(a.tokens, t0 + kTokenBlock);
            for (std::int64_t n = p0; n < p1; ++n) {
                std::int64_t t = t0;
                for (; t + 4 <= t1; t += 4) iq4xsRow<4>(a, n, t, t == 0);
                switch (t1 - t) {
                case 3: iq4xsRow<3>(a, n, t, t == 0); break;
                case 2: iq4xsRow<2>(a, n, t, t == 0); break;
                case 1: iq4xsRow<1>(a, n, t, t == 0); break;
                default: break;
                }
            }
        }
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
void iq4xsRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) { matmulRowsScalar(a, n0, n1); }
}  // namespace batchscope::engine::cpu::detail
#endif
