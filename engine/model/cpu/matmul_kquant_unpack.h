// Internal to the super-block kernel files (K types, IQ4_XS): unpacking super-blocks to
// KQuantUnpacked with AVX2 (also inlined into the AVX-512 kernels, whose targets include AVX2),
// and the row driver every register kernel shares (blocking, prefetch, Q8_K activation
// pointers, row sums). Include only inside an __x86_64__ block, after x86_simd.h.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstring>

#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/matmul_kquant.h"
#include "engine/model/cpu/x86_simd.h"

#define BS_KQ_AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) inline

namespace batchscope::engine::cpu::detail::kquant {

BS_KQ_AVX2_INLINE float loadHalf(const std::byte* p) {
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

BS_KQ_AVX2_INLINE __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
BS_KQ_AVX2_INLINE void store256(void* p, __m256i v) { _mm256_store_si256(static_cast<__m256i*>(p), v); }

// Q4_K: the 12 packed bytes to sc[0..8) (bytes 0..7) and m[0..8) (bytes 8..15), four u32
// operations instead of unpackScaleMinK4 per sub-block (same result; the scalar reference
// uses unpackScaleMinK4, so the tests check this against it).
inline void unpackScalesK4(const std::byte* packed, std::uint32_t out[4]) {
    constexpr std::uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    std::uint32_t s[3];
    std::memcpy(s, packed, 12);
    out[0] = s[0] & low6;                                        // sc 0..3
    out[1] = (s[2] & low4) | (((s[0] >> 6) & low2) << 4);        // sc 4..7
    out[2] = s[1] & low6;                                        // m 0..3
    out[3] = ((s[2] >> 4) & low4) | (((s[1] >> 6) & low2) << 4);  // m 4..7
}

// Q3_K: the 12 packed bytes to the 16 six-bit scales (bytes 0..15, before the -32), four u32
// operations (ggml's); the scalar reference uses q3kScale, so the tests check this against it.
inline void unpackScalesQ3K(const std::byte* packed, std::uint32_t out[4]) {
    constexpr std::uint32_t low4 = 0x0f0f0f0f, low2 = 0x03030303;
    std::uint32_t s[3];
    std::memcpy(s, packed, 12);
    out[0] = (s[0] & low4) | ((s[2] & low2) << 4);                // scales 0..3
    out[1] = (s[1] & low4) | (((s[2] >> 2) & low2) << 4);         // 4..7
    out[2] = ((s[0] >> 4) & low4) | (((s[2] >> 4) & low2) << 4);  // 8..11
    out[3] = ((s[1] >> 4) & low4) | (((s[2] >> 6) & low2) << 4);  // 12..15
}

// The 16 Q3_K scales minus 32 as int8.
BS_KQ_AVX2_INLINE __m128i scalesQ3K(const std::byte* packed) {
    std::uint32_t u[4];
    unpackScalesQ3K(packed, u);
    return _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u)), _mm_set1_epi8(32));
}

// Bit `to` of each byte = bit b of the same byte of h, other bits 0 (the 16-bit shifts only
// move bits across bytes into positions the mask drops). Q5_K's fifth and Q3_K's third bits.
template <int to>
BS_KQ_AVX2_INLINE __m256i bitTo(__m256i h, int b) {
    const __m256i m = _mm256_set1_epi8(1 << to);
    return b <= to ? _mm256_and_si256(_mm256_slli_epi16(h, to - b), m) : _mm256_and_si256(_mm256_srli_epi16(h, b - to), m);
}
BS_KQ_AVX2_INLINE __m256i fifthBit(__m256i h, int b) { return bitTo<4>(h, b); }

// Per 32 values g: 8 x scale 2g | 8 x scale 2g + 1 (16 int8 scales in sc, signed or not).
template <bool isSigned>
BS_KQ_AVX2_INLINE void storeScales16(__m128i sc, KQuantUnpacked& u) {
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
        const auto lo = static_cast<long long>(0x0101010101010101ULL * static_cast<unsigned>(2 * g));
        const auto hi = static_cast<long long>(0x0101010101010101ULL * static_cast<unsigned>(2 * g + 1));
        const __m128i b = _mm_shuffle_epi8(sc, _mm_set_epi64x(hi, lo));
        store256(u.sc[g], isSigned ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b));
    }
}

