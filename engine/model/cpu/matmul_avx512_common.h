// Internal to the AVX-512 kernel files: target attributes and the float-like weight load.
// Include only from .cpp files compiled for x86-64 (inside their __x86_64__ block).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/x86_simd.h"

#define BS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define BS_AVX512_INLINE BS_AVX512 __attribute__((always_inline)) inline

namespace batchscope::engine::cpu::detail {

/// 16 consecutive weights of a row from element k, as F32 (F16 converted, BF16 widened).
template <WeightType T>
BS_AVX512_INLINE __m512 load16(const std::byte* row, std::int64_t k) {
    if constexpr (T == WeightType::F32) {
        return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
    } else if constexpr (T == WeightType::F16) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
    } else {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
}

}  // namespace batchscope::engine::cpu::detail
