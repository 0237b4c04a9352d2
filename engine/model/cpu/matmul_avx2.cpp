// SPDX-License-Identifier: GPL-3.0-or-later
// AVX2 + FMA + F16C kernels, compiled with per-function target attributes.
#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/cpu_isa.h"
#include "engine/model/cpu/quant_types.h"

#if defined(__x86_64__)
#include <vector>

#include "engine/model/cpu/matmul_avx2_blocks.h"

namespace batchscope::engine::cpu::detail {
namespace {

using namespace avx2;  // the block loaders (matmul_avx2_blocks.h)

constexpr int kRows = 4;    // weight rows per tile
constexpr int kTokens = 2;  // tokens per tile (16 ymm registers: 8 accumulators)

template <WeightType T>
BS_AVX2_INLINE __m256 load8(const std::byte* row, std::int64_t k) {
    if constexpr (T == WeightType::F32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
    } else if constexpr (T == WeightType::F16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
    } else {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
}

BS_AVX2_INLINE float hsum(__m256 v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

template <WeightType T, int R, int C>
BS_AVX2 void tileFloat(const KernelArgs& a, std::int64_t n, std::int64_t t) {
    const WeightMatrix& w = *a.w;
    const std::int64_t K = w.cols;
    __m256 acc[R][C];
    const std::byte* rows[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        rows[r] = w.row(n + r);
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const float* xs = a.x + t * K;
    // The first token tile of a row group prefetches the next group (see matmul_avx512.cpp).
    const std::size_t ahead = t == 0 ? w.rowBytes() * R : 0;
    const std::size_t elemBytes = T == WeightType::F32 ? 4 : 2;
    std::int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 xv[C];
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) xv[c] = _mm256_loadu_ps(xs + c * K + k);
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            if (ahead != 0)
                _mm_prefetch(reinterpret_cast<const char*>(rows[r] + ahead + static_cast<std::size_t>(k) * elemBytes),
                             _MM_HINT_T0);
            const __m256 wv = load8<T>(rows[r], k);
            #pragma GCC unroll 8
            for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            float s = hsum(acc[r][c]);
            for (std::int64_t kk = k; kk < K; ++kk) s += loadElement(T, rows[r], kk) * xs[c * K + kk];
            a.y[(t + c) * a.ldy + n + r] = s;
        }
    }
}

template <WeightType T, int R, int C>
BS_AVX2 void tileQuant(const KernelArgs& a, std::int64_t n, std::int64_t t) {
    const WeightMatrix& w = *a.w;
    const std::int64_t nb = w.cols / kQBlock;
    __m256 acc[R][C];
    const std::byte* rows[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        rows[r] = w.row(n + r);
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const ActivationQ8* xs = a.xq + t * nb;
    const __m256i ones = _mm256_set1_epi16(1);
    // As in tileFloat: the first token tile of a row group prefetches the next group.
    const std::size_t ahead = t == 0 ? w.rowBytes() * R : 0;
    constexpr std::size_t blockBytes = kBlockBytes<T>;
    for (std::int64_t b = 0; b < nb; ++b) {
        if (ahead != 0) {
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                _mm_prefetch(reinterpret_cast<const char*>(rows[r] + ahead + static_cast<std::size_t>(b) * blockBytes),
                             _MM_HINT_T0);
        }
        __m256i xv[C];
        float dx[C];
        __m256 xsum[C];  // kHasMin: 8 lanes adding up to sum(xq) of the block
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            xv[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[c * nb + b].qs));
            dx[c] = xs[c * nb + b].d;
            if constexpr (kHasMin<T>)
                xsum[c] = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), xv[c]), ones));
        }
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            float dw, mw = 0.0f;
            const __m256i wv = loadQuantBlock<T>(rows[r], b, &dw, &mw);
            if constexpr (kHasMin<T>) {
                // sum (d q + m) x = d sum q x + m sum x; q <= 31 unsigned, so maddubs applies
                // directly (pairs <= 2 * 31 * 128 < 32767).
                #pragma GCC unroll 8
                for (int c = 0; c < C; ++c) {
                    const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(wv, xv[c]), ones));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dx[c]), p, acc[r][c]);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(mw * dx[c]), xsum[c], acc[r][c]);
                }
            } else {
                const __m256i aw = _mm256_sign_epi8(wv, wv);
                #pragma GCC unroll 8
                for (int c = 0; c < C; ++c) {
                    // |w| * (x * sign(w)) = w * x; pairs fit int16 since |w| <= 128, |x| <= 127.
                    const __m256i p16 = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv[c], wv));
                    const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dx[c]), p, acc[r][c]);
                }
            }
        }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) a.y[(t + c) * a.ldy + n + r] = hsum(acc[r][c]);
}

