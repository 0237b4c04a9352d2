// SPDX-License-Identifier: GPL-3.0-or-later
// AVX-512 VNNI kernels for the K-quant weight types, the structure of matmul_kquant_avx2.cpp
// with 512-bit vectors: per 64 values one u8 x i8 multiply-add (vpmaddubsw) and one fused
// int16 scale multiply-accumulate (vpdpwssd), instead of AVX2's madd + add per 32 values.
// Used when the CPU has AVX-512 VNNI (matmulRowsAvx512 falls back to the AVX2 kernels else).
#include "engine/model/cpu/matmul_kernels.h"

#if defined(__x86_64__)
#include <algorithm>

#include "engine/model/cpu/matmul_kquant_unpack.h"

#define BS_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define BS_VNNI_INLINE BS_VNNI __attribute__((always_inline)) inline

namespace batchscope::engine::cpu::detail {
namespace {

using kquant::unpack;

BS_VNNI_INLINE __m512 dotSuperBlock(const KQuantUnpacked& u, const BlockQ8_K& x, __m512 acc) {
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    #pragma GCC unroll 4
    for (int h = 0; h < 4; h += 2) {
        // 16-bit lanes 0..7 of a 64-value product cover values 0..15: u.sc[2h], u.sc[2h + 1]
        // (contiguous) are exactly the 32 lane scales.
        const __m512i p0 = _mm512_maddubs_epi16(_mm512_load_si512(u.q + 64 * h), _mm512_loadu_si512(x.qs + 64 * h));
        const __m512i p1 = _mm512_maddubs_epi16(_mm512_load_si512(u.q + 64 * h + 64), _mm512_loadu_si512(x.qs + 64 * h + 64));
        s0 = _mm512_dpwssd_epi32(s0, p0, _mm512_load_si512(u.sc[2 * h]));
        s1 = _mm512_dpwssd_epi32(s1, p1, _mm512_load_si512(u.sc[2 * h + 2]));
    }
    const __m256i bs = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums)),
                                         _mm256_load_si256(reinterpret_cast<const __m256i*>(u.bias)));
    acc = _mm512_fmadd_ps(_mm512_set1_ps(u.d * x.d), _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), acc);
    const __m512i bsWide = _mm512_inserti64x4(_mm512_setzero_si512(), bs, 0);
    return _mm512_fmadd_ps(_mm512_set1_ps(u.dbias * x.d), _mm512_cvtepi32_ps(bsWide), acc);
}

// Blocking as matmul_kquant_avx2.cpp (token blocks in L2, row panels, prefetch on the first
// block): the shared constants of matmul_kquant_unpack.h.
using kquant::kPrefetchBytes;
using kquant::kRowPanel;
using kquant::kTokenBlock;

template <WeightType T>
BS_VNNI void kquantRows(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const WeightMatrix& w = *a.w;
    const std::int64_t nb = w.cols / kQK;
    constexpr std::size_t blockBytes = kKQuantBlockBytes<T>;
    KQuantUnpacked u;
    __m512 acc[kTokenBlock];
    for (std::int64_t p0 = n0; p0 < n1; p0 += kRowPanel) {
        const std::int64_t p1 = std::min(n1, p0 + kRowPanel);
        for (std::int64_t t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
            const std::int64_t tb = std::min(kTokenBlock, a.tokens - t0);
            const BlockQ8_K* xs = a.xk + t0 * nb;
            for (std::int64_t n = p0; n < p1; ++n) {
                const std::byte* row = w.row(n);
                for (std::int64_t t = 0; t < tb; ++t) acc[t] = _mm512_setzero_ps();
                for (std::int64_t b = 0; b < nb; ++b) {
                    const std::byte* blk = row + static_cast<std::size_t>(b) * blockBytes;
                    if (t0 == 0) {
                        #pragma GCC unroll 4
                        for (std::size_t l = 0; l < blockBytes; l += 64)
                            _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchBytes + l), _MM_HINT_T0);
                    }
                    unpack<T>(blk, u);
                    for (std::int64_t t = 0; t < tb; ++t) acc[t] = dotSuperBlock(u, xs[t * nb + b], acc[t]);
                }
                for (std::int64_t t = 0; t < tb; ++t) a.y[(t0 + t) * a.ldy + n] = _mm512_reduce_add_ps(acc[t]);
            }
        }
    }
}

}  // namespace

void kquantRowsAvx512(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    // Few tokens: the AVX2 kernels that keep a super-block in registers (no 512-bit version
    // yet; the L1 round trip below costs more than the wider vectors gain at T <= 4).
    // IQ4_XS (signed grid values, no unpacked form here): the AVX2 kernel at every T.
    const bool hasFused = isKQuantKernelType(a.w->type);  // every K type has few-token AVX2 kernels
    if ((hasFused && kquantUsesFusedAvx2(a.tokens)) || a.w->type == WeightType::IQ4_XS) {
        kquantRowsAvx2(a, n0, n1);
        return;
    }
    switch (a.w->type) {
    case WeightType::Q4_K: kquantRows<WeightType::Q4_K>(a, n0, n1); return;
    case WeightType::Q5_K: kquantRows<WeightType::Q5_K>(a, n0, n1); return;
    case WeightType::Q2_K: kquantRows<WeightType::Q2_K>(a, n0, n1); return;
    case WeightType::Q3_K: kquantRows<WeightType::Q3_K>(a, n0, n1); return;
    case WeightType::Q6_K: kquantRows<WeightType::Q6_K>(a, n0, n1); return;
    default: matmulRowsScalar(a, n0, n1); return;
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
void kquantRowsAvx512(const KernelArgs& a, std::int64_t n0, std::int64_t n1) { matmulRowsScalar(a, n0, n1); }
}  // namespace batchscope::engine::cpu::detail
#endif
