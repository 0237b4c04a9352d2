// SPDX-License-Identifier: GPL-3.0-or-later
// AVX2 single-token (T = 1, the N = 1 decode) kernel of the signed 32-block types (Q8_0,
// Q4_0, Q5_0, IQ4_NL) with Q8 activations.
//
// Why a kernel of its own: from memory, the 4 x 2 register tiles (matmul_avx2.cpp) read Q8_0
// at about half the F16 kernel's rate: their per-row prefetch one row group ahead left the
// hardware prefetcher to follow four interleaved short-row streams, which it does poorly. Here
// four rows share one block of the activation, their half scales are converted together, Q4_0
// / Q5_0 multiply their unsigned nibbles (0..15 / 0..31) directly and subtract a per-call
// table of offset * sum(xq) lanes instead of the per-row "- 8" and sign trick, and the four
// rows' bytes are prefetched as one linear sweep. The float side stays the tiles' (see
// gemvRows4 for why it must). AVX-512 CPUs without VNNI come here too; with VNNI they take
// matmul_avx512.cpp's tiles.
#include "engine/model/cpu/matmul_kernels.h"

#if defined(__x86_64__)
#include <cstring>

#include "engine/model/cpu/matmul_avx2_blocks.h"

namespace batchscope::engine::cpu::detail {
namespace {

using namespace avx2;

constexpr int kGemvRows = 4;
/// Blocks of K the per-call activation sums cover (K <= 16384); longer rows use the tiles.
constexpr std::int64_t kMaxBlocks = 512;
constexpr std::size_t kGemvOffsetLanes = 8 * kMaxBlocks;  // 16 KB of stack
/// Bytes the prefetch runs ahead of the rows being read (see gemvRows4).
constexpr std::size_t kPrefetchAhead = 16384;

/// The unsigned offset subtracted from a type's stored value (0: signed values, sign trick).
template <WeightType T>
inline constexpr int kOffset = T == WeightType::Q4_0 ? 8 : T == WeightType::Q5_0 ? 16 : 0;

// Block b's 32 values: unsigned (kOffset > 0) or signed (int8) bytes, no scale.
template <WeightType T>
BS_AVX2_INLINE __m256i loadValues(const std::byte* row, std::int64_t b) {
    const std::byte* blk = row + b * kBlockBytes<T>;
    if constexpr (T == WeightType::Q4_0) {
        return nibbles32(blk + 2);
    } else if constexpr (T == WeightType::Q5_0) {
        return _mm256_or_si256(nibbles32(blk + offsetof(BlockQ5_0, qs)), fifthBits32(blk + offsetof(BlockQ5_0, qh)));
    } else {
        float d, m;
        return loadQuantBlock<T>(row, b, &d, &m);  // the scale load is dead code, removed
    }
}

// 8 int32 lanes adding up to sum_i w_i x_i of one block (offset not yet removed).
template <WeightType T>
BS_AVX2_INLINE __m256i blockDot(__m256i w, __m256i x, __m256i ones) {
    if constexpr (kOffset<T> > 0) {
        // Unsigned q <= 31 times |x| <= 127: pairs <= 7874, exact in int16.
        return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), ones);
    } else {
        // |w| * (x * sign(w)) = w * x; pairs <= 2 * 128 * 127 < 32767.
        return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)), ones);
    }
}

