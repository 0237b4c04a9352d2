// SPDX-License-Identifier: GPL-3.0-or-later
// Every SIMD level's matmul against the scalar kernels and against dequantise + double dot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "engine/model/cpu/matmul.h"
#include "engine/model/cpu/vec_ops.h"

using namespace batchscope::engine::cpu;

namespace {

struct Case {
    WeightType type;
    std::int64_t rows, cols, tokens;
};

std::vector<float> randomVector(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

struct Problem {
    std::vector<std::byte> storage;
    WeightMatrix w;
    std::vector<float> x;
    std::vector<ActivationQ8> xq;
    std::vector<float> deq;  // dequantised weights
};

Problem makeProblem(const Case& c, std::uint32_t seed) {
    Problem p;
    const auto src = randomVector(static_cast<std::size_t>(c.rows * c.cols), seed);
    const std::size_t rb = weightRowBytes(c.type, c.cols);
    p.storage.resize(rb * static_cast<std::size_t>(c.rows));
    p.deq.resize(src.size());
    for (std::int64_t n = 0; n < c.rows; ++n) {
        quantizeRow(c.type, src.data() + n * c.cols, c.cols, p.storage.data() + n * rb);
        dequantizeRow(c.type, p.storage.data() + n * rb, c.cols, p.deq.data() + n * c.cols);
    }
    p.w = WeightMatrix{c.type, p.storage.data(), c.rows, c.cols};
    p.x = randomVector(static_cast<std::size_t>(c.tokens * c.cols), seed + 1);
    if (c.cols % kQBlock == 0) {
        p.xq.resize(static_cast<std::size_t>(c.tokens * c.cols / kQBlock));
        for (std::int64_t t = 0; t < c.tokens; ++t)
            quantizeActivations(p.x.data() + t * c.cols, c.cols, p.xq.data() + t * c.cols / kQBlock);
    }
    return p;
}

bool quantised(WeightType t) {
    return t == WeightType::Q8_0 || t == WeightType::Q4_0 || t == WeightType::Q5_0 || t == WeightType::IQ4_NL ||
           t == WeightType::Q4_1 || t == WeightType::Q5_1;
}

// Sum of |w x| terms: the natural scale of a dot product's rounding error.
double absDot(const Problem& p, std::int64_t n, std::int64_t t) {
    double s = 0;
    for (std::int64_t k = 0; k < p.w.cols; ++k) s += std::fabs(p.deq[n * p.w.cols + k] * p.x[t * p.w.cols + k]);
    return s;
}

std::vector<Case> cases() {
    std::vector<Case> out;
    for (WeightType t : {WeightType::F32, WeightType::F16, WeightType::BF16, WeightType::Q8_0, WeightType::Q4_0,
                         WeightType::Q5_0, WeightType::IQ4_NL, WeightType::Q4_1, WeightType::Q5_1}) {
        for (std::int64_t tokens : {1, 2, 3, 4, 5, 9}) {
            out.push_back({t, 13, 96, tokens});
            if (!quantised(t)) out.push_back({t, 7, 77, tokens});  // K tail, row tail
            // K with 16-wide steps and a scalar tail left after the wide loop.
            if (!quantised(t)) out.push_back({t, 19, 117, tokens});
        }
        // T = 1 kernel (1 row x 128-element steps): two full steps, two 16-wide steps, a tail.
        if (!quantised(t)) out.push_back({t, 19, 300, 1});
        if (quantised(t)) continue;
        // The packed AVX-512 path (T >= kPackedMinTokens = 96): two 32-row panels plus a 13-row tail
        // left to the register tiles, K with a 4-wide tail, whole and partial 12-token tiles.
        for (std::int64_t tokens : {96, 109}) out.push_back({t, 77, 100, tokens});
        out.push_back({t, 96, 512, 98});
    }
    return out;
}

}  // namespace

TEST(CpuMatmul, EveryIsaMatchesScalar) {
    std::uint32_t seed = 1;
    for (const Case& c : cases()) {
        const Problem p = makeProblem(c, seed++);
        std::vector<float> ref(static_cast<std::size_t>(c.tokens * c.rows));
        matmulRows(CpuIsa::Scalar, p.w, p.x.data(), p.xq.data(), c.tokens, ref.data(), c.rows, 0, c.rows);
        for (CpuIsa isa : {CpuIsa::Avx2, CpuIsa::Avx512}) {
            if (isa > detectCpuIsa()) continue;
            std::vector<float> y(ref.size(), -1.0f);
            matmulRows(isa, p.w, p.x.data(), p.xq.data(), c.tokens, y.data(), c.rows, 0, c.rows);
            for (std::int64_t t = 0; t < c.tokens; ++t)
                for (std::int64_t n = 0; n < c.rows; ++n)
                    ASSERT_NEAR(y[t * c.rows + n], ref[t * c.rows + n], 1e-5 * absDot(p, n, t) + 1e-6)
                        << weightTypeName(c.type) << " isa=" << cpuIsaName(isa) << " T=" << c.tokens
                        << " K=" << c.cols << " n=" << n << " t=" << t;
        }
    }
}

TEST(CpuMatmul, ScalarMatchesDequantisedDot) {
    std::uint32_t seed = 100;
    for (const Case& c : cases()) {
        const Problem p = makeProblem(c, seed++);
        std::vector<float> y(static_cast<std::size_t>(c.tokens * c.rows));
        matmulRows(CpuIsa::Scalar, p.w, p.x.data(), p.xq.data(), c.tokens, y.data(), c.rows, 0, c.rows);
        for (std::int64_t t = 0; t < c.tokens; ++t) {
            for (std::int64_t n = 0; n < c.rows; ++n) {
                double exact = 0;
                for (std::int64_t k = 0; k < c.cols; ++k)
                    exact += static_cast<double>(p.deq[n * c.cols + k]) * p.x[t * c.cols + k];
                // Quantised types also quantise the activations (8 bits per 32-block).
                const double tol = (quantised(c.type) ? 1e-2 : 1e-5) * absDot(p, n, t) + 1e-6;
                ASSERT_NEAR(y[t * c.rows + n], exact, tol) << weightTypeName(c.type) << " T=" << c.tokens;
            }
        }
    }
}

TEST(CpuMatmul, ThreadedAndBlasPathsMatchScalar) {
    ThreadPool pool(3);
    ThreadPool single(1);  // the caller runs every chunk range at once
    std::uint32_t seed = 200;
    for (WeightType type : {WeightType::F32, WeightType::F16, WeightType::BF16, WeightType::Q8_0, WeightType::Q4_0,
                            WeightType::Q5_0, WeightType::IQ4_NL, WeightType::Q4_1, WeightType::Q5_1}) {
        for (std::int64_t tokens : {1, 6, 70, 100}) {
            const Case c{type, 203, 128, tokens};
            const Problem p = makeProblem(c, seed++);
            std::vector<float> ref(static_cast<std::size_t>(tokens * c.rows));
            matmulRows(CpuIsa::Scalar, p.w, p.x.data(), p.xq.data(), tokens, ref.data(), c.rows, 0, c.rows);
            for (std::int64_t blasMin : {-1, 2, -2, 3}) {
                Matmul mm(blasMin >= -1 && blasMin <= 2 ? pool : single, activeCpuIsa());
                blasMin = blasMin == -2 ? -1 : blasMin;
                mm.setBlasMinTokens(blasMin);
                std::vector<float> y(ref.size());
                mm.run(p.w, p.x.data(), tokens, y.data());
                // The BLAS path uses unquantised activations: compare quantised types loosely.
                const bool loose = blasMin >= 0 && quantised(type);
                for (std::int64_t t = 0; t < tokens; ++t)
                    for (std::int64_t n = 0; n < c.rows; ++n)
                        ASSERT_NEAR(y[t * c.rows + n], ref[t * c.rows + n],
                                    (loose ? 1e-2 : 1e-5) * absDot(p, n, t) + 1e-6)
                            << weightTypeName(type) << " T=" << tokens << " blasMin=" << blasMin;
            }
        }
    }
}

TEST(CpuWeightTypes, HalfConversionsRoundTrip) {
    for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f}) {
        EXPECT_NEAR(halfToFloat(floatToHalf(f)), f, std::fabs(f) * 1e-3f + 1e-9f) << f;
    }
    EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
    EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
    EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
    EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
    EXPECT_EQ(bf16ToFloat(0x4040), 3.0f);
}

