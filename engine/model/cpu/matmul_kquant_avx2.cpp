// SPDX-License-Identifier: GPL-3.0-or-later
// AVX2 kernels for the K-quant weight types (Q2_K..Q6_K) with Q8_K activations (IQ4_XS:
// matmul_iq4xs_avx2.cpp): each
// super-block of a weight row is unpacked once into the common form of matmul_kquant.h (in L1)
// and then dotted with every token of a token block by u8 x i8 multiply-adds (maddubs) and
// int16 x int16 scale multiply-adds (madd). The weights stream from memory once per call for
// all T tokens (decode: once per step for the whole batch).
#include "engine/model/cpu/matmul_kernels.h"

#if defined(__x86_64__)
#include <algorithm>
#include <cstring>

#include "engine/model/cpu/matmul_kquant_unpack.h"

#define BS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BS_AVX2_INLINE BS_AVX2 __attribute__((always_inline)) inline

namespace batchscope::engine::cpu::detail {
namespace {

using kquant::hsum;
using kquant::kPrefetchBytes;
using kquant::kRowPanel;
using kquant::kTokenBlock;
using kquant::loadu256;
using kquant::unpack;

// acc += the super-block's products with one token (8 lanes; summed at the end of the row).
BS_AVX2_INLINE __m256 dotSuperBlock(const KQuantUnpacked& u, const BlockQ8_K& x, __m256 acc) {
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    #pragma GCC unroll 8
    for (int g = 0; g < 8; g += 2) {
        const __m256i p0 = _mm256_maddubs_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(u.q + 32 * g)),
                                                loadu256(x.qs + 32 * g));
        const __m256i p1 = _mm256_maddubs_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(u.q + 32 * g + 32)),
                                                loadu256(x.qs + 32 * g + 32));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p0, _mm256_load_si256(reinterpret_cast<const __m256i*>(u.sc[g]))));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, _mm256_load_si256(reinterpret_cast<const __m256i*>(u.sc[g + 1]))));
    }
    const __m256i bs = _mm256_madd_epi16(loadu256(x.bsums), _mm256_load_si256(reinterpret_cast<const __m256i*>(u.bias)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * x.d), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
    return _mm256_fmadd_ps(_mm256_set1_ps(u.dbias * x.d), _mm256_cvtepi32_ps(bs), acc);
}

template <WeightType T>
BS_AVX2 void kquantRows(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    static_assert(kMaxUnsignedQ * 128 * 2 < 32767);
    const WeightMatrix& w = *a.w;
    const std::int64_t nb = w.cols / kQK;
    constexpr std::size_t blockBytes = kKQuantBlockBytes<T>;
    KQuantUnpacked u;
    __m256 acc[kTokenBlock];
    for (std::int64_t p0 = n0; p0 < n1; p0 += kRowPanel) {
        const std::int64_t p1 = std::min(n1, p0 + kRowPanel);
        for (std::int64_t t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
            const std::int64_t tb = std::min(kTokenBlock, a.tokens - t0);
            const BlockQ8_K* xs = a.xk + t0 * nb;
            for (std::int64_t n = p0; n < p1; ++n) {
                const std::byte* row = w.row(n);
                for (std::int64_t t = 0; t < tb; ++t) acc[t] = _mm256_setzero_ps();
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
                for (std::int64_t t = 0; t < tb; ++t) a.y[(t0 + t) * a.ldy + n] = hsum(acc[t]);
            }
        }
    }
}

// Few tokens (decode at small N): the row's super-block stays in registers instead of going
// through KQuantUnpacked, and the per-sub-block scale vectors come from one in-lane shuffle
// each. C tokens (1..4) share each unpacked vector.
constexpr std::int64_t kFusedMaxTokens = 4;

// Shuffle controls broadcasting 16-bit element lo (low 128-bit half) and hi (high half) to
// their half: kLaneBroadcast[lo][hi]. A table (loaded as a memory operand) rather than built
// per use: the kernels ran out of registers to keep built constants in.
struct LaneBroadcastTable {
    alignas(32) std::uint8_t bytes[8][8][32];
    constexpr LaneBroadcastTable() : bytes{} {
        for (int lo = 0; lo < 8; ++lo)
            for (int hi = 0; hi < 8; ++hi)
                for (int i = 0; i < 16; ++i) {
                    bytes[lo][hi][i] = static_cast<std::uint8_t>(2 * lo + (i & 1));
                    bytes[lo][hi][16 + i] = static_cast<std::uint8_t>(2 * hi + (i & 1));
                }
    }
};
constexpr LaneBroadcastTable kLaneBroadcast;

BS_AVX2_INLINE __m256i laneBroadcast16(int lo, int hi) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(kLaneBroadcast.bytes[lo][hi]));
}

