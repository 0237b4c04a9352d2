// SPDX-License-Identifier: GPL-3.0-or-later
// The K-quant and IQ4_XS SIMD kernels (matmul_kquant_*.cpp) against the scalar reference of quant_types.h,
// per ISA level explicitly, with row-panel and token-block tails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/model/cpu/matmul.h"
#include "engine/model/cpu/quant_types.h"

using namespace batchscope::engine::cpu;

namespace {

// Random blocks: every bit pattern of the quants and scales is a valid block; only the half
// scales are chosen (finite, of a realistic size).
std::vector<std::byte> randomRows(WeightType type, std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> scale(0.0005f, 0.004f);
    const std::size_t rb = weightRowBytes(type, cols);
    std::vector<std::byte> data(rb * static_cast<std::size_t>(rows));
    for (auto& b : data) b = static_cast<std::byte>(byte(rng));
    const std::int64_t blocks = rows * cols / kQK;
    for (std::int64_t i = 0; i < blocks; ++i) {
        std::byte* blk = data.data() + i * static_cast<std::int64_t>(rb / static_cast<std::size_t>(cols / kQK));
        const std::uint16_t d = floatToHalf(scale(rng)), dmin = floatToHalf(scale(rng));
        if (type == WeightType::Q4_K || type == WeightType::Q5_K) {  // same d, dmin offsets
            static_assert(offsetof(BlockQ4_K, dmin) == offsetof(BlockQ5_K, dmin));
            std::memcpy(blk + offsetof(BlockQ4_K, d), &d, 2);
            std::memcpy(blk + offsetof(BlockQ4_K, dmin), &dmin, 2);
        } else if (type == WeightType::Q6_K) {
            std::memcpy(blk + offsetof(BlockQ6_K, d), &d, 2);
        } else if (type == WeightType::Q3_K) {
            std::memcpy(blk + offsetof(BlockQ3_K, d), &d, 2);
        } else if (type == WeightType::IQ4_XS) {
            std::memcpy(blk + offsetof(BlockIQ4_XS, d), &d, 2);
        } else if (type == WeightType::Q2_K) {
            std::memcpy(blk + offsetof(BlockQ2_K, d), &d, 2);
            std::memcpy(blk + offsetof(BlockQ2_K, dmin), &dmin, 2);
        }
    }
    return data;
}

struct Problem {
    std::vector<std::byte> storage;
    WeightMatrix w;
    std::vector<float> x;
    std::vector<BlockQ8_K> xk;
};

Problem makeProblem(WeightType type, std::int64_t rows, std::int64_t cols, std::int64_t tokens, std::uint32_t seed) {
    Problem p;
    p.storage = randomRows(type, rows, cols, seed);
    p.w = WeightMatrix{type, p.storage.data(), rows, cols};
    std::mt19937 rng(seed + 7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    p.x.resize(static_cast<std::size_t>(tokens * cols));
    for (float& v : p.x) v = dist(rng);
    p.xk.resize(static_cast<std::size_t>(tokens * cols / kQK));
    for (std::int64_t t = 0; t < tokens; ++t) quantizeRowQ8K(p.x.data() + t * cols, cols, p.xk.data() + t * cols / kQK);
    return p;
}

// Sum over k of |w_k * x_k| with the quantised activations: the scale of a dot's rounding error.
std::vector<double> absDots(const Problem& p, std::int64_t tokens) {
    const std::int64_t K = p.w.cols, N = p.w.rows;
    std::vector<float> row(static_cast<std::size_t>(K));
    std::vector<double> out(static_cast<std::size_t>(tokens * N));
    for (std::int64_t n = 0; n < N; ++n) {
        quantTraits(p.w.type).dequantizeRow(p.w.row(n), row.data(), K);
        for (std::int64_t t = 0; t < tokens; ++t) {
            double s = 0;
            for (std::int64_t k = 0; k < K; ++k) {
                const BlockQ8_K& b = p.xk[static_cast<std::size_t>(t * K / kQK + k / kQK)];
                s += std::fabs(row[static_cast<std::size_t>(k)] * b.d * b.qs[k % kQK]);
            }
            out[static_cast<std::size_t>(t * N + n)] = s;
        }
    }
    return out;
}

void expectMatchesScalar(CpuIsa isa, WeightType type, std::int64_t rows, std::int64_t cols, std::int64_t tokens,
                         std::uint32_t seed) {
    const Problem p = makeProblem(type, rows, cols, tokens, seed);
    std::vector<float> ref(static_cast<std::size_t>(tokens * rows)), y(ref.size(), -1.0f);
    matmulRows(CpuIsa::Scalar, p.w, p.x.data(), nullptr, tokens, ref.data(), rows, 0, rows, p.xk.data());
    matmulRows(isa, p.w, p.x.data(), nullptr, tokens, y.data(), rows, 0, rows, p.xk.data());
    const auto scale = absDots(p, tokens);
    for (std::int64_t t = 0; t < tokens; ++t)
        for (std::int64_t n = 0; n < rows; ++n) {
            const auto i = static_cast<std::size_t>(t * rows + n);
            ASSERT_NEAR(y[i], ref[i], 1e-4 * scale[i] + 1e-7)
                << weightTypeName(type) << " isa=" << cpuIsaName(isa) << " N=" << rows << " K=" << cols
                << " T=" << tokens << " n=" << n << " t=" << t;
        }
}

constexpr WeightType kTypes[] = {WeightType::Q2_K, WeightType::Q3_K, WeightType::Q4_K,
                                 WeightType::Q5_K, WeightType::Q6_K, WeightType::IQ4_XS};

void runIsa(CpuIsa isa) {
    std::uint32_t seed = 1;
    for (WeightType type : kTypes) {
        // Tokens: single, a few, around the 64-token block; rows: around the 16-row panel.
        for (std::int64_t tokens : {1, 2, 3, 4, 7, 63, 64, 65, 130})
            expectMatchesScalar(isa, type, 19, 512, tokens, seed++);
        for (std::int64_t rows : {1, 15, 16, 17, 33}) expectMatchesScalar(isa, type, rows, 768, 5, seed++);
        expectMatchesScalar(isa, type, 5, 256, 1, seed++);
    }
}

}  // namespace

TEST(CpuKQuantMatmul, Avx2MatchesScalarReference) {
    if (detectCpuIsa() < CpuIsa::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
    runIsa(CpuIsa::Avx2);
}

TEST(CpuKQuantMatmul, Avx512VnniMatchesScalarReference) {
    if (detectCpuIsa() < CpuIsa::Avx512 || !cpuHasVnni())
        GTEST_SKIP() << "this CPU has no AVX-512 VNNI: the VNNI K-quant kernels are not exercised";
    setKQuantAvx512Enabled(true);  // off by default until verified on such a CPU (cpu_isa.h)
    runIsa(CpuIsa::Avx512);
    setKQuantAvx512Enabled(false);
    runIsa(CpuIsa::Avx512);  // the default on AVX-512 CPUs: the AVX2 K-quant kernels
}

// The scalar reference's integer formula equals the float dot of dequantised weights and
// dequantised activations (both exact but for float rounding).
TEST(CpuKQuantMatmul, ScalarReferenceMatchesDequantisedDot) {
    std::uint32_t seed = 300;
    for (WeightType type : kTypes) {
        const std::int64_t rows = 6, cols = 512, tokens = 3;
        const Problem p = makeProblem(type, rows, cols, tokens, seed++);
        std::vector<float> y(static_cast<std::size_t>(tokens * rows));
        matmulRows(CpuIsa::Scalar, p.w, p.x.data(), nullptr, tokens, y.data(), rows, 0, rows, p.xk.data());
        const auto scale = absDots(p, tokens);
        std::vector<float> row(static_cast<std::size_t>(cols));
        for (std::int64_t n = 0; n < rows; ++n) {
            quantTraits(type).dequantizeRow(p.w.row(n), row.data(), cols);
            for (std::int64_t t = 0; t < tokens; ++t) {
                double exact = 0;
                for (std::int64_t k = 0; k < cols; ++k) {
                    const BlockQ8_K& b = p.xk[static_cast<std::size_t>(t * cols / kQK + k / kQK)];
                    exact += static_cast<double>(row[static_cast<std::size_t>(k)]) * b.d * b.qs[k % kQK];
                }
                const auto i = static_cast<std::size_t>(t * rows + n);
                ASSERT_NEAR(y[i], exact, 1e-4 * scale[i] + 1e-7) << weightTypeName(type) << " n=" << n << " t=" << t;
            }
        }
    }
}

// Matmul::runMany with a Q4_K and a Q6_K target (as Q4_K_M's Q/K/V): the threaded path quantises
// the activations once and gives the scalar reference's results.
TEST(CpuKQuantMatmul, ThreadedMixedTargetsMatchScalar) {
    ThreadPool pool(3);
    const std::int64_t cols = 512, tokens = 9;
    const Problem a = makeProblem(WeightType::Q4_K, 70, cols, tokens, 500);
    Problem b = makeProblem(WeightType::Q6_K, 37, cols, tokens, 501);
    b.x = a.x;
    b.xk = a.xk;
    std::vector<float> ya(static_cast<std::size_t>(tokens * 70)), yb(static_cast<std::size_t>(tokens * 37));
    Matmul mm(pool, activeCpuIsa());
    const MatmulTarget targets[] = {{&a.w, ya.data()}, {&b.w, yb.data()}};
    mm.runMany(targets, a.x.data(), tokens);
    for (const Problem* pr : {static_cast<const Problem*>(&a), static_cast<const Problem*>(&b)}) {
        const std::int64_t N = pr->w.rows;
        std::vector<float> ref(static_cast<std::size_t>(tokens * N));
        matmulRows(CpuIsa::Scalar, pr->w, a.x.data(), nullptr, tokens, ref.data(), N, 0, N, a.xk.data());
        const auto scale = absDots(*pr, tokens);
        const std::vector<float>& y = pr == &a ? ya : yb;
        for (std::size_t i = 0; i < ref.size(); ++i)
            ASSERT_NEAR(y[i], ref[i], 1e-4 * scale[i] + 1e-7) << weightTypeName(pr->w.type) << " i=" << i;
    }
}
