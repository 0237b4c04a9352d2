// ggml's quantised block layouts (byte for byte, ggml-common.h), per-type traits and the plain
// scalar reference (dequantise a row, dot products, quantisers) for every weight type the CPU
// runtime loads.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/model/cpu/cpu_isa.h"
#include "engine/model/cpu/weight_types.h"
#include "engine/model/gguf_types.h"

namespace batchscope::engine::cpu {

// ---------------------------------------------------------------------------------------------
// Block structs. `half` fields are IEEE fp16 bit patterns (halfToFloat). All structs are
// trivially copyable and have ggml's exact size; data in a mapped file may be unaligned, so
// read blocks through memcpy (or unaligned SIMD loads), never by casting a pointer.
// ---------------------------------------------------------------------------------------------

inline constexpr int kQK = 256;           ///< values per K-type / IQ4_XS super-block (QK_K)
inline constexpr int kKScaleBytes = 12;   ///< packed 6-bit scales of Q3_K / Q4_K / Q5_K

// BlockQ8_0 (34 bytes) and BlockQ4_0 (18 bytes) live in weight_types.h.

/// value = q * d + m, q = nibble (low nibbles elements 0..15, high nibbles 16..31).
struct BlockQ4_1 {
    std::uint16_t d, m;
    std::uint8_t qs[kQBlock / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

/// value = (q - 16) * d, q = nibble | (bit i of qh (little-endian u32)) << 4 for element i.
struct BlockQ5_0 {
    std::uint16_t d;
    std::uint8_t qh[4];
    std::uint8_t qs[kQBlock / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

/// value = q * d + m, q as in Q5_0.
struct BlockQ5_1 {
    std::uint16_t d, m;
    std::uint8_t qh[4];
    std::uint8_t qs[kQBlock / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

/// value = d * kIq4nlValues[nibble], nibbles as in Q4_0.
struct BlockIQ4_NL {
    std::uint16_t d;
    std::uint8_t qs[kQBlock / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18);

/// 16 sub-blocks of 16: scales[j] low nibble = scale, high nibble = min;
/// value = d * sc * q - dmin * m, q 2 bits. Per 128 values, qs[32] holds 4 bit-planes
/// (shift 0, 2, 4, 6) of elements l, l+32, l+64, l+96.
struct BlockQ2_K {
    std::uint8_t scales[kQK / 16];
    std::uint8_t qs[kQK / 4];
    std::uint16_t d, dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

/// 16 sub-blocks of 16 with 6-bit scales (minus 32) packed in 12 bytes; q = 2 low bits from qs
/// (as Q2_K) minus 4 unless the element's hmask bit is set.
struct BlockQ3_K {
    std::uint8_t hmask[kQK / 8];
    std::uint8_t qs[kQK / 4];
    std::uint8_t scales[kKScaleBytes];
    std::uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

/// 8 sub-blocks of 32 with 6-bit scale and min (packed, see unpackScaleMinK4);
/// value = d * sc * q - dmin * m. Per 64 values, qs[32]: low nibbles first 32, high next 32.
struct BlockQ4_K {
    std::uint16_t d, dmin;
    std::uint8_t scales[kKScaleBytes];
    std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

/// Q4_K plus a fifth bit per value in qh (bit 2c / 2c+1 of qh[l] for 64-value chunk c).
struct BlockQ5_K {
    std::uint16_t d, dmin;
    std::uint8_t scales[kKScaleBytes];
    std::uint8_t qh[kQK / 8];
    std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

/// 16 sub-blocks of 16, int8 scales; q = 4 low bits (ql) | 2 high bits (qh) << 4, minus 32.
struct BlockQ6_K {
    std::uint8_t ql[kQK / 2];
    std::uint8_t qh[kQK / 4];
    std::int8_t scales[kQK / 16];
    std::uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

/// 8 sub-blocks of 32 with 6-bit scales (ls - 32): low 4 bits in scales_l nibbles, high 2 bits
/// in scales_h (bits 2*ib); values as IQ4_NL.
struct BlockIQ4_XS {
    std::uint16_t d;
    std::uint16_t scales_h;
    std::uint8_t scales_l[kQK / 64];
    std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockIQ4_XS) == 136);

/// Activations for the K-type integer dot products (ggml block_q8_K): value = qs[i] * d;
/// bsums[j] = sum of qs[16j .. 16j+15] (lets the min terms be applied per sub-block).
struct BlockQ8_K {
    float d;
    std::int8_t qs[kQK];
    std::int16_t bsums[kQK / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

/// The non-linear 4-bit grid of IQ4_NL / IQ4_XS.
inline constexpr std::int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                 1,    13,   25,  38,  53,  69,  89,  113};

/// Q4_K / Q5_K: 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes.
inline void unpackScaleMinK4(int j, const std::uint8_t* q, std::uint8_t* sc, std::uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/// Q3_K: 6-bit scale of sub-block j (0..15) minus 32.
inline int q3kScale(int j, const std::uint8_t* s) {
    const int low = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | high << 4) - 32;
}

// ---------------------------------------------------------------------------------------------
// The seam between the format half and the kernel half of the quantised runtime.
//
// Every weight type has one QuantTraits entry (layout facts + scalar reference functions, in
// quant_reference.cpp / quant_quantize.cpp). The matmul dispatch asks quantKernels(isa, type)
// for the functions it calls; today that returns the scalar reference for every ISA, and the
// SIMD helper fills in AVX2 / AVX-512 entries there (quant_kernels.cpp) without touching the
// layouts. Contract for every entry:
//   - row pointers may be unaligned; cols is a multiple of blockElements;
//   - dequantizeRow writes exactly cols floats;
//   - dotF32 returns sum_k w[k] * x[k] (order of summation free);
//   - dotQ8 returns the same product with the activations quantised by quantizeActivationsFor
//     (ActivationQ8 blocks for 32-element types, BlockQ8_K for 256-element ones); null when a
//     type has no integer path (F32/F16/BF16).
// Threading: all functions are pure; call from any thread.
// ---------------------------------------------------------------------------------------------

using DequantizeRowFn = void (*)(const std::byte* row, float* out, std::int64_t cols);
using QuantizeRowFn = void (*)(const float* in, std::byte* out, std::int64_t cols);
using DotF32Fn = float (*)(const std::byte* row, const float* x, std::int64_t cols);
using DotQ8Fn = float (*)(const std::byte* row, const void* xq, std::int64_t cols);

/// Which activation blocks a type's dotQ8 takes.
enum class ActivationKind { None, Q8_0, Q8_K };

struct QuantTraits {
    WeightType type;
    GgmlType ggml;
    std::string_view name;
    int blockElements;  ///< values per block (1 for F32/F16/BF16)
    int blockBytes;     ///< bytes per block
    ActivationKind activation;
    DequantizeRowFn dequantizeRow;  ///< scalar reference
    QuantizeRowFn quantizeRow;      ///< reference quantiser (ggml's algorithm, no imatrix)
    DotF32Fn dotF32;                ///< scalar reference
    DotQ8Fn dotQ8;                  ///< scalar reference; null for activation None
};

/// Traits of a weight type (always valid for a WeightType value).
const QuantTraits& quantTraits(WeightType type);
/// The runtime's WeightType for a GGUF tensor type; nullopt for types the CPU runtime cannot
/// compute with (the IQ2/IQ3/IQ1/TQ types, Q8_1, Q8_K, integer types...).
std::optional<WeightType> weightTypeFromGgml(GgmlType type);
GgmlType ggmlTypeOf(WeightType type);
/// "F32, F16, BF16, Q8_0, ..." for error messages.
std::string supportedWeightTypesText();

/// The functions the matmul path calls for `type` on `isa` (see the seam comment above).
struct QuantKernels {
    DequantizeRowFn dequantizeRow;
    DotF32Fn dotF32;
    DotQ8Fn dotQ8;
};
QuantKernels quantKernels(CpuIsa isa, WeightType type);

/// Bytes of the activation blocks dotQ8 of a type needs for one row of `cols` values.
std::size_t activationBytes(ActivationKind kind, std::int64_t cols);
/// Quantises one activation row for dotQ8 of `kind` (cols % 32 or % 256 == 0) into out.
void quantizeActivationsFor(ActivationKind kind, const float* in, std::int64_t cols, void* out);
/// ggml quantize_row_q8_K: d = max|x| / 127 (sign kept: the extreme maps to -128 or 127).
void quantizeRowQ8K(const float* in, std::int64_t cols, BlockQ8_K* out);

// Scalar reference dequantisers (cols % blockElements == 0).
void dequantizeRowQ4_0(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ4_1(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ5_0(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ5_1(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ8_0(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowIQ4_NL(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ2_K(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ3_K(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ4_K(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ5_K(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowQ6_K(const std::byte* row, float* out, std::int64_t cols);
void dequantizeRowIQ4_XS(const std::byte* row, float* out, std::int64_t cols);

}  // namespace batchscope::engine::cpu