TEST(CpuWeightTypes, Q4LayoutLowNibblesFirst) {
    BlockQ4_0 blk{};
    blk.d = floatToHalf(0.5f);
    for (int i = 0; i < 16; ++i) blk.qs[i] = static_cast<std::uint8_t>((i % 16) | ((15 - i) << 4));
    float out[32];
    dequantizeRow(WeightType::Q4_0, reinterpret_cast<const std::byte*>(&blk), 32, out);
    for (int i = 0; i < 16; ++i) {
        EXPECT_EQ(out[i], (i - 8) * 0.5f);
        EXPECT_EQ(out[i + 16], (15 - i - 8) * 0.5f);
    }
}

namespace {

// Softmax-weighted sum in double for one query head over paged rows (already half-rounded when
// the cache is F16).
std::vector<double> attendReference(const float* q, const std::vector<const float*>& kb, const std::vector<const float*>& vb,
                                    std::int64_t blockSize, std::int64_t stride, std::int64_t headDim, std::int64_t positions) {
    std::vector<double> w(static_cast<std::size_t>(positions)), out(static_cast<std::size_t>(headDim), 0.0);
    double mx = -1e300, sum = 0;
    for (std::int64_t j = 0; j < positions; ++j) {
        const float* k = kb[static_cast<std::size_t>(j / blockSize)] + (j % blockSize) * stride;
        double d = 0;
        for (std::int64_t i = 0; i < headDim; ++i) d += double(q[i]) * k[i];
        w[static_cast<std::size_t>(j)] = d * 0.125;
        mx = std::max(mx, w[static_cast<std::size_t>(j)]);
    }
    for (double& x : w) sum += (x = std::exp(x - mx));
    for (std::int64_t i = 0; i < headDim; ++i)
        for (std::int64_t j = 0; j < positions; ++j)
            out[static_cast<std::size_t>(i)] +=
                w[static_cast<std::size_t>(j)] / sum * vb[static_cast<std::size_t>(j / blockSize)][(j % blockSize) * stride + i];
    return out;
}

}  // namespace