// The 4 x 2 tiles' horizontal sum (matmul_avx2.cpp), same order.
BS_AVX2_INLINE float hsum8(__m256 v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

BS_AVX2_INLINE std::uint16_t halfBits(const std::byte* p) {
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return h;
}

// Four rows [n, n + 4): y[n + r] = sum_b (dw[r][b] * dx[b]) * (sum_i q x - offset * sumX[b]),
// accumulated per row in 8 float lanes block after block and summed by hsum8 at the end: the
// same float operations in the same order as the 4 x 2 tiles (the integer sums are exact
// either way), so T = 1 and T > 1 give bit-identical rows. That matters beyond the kernel: the
// next layer quantises its activations to int8, and a one-ulp difference can flip a rounding
// there (the mixed-batch vs single-sequence model test saw 4e-3 relative logit differences
// with a kernel that summed in another order). Prefetch: the hardware prefetcher alone follows
// four interleaved 34-byte-per-block streams poorly (kernel bench, Q8_0 96000 x 512 from
// memory: 8-9 GFLOP/s with no software prefetch, 13-14 with one prefetch per row and step
// 8 KB ahead, 21-26 with a linear sweep 8-16 KB ahead), so the four rows' bytes (contiguous)
// are prefetched as one linear sweep `ahead` bytes on, at the rate the loop consumes them.
template <WeightType T>
BS_AVX2 void gemvRows4(const KernelArgs& a, std::int64_t n, const std::int32_t* offsetSums, std::size_t ahead) {
    const WeightMatrix& w = *a.w;
    const std::int64_t nb = w.cols / kQBlock;
    const std::size_t rb = w.rowBytes();
    const std::byte* r0 = w.row(n);
    const ActivationQ8* xs = a.xq;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[kGemvRows];
    #pragma GCC unroll 4
    for (int r = 0; r < kGemvRows; ++r) acc[r] = _mm256_setzero_ps();
    constexpr std::size_t stepBytes = kGemvRows * kBlockBytes<T>;
    const std::byte* pf = r0 + ahead;
    for (std::int64_t b = 0; b < nb; ++b, pf += stepBytes) {
        // ~2 lines per block for Q8_0, ~1 for the 18-22-byte blocks (the odd line left over is
        // covered by the next block's first prefetch or by the hardware prefetcher).
        #pragma GCC unroll 4
        for (std::size_t o = 0; o < stepBytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(pf + o), _MM_HINT_T0);
        const std::byte* p = r0 + static_cast<std::size_t>(b) * kBlockBytes<T>;
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs[b].qs));
        // The four half scales converted together; dw * dx rounds as the tiles' scalar product.
        __m128i hv = _mm_cvtsi32_si128(halfBits(p));
        hv = _mm_insert_epi16(hv, halfBits(p + rb), 1);
        hv = _mm_insert_epi16(hv, halfBits(p + 2 * rb), 2);
        hv = _mm_insert_epi16(hv, halfBits(p + 3 * rb), 3);
        const __m256 d4 = _mm256_castps128_ps256(_mm_mul_ps(_mm_cvtph_ps(hv), _mm_set1_ps(xs[b].d)));
        __m256i off = _mm256_setzero_si256();
        if constexpr (kOffset<T> > 0) off = _mm256_load_si256(reinterpret_cast<const __m256i*>(offsetSums + 8 * b));
        #pragma GCC unroll 4
        for (int r = 0; r < kGemvRows; ++r) {
            __m256i s = blockDot<T>(loadValues<T>(r0 + r * rb, b), x, ones);
            if constexpr (kOffset<T> > 0) s = _mm256_sub_epi32(s, off);
            const __m256 scale = _mm256_permutevar8x32_ps(d4, _mm256_set1_epi32(r));
            acc[r] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < kGemvRows; ++r) a.y[n + r] = hsum8(acc[r]);
}

template <WeightType T>
BS_AVX2 void gemvQuant(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const std::int64_t nb = a.w->cols / kQBlock;
    // offset * (pair sums of xq) per block as the 8 int32 lanes the dot leaves, shared by
    // every row of the call: lane-wise q * x - offset * x = (q - offset) * x, exactly the
    // lanes of the tiles' sign-trick dot on (q - offset).
    alignas(32) std::int32_t offsetSums[kGemvOffsetLanes];
    if constexpr (kOffset<T> > 0) {
        const __m256i off = _mm256_set1_epi8(kOffset<T>), ones = _mm256_set1_epi16(1);
        for (std::int64_t b = 0; b < nb; ++b) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.xq[b].qs));
            _mm256_store_si256(reinterpret_cast<__m256i*>(offsetSums + 8 * b),
                               _mm256_madd_epi16(_mm256_maddubs_epi16(off, x), ones));
        }
    }
    const std::size_t ahead = kPrefetchAhead;
    std::int64_t n = n0;
    for (; n + kGemvRows <= n1; n += kGemvRows) gemvRows4<T>(a, n, offsetSums, ahead);
    if (n < n1) matmulRowsAvx2Tiles(a, n, n1);
}

}  // namespace

bool gemvQuantAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    if (a.tokens != 1 || a.w->cols / kQBlock > kMaxBlocks) return false;
    switch (a.w->type) {
    case WeightType::Q8_0: gemvQuant<WeightType::Q8_0>(a, n0, n1); return true;
    case WeightType::Q4_0: gemvQuant<WeightType::Q4_0>(a, n0, n1); return true;
    case WeightType::Q5_0: gemvQuant<WeightType::Q5_0>(a, n0, n1); return true;
    case WeightType::IQ4_NL: gemvQuant<WeightType::IQ4_NL>(a, n0, n1); return true;
    default: return false;
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
bool gemvQuantAvx2(const KernelArgs&, std::int64_t, std::int64_t) { return false; }
}  // namespace batchscope::engine::cpu::detail
#endif
