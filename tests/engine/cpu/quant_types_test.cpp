// SPDX-License-Identifier: GPL-3.0-or-later
// The quantised block formats: sizes against ggml, hand-built blocks decoded bit-exactly
// (checked against straight transliterations of ggml's dequantize_row_* loops and against
// values worked out by hand), and quantise -> dequantise / dot-product error bounds from
// ggml's test-quantize-fns.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <cstring>
#include <random>
#include <vector>

#include "engine/model/cpu/matmul.h"
#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/quant_types.h"

using namespace batchscope::engine;
using namespace batchscope::engine::cpu;

namespace {

const WeightType kQuantTypes[] = {WeightType::Q4_0, WeightType::Q4_1, WeightType::Q5_0,   WeightType::Q5_1,
                                  WeightType::Q8_0, WeightType::IQ4_NL, WeightType::Q2_K, WeightType::Q3_K,
                                  WeightType::Q4_K, WeightType::Q5_K, WeightType::Q6_K,   WeightType::IQ4_XS};

template <typename B>
std::vector<std::byte> bytesOf(const B& b) {
    std::vector<std::byte> v(sizeof b);
    std::memcpy(v.data(), &b, sizeof b);
    return v;
}

std::vector<float> decode(WeightType t, const std::vector<std::byte>& bytes, int n) {
    std::vector<float> out(static_cast<std::size_t>(n));
    dequantizeRow(t, bytes.data(), n, out.data());
    return out;
}

// Random bytes with finite, moderate half scales.
template <typename B>
B randomBlock(std::mt19937& rng, std::initializer_list<std::uint16_t B::*> halves) {
    B b;
    auto* p = reinterpret_cast<unsigned char*>(&b);
    for (std::size_t i = 0; i < sizeof b; ++i) p[i] = static_cast<unsigned char>(rng());
    std::uniform_real_distribution<float> u(-0.05f, 0.05f);
    for (auto h : halves) b.*h = floatToHalf(u(rng));
    return b;
}

// ---- ggml's dequantize_row_* for one block, transliterated ----

void ggmlQ2K(const BlockQ2_K& x, float* y) {
    const float d = halfToFloat(x.d), min = halfToFloat(x.dmin);
    const std::uint8_t* q = x.qs;
    int is = 0;
    for (int n = 0; n < kQK; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            std::uint8_t sc = x.scales[is++];
            float dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<std::int8_t>((q[l] >> shift) & 3) - ml;
            sc = x.scales[is++];
            dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<std::int8_t>((q[l + 16] >> shift) & 3) - ml;
            shift += 2;
        }
        q += 32;
    }
}