TEST(CpuVecOps, AttentionEveryIsaMatchesScalar) {
    // Paged K/V: blocks of 5 slots, rows of `stride` values, the head at an offset; F32 and F16
    // caches; 1 to 4 query heads sharing the K/V head (GQA).
    for (bool half : {false, true}) {
        for (std::int64_t heads : {1, 2, 3, 4}) {
            for (std::int64_t headDim : {16, 64, 80, 128}) {
                for (std::int64_t positions : {1, 4, 7, 13, 37, 70}) {  // 37, 70: vector softmax loops and tails
                    const std::int64_t blockSize = 5, stride = headDim * 2 + 16, offset = 16;
                    const auto q = randomVector(static_cast<std::size_t>(heads * headDim), 7);
                    const std::int64_t used = (positions + blockSize - 1) / blockSize, poolBlocks = used + 1;
                    auto kPool = randomVector(static_cast<std::size_t>(poolBlocks * blockSize * stride), 8);
                    auto vPool = randomVector(static_cast<std::size_t>(poolBlocks * blockSize * stride), 9);
                    std::vector<std::uint16_t> kHalf(kPool.size()), vHalf(vPool.size());
                    if (half) {  // the reference sees exactly the stored half values
                        vecOps(CpuIsa::Scalar).toHalf(kPool.data(), kHalf.data(), static_cast<std::int64_t>(kPool.size()));
                        vecOps(CpuIsa::Scalar).toHalf(vPool.data(), vHalf.data(), static_cast<std::int64_t>(vPool.size()));
                        for (std::size_t i = 0; i < kPool.size(); ++i) kPool[i] = halfToFloat(kHalf[i]);
                        for (std::size_t i = 0; i < vPool.size(); ++i) vPool[i] = halfToFloat(vHalf[i]);
                    }
                    std::vector<const float*> kb, vb;
                    std::vector<const void*> kArg, vArg;
                    for (std::int64_t i = 0; i < used; ++i) {
                        // Physical blocks out of order (7 is coprime with every poolBlocks here).
                        const std::int64_t b = (2 + 7 * i) % poolBlocks;
                        const std::int64_t at = b * blockSize * stride + offset;
                        kb.push_back(kPool.data() + at);
                        vb.push_back(vPool.data() + at);
                        kArg.push_back(half ? static_cast<const void*>(kHalf.data() + at) : kb.back());
                        vArg.push_back(half ? static_cast<const void*>(vHalf.data() + at) : vb.back());
                    }
                    auto run = [&](CpuIsa isa) {
                        std::vector<float> scores(static_cast<std::size_t>(heads * positions)),
                            out(static_cast<std::size_t>(heads * headDim));
                        AttendArgs args{q.data(), kArg.data(), vArg.data(), blockSize, stride, headDim, positions,
                                        0.125f, scores.data(), out.data()};
                        args.heads = heads;
                        (half ? vecOps(isa).attendF16 : vecOps(isa).attend)(args);
                        return out;
                    };
                    for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
                        if (isa > detectCpuIsa()) continue;
                        const auto out = run(isa);
                        for (std::int64_t g = 0; g < heads; ++g) {
                            const auto ref = attendReference(q.data() + g * headDim, kb, vb, blockSize, stride, headDim, positions);
                            for (std::int64_t i = 0; i < headDim; ++i)
                                ASSERT_NEAR(out[static_cast<std::size_t>(g * headDim + i)], ref[static_cast<std::size_t>(i)], 1e-5)
                                    << cpuIsaName(isa) << " half=" << half << " heads=" << heads << " headDim=" << headDim
                                    << " positions=" << positions << " head=" << g;
                        }
                    }
                }
            }
        }
    }
}