template <WeightType T, int R, int C>
void tile(const KernelArgs& a, std::int64_t n, std::int64_t t) {
    if constexpr (T == WeightType::Q8_0 || T == WeightType::Q4_0 || T == WeightType::Q5_0 || T == WeightType::IQ4_NL ||
                  kHasMin<T>) {
        tileQuant<T, R, C>(a, n, t);
    } else {
        tileFloat<T, R, C>(a, n, t);
    }
}

// kRows rows of a 32-block signed type (consecutive, `rb` bytes apart) to Q8_0 rows `rbQ8`
// bytes apart; prefetches the source 16 KB ahead in a linear sweep (the rows are contiguous).
template <WeightType T>
BS_AVX2 void unpackToQ8_0(const std::byte* src, std::size_t rb, std::int64_t nb, std::byte* dst, std::size_t rbQ8) {
    const std::byte* pf = src + 16384;
    const std::byte* pfEnd = src + 16384 + kRows * rb;
    for (int r = 0; r < kRows; ++r) {
        const std::byte* row = src + r * rb;
        std::byte* out = dst + r * rbQ8;
        for (std::int64_t b = 0; b < nb; ++b) {
            if (pf < pfEnd && (b & 1) == 0) {
                _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T0);
                pf += 64;
            }
            float d, m;
            const __m256i q = loadQuantBlock<T>(row, b, &d, &m);
            std::byte* blk = out + b * sizeof(BlockQ8_0);
            __builtin_memcpy(blk, row + b * kBlockBytes<T>, 2);  // d first in every 32-block struct
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(blk + 2), q);
        }
    }
}

template <WeightType T, int R>
void rowBlock(const KernelArgs& a, std::int64_t n, std::int64_t t, std::int64_t tEnd) {
    for (; t + kTokens <= tEnd; t += kTokens) tile<T, R, kTokens>(a, n, t);
    if (t < tEnd) tile<T, R, 1>(a, n, t);
}

// Cache blocking for large T (prefill): a panel of weight rows stays in L2 while blocks of
// tokens (their activations also L2-sized) stream past it. Small T is one block: each weight
// row is then read from memory exactly once per call.
constexpr std::int64_t kTokenBlock = 64;
constexpr std::int64_t kRowPanel = 32;
/// Tokens from which Q4_0 / Q5_0 / IQ4_NL decode each row group once (rowsViaQ8_0).
constexpr std::int64_t kViaQ8_0MinTokens = 4;

template <WeightType T>
void rows(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    for (std::int64_t p0 = n0; p0 < n1; p0 += kRowPanel) {
        const std::int64_t p1 = p0 + kRowPanel < n1 ? p0 + kRowPanel : n1;
        for (std::int64_t t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
            const std::int64_t t1 = t0 + kTokenBlock < a.tokens ? t0 + kTokenBlock : a.tokens;
            std::int64_t n = p0;
            for (; n + kRows <= p1; n += kRows) rowBlock<T, kRows>(a, n, t0, t1);
            for (; n < p1; ++n) rowBlock<T, 1>(a, n, t0, t1);
        }
    }
}

