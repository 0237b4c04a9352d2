// Weight storage formats the CPU runtime computes with (ggml block layouts) and conversions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace batchscope::engine::cpu {

/// Element types of weight matrices (ggml's layouts, byte for byte). Quantised types store
/// consecutive blocks of 32 values (Q4_0 .. IQ4_NL) or 256-value super-blocks (the K types and
/// IQ4_XS). Block structs, per-type traits and the scalar reference: quant_types.h.
enum class WeightType { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS };

std::string_view weightTypeName(WeightType type);

inline constexpr int kQBlock = 32;  ///< values per Q8_0 / Q4_0 block

/// ggml block_q8_0: value = qs[i] * d.
struct BlockQ8_0 {
    std::uint16_t d;  ///< IEEE half scale
    std::int8_t qs[kQBlock];
};
static_assert(sizeof(BlockQ8_0) == 34);

/// ggml block_q4_0: value = (nibble - 8) * d; low nibbles of qs[i] are element i, high nibbles
/// element i + 16.
struct BlockQ4_0 {
    std::uint16_t d;
    std::uint8_t qs[kQBlock / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

/// Activations quantised for the integer dot products: value = qs[i] * d (d = max|x| / 127).
/// Float scale (unlike ggml's half) so the scalar and SIMD paths share exactly the same inputs.
struct ActivationQ8 {
    float d;
    std::int8_t qs[kQBlock];
};

/// Bytes one row of `cols` elements takes. Quantised types need cols % blockElements == 0
/// (32, or 256 for the K types and IQ4_XS; see quant_types.h).
std::size_t weightRowBytes(WeightType type, std::int64_t cols);

float halfToFloat(std::uint16_t h);
std::uint16_t floatToHalf(float f);  ///< round to nearest even, saturating to +-inf
inline float bf16ToFloat(std::uint16_t b) {
    const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
std::uint16_t floatToBf16(float f);  ///< round to nearest even

/// Dequantises one row (`cols` values) of a weight matrix of `type` into out.
void dequantizeRow(WeightType type, const std::byte* row, std::int64_t cols, float* out);
/// Quantises one row into `type` with the reference quantiser (quant_quantize.cpp);
/// cols % blockElements == 0 for quantised types.
void quantizeRow(WeightType type, const float* in, std::int64_t cols, std::byte* out);
/// Quantises activations (cols % 32 == 0) into cols / 32 blocks.
void quantizeActivations(const float* in, std::int64_t cols, ActivationQ8* out);

}  // namespace batchscope::engine::cpu
