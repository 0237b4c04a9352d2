// Run-time selection of the SIMD instruction set used by the CPU kernels.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <string_view>

namespace batchscope::engine::cpu {

/// Kernel levels, ordered: a level implies every lower one is usable.
/// Avx2 = AVX2 + FMA + F16C; Avx512 = AVX-512 F + BW + VL (+ F16C), VNNI used when present.
enum class CpuIsa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

/// The best level this CPU supports (cached; thread-safe).
CpuIsa detectCpuIsa();
/// True when the CPU has AVX-512 VNNI (used by the Avx512 quantised kernels).
bool cpuHasVnni();
/// Whether the AVX-512 VNNI K-quant kernels (matmul_kquant_avx512.cpp) are used on a CPU that
/// has VNNI. Off by default: they were written on an AVX2-only machine and have not yet run on
/// an AVX-512 CPU, so the AVX2 K-quant kernels (verified against the scalar reference) serve
/// there until they have. BATCHSCOPE_KQUANT_AVX512=1 turns them on; tests flip it with the
/// setter. Thread-safe (an atomic flag).
bool kquantAvx512Enabled();
void setKQuantAvx512Enabled(bool enabled);
/// Whether the AVX2 kernels of the signed 32-block types (Q8_0, Q4_0, Q5_0, IQ4_NL) take their
/// T = 1 kernel (matmul_gemv_q_avx2.cpp) and, for Q4_0 / Q5_0 / IQ4_NL at T >= 4, decode each
/// row group once per call (rowsViaQ8_0 in matmul_avx2.cpp); when off, the 4 x 2 register
/// tiles do everything (the kernels before them). On by default; BATCHSCOPE_QUANT_GEMV=0 turns
/// them off, so the kernel bench and the tests can run both in one process. Thread-safe (an
/// atomic flag).
bool quantGemvEnabled();
void setQuantGemvEnabled(bool enabled);
/// The level the runtime uses: BATCHSCOPE_CPU_ISA=scalar|avx2|avx512 if set (capped at what
/// the CPU supports, so forcing avx512 on an AVX2-only CPU gives avx2), else detectCpuIsa().
CpuIsa activeCpuIsa();
std::string_view cpuIsaName(CpuIsa isa);
std::optional<CpuIsa> parseCpuIsa(std::string_view name);

}  // namespace batchscope::engine::cpu
