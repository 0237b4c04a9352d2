// Internal to the AVX2 kernel files: loading one 32-value block of the 32-block types.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "engine/model/cpu/quant_types.h"

#define BS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BS_AVX2_INLINE BS_AVX2 __attribute__((always_inline)) inline

namespace batchscope::engine::cpu::detail::avx2 {

// The 32 fifth bits of Q5_0 / Q5_1 as 0x10 in their bytes: the qh bits spread to bytes (each
// byte keeps its own bit of the replicated word, compared against all-ones), as ggml's
// bytes_from_bits_32.
BS_AVX2_INLINE __m256i fifthBits32(const std::byte* qhBytes) {
    std::uint32_t qh;
    __builtin_memcpy(&qh, qhBytes, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                                               _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                 0x0101010101010101, 0x0000000000000000));
    const __m256i bitSet = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                             _mm256_set1_epi64x(-1));
    return _mm256_and_si256(bitSet, _mm256_set1_epi8(0x10));
}

// 16 bytes of nibbles to 32 values in element order (low nibbles, then high nibbles).
BS_AVX2_INLINE __m256i nibbles32(const std::byte* qs) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
}

BS_AVX2_INLINE float loadHalfAt(const std::byte* p) {
    std::uint16_t h;
    __builtin_memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/// Types whose blocks add a min: value = d * q + m with unsigned q (Q4_1 0..15, Q5_1 0..31).
template <WeightType T>
inline constexpr bool kHasMin = T == WeightType::Q4_1 || T == WeightType::Q5_1;

template <WeightType T>
inline constexpr std::size_t kBlockBytes = T == WeightType::Q8_0     ? sizeof(BlockQ8_0)
                                           : T == WeightType::Q5_0   ? sizeof(BlockQ5_0)
                                           : T == WeightType::IQ4_NL ? sizeof(BlockIQ4_NL)
                                           : T == WeightType::Q4_1   ? sizeof(BlockQ4_1)
                                           : T == WeightType::Q5_1   ? sizeof(BlockQ5_1)
                                                                     : sizeof(BlockQ4_0);

// Block b's 32 values as int8 (signed types) or uint8 (kHasMin types), its scale in *d and,
// for kHasMin types, its min in *m.
template <WeightType T>
BS_AVX2_INLINE __m256i loadQuantBlock(const std::byte* row, std::int64_t b, float* d, float* m) {
    const std::byte* blk = row + b * kBlockBytes<T>;
    *d = loadHalfAt(blk);
    if constexpr (T == WeightType::Q8_0) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    } else if constexpr (T == WeightType::Q5_0) {
        // (nibble | fifth bit) - 16.
        const __m256i q = _mm256_or_si256(nibbles32(blk + offsetof(BlockQ5_0, qs)), fifthBits32(blk + offsetof(BlockQ5_0, qh)));
        return _mm256_sub_epi8(q, _mm256_set1_epi8(16));
    } else if constexpr (T == WeightType::Q4_1) {
        *m = loadHalfAt(blk + offsetof(BlockQ4_1, m));
        return nibbles32(blk + offsetof(BlockQ4_1, qs));
    } else if constexpr (T == WeightType::Q5_1) {
        *m = loadHalfAt(blk + offsetof(BlockQ5_1, m));
        return _mm256_or_si256(nibbles32(blk + offsetof(BlockQ5_1, qs)), fifthBits32(blk + offsetof(BlockQ5_1, qh)));
    } else if constexpr (T == WeightType::IQ4_NL) {
        // Nibbles as Q4_0, mapped through the non-linear grid (|value| <= 127, so the sign
        // trick's pairs stay below 2 * 127 * 127 < 32767).
        const __m128i grid = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
        return _mm256_shuffle_epi8(_mm256_set_m128i(grid, grid), nibbles32(blk + offsetof(BlockIQ4_NL, qs)));
    } else {
        return _mm256_sub_epi8(nibbles32(blk + 2), _mm256_set1_epi8(8));
    }
}

}  // namespace batchscope::engine::cpu::detail::avx2
#endif
