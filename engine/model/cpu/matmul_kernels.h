// Internal: the per-ISA row-range kernels behind matmulRows().
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include "engine/model/cpu/matmul.h"
#include "engine/model/cpu/quant_types.h"

namespace batchscope::engine::cpu::detail {

struct KernelArgs {
    const WeightMatrix* w;
    const float* x;          ///< [T x K]
    const ActivationQ8* xq;  ///< [T x K/32] for the 32-block quantised weights
    const BlockQ8_K* xk;     ///< [T x K/256] for the super-block (K) types
    std::int64_t tokens;
    float* y;
    std::int64_t ldy;
};

void matmulRowsScalar(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// Whether the per-ISA kernels above handle `type` themselves (every type the runtime loads
/// today: the 32-block tiles, and the super-block types through kquantRows*); matmulRows sends
/// every other type to matmulRowsViaF32 (matmul_generic.cpp).
bool hasOwnKernels(WeightType type);
/// Dequantises 32-row panels to F32 (quantKernels(isa, type).dequantizeRow) and runs the
/// ISA's F32 kernels on them. Any weight type; a.xq is not used.
void matmulRowsViaF32(CpuIsa isa, const KernelArgs& a, std::int64_t n0, std::int64_t n1);
void matmulRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// matmulRowsAvx2 without the T = 1 kernel below: the register tiles (and the float T = 1 kernels).
void matmulRowsAvx2Tiles(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// The AVX2 T = 1 kernel of Q8_0 / Q4_0 / Q5_0 / IQ4_NL (matmul_gemv_q_avx2.cpp): computes rows
/// [n0, n1) and returns true, or returns false (other type, T != 1, K > 16384) having done nothing.
bool gemvQuantAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// AVX2 row dequantiser of the 32-block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL),
/// bit-identical to the scalar reference; nullptr for other types (matmul_avx2.cpp).
DequantizeRowFn dequantizeRowFnAvx2(WeightType type);
void matmulRowsAvx512(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// The packed outer-product path for F32/F16/BF16 at large T (matmul_avx512_packed.cpp):
/// computes whole 32-row panels from n0 and returns the first row it did not compute (n0 for
/// other types); the caller finishes [returned, n1) with the register tiles.
std::int64_t matmulRowsAvx512Packed(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// The super-block weight types (the K-quants and IQ4_XS) the SIMD kernels of
/// matmul_kquant_*.cpp compute with Q8_K activations; other quantised types use the 32-block
/// tiles.
inline bool isKQuantKernelType(WeightType type) {
    return type == WeightType::Q2_K || type == WeightType::Q3_K || type == WeightType::Q4_K || type == WeightType::Q5_K ||
           type == WeightType::Q6_K || type == WeightType::IQ4_XS;
}
/// K-quant rows [n0, n1) for all T tokens (matmul_kquant_avx2.cpp / matmul_kquant_avx512.cpp).
void kquantRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
void kquantRowsAvx512(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// IQ4_XS rows [n0, n1) for all T tokens (matmul_iq4xs_avx2.cpp; also used on AVX-512 CPUs).
void iq4xsRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1);
/// AVX2 activation quantisers (activation_quant_avx2.cpp): byte-identical to the scalar
/// references quantizeActivations() / quantizeRowQ8K() for finite inputs (NaN may differ).
void quantizeActivationsAvx2(const float* in, std::int64_t cols, ActivationQ8* out);
void quantizeRowQ8KAvx2(const float* in, std::int64_t cols, BlockQ8_K* out);
/// Whether kquantRowsAvx2 takes its few-token kernels (super-block kept in registers) for T.
bool kquantUsesFusedAvx2(std::int64_t tokens);

/// Rows ahead that the T = 1 kernels prefetch: one for F32; ~8 KB of whole rows for 16-bit
/// weights, whose short rows left too little lead at one row (single-thread kernel bench, T = 1:
/// AVX-512 F16/BF16 31-36 -> 37-46 GB/s, AVX2 F16 26-34 -> 34-41 GB/s; F32 was best at one).
inline std::size_t gemvPrefetchRows(WeightType type, std::size_t rowBytes) {
    if (type == WeightType::F32 || rowBytes == 0) return 1;
    const std::size_t rows = (8192 + rowBytes - 1) / rowBytes;
    return rows > 0 ? rows : 1;
}

/// Tokens from which matmulRowsAvx512 takes the packed path (kernel bench, docs/cpu-runtime.md).
inline constexpr std::int64_t kPackedMinTokens = 96;
/// Whether a product takes the packed path: the kernel dispatch and the chunking in
/// Matmul::runMany (panel-aligned chunks) must agree.
inline bool usesPackedPath(CpuIsa isa, WeightType type, std::int64_t tokens) {
    const bool floatLike = type == WeightType::F32 || type == WeightType::F16 || type == WeightType::BF16;
    return isa == CpuIsa::Avx512 && floatLike && tokens >= kPackedMinTokens;
}

/// One element of a float-like row (F32/F16/BF16), for K tails.
float loadElement(WeightType type, const std::byte* row, std::int64_t k);

}  // namespace batchscope::engine::cpu::detail
