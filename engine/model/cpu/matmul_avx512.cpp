// SPDX-License-Identifier: GPL-3.0-or-later
// AVX-512 (F, BW, VL) kernels; quantised types use VNNI when the CPU has it. Compiled with
// per-function target attributes so the rest of the binary stays baseline x86-64.
#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/quant_types.h"

#include <algorithm>

#if defined(__x86_64__)
#include "engine/model/cpu/matmul_avx512_common.h"

#define BS_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace batchscope::engine::cpu::detail {
namespace {

constexpr int kRows = 4;    // weight rows per tile
constexpr int kTokens = 6;  // tokens per tile (4 x 6 accumulators + 6 inputs + 1 weight: 31 zmm)

template <WeightType T>
BS_AVX512_INLINE void prefetchRow(const std::byte* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
    if constexpr (T == WeightType::F32) _mm_prefetch(reinterpret_cast<const char*>(p) + 64, _MM_HINT_T0);
}

// R weight rows x C tokens of float-like weights: each weight vector is loaded (and converted)
// once and multiplied into C token vectors.
template <WeightType T, int R, int C>
BS_AVX512 void tileFloat(const KernelArgs& a, std::int64_t n, std::int64_t t) {
    const WeightMatrix& w = *a.w;
    const std::int64_t K = w.cols;
    __m512 acc[R][C];
    const std::byte* rows[R];
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        rows[r] = w.row(n + r);
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    }
    const float* xs = a.x + t * K;
    // The first token tile of a row group prefetches the next group (rows are contiguous): a
    // matrix larger than the L3 (the output projection) otherwise stalls on every new group.
    // F32 rows are twice the bytes per FMA: there every token tile repeats the prefetch (one
    // tile's worth of lead was not enough; repeats of lines in flight are cheap). Kernel bench
    // 96000 x 512 F32 (cold) T = 16: 102 -> 125 GFLOP/s; small F32 decode N = 16: 1,972 ->
    // 2,185-2,209 tok/s. F16/BF16 showed no gain (-5 % to 0 %), so they keep tile 0 only.
    const std::size_t ahead = (t == 0 || T == WeightType::F32) ? w.rowBytes() * R : 0;
    const std::size_t elemBytes = T == WeightType::F32 ? 4 : 2;
    std::int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 xv[C];
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) xv[c] = _mm512_loadu_ps(xs + c * K + k);
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            if (ahead != 0) prefetchRow<T>(rows[r] + ahead + static_cast<std::size_t>(k) * elemBytes);
            const __m512 wv = load16<T>(rows[r], k);
            #pragma GCC unroll 8
            for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            float s = _mm512_reduce_add_ps(acc[r][c]);
            for (std::int64_t kk = k; kk < K; ++kk) s += loadElement(T, rows[r], kk) * xs[c * K + kk];
            a.y[(t + c) * a.ldy + n + r] = s;
        }
    }
}

template <WeightType T>
BS_AVX512_INLINE __m256i loadQuantBlock(const std::byte* row, std::int64_t b, float* d) {
    if constexpr (T == WeightType::Q8_0) {
        const std::byte* blk = row + b * sizeof(BlockQ8_0);
        std::uint16_t h;
        __builtin_memcpy(&h, blk, 2);
        *d = _cvtsh_ss(h);
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    } else if constexpr (T == WeightType::Q5_0) {
        // (nibble | bit i of qh << 4) - 16: the 32 qh bits spread to bytes (each byte keeps its
        // own bit of the replicated word, compared against all-ones), as ggml's bytes_from_bits_32.
        const std::byte* blk = row + b * sizeof(BlockQ5_0);
        std::uint16_t h;
        __builtin_memcpy(&h, blk, 2);
        *d = _cvtsh_ss(h);
        std::uint32_t qh;
        __builtin_memcpy(&qh, blk + offsetof(BlockQ5_0, qh), 4);
        const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                                                   _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                     0x0101010101010101, 0x0000000000000000));
        const __m256i bitSet = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                                 _mm256_set1_epi64x(-1));
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(BlockQ5_0, qs)));
        const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
        return _mm256_sub_epi8(_mm256_or_si256(nib, _mm256_and_si256(bitSet, _mm256_set1_epi8(0x10))), _mm256_set1_epi8(16));
    } else if constexpr (T == WeightType::IQ4_NL) {
        // Nibbles as Q4_0, mapped through the non-linear grid (|value| <= 127, so the sign
        // trick's pairs stay below 2 * 127 * 127 < 32767).
        const std::byte* blk = row + b * sizeof(BlockIQ4_NL);
        std::uint16_t h;
        __builtin_memcpy(&h, blk, 2);
        *d = _cvtsh_ss(h);
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(BlockIQ4_NL, qs)));
        const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
        const __m128i grid = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
        return _mm256_shuffle_epi8(_mm256_set_m128i(grid, grid), nib);
    } else {
        const std::byte* blk = row + b * sizeof(BlockQ4_0);
        std::uint16_t h;
        __builtin_memcpy(&h, blk, 2);
        *d = _cvtsh_ss(h);
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
        const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
        return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0f)), _mm256_set1_epi8(8));
    }
}

