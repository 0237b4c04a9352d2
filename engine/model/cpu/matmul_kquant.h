// Internal to the K-quant kernel files: the common form every super-block type is unpacked to.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/model/cpu/quant_types.h"

namespace batchscope::engine::cpu::detail {

/// One 256-value super-block of one weight row, unpacked so that a single integer dot product
/// serves every K type (ggml's formula, regrouped):
///   sum_i w_i x_i = dx * (d * sum_g sum_{i in g} sc_g(i) * q_i * xq_i
///                         + dbias * sum_{s < 16} bias_s * bsum_s)
/// with x_i = dx * xq_i (BlockQ8_K) and bsum_s the sum of xq over the 16 values of sub-block s.
/// q are unsigned (Q2_K 0..3, Q3_K 0..7, Q4_K 0..15, Q5_K 0..31, Q6_K 0..63) so u8 x i8 multiply-adds apply directly; a type's
/// offset or min goes into bias: Q4_K/Q5_K bias_s = min(s / 2), dbias = -dmin; Q2_K bias_s =
/// min(s), dbias = -dmin; Q3_K bias_s = scale(s), dbias = -4 d; Q6_K bias_s =
/// scale(s), dbias = -32 d. Kernels unpack a super-block once into L1 and reuse it for every
/// token of the call, so the unpacking cost is shared by the batch.
struct alignas(64) KQuantUnpacked {
    std::uint8_t q[kQK];        ///< values in element order
    std::int16_t sc[8][16];     ///< per 32 values g: 8 x scale of 16-sub-block 2g, 8 x of 2g+1
    std::int16_t bias[16];      ///< per 16-sub-block, multiplied by bsums
    float d;
    float dbias;
};

/// Bytes of one super-block of a K type with SIMD kernels.
template <WeightType T>
inline constexpr std::size_t kKQuantBlockBytes = T == WeightType::Q2_K   ? sizeof(BlockQ2_K)
                                                 : T == WeightType::Q3_K ? sizeof(BlockQ3_K)
                                                 : T == WeightType::Q4_K ? sizeof(BlockQ4_K)
                                                 : T == WeightType::Q5_K ? sizeof(BlockQ5_K)
                                                                         : sizeof(BlockQ6_K);

/// Bounds that keep the int16/int32 sums exact (checked by static_asserts in the kernels):
/// |pair of u8 q x i8 xq| <= 2 * 63 * 128 = 16128 < 32767 (Q6_K's q <= 63).
inline constexpr int kMaxUnsignedQ = 63;

}  // namespace batchscope::engine::cpu::detail
