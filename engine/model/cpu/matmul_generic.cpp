// SPDX-License-Identifier: GPL-3.0-or-later
// The generic path for weight types without kernels of their own (none of the types loaded
// today; kept for new types): dequantise a panel of rows to F32 with quantKernels(isa, type)
// and run the ISA's F32 kernels on it. Correct for every type.
#include <algorithm>
#include <vector>

#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/quant_types.h"

namespace batchscope::engine::cpu::detail {

bool hasOwnKernels(WeightType type) {
    switch (type) {
    case WeightType::F32:
    case WeightType::F16:
    case WeightType::BF16:
    case WeightType::Q8_0:
    case WeightType::Q4_0:
    case WeightType::Q5_0:  // 32-block tiles of matmul_avx2.cpp / matmul_avx512.cpp
    case WeightType::IQ4_NL:
    case WeightType::Q4_1:  // matmul_avx2.cpp (also on AVX-512 CPUs)
    case WeightType::Q5_1:
    case WeightType::IQ4_XS:  // matmul_kquant_avx2.cpp
    case WeightType::Q2_K:  // matmul_kquant_*.cpp
    case WeightType::Q3_K:
    case WeightType::Q4_K:
    case WeightType::Q5_K:
    case WeightType::Q6_K: return true;
    default: return false;
    }
}

void matmulRowsViaF32(CpuIsa isa, const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    constexpr std::int64_t kPanelRows = 32;  // one packed AVX-512 panel; ~K * 128 bytes of L2
    thread_local std::vector<float> panel;
    const WeightMatrix& w = *a.w;
    const std::int64_t K = w.cols;
    panel.resize(static_cast<std::size_t>(kPanelRows * K));
    const DequantizeRowFn dequantize = quantKernels(isa, w.type).dequantizeRow;
    for (std::int64_t p0 = n0; p0 < n1; p0 += kPanelRows) {
        const std::int64_t rows = std::min(kPanelRows, n1 - p0);
        for (std::int64_t r = 0; r < rows; ++r) dequantize(w.row(p0 + r), panel.data() + r * K, K);
        const WeightMatrix f{WeightType::F32, reinterpret_cast<const std::byte*>(panel.data()), rows, K};
        const KernelArgs b{&f, a.x, nullptr, nullptr, a.tokens, a.y + p0, a.ldy};
        switch (isa) {
        case CpuIsa::Avx512: matmulRowsAvx512(b, 0, rows); break;
        case CpuIsa::Avx2: matmulRowsAvx2(b, 0, rows); break;
        case CpuIsa::Scalar: matmulRowsScalar(b, 0, rows); break;
        }
    }
}

}  // namespace batchscope::engine::cpu::detail