BS_VNNI __attribute__((always_inline)) inline __m256i dotBlock(__m256i absW, __m256i w, __m256i x) {
    const __m256i sx = _mm256_sign_epi8(x, w);  // x * sign(w), so absW * sx = w * x
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), absW, sx);
}

// Integer dot products per 32-block with VNNI (CPUs with AVX-512 but no VNNI use the AVX2
// kernels for quantised types).
template <WeightType T, int R, int C>
BS_VNNI void tileQuant(const KernelArgs& a, std::int64_t n, std::int64_t t) {
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
    // As in tileFloat: the first token tile of a row group prefetches the next group.
    const std::size_t ahead = t == 0 ? w.rowBytes() * R : 0;
    constexpr std::size_t blockBytes = T == WeightType::Q8_0     ? sizeof(BlockQ8_0)
                                       : T == WeightType::Q5_0   ? sizeof(BlockQ5_0)
                                       : T == WeightType::IQ4_NL ? sizeof(BlockIQ4_NL)
                                                                 : sizeof(BlockQ4_0);
    for (std::int64_t b = 0; b < nb; ++b) {
        if (ahead != 0) {
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                _mm_prefetch(reinterpret_cast<const char*>(rows[r] + ahead + static_cast<std::size_t>(b) * blockBytes),
                             _MM_HINT_T0);
        }
        __m256i xv[C];
        float dx[C];
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            xv[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[c * nb + b].qs));
            dx[c] = xs[c * nb + b].d;
        }
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            float dw;
            const __m256i wv = loadQuantBlock<T>(rows[r], b, &dw);
            const __m256i aw = _mm256_sign_epi8(wv, wv);
            #pragma GCC unroll 8
            for (int c = 0; c < C; ++c) {
                const __m256 p = _mm256_cvtepi32_ps(dotBlock(aw, wv, xv[c]));
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dx[c]), p, acc[r][c]);
            }
        }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
            const __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[r][c]), _mm256_extractf128_ps(acc[r][c], 1));
            const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
            a.y[(t + c) * a.ldy + n + r] = _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
        }
    }
}

template <WeightType T, int R, int C>
void tile(const KernelArgs& a, std::int64_t n, std::int64_t t) {
    if constexpr (T == WeightType::Q8_0 || T == WeightType::Q4_0 || T == WeightType::Q5_0 || T == WeightType::IQ4_NL) {
        tileQuant<T, R, C>(a, n, t);
    } else {
        tileFloat<T, R, C>(a, n, t);
    }
}

template <WeightType T, int R>
void rowBlock(const KernelArgs& a, std::int64_t n, std::int64_t t, std::int64_t tEnd) {
    for (; t + kTokens <= tEnd; t += kTokens) tile<T, R, kTokens>(a, n, t);
    switch (tEnd - t) {
    case 5: tile<T, R, 5>(a, n, t); break;
    case 4: tile<T, R, 4>(a, n, t); break;
    case 3: tile<T, R, 3>(a, n, t); break;
    case 2: tile<T, R, 2>(a, n, t); break;
    case 1: tile<T, R, 1>(a, n, t); break;
    default: break;
    }
}

// Cache blocking: a panel of weight rows stays in L2 while blocks of tokens stream past it.
// 16 tokens: at K = 512 a block's activations (32 KB) stay in the 48 KB L1 while each 4-row
// group runs its token tiles; with 64-token blocks they streamed from L2 for every group, and
// T = 32 decode ran ~15 % below T = 16 per token (kernel bench, 96000 x 512 F16: 171 -> 198
// GFLOP/s per CPU-second at T = 32; T = 16 and T = 128 unchanged within noise).
constexpr std::int64_t kTokenBlock = 16;
constexpr std::int64_t kRowPanel = 32;

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

// Single-token (T = 1) product of float-like weights, the decode path at N = 1, which is
// memory-bound: R rows at a time, V vectors of each row per step (R x V independent
// accumulators hide the FMA latency), and a software prefetch of the same offset some rows
// ahead (rows are contiguous, so that is the same stream further on). R = 1, V = 8 reads
// one sequential stream per thread; it used 70-96 % of the probed read bandwidth on the medium
// F16 model where 8 rows x 2 vectors (8 streams) used 63-76 % (docs/cpu-runtime.md, pass 3).
constexpr int kGemvRows = 1;
constexpr int kGemvVectors = 8;