void ggmlQ3K(const BlockQ3_K& x, float* y) {
    const float dAll = halfToFloat(x.d);
    const std::uint8_t* q = x.qs;
    const std::uint8_t* hm = x.hmask;
    std::uint8_t m = 1;
    std::uint32_t aux[4];
    std::memcpy(aux, x.scales, 12);
    const std::uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f, tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    std::int8_t scales[16];
    std::memcpy(scales, aux, 16);
    int is = 0;
    for (int n = 0; n < kQK; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            float dl = dAll * (scales[is++] - 32);
            for (int l = 0; l < 16; ++l) *y++ = dl * (static_cast<std::int8_t>((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
            dl = dAll * (scales[is++] - 32);
            for (int l = 0; l < 16; ++l) *y++ = dl * (static_cast<std::int8_t>((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            shift += 2;
            m = static_cast<std::uint8_t>(m << 1);
        }
        q += 32;
    }
}

template <typename B, bool Five>
void ggmlQ45K(const B& x, float* y) {
    const float d = halfToFloat(x.d), min = halfToFloat(x.dmin);
    const std::uint8_t* ql = x.qs;
    int is = 0;
    std::uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQK; j += 64) {
        std::uint8_t sc, m;
        unpackScaleMinK4(is + 0, x.scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        unpackScaleMinK4(is + 1, x.scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; ++l) {
            int h = 0;
            if constexpr (Five) h = (x.qh[l] & u1) ? 16 : 0;
            *y++ = d1 * ((ql[l] & 0xF) + h) - m1;
        }
        for (int l = 0; l < 32; ++l) {
            int h = 0;
            if constexpr (Five) h = (x.qh[l] & u2) ? 16 : 0;
            *y++ = d2 * ((ql[l] >> 4) + h) - m2;
        }
        ql += 32;
        is += 2;
        u1 = static_cast<std::uint8_t>(u1 << 2);
        u2 = static_cast<std::uint8_t>(u2 << 2);
    }
}

void ggmlQ6K(const BlockQ6_K& x, float* y) {
    const float d = halfToFloat(x.d);
    const std::uint8_t* ql = x.ql;
    const std::uint8_t* qh = x.qh;
    const std::int8_t* sc = x.scales;
    for (int n = 0; n < kQK; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const auto q1 = static_cast<std::int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
            const auto q2 = static_cast<std::int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
            const auto q3 = static_cast<std::int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            const auto q4 = static_cast<std::int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            y[l] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

void ggmlIQ4XS(const BlockIQ4_XS& x, float* y) {
    const float d = halfToFloat(x.d);
    const std::uint8_t* qs = x.qs;
    for (int ib = 0; ib < 8; ++ib) {
        const int ls = ((x.scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x.scales_h >> 2 * ib) & 3) << 4);
        const float dl = d * (ls - 32);
        for (int j = 0; j < 16; ++j) {
            y[j] = dl * kIq4nlValues[qs[j] & 0xf];
            y[j + 16] = dl * kIq4nlValues[qs[j] >> 4];
        }
        y += 32;
        qs += 16;
    }
}

void expectSame(const std::vector<float>& got, const float* want, int n, const char* what) {
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(std::memcmp(&got[static_cast<std::size_t>(i)], &want[i], 4), 0)
            << what << " element " << i << ": " << got[static_cast<std::size_t>(i)] << " vs " << want[i];
}

// ggml test-quantize-fns: 0.1 + 2 cos(i + offset).
std::vector<float> synthetic(int n, float offset) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = 0.1f + 2.0f * std::cos(static_cast<float>(i) + offset);
    return v;
}

}  // namespace

TEST(QuantTypes, TraitsMatchGgmlBlockSizes) {
    for (WeightType t : kQuantTypes) {
        const QuantTraits& q = quantTraits(t);
        EXPECT_EQ(q.type, t);
        EXPECT_EQ(q.blockElements, ggmlTypeBlockSize(q.ggml)) << q.name;
        EXPECT_EQ(q.blockBytes, ggmlTypeBytesPerBlock(q.ggml)) << q.name;
        EXPECT_EQ(q.name, ggmlTypeName(q.ggml));
        EXPECT_EQ(weightTypeFromGgml(q.ggml), t);
        EXPECT_NE(q.dotQ8, nullptr);
    }
    EXPECT_FALSE(weightTypeFromGgml(GgmlType::IQ2_XXS).has_value());
    EXPECT_FALSE(weightTypeFromGgml(GgmlType::Q8_K).has_value());
}

TEST(QuantTypes, LegacyBlocksDecodeByHand) {
    BlockQ4_1 q41{floatToHalf(0.5f), floatToHalf(-1.0f), {}};
    q41.qs[3] = 0xA7;  // element 3 = 7, element 19 = 10
    auto y = decode(WeightType::Q4_1, bytesOf(q41), 32);
    EXPECT_EQ(y[3], 0.5f * 7 - 1.0f);
    EXPECT_EQ(y[19], 0.5f * 10 - 1.0f);
    EXPECT_EQ(y[0], -1.0f);

    BlockQ5_0 q50{floatToHalf(0.25f), {0x08, 0, 0, 0x80}, {}};  // qh bits 3 and 31
    q50.qs[3] = 0x01;
    q50.qs[15] = 0x20;
    y = decode(WeightType::Q5_0, bytesOf(q50), 32);
    EXPECT_EQ(y[3], 0.25f * ((1 | 16) - 16));
    EXPECT_EQ(y[31], 0.25f * ((2 | 16) - 16));
    EXPECT_EQ(y[4], 0.25f * -16);

    BlockQ5_1 q51{floatToHalf(2.0f), floatToHalf(0.5f), {0, 0x01, 0, 0}, {}};  // qh bit 8
    q51.qs[8] = 0x3F;  // element 8 = 15 | 16, element 24 = 3
    y = decode(WeightType::Q5_1, bytesOf(q51), 32);
    EXPECT_EQ(y[8], 2.0f * 31 + 0.5f);
    EXPECT_EQ(y[24], 2.0f * 3 + 0.5f);

    BlockIQ4_NL nl{floatToHalf(0.5f), {}};
    nl.qs[0] = 0xF0;  // element 0 -> table[0], element 16 -> table[15]
    y = decode(WeightType::IQ4_NL, bytesOf(nl), 32);
    EXPECT_EQ(y[0], 0.5f * -127);
    EXPECT_EQ(y[16], 0.5f * 113);
}

TEST(QuantTypes, KBlocksDecodeByHand) {
    // Q4_K sub-block 5 (packed scale bits): sc = (s[9] & 15) | (s[1] >> 6) << 4 = 3 | 32,
    // m = (s[9] >> 4) | (s[5] >> 6) << 4 = 7 | 48; element 160 = high nibble of qs[64].
    BlockQ4_K q4{floatToHalf(1.0f), floatToHalf(0.5f), {}, {}};
    q4.scales[9] = 0x73;
    q4.scales[1] = 0x80;
    q4.scales[5] = 0xC0;
    q4.qs[64] = 0x90;
    auto y = decode(WeightType::Q4_K, bytesOf(q4), 256);
    EXPECT_EQ(y[160], 1.0f * 35 * 9 - 0.5f * 55);

    // Q5_K: the same scales; element 160 adds bit 2c+1 = 5 of qh[0].
    BlockQ5_K q5{floatToHalf(1.0f), floatToHalf(0.5f), {}, {}, {}};
    std::memcpy(q5.scales, q4.scales, 12);
    q5.qs[64] = 0x90;
    q5.qh[0] = 0x20;
    y = decode(WeightType::Q5_K, bytesOf(q5), 256);
    EXPECT_EQ(y[160], 1.0f * 35 * (9 + 16) - 0.5f * 55);

    // Q3_K sub-block 13: low 4 bits = s[5] >> 4 = 10, high 2 bits = (s[9] >> 6) & 3 = 1 -> 26 - 32.
    // Element 208: bits 4..5 of qs[48] = 3, hmask[16] bit 6 set -> q = 3. Element 209: q = 0 - 4.
    BlockQ3_K q3{};
    q3.d = floatToHalf(0.5f);
    q3.scales[5] = 0xA0;
    q3.scales[9] = 0x40;
    q3.qs[48] = 0x30;
    q3.hmask[16] = 0x40;
    y = decode(WeightType::Q3_K, bytesOf(q3), 256);
    EXPECT_EQ(y[208], 0.5f * -6 * 3);
    EXPECT_EQ(y[209], 0.5f * -6 * -4);

    // Q6_K element 116 (first half, l = 20, fourth quarter): ql[52] >> 4 = 11, (qh[20] >> 6) & 3 = 2.
    BlockQ6_K q6{};
    q6.d = floatToHalf(0.25f);
    q6.ql[52] = 0xB0;
    q6.qh[20] = 0x80;
    q6.scales[7] = -3;
    y = decode(WeightType::Q6_K, bytesOf(q6), 256);
    EXPECT_EQ(y[116], 0.25f * -3 * ((11 | 32) - 32));

    // IQ4_XS sub-block 5: ls = (scales_l[2] >> 4) | ((scales_h >> 10) & 3) << 4 = 7 | 32.
    BlockIQ4_XS xs{};
    xs.d = floatToHalf(0.5f);
    xs.scales_l[2] = 0x70;
    xs.scales_h = 0x0800;
    xs.qs[83] = 0xF0;  // element 32 * 5 + 16 + 3
    y = decode(WeightType::IQ4_XS, bytesOf(xs), 256);
    EXPECT_EQ(y[179], 0.5f * 7 * 113);

    // Q2_K element 200: second 128, plane 2, l = 8 -> qs[40] bits 4..5; sub-block 12.
    BlockQ2_K q2{};
    q2.d = floatToHalf(1.0f);
    q2.dmin = floatToHalf(0.25f);
    q2.qs[40] = 0x30;
    q2.scales[12] = 0x52;
    y = decode(WeightType::Q2_K, bytesOf(q2), 256);
    EXPECT_EQ(y[200], 1.0f * 2 * 3 - 0.25f * 5);
}

TEST(QuantTypes, RandomKBlocksMatchGgmlLoops) {
    std::mt19937 rng(7);
    float want[256];
    for (int rep = 0; rep < 50; ++rep) {
        const auto q2 = randomBlock<BlockQ2_K>(rng, {&BlockQ2_K::d, &BlockQ2_K::dmin});
        ggmlQ2K(q2, want);
        expectSame(decode(WeightType::Q2_K, bytesOf(q2), 256), want, 256, "Q2_K");
        const auto q3 = randomBlock<BlockQ3_K>(rng, {&BlockQ3_K::d});
        ggmlQ3K(q3, want);
        expectSame(decode(WeightType::Q3_K, bytesOf(q3), 256), want, 256, "Q3_K");
        const auto q4 = randomBlock<BlockQ4_K>(rng, {&BlockQ4_K::d, &BlockQ4_K::dmin});
        ggmlQ45K<BlockQ4_K, false>(q4, want);
        expectSame(decode(WeightType::Q4_K, bytesOf(q4), 256), want, 256, "Q4_K");
        const auto q5 = randomBlock<BlockQ5_K>(rng, {&BlockQ5_K::d, &BlockQ5_K::dmin});
        ggmlQ45K<BlockQ5_K, true>(q5, want);
        expectSame(decode(WeightType::Q5_K, bytesOf(q5), 256), want, 256, "Q5_K");
        const auto q6 = randomBlock<BlockQ6_K>(rng, {&BlockQ6_K::d});
        ggmlQ6K(q6, want);
        expectSame(decode(WeightType::Q6_K, bytesOf(q6), 256), want, 256, "Q6_K");
        const auto xs = randomBlock<BlockIQ4_XS>(rng, {&BlockIQ4_XS::d});
        ggmlIQ4XS(xs, want);
        expectSame(decode(WeightType::IQ4_XS, bytesOf(xs), 256), want, 256, "IQ4_XS");
    }
}

// ggml's "rmse" in test-quantize-fns is sqrt(sum of squared errors) / n; the bounds are its.
TEST(QuantTypes, RoundTripErrorWithinGgmlBounds) {
    constexpr int n = 4096;
    const auto x = synthetic(n, 0.0f);
    for (WeightType t : kQuantTypes) {
        std::vector<std::byte> q(weightRowBytes(t, n));
        quantizeRow(t, x.data(), n, q.data());
        std::vector<float> y(n);
        dequantizeRow(t, q.data(), n, y.data());
        double sum = 0;
        for (int i = 0; i < n; ++i) sum += double(x[i] - y[i]) * double(x[i] - y[i]);
        const double err = std::sqrt(sum) / n;
        const double bound = t == WeightType::Q2_K ? 0.0075 : t == WeightType::Q3_K ? 0.004 : 0.002;
        EXPECT_LT(err, bound) << weightTypeName(t) << " (per-element RMS " << std::sqrt(sum / n) << ")";
        std::printf("%-6s round-trip error %.6f (bound %.4f), per-element RMS %.5f\n", std::string(weightTypeName(t)).c_str(),
                    err, bound, std::sqrt(sum / n));
    }
}

// ggml dot_product_error: |vec_dot(q(x), q8(y)) - x.y| / n < 0.02 (0.04 for Q2_K).
TEST(QuantTypes, DotProductsWithinGgmlBounds) {
    constexpr int n = 4096;
    const auto x = synthetic(n, 0.0f), a = synthetic(n, 1.0f);
    double exact = 0;
    for (int i = 0; i < n; ++i) exact += double(x[i]) * a[i];
    for (WeightType t : kQuantTypes) {
        const QuantTraits& q = quantTraits(t);
        std::vector<std::byte> w(weightRowBytes(t, n));
        quantizeRow(t, x.data(), n, w.data());
        std::vector<std::byte> act(activationBytes(q.activation, n));
        quantizeActivationsFor(q.activation, a.data(), n, act.data());
        const float dq = q.dotQ8(w.data(), act.data(), n);
        const float df = q.dotF32(w.data(), a.data(), n);
        const double bound = t == WeightType::Q2_K ? 0.04 : 0.02;
        EXPECT_LT(std::fabs(dq - exact) / n, bound) << q.name << " int8";
        EXPECT_LT(std::fabs(df - exact) / n, bound) << q.name << " f32";
        // The F32 dot is exactly the dequantised row against x (up to summation order).
        std::vector<float> y(n);
        dequantizeRow(t, w.data(), n, y.data());
        double ref = 0;
        for (int i = 0; i < n; ++i) ref += double(y[i]) * a[i];
        EXPECT_NEAR(df, ref, 1e-3 * std::fabs(ref) + 1e-2) << q.name;
    }
}

TEST(QuantTypes, ZeroRowsQuantiseToZero) {
    std::vector<float> z(512, 0.0f), y(512, 1.0f);
    for (WeightType t : kQuantTypes) {
        std::vector<std::byte> q(weightRowBytes(t, 512));
        quantizeRow(t, z.data(), 512, q.data());
        dequantizeRow(t, q.data(), 512, y.data());
        for (float v : y) ASSERT_EQ(v, 0.0f) << weightTypeName(t);
    }
}

// Every quantised type through Matmul at each ISA level (generic panel path or own kernels,
// threaded, BLAS where the policy picks it): within 1e-2 of sum |w x| of the dequantised
// product for the int8-activation kernels, 1e-5 otherwise.
TEST(QuantTypes, MatmulOfEveryTypeMatchesDequantisedProduct) {
    constexpr std::int64_t rows = 37, cols = 512;
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> wf(rows * cols), x(100 * cols);
    for (float& v : wf) v = nd(rng);
    for (float& v : x) v = nd(rng);
    ThreadPool pool(3);
    for (WeightType t : kQuantTypes) {
        const std::size_t rb = weightRowBytes(t, cols);
        std::vector<std::byte> w(rb * rows);
        for (std::int64_t n = 0; n < rows; ++n) quantizeRow(t, wf.data() + n * cols, cols, w.data() + n * rb);
        std::vector<float> deq(rows * cols);
        for (std::int64_t n = 0; n < rows; ++n) dequantizeRow(t, w.data() + n * rb, cols, deq.data() + n * cols);
        const WeightMatrix m{t, w.data(), rows, cols};
        // Types with integer kernels of their own quantise the activations to int8.
        const bool int8 = quantTraits(t).activation != ActivationKind::None && detail::hasOwnKernels(t);
        for (CpuIsa isa : {CpuIsa::Scalar, activeCpuIsa()}) {
            for (std::int64_t tokens : {1, 5, 100}) {
                Matmul mm(pool, isa);
                std::vector<float> y(static_cast<std::size_t>(tokens * rows));
                mm.run(m, x.data(), tokens, y.data());
                for (std::int64_t k = 0; k < tokens; ++k)
                    for (std::int64_t n = 0; n < rows; ++n) {
                        double ref = 0, mag = 0;
                        for (std::int64_t c = 0; c < cols; ++c) {
                            ref += double(deq[n * cols + c]) * x[k * cols + c];
                            mag += std::fabs(double(deq[n * cols + c]) * x[k * cols + c]);
                        }
                        ASSERT_NEAR(y[k * rows + n], ref, (int8 ? 1e-2 : 1e-5) * mag)
                            << weightTypeName(t) << " isa=" << cpuIsaName(isa) << " T=" << tokens;
                    }
            }
        }
    }
}