// Q2_K: scale (low nibble) and min (high nibble) per 16; 2-bit values in four bit-planes.
BS_KQ_AVX2_INLINE void unpackQ2K(const std::byte* blk, KQuantUnpacked& u) {
    u.d = loadHalf(blk + offsetof(BlockQ2_K, d));
    u.dbias = -loadHalf(blk + offsetof(BlockQ2_K, dmin));
    const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(BlockQ2_K, scales)));
    const __m128i m4 = _mm_set1_epi8(0x0f);
    storeScales16<false>(_mm_and_si128(s, m4), u);
    store256(u.bias, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4)));
    const __m256i m3 = _mm256_set1_epi8(3);
    #pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
        const __m256i v = loadu256(blk + offsetof(BlockQ2_K, qs) + 32 * n);
        #pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) store256(u.q + 128 * n + 32 * j, _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m3));
    }
}

// Q3_K: value = 2 low bits + 4 * hmask bit - 4, stored as q = low | hbit << 2 (0..7) with the -4
// in the bias: bias_s = scale_s, dbias = -4 d. Scales: q3kScale (6-bit, minus 32).
BS_KQ_AVX2_INLINE void unpackQ3K(const std::byte* blk, KQuantUnpacked& u) {
    u.d = loadHalf(blk + offsetof(BlockQ3_K, d));
    u.dbias = -4.0f * u.d;
    const __m128i s = scalesQ3K(blk + offsetof(BlockQ3_K, scales));
    storeScales16<true>(s, u);
    store256(u.bias, _mm256_cvtepi8_epi16(s));
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i hm = loadu256(blk + offsetof(BlockQ3_K, hmask));
    #pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
        const __m256i v = loadu256(blk + offsetof(BlockQ3_K, qs) + 32 * n);
        #pragma GCC unroll 4
        for (int j = 0; j < 4; ++j)
            store256(u.q + 128 * n + 32 * j,
                     _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m3), bitTo<2>(hm, 4 * n + j)));
    }
}

// Q4_K, and Q5_K (Block = BlockQ5_K): the same scales, plus bit 2j / 2j + 1 of qh[l] as bit 4
// of values l / l + 32 of 64-value chunk j.
template <class Block>
BS_KQ_AVX2_INLINE void unpackQ45K(const std::byte* blk, KQuantUnpacked& u) {
    constexpr bool five = sizeof(Block) == sizeof(BlockQ5_K);
    u.d = loadHalf(blk + offsetof(Block, d));
    u.dbias = -loadHalf(blk + offsetof(Block, dmin));
    std::uint32_t sm[4];
    unpackScalesK4(blk + offsetof(Block, scales), sm);
    const __m128i scm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm));
    const __m128i minDup = _mm_shuffle_epi8(scm, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
    store256(u.bias, _mm256_cvtepu8_epi16(minDup));
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) store256(u.sc[g], _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scm, _mm_set1_epi8(static_cast<char>(g)))));
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const std::byte* qs = blk + offsetof(Block, qs);
    __m256i qh = _mm256_setzero_si256();
    if constexpr (five) qh = loadu256(blk + offsetof(BlockQ5_K, qh));
    #pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
        const __m256i v = loadu256(qs + 32 * j);
        __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        if constexpr (five) {
            lo = _mm256_or_si256(lo, fifthBit(qh, 2 * j));
            hi = _mm256_or_si256(hi, fifthBit(qh, 2 * j + 1));
        }
        store256(u.q + 64 * j, lo);
        store256(u.q + 64 * j + 32, hi);
    }
}

