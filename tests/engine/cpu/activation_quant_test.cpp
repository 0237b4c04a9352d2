// SPDX-License-Identifier: GPL-3.0-or-later
// The AVX2 activation quantisers (activation_quant_avx2.cpp) against the scalar references,
// byte for byte: the integer kernels' results must not depend on which one ran.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/model/cpu/cpu_isa.h"
#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/quant_types.h"

using namespace batchscope::engine::cpu;

namespace {

// Rows that reach the edge cases: a zero block, ties of +-max (the Q8_K sign rule), values at
// exactly half a quantisation step (round half to even), tiny and large magnitudes.
std::vector<float> testRow(std::int64_t cols, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(cols));
    for (auto& v : x) v = normal(rng) * (seed % 3 == 0 ? 1e-3f : seed % 3 == 1 ? 1.0f : 40.0f);
    for (std::int64_t i = 0; i < std::min<std::int64_t>(cols, 256); ++i) x[static_cast<std::size_t>(i)] = 0.0f;  // zero block
    if (cols >= 512) {
        x[300] = -5.0f;  // the first of a +-max tie: decides the Q8_K sign
        x[400] = 5.0f;
        for (int i = 257; i < 280; ++i) x[static_cast<std::size_t>(i)] = 5.0f * static_cast<float>(i - 268) / 127.0f * 0.5f;
    }
    return x;
}

}  // namespace

TEST(CpuActivationQuant, Avx2Q8KMatchesScalarBytes) {
    if (detectCpuIsa() < CpuIsa::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
    for (std::uint32_t seed = 0; seed < 12; ++seed) {
        const std::int64_t cols = 256 * (2 + seed % 5);
        const auto x = testRow(cols, seed);
        std::vector<BlockQ8_K> ref(static_cast<std::size_t>(cols / kQK)), simd(ref.size());
        quantizeRowQ8K(x.data(), cols, ref.data());
        detail::quantizeRowQ8KAvx2(x.data(), cols, simd.data());
        ASSERT_EQ(std::memcmp(ref.data(), simd.data(), ref.size() * sizeof(BlockQ8_K)), 0) << "seed " << seed;
    }
}

TEST(CpuActivationQuant, Avx2Q8_0MatchesScalarBytes) {
    if (detectCpuIsa() < CpuIsa::Avx2) GTEST_SKIP() << "this CPU has no AVX2";
    for (std::uint32_t seed = 0; seed < 12; ++seed) {
        const std::int64_t cols = 32 * (17 + seed);
        const auto x = testRow(cols, seed);
        std::vector<ActivationQ8> ref(static_cast<std::size_t>(cols / kQBlock)), simd(ref.size());
        quantizeActivations(x.data(), cols, ref.data());
        detail::quantizeActivationsAvx2(x.data(), cols, simd.data());
        for (std::size_t b = 0; b < ref.size(); ++b) {
            ASSERT_EQ(std::memcmp(&ref[b].d, &simd[b].d, sizeof(float)), 0) << "seed " << seed << " block " << b;
            ASSERT_EQ(std::memcmp(ref[b].qs, simd[b].qs, kQBlock), 0) << "seed " << seed << " block " << b;
        }
    }
}