template <WeightType T, int R, int V>
BS_AVX512 void gemvFloatRV(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const WeightMatrix& w = *a.w;
    const std::int64_t K = w.cols;
    const std::size_t rb = w.rowBytes();
    constexpr std::size_t elemBytes = T == WeightType::F32 ? 4 : 2;
    const std::size_t ahead = rb * R * gemvPrefetchRows(T, rb);
    constexpr std::int64_t step = 16 * V;
    constexpr std::size_t stepBytes = step * elemBytes;
    const float* x = a.x;
    std::int64_t n = n0;
    for (; n + R <= n1; n += R) {
        const std::byte* base = w.row(n);
        __m512 acc[V][R];
        #pragma GCC unroll 8
        for (int v = 0; v < V; ++v)
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[v][r] = _mm512_setzero_ps();
        std::int64_t k = 0;
        for (; k + step <= K; k += step) {
            __m512 xv[V];
            #pragma GCC unroll 8
            for (int v = 0; v < V; ++v) xv[v] = _mm512_loadu_ps(x + k + 16 * v);
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                const std::byte* row = base + r * rb;
                #pragma GCC unroll 8
                for (std::size_t l = 0; l < stepBytes; l += 64)
                    _mm_prefetch(reinterpret_cast<const char*>(row + ahead + static_cast<std::size_t>(k) * elemBytes + l), _MM_HINT_T0);
                #pragma GCC unroll 8
                for (int v = 0; v < V; ++v) acc[v][r] = _mm512_fmadd_ps(load16<T>(row, k + 16 * v), xv[v], acc[v][r]);
            }
        }
        for (; k + 16 <= K; k += 16) {
            const __m512 x0 = _mm512_loadu_ps(x + k);
            #pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[0][r] = _mm512_fmadd_ps(load16<T>(base + r * rb, k), x0, acc[0][r]);
        }
        #pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            __m512 sum = acc[0][r];
            #pragma GCC unroll 8
            for (int v = 1; v < V; ++v) sum = _mm512_add_ps(sum, acc[v][r]);
            float s = _mm512_reduce_add_ps(sum);
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

}  // namespace

void matmulRowsAvx512(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    if (isKQuantKernelType(a.w->type)) {
        if (cpuHasVnni() && kquantAvx512Enabled()) {
            kquantRowsAvx512(a, n0, n1);
        } else {
            kquantRowsAvx2(a, n0, n1);
        }
        return;
    }
    const bool quant = a.w->type == WeightType::Q8_0 || a.w->type == WeightType::Q4_0 || a.w->type == WeightType::Q5_0 ||
                       a.w->type == WeightType::IQ4_NL;
    if (quant && !cpuHasVnni()) {
        matmulRowsAvx2(a, n0, n1);
        return;
    }
    if (usesPackedPath(CpuIsa::Avx512, a.w->type, a.tokens)) {
        n0 = matmulRowsAvx512Packed(a, n0, n1);
        if (n0 >= n1) return;
    }
    if (a.tokens == 1) {
        switch (a.w->type) {
        case WeightType::F32: gemvFloat<WeightType::F32>(a, n0, n1); return;
        case WeightType::F16: gemvFloat<WeightType::F16>(a, n0, n1); return;
        case WeightType::BF16: gemvFloat<WeightType::BF16>(a, n0, n1); return;
        default: break;
        }
    }
    switch (a.w->type) {
    case WeightType::F32: rows<WeightType::F32>(a, n0, n1); return;
    case WeightType::F16: rows<WeightType::F16>(a, n0, n1); return;
    case WeightType::BF16: rows<WeightType::BF16>(a, n0, n1); return;
    case WeightType::Q8_0: rows<WeightType::Q8_0>(a, n0, n1); return;
    case WeightType::Q4_0: rows<WeightType::Q4_0>(a, n0, n1); return;
    case WeightType::Q5_0: rows<WeightType::Q5_0>(a, n0, n1); return;
    case WeightType::IQ4_NL: rows<WeightType::IQ4_NL>(a, n0, n1); return;
    // No 512-bit tiles for the types with a min yet: the AVX2 ones (this CPU has AVX2).
    case WeightType::Q4_1:
    case WeightType::Q5_1: matmulRowsAvx2(a, n0, n1); return;
    default: matmulRowsViaF32(CpuIsa::Scalar, a, n0, n1); return;  // matmulRows routes these away
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
void matmulRowsAvx512(const KernelArgs& a, std::int64_t n0, std::int64_t n1) { matmulRowsScalar(a, n0, n1); }
}  // namespace batchscope::engine::cpu::detail
#endif