BS_KQ_AVX2_INLINE void unpackQ6K(const std::byte* blk, KQuantUnpacked& u) {
    u.d = loadHalf(blk + offsetof(BlockQ6_K, d));
    u.dbias = -32.0f * u.d;
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(BlockQ6_K, scales)));
    store256(u.bias, _mm256_cvtepi8_epi16(sc));
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
        const auto lo = static_cast<long long>(0x0101010101010101ULL * static_cast<unsigned>(2 * g));
        const auto hi = static_cast<long long>(0x0101010101010101ULL * static_cast<unsigned>(2 * g + 1));
        store256(u.sc[g], _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc, _mm_set_epi64x(hi, lo))));
    }
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    #pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
        const std::byte* ql = blk + offsetof(BlockQ6_K, ql) + 64 * n;
        const __m256i a = loadu256(ql), b = loadu256(ql + 32);
        const __m256i h = loadu256(blk + offsetof(BlockQ6_K, qh) + 32 * n);
        // Bits 4-5 of each byte: the 2-bit high part of value l + 32 c comes from bits 2c..2c+1
        // of qh[l]; the 16-bit shifts only move bits across bytes into the masked-off bits.
        std::uint8_t* q = u.q + 128 * n;
        store256(q, _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30)));
        store256(q + 32, _mm256_or_si256(_mm256_and_si256(b, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)));
        store256(q + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4), _mm256_and_si256(h, m30)));
        store256(q + 96,
                 _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)));
    }
}

template <WeightType T>
BS_KQ_AVX2_INLINE void unpack(const std::byte* blk, KQuantUnpacked& u) {
    if constexpr (T == WeightType::Q4_K) {
        unpackQ45K<BlockQ4_K>(blk, u);
    } else if constexpr (T == WeightType::Q5_K) {
        unpackQ45K<BlockQ5_K>(blk, u);
    } else if constexpr (T == WeightType::Q2_K) {
        unpackQ2K(blk, u);
    } else if constexpr (T == WeightType::Q3_K) {
        unpackQ3K(blk, u);
    } else {
        static_assert(T == WeightType::Q6_K);
        unpackQ6K(blk, u);
    }
}

// Blocking of the super-block kernels: activations of kTokenBlock tokens (64 x K bytes) stay
// in L2 while a panel of kRowPanel rows passes; a row panel's weights stay in L2 for the next
// token block. Small T is one block, so each weight row is read from memory once per call.
inline constexpr std::int64_t kTokenBlock = 64;
inline constexpr std::int64_t kRowPanel = 16;
// Software prefetch distance along the weight stream (rows are contiguous); only the first
// token block prefetches: later blocks find the panel in L2.
inline constexpr std::size_t kPrefetchBytes = 4096;

BS_KQ_AVX2_INLINE float hsum(__m256 v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

/// acc[c] += super-block `blk` of a row dotted with Q8_K super-block xb[c], c < C (8 lanes,
/// summed at the end of the row).
using SuperBlockKernel = void (*)(const std::byte* blk, const BlockQ8_K* const* xb, __m256* acc);

/// y[t + c][n] = row n of a.w dotted with token t + c's activations, c < C, with Kernel per
/// super-block of BlockBytes bytes: the row driver of the register kernels (K types and
/// IQ4_XS), which keep a super-block's unpacked values in registers for C tokens.
template <int C, std::size_t BlockBytes, SuperBlockKernel Kernel>
BS_KQ_AVX2_INLINE void rowTimesTokens(const KernelArgs& a, std::int64_t n, std::int64_t t, bool prefetch) {
    const std::int64_t nb = a.w->cols / kQK;
    const std::byte* row = a.w->row(n);
    __m256 acc[C];
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        const std::byte* blk = row + static_cast<std::size_t>(b) * BlockBytes;
        if (prefetch) {
            #pragma GCC unroll 4
            for (std::size_t l = 0; l < BlockBytes; l += 64)
                _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchBytes + l), _MM_HINT_T0);
        }
        const BlockQ8_K* xb[C];
        #pragma GCC unroll 4
        for (int c = 0; c < C; ++c) xb[c] = a.xk + (t + c) * nb + b;
        Kernel(blk, xb, acc);
    }
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) a.y[(t + c) * a.ldy + n] = hsum(acc[c]);
}

}  // namespace batchscope::engine::cpu::detail::kquant