template <int C>
BS_AVX2_INLINE void finishSuperBlock(const __m256i sumi[C], const BlockQ8_K* const xb[C], __m256i bias, float d,
                                     float dbias, __m256 acc[C]) {
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
        const __m256i bs = _mm256_madd_epi16(loadu256(xb[c]->bsums), bias);
        acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d * xb[c]->d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
        acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(dbias * xb[c]->d), _mm256_cvtepi32_ps(bs), acc[c]);
    }
}

template <int C, class Block>
BS_AVX2_INLINE void fusedQ45K(const std::byte* blk, const BlockQ8_K* const* xb, __m256* acc) {
    std::uint32_t sm[4];
    kquant::unpackScalesK4(blk + offsetof(Block, scales), sm);
    const __m128i scm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm));
    const __m256i s16 = _mm256_cvtepu8_epi16(scm);             // sc 0..7 | m 0..7 as int16
    const __m256i sc = _mm256_permute2x128_si256(s16, s16, 0x00);  // sc 0..7 in both halves
    const __m256i bias =
        _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scm, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const std::byte* qs = blk + offsetof(Block, qs);
    constexpr bool five = sizeof(Block) == sizeof(BlockQ5_K);
    __m256i qh = _mm256_setzero_si256();
    if constexpr (five) qh = loadu256(blk + offsetof(BlockQ5_K, qh));
    __m256i sumi[C];
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
    #pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
        const __m256i v = loadu256(qs + 32 * j);
        __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        if constexpr (five) {
            lo = _mm256_or_si256(lo, kquant::fifthBit(qh, 2 * j));
            hi = _mm256_or_si256(hi, kquant::fifthBit(qh, 2 * j + 1));
        }
        const __m256i scl = _mm256_shuffle_epi8(sc, laneBroadcast16(2 * j, 2 * j));
        const __m256i sch = _mm256_shuffle_epi8(sc, laneBroadcast16(2 * j + 1, 2 * j + 1));
        #pragma GCC unroll 4
        for (int c = 0; c < C; ++c) {
            const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, loadu256(xb[c]->qs + 64 * j)), scl);
            const __m256i q = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, loadu256(xb[c]->qs + 64 * j + 32)), sch);
            sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(p, q));
        }
    }
    finishSuperBlock<C>(sumi, xb, bias, kquant::loadHalf(blk + offsetof(Block, d)),
                        -kquant::loadHalf(blk + offsetof(Block, dmin)), acc);
}

template <int C>
BS_AVX2_INLINE void fusedQ6K(const std::byte* blk, const BlockQ8_K* const* xb, __m256* acc) {
    const __m256i s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(BlockQ6_K, scales))));
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256i sumi[C];
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
    #pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
        // Scales 8n .. 8n + 7 in both halves; group g of this chunk: sc[8n + 2g] | sc[8n + 2g + 1].
        // (Two literal immediates: an unoptimised build does not fold `n` into one.)
        const __m256i sc = n == 0 ? _mm256_permute2x128_si256(s16, s16, 0x00) : _mm256_permute2x128_si256(s16, s16, 0x11);
        const std::byte* ql = blk + offsetof(BlockQ6_K, ql) + 64 * n;
        const __m256i a = loadu256(ql), b = loadu256(ql + 32);
        const __m256i h = loadu256(blk + offsetof(BlockQ6_K, qh) + 32 * n);
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
        q[1] = _mm256_or_si256(_mm256_and_si256(b, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4), _mm256_and_si256(h, m30));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
        #pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
            const __m256i scg = _mm256_shuffle_epi8(sc, laneBroadcast16(2 * g, 2 * g + 1));
            #pragma GCC unroll 4
            for (int c = 0; c < C; ++c) {
                const __m256i p = _mm256_maddubs_epi16(q[g], loadu256(xb[c]->qs + 128 * n + 32 * g));
                sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(p, scg));
            }
        }
    }
    const float d = kquant::loadHalf(blk + offsetof(BlockQ6_K, d));
    finishSuperBlock<C>(sumi, xb, s16, d, -32.0f * d, acc);
}

