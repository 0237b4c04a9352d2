// SPDX-License-Identifier: GPL-3.0-or-later
// AVX-512 outer-product GEMM for many tokens (prefill): weight panels of 32 rows are packed
// k-major (converted to F32 on the way), then 32-row x 12-token register tiles accumulate
// w[k][0..32) * x[t][k] with no horizontal sums and store whole output rows.
//
// Why a second kernel: the 4 x 6 dot-product tiles of matmul_avx512.cpp end every tile with 24
// horizontal reductions (~20 % of the work at K = 512) and re-read activations from L2 for
// every 4-row group; at large T packing a panel once costs far less than both.
#include "engine/model/cpu/matmul_kernels.h"

#if defined(__x86_64__)
#include <algorithm>

#include "engine/model/cpu/aligned_vector.h"
#include "engine/model/cpu/matmul_avx512_common.h"

namespace batchscope::engine::cpu::detail {
namespace {

constexpr int kPanelRows = 32;   // two vectors of output rows
constexpr int kTileTokens = 12;  // 12 x 2 accumulators + 2 weights + 1 broadcast: 27 zmm

// In-register transpose: r[i] holds row i (16 values); afterwards r[j] holds column j.
BS_AVX512_INLINE void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4q + m] holds, per 128-bit lane L, rows 4q..4q+3 of element 4L + m.
    for (int q = 0; q < 4; ++q) {
        const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
        u[4 * q + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // Column 4L + m gathers lane L of u[m], u[4 + m], u[8 + m], u[12 + m].
    for (int m = 0; m < 4; ++m) {
        const __m512 x0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x44);
        const __m512 x1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xEE);
        const __m512 x2 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x44);
        const __m512 x3 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xEE);
        r[m] = _mm512_shuffle_f32x4(x0, x2, 0x88);
        r[4 + m] = _mm512_shuffle_f32x4(x0, x2, 0xDD);
        r[8 + m] = _mm512_shuffle_f32x4(x1, x3, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(x1, x3, 0xDD);
    }
}

// pack[k * 32 + r] = W[n + r][k] as F32, for k < K.
template <WeightType T>
BS_AVX512 void packPanel(const WeightMatrix& w, std::int64_t n, float* pack) {
    const std::int64_t K = w.cols;
    std::int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        #pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            __m512 r[16];
            #pragma GCC unroll 16
            for (int i = 0; i < 16; ++i) r[i] = load16<T>(w.row(n + half * 16 + i), k);
            transpose16(r);
            #pragma GCC unroll 16
            for (int j = 0; j < 16; ++j) _mm512_store_ps(pack + (k + j) * kPanelRows + half * 16, r[j]);
        }
    }
    for (; k < K; ++k)
        for (int r = 0; r < kPanelRows; ++r) pack[k * kPanelRows + r] = loadElement(T, w.row(n + r), k);
}

// y[c * ldy + 0..32) = sum_k pack[k][0..32) * x[c * K + k] for c < C. Prefetches line k of
// [pf, pf + 64 * pfLines) into L2 per step: the next panel's weights arrive while this one runs.
template <int C>
BS_AVX512 void outerTile(const float* pack, const float* x, std::int64_t K, float* y, std::int64_t ldy,
                         const char* pf, std::int64_t pfLines) {
    __m512 acc[C][2];
    #pragma GCC unroll 12
    for (int c = 0; c < C; ++c) acc[c][0] = acc[c][1] = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < K; ++k) {
        if (k < pfLines) _mm_prefetch(pf + k * 64, _MM_HINT_T1);
        const __m512 w0 = _mm512_load_ps(pack + k * kPanelRows);
        const __m512 w1 = _mm512_load_ps(pack + k * kPanelRows + 16);
        #pragma GCC unroll 12
        for (int c = 0; c < C; ++c) {
            const __m512 xb = _mm512_set1_ps(x[c * K + k]);
            acc[c][0] = _mm512_fmadd_ps(w0, xb, acc[c][0]);
            acc[c][1] = _mm512_fmadd_ps(w1, xb, acc[c][1]);
        }
    }
    #pragma GCC unroll 12
    for (int c = 0; c < C; ++c) {
        _mm512_storeu_ps(y + c * ldy, acc[c][0]);
        _mm512_storeu_ps(y + c * ldy + 16, acc[c][1]);
    }
}

template <int C>
void tailTile(const float* pack, const float* x, std::int64_t K, float* y, std::int64_t ldy, std::int64_t left,
              const char* pf, std::int64_t pfLines) {
    if constexpr (C > 0) {
        if (left == C) {
            outerTile<C>(pack, x, K, y, ldy, pf, pfLines);
        } else {
            tailTile<C - 1>(pack, x, K, y, ldy, left, pf, pfLines);
        }
    }
}

template <WeightType T>
std::int64_t packedRows(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    // One panel per thread, reused across calls (the pool's threads live as long as the pool).
    thread_local AlignedVector<float> pack;
    const std::int64_t K = a.w->cols;
    pack.resize(static_cast<std::size_t>(K * kPanelRows));
    const auto panelLines = static_cast<std::int64_t>(a.w->rowBytes() * kPanelRows / 64);
    std::int64_t n = n0;
    for (; n + kPanelRows <= n1; n += kPanelRows) {
        packPanel<T>(*a.w, n, pack.data());
        // Rows are contiguous: the next panel is the next 32 * rowBytes bytes (if in range).
        const bool next = n + 2 * kPanelRows <= n1;
        const char* pf = next ? reinterpret_cast<const char*>(a.w->row(n + kPanelRows)) : nullptr;
        // Token tile i prefetches lines [i * K, (i + 1) * K) of the next panel (one per k step).
        std::int64_t t = 0, pfDone = 0;
        auto pfLines = [&] { return next ? std::max<std::int64_t>(0, panelLines - pfDone) : 0; };
        auto pfAt = [&] { return pfLines() > 0 ? pf + 64 * pfDone : nullptr; };
        for (; t + kTileTokens <= a.tokens; t += kTileTokens, pfDone += K)
            outerTile<kTileTokens>(pack.data(), a.x + t * K, K, a.y + t * a.ldy + n, a.ldy, pfAt(), pfLines());
        if (t < a.tokens)
            tailTile<kTileTokens - 1>(pack.data(), a.x + t * K, K, a.y + t * a.ldy + n, a.ldy, a.tokens - t, pfAt(),
                                      pfLines());
    }
    return n;
}

}  // namespace

std::int64_t matmulRowsAvx512Packed(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    switch (a.w->type) {
    case WeightType::F32: return packedRows<WeightType::F32>(a, n0, n1);
    case WeightType::F16: return packedRows<WeightType::F16>(a, n0, n1);
    case WeightType::BF16: return packedRows<WeightType::BF16>(a, n0, n1);
    default: return n0;
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
std::int64_t matmulRowsAvx512Packed(const KernelArgs&, std::int64_t n0, std::int64_t) { return n0; }
}  // namespace batchscope::engine::cpu::detail
#endif