// Q4_0 / Q5_0 / IQ4_NL for several tokens: the tiles above decode a block's nibbles once per
// 2-token tile, so at T = 16 every block is decoded 8 times (Q4_0 ran at ~2/3 of Q8_0's rate).
// Here each group of 4 rows is decoded once per call into an L1 buffer in Q8_0 layout (the
// same half scale bits, int8 values q - offset or the IQ4_NL grid value), and the Q8_0 tiles
// run over it for all tokens: the same integers and the same float operations in the same
// order as the tiles on the original blocks, so the results are bit-identical.
template <WeightType T>
void rowsViaQ8_0(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const std::int64_t K = a.w->cols, nb = K / kQBlock;
    const std::size_t rbQ8 = static_cast<std::size_t>(nb) * sizeof(BlockQ8_0);
    thread_local std::vector<std::byte> buf;
    if (buf.size() < rbQ8 * kRows) buf.resize(rbQ8 * kRows);
    const WeightMatrix wq{WeightType::Q8_0, buf.data(), kRows, K};
    std::int64_t n = n0;
    for (; n + kRows <= n1; n += kRows) {
        unpackToQ8_0<T>(a.w->row(n), a.w->rowBytes(), nb, buf.data(), rbQ8);
        KernelArgs aq = a;
        aq.w = &wq;
        aq.y = a.y + n;
        for (std::int64_t t0 = 0; t0 < a.tokens; t0 += kTokenBlock)
            rowBlock<WeightType::Q8_0, kRows>(aq, 0, t0, t0 + kTokenBlock < a.tokens ? t0 + kTokenBlock : a.tokens);
    }
    if (n < n1) rows<T>(a, n, n1);
}

// Single-token (T = 1) product of float-like weights (the N = 1 decode path), as in
// matmul_avx512.cpp: one row at a time, 8 vectors per step (8 independent accumulators), one
// sequential stream per thread with a software prefetch gemvPrefetchRows() rows ahead. Kernel
// bench (BATCHSCOPE_CPU_ISA=avx2, one thread, T = 1, three alternating rounds) against the
// 4 rows x 2 vectors it replaces: F16 64000 x 768 26.0-34.4 -> 34.5-36.8 GB/s, 96000 x 512
// 27.7-29.5 -> 34.2-40.5; F32 30.4-32.0 -> 31.5-36.3.
constexpr int kGemvRows = 1;
constexpr int kGemvVectors = 8;

template <WeightType T, int R, int V>
BS_AVX2 void gemvFloatRV(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const WeightMatrix& w = *a.w;
    const std::int64_t K = w.cols;
    const std::size_t rb = w.rowBytes();
    constexpr std::size_t elemBytes = T == WeightType::F32 ? 4 : 2;
    const std::size_t ahead = rb * R * gemvPrefetchRows(T, rb);
    constexpr std::int64_t step = 8 * V;
    constexpr std::size_t stepBytes = step * elemBytes;
    const float* x = a.x;
    std::int64_t n = n0;
    for (; n + R <= n1; n += R) {
        const std::byte* base = w.row(n);
        __m256 acc[V][R];
        #pragma GCC unroll 8
        for (int v = 0; v < V; ++v)
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[v][r] = _mm256_setzero_ps();
        std::int64_t k = 0;
        for (; k + step <= K; k += step) {
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const std::byte* row = base + r * rb;
                #pragma GCC unroll 8
                for (std::size_t l = 0; l < stepBytes; l += 64)
                    _mm_prefetch(reinterpret_cast<const char*>(row + ahead + static_cast<std::size_t>(k) * elemBytes + l),
                                 _MM_HINT_T0);
                #pragma GCC unroll 8
                for (int v = 0; v < V; ++v)
                    acc[v][r] = _mm256_fmadd_ps(load8<T>(row, k + 8 * v), _mm256_loadu_ps(x + k + 8 * v), acc[v][r]);
            }
        }
        for (; k + 8 <= K; k += 8) {
            const __m256 x0 = _mm256_loadu_ps(x + k);
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[0][r] = _mm256_fmadd_ps(load8<T>(base + r * rb, k), x0, acc[0][r]);
        }
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            __m256 sum = acc[0][r];
            #pragma GCC unroll 8
            for (int v = 1; v < V; ++v) sum = _mm256_add_ps(sum, acc[v][r]);
            float s = hsum(sum);
            for (std::int64_t kk = k; kk < K; ++kk) s += loadElement(T, base + r * rb, kk) * x[kk];
            a.y[n + r] = s;
        }
    }
    if (n < n1) rows<T>(a, n, n1);
}

template <WeightType T>
void gemvFloat(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    gemvFloatRV<T, kGemvRows, kGemvVectors>(a, n0, n1);
}