// Q2_K and Q3_K (three = true) in registers: 16-value sub-blocks as Q6_K. Q2_K: q = 2 bits,
// scale = low nibble, bias = min (high nibble), dbias = -dmin; Q3_K: q = 2 bits | hmask bit << 2
// (0..7), scale = bias = q3kScale, dbias = -4 d (matmul_kquant.h).
template <int C, bool three>
BS_AVX2_INLINE void fusedQ23K(const std::byte* blk, const BlockQ8_K* const* xb, __m256* acc) {
    __m256i s16, bias;
    float d, dbias;
    if constexpr (three) {
        s16 = _mm256_cvtepi8_epi16(kquant::scalesQ3K(blk + offsetof(BlockQ3_K, scales)));
        bias = s16;
        d = kquant::loadHalf(blk + offsetof(BlockQ3_K, d));
        dbias = -4.0f * d;
    } else {
        const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + offsetof(BlockQ2_K, scales)));
        const __m128i m4 = _mm_set1_epi8(0x0f);
        s16 = _mm256_cvtepu8_epi16(_mm_and_si128(s, m4));
        bias = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4));
        d = kquant::loadHalf(blk + offsetof(BlockQ2_K, d));
        dbias = -kquant::loadHalf(blk + offsetof(BlockQ2_K, dmin));
    }
    constexpr std::size_t qsOffset = three ? offsetof(BlockQ3_K, qs) : offsetof(BlockQ2_K, qs);
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256i hm = _mm256_setzero_si256();
    if constexpr (three) hm = loadu256(blk + offsetof(BlockQ3_K, hmask));
    __m256i sumi[C];
    #pragma GCC unroll 4
    for (int c = 0; c < C; ++c) sumi[c] = _mm256_setzero_si256();
    #pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
        // Scales 8n .. 8n + 7 in both halves (literal immediates, as in fusedQ6K).
        const __m256i sc = n == 0 ? _mm256_permute2x128_si256(s16, s16, 0x00) : _mm256_permute2x128_si256(s16, s16, 0x11);
        const __m256i v = loadu256(blk + qsOffset + 32 * n);
        #pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            __m256i q = _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m3);
            if constexpr (three) q = _mm256_or_si256(q, kquant::bitTo<2>(hm, 4 * n + j));
            const __m256i scg = _mm256_shuffle_epi8(sc, laneBroadcast16(2 * j, 2 * j + 1));
            #pragma GCC unroll 4
            for (int c = 0; c < C; ++c) {
                const __m256i p = _mm256_maddubs_epi16(q, loadu256(xb[c]->qs + 128 * n + 32 * j));
                sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(p, scg));
            }
        }
    }
    finishSuperBlock<C>(sumi, xb, bias, d, dbias, acc);
}

// The register kernel of type T for C tokens.
template <WeightType T, int C>
constexpr kquant::SuperBlockKernel kFusedKernel = T == WeightType::Q4_K   ? fusedQ45K<C, BlockQ4_K>
                                                  : T == WeightType::Q5_K ? fusedQ45K<C, BlockQ5_K>
                                                  : T == WeightType::Q2_K ? fusedQ23K<C, false>
                                                  : T == WeightType::Q3_K ? fusedQ23K<C, true>
                                                                          : fusedQ6K<C>;

template <WeightType T, int C>
BS_AVX2 void fusedRows(const KernelArgs& a, std::int64_t n0, std::int64_t n1, std::int64_t t0) {
    for (std::int64_t n = n0; n < n1; ++n) kquant::rowTimesTokens<C, kKQuantBlockBytes<T>, kFusedKernel<T, C>>(a, n, t0, true);
}

template <WeightType T>
void fused(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    switch (a.tokens) {
    case 1: fusedRows<T, 1>(a, n0, n1, 0); return;
    case 2: fusedRows<T, 2>(a, n0, n1, 0); return;
    case 3: fusedRows<T, 3>(a, n0, n1, 0); return;
    default: fusedRows<T, 4>(a, n0, n1, 0); return;
    }
}

}  // namespace

bool kquantUsesFusedAvx2(std::int64_t tokens) { return tokens <= kFusedMaxTokens; }

void kquantRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) {
    const bool few = kquantUsesFusedAvx2(a.tokens);
    switch (a.w->type) {
    case WeightType::Q4_K: few ? fused<WeightType::Q4_K>(a, n0, n1) : kquantRows<WeightType::Q4_K>(a, n0, n1); return;
    case WeightType::Q5_K: few ? fused<WeightType::Q5_K>(a, n0, n1) : kquantRows<WeightType::Q5_K>(a, n0, n1); return;
    case WeightType::Q6_K: few ? fused<WeightType::Q6_K>(a, n0, n1) : kquantRows<WeightType::Q6_K>(a, n0, n1); return;
    case WeightType::Q2_K: few ? fused<WeightType::Q2_K>(a, n0, n1) : kquantRows<WeightType::Q2_K>(a, n0, n1); return;
    case WeightType::Q3_K: few ? fused<WeightType::Q3_K>(a, n0, n1) : kquantRows<WeightType::Q3_K>(a, n0, n1); return;
    case WeightType::IQ4_XS: iq4xsRowsAvx2(a, n0, n1); return;
    default: matmulRowsScalar(a, n0, n1); return;
    }
}

}  // namespace batchscope::engine::cpu::detail

#else
namespace batchscope::engine::cpu::detail {
void kquantRowsAvx2(const KernelArgs& a, std::int64_t n0, std::int64_t n1) { matmulRowsScalar(a, n0, n1); }
}  // namespace batchscope::engine::cpu::detail
#endif