TEST(CpuVecOps, ToHalfEveryIsaMatchesScalar) {
    auto x = randomVector(100, 3);
    x[5] = 1e-6f;   // subnormal in half
    x[6] = 70000;   // overflows to inf
    x[7] = -0.0f;
    std::vector<std::uint16_t> ref(x.size()), out(x.size());
    vecOps(CpuIsa::Scalar).toHalf(x.data(), ref.data(), 100);
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(ref[i], floatToHalf(x[i]));
    for (CpuIsa isa : {CpuIsa::Avx2, CpuIsa::Avx512}) {
        if (isa > detectCpuIsa()) continue;
        vecOps(isa).toHalf(x.data(), out.data(), 100);
        EXPECT_EQ(out, ref) << cpuIsaName(isa);
    }
}

// The AVX2 row dequantisers of the sgemm panel path equal the scalar reference bit for bit
// (random blocks: every bit pattern of the quants; realistic half scales and mins).
TEST(CpuMatmul, Avx2DequantiseMatchesReferenceExactly) {
    if (detectCpuIsa() < CpuIsa::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
    std::mt19937 rng(77);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(-0.01f, 0.01f);
    for (WeightType type : {WeightType::Q8_0, WeightType::Q4_0, WeightType::Q4_1, WeightType::Q5_0, WeightType::Q5_1,
                            WeightType::IQ4_NL}) {
        const std::int64_t cols = 320;
        const std::size_t rb = weightRowBytes(type, cols), blockBytes = rb / (cols / kQBlock);
        std::vector<std::byte> row(rb);
        for (auto& b : row) b = static_cast<std::byte>(byte(rng));
        for (std::size_t o = 0; o < rb; o += blockBytes) {
            const std::uint16_t d = floatToHalf(scale(rng)), m = floatToHalf(scale(rng));
            std::memcpy(row.data() + o, &d, 2);  // d first in every 32-block struct
            if (type == WeightType::Q4_1 || type == WeightType::Q5_1) std::memcpy(row.data() + o + 2, &m, 2);
        }
        std::vector<float> ref(static_cast<std::size_t>(cols)), got(ref.size(), -7.0f);
        quantTraits(type).dequantizeRow(row.data(), ref.data(), cols);
        const DequantizeRowFn f = quantKernels(CpuIsa::Avx2, type).dequantizeRow;
        ASSERT_NE(f, quantTraits(type).dequantizeRow) << weightTypeName(type) << ": no AVX2 dequantiser";
        f(row.data(), got.data(), cols);
        for (std::int64_t i = 0; i < cols; ++i)
            ASSERT_EQ(got[static_cast<std::size_t>(i)], ref[static_cast<std::size_t>(i)]) << weightTypeName(type) << " i=" << i;
    }
}

// The AVX2 T = 1 kernel of the signed 32-block types (matmul_gemv_q_avx2.cpp) and their
// decode-once path for T >= 4 (rowsViaQ8_0): row ranges that start and end off the 4-row
// groups (the tail goes to the tiles), odd and single-block K, the activation-sum table's limit
// (K > 16384 falls back to the tiles), more than one 64-token block, and raw random weight
// bytes (Q8_0's -128, every nibble and fifth-bit pattern) against the scalar kernels; the
// same with both switched off (the tiles they replaced), and new == old bit for bit.
TEST(CpuMatmul, Avx2QuantGemvMatchesScalar) {
    if (detectCpuIsa() < CpuIsa::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
    std::uint32_t seed = 500;
    std::mt19937 rng(9);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
    for (WeightType type : {WeightType::Q8_0, WeightType::Q4_0, WeightType::Q5_0, WeightType::IQ4_NL}) {
        for (const auto& [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{
                 {1, 32}, {5, 64}, {13, 96}, {17, 544}, {8, 1056}, {6, 32800}}) {
            if (cols > 1100 && type != WeightType::Q4_0) continue;
            for (const auto& [rawBytes, tokens] : std::vector<std::pair<bool, std::int64_t>>{
                     {false, 1}, {true, 1}, {false, 6}, {true, 70}}) {
                if (tokens > 1 && cols > 1100) continue;
                Problem p = makeProblem(Case{type, rows, cols, tokens}, seed++);
                if (rawBytes) {
                    const std::size_t blockBytes = weightRowBytes(type, cols) / static_cast<std::size_t>(cols / kQBlock);
                    for (auto& b : p.storage) b = static_cast<std::byte>(byte(rng));
                    for (std::size_t o = 0; o < p.storage.size(); o += blockBytes) {
                        const std::uint16_t d = floatToHalf(scale(rng));
                        std::memcpy(p.storage.data() + o, &d, 2);  // d first in every 32-block struct
                    }
                }
                std::vector<float> ref(static_cast<std::size_t>(rows * tokens));
                matmulRows(CpuIsa::Scalar, p.w, p.x.data(), p.xq.data(), tokens, ref.data(), rows, 0, rows);
                double absRef = 0;
                for (float v : ref) absRef = std::max(absRef, static_cast<double>(std::fabs(v)));
                // Bit-identical to the tiles they replace (the next layer's int8 rounding must
                // not depend on the batch size): whole range, new vs old.
                std::vector<float> yNew(ref.size()), yOld(ref.size());
                matmulRows(CpuIsa::Avx2, p.w, p.x.data(), p.xq.data(), tokens, yNew.data(), rows, 0, rows);
                setQuantGemvEnabled(false);
                matmulRows(CpuIsa::Avx2, p.w, p.x.data(), p.xq.data(), tokens, yOld.data(), rows, 0, rows);
                setQuantGemvEnabled(true);
                for (std::size_t i = 0; i < yNew.size(); ++i)
                    ASSERT_EQ(yNew[i], yOld[i]) << weightTypeName(type) << " rows=" << rows << " K=" << cols
                                                << " T=" << tokens << " i=" << i << " raw=" << rawBytes;
                for (bool gemv : {true, false}) {
                    setQuantGemvEnabled(gemv);
                    for (const auto& [n0, n1] : std::vector<std::pair<std::int64_t, std::int64_t>>{
                             {0, rows}, {1, rows}, {0, rows - 1}, {rows / 2, rows}}) {
                        if (n0 >= n1) continue;
                        std::vector<float> y(ref.size(), -1.0f);
                        matmulRows(CpuIsa::Avx2, p.w, p.x.data(), p.xq.data(), tokens, y.data(), rows, n0, n1);
                        for (std::int64_t t = 0; t < tokens; ++t) {
                            for (std::int64_t n = 0; n < rows; ++n) {
                                // Raw bytes: no dequantised copy for absDot; bound by the largest output.
                                const double tol = rawBytes ? 1e-5 * absRef + 1e-6 : 1e-5 * absDot(p, n, t) + 1e-6;
                                const std::size_t i = static_cast<std::size_t>(t * rows + n);
                                const float want = n >= n0 && n < n1 ? ref[i] : -1.0f;
                                ASSERT_NEAR(y[i], want, tol) << weightTypeName(type) << " rows=" << rows << " K=" << cols
                                                             << " T=" << tokens << " [" << n0 << ", " << n1
                                                             << ") n=" << n << " t=" << t << " new=" << gemv
                                                             << " raw=" << rawBytes;
                            }
                        }
                    }
                }
                setQuantGemvEnabled(true);
            }
        }
    }
}