// One row of a 32-block type to F32 (the sgemm panels of Matmul::runBlas): d * q, or d * q + m,
// rounded as the scalar reference rounds (a multiply, then an add: bit-identical to it).
template <WeightType T>
BS_AVX2 void dequantizeRowAvx2(const std::byte* row, float* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        float d, m = 0.0f;
        const __m256i q = loadQuantBlock<T>(row, b, &d, &m);
        const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
        const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(m);
        #pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const __m256i q32 = kHasMin<T> ? _mm256_cvtepu8_epi32(parts[i]) : _mm256_cvtepi8_epi32(parts[i]);
            __m256 v = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(q32));
            if constexpr (kHasMin<T>) v = _mm256_add_ps(v, mv);
            _mm256_storeu_ps(out + b * kQBlock + 8 * i, v);
        }
    }
}

}  // namespace

DequantizeRowFn dequantizeRowFnAvx2(WeightType type) {
    switch (type) {
    case WeightType::Q8_0: return dequantizeRowAvx2<WeightType::Q8_0>;
    case WeightType::Q4_0: return dequantizeRowAvx2<WeightType::Q4_0>;
    case WeightType::Q4_1: return dequantizeRowAvx2<WeightType::Q4_1>;
    case WeightType::Q5_0: return dequantizeRowAvx2<WeightType::Q5_0>;
    case WeightType::Q5_1: return dequantizeRowAvx2<WeightType::Q5_1>;
    case WeightType::IQ4_NL: return dequantizeRowAvx2<WeightType::IQ4_NL>;
    default: return nullptr;
    }
}

void matmulRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    if (a.tokens == 1 && quantGemvEnabled() && gemvQuantAvx2(a, n0, n1)) return;
    matmulRowsAvx2Tiles(a, n0, n1);
}

void matmulRowsAvx2Tiles(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    if (isKQuantKernelType(a.w->type)) {
        kquantRowsAvx2(a, n0, n1);
        return;
    }
    if (a.tokens == 1) {
        switch (a.w->type) {
        case WeightType::F32: gemvFloat<WeightType::F32>(a, n0, n1); return;
        case WeightType::F16: gemvFloat<WeightType::F16>(a, n0, n1); return;
        case WeightType::BF16: gemvFloat<WeightType::BF16>(a, n0, n1); return;
        default: break;
        }
    }
    const bool viaQ8 = a.tokens >= kViaQ8_0MinTokens && quantGemvEnabled();
    switch (a.w->type) {
    case WeightType::F32: rows<WeightType::F32>(a, n0, n1); return;
    case WeightType::F16: rows<WeightType::F16>(a, n0, n1); return;
    case WeightType::BF16: rows<WeightType::BF16>(a, n0, n1); return;
    case WeightType::Q8_0: rows<WeightType::Q8_0>(a, n0, n1); return;
    case WeightType::Q4_0: viaQ8 ? rowsViaQ8_0<WeightType::Q4_0>(a, n0, n1) : rows<WeightType::Q4_0>(a, n0, n1); return;
    case WeightType::Q5_0: viaQ8 ? rowsViaQ8_0<WeightType::Q5_0>(a, n0, n1) : rows<WeightType::Q5_0>(a, n0, n1); return;
    case WeightType::IQ4_NL: viaQ8 ? rowsViaQ8_0<WeightType::IQ4_NL>(a, n0, n1) : rows<WeightType::IQ4_NL>(a, n0, n1); return;
    case WeightType::Q4_1: rows<WeightType::Q4_1>(a, n0, n1); return;
    case WeightType::Q5_1: rows<WeightType::Q5_1>(a, n0, n1); return;
    default: matmulRowsViaF32(CpuIsa::Scalar, a, n0, n1); return;  // matmulRows routes these away
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
void matmulRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) { matmulRowsScalar(a, n0, n1); }
void matmulRowsAvx2Tiles(const KernelArgs& a, std::int64_t n0, std::int64_t n1) { matmulRowsScalar(a, n0, n1); }
DequantizeRowFn dequantizeRowFnAvx2(WeightType) { return nullptr; }
}  // namespace batchscope::engine::cpu::detail
#endif
