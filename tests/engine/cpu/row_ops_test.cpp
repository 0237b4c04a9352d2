// SPDX-License-Identifier: GPL-3.0-or-later
// The RMSNorm and SwiGLU rows of every ISA level against double-precision references.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/model/cpu/row_ops.h"

using namespace batchscope::engine::cpu;

namespace {

std::vector<CpuIsa> levels() {
    std::vector<CpuIsa> out;
    for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512})
        if (isa <= detectCpuIsa()) out.push_back(isa);
    return out;
}

float pseudo(int i) { return static_cast<float>((i * 2654435761u) % 2001) * 1e-3f - 1.0f; }

}  // namespace

TEST(CpuRowOps, RmsNormMatchesDoubleReference) {
    for (std::int64_t n : {1, 7, 64, 513, 4096}) {
        std::vector<float> x(static_cast<std::size_t>(n)), w(x.size()), out(x.size());
        for (std::int64_t i = 0; i < n; ++i) {
            x[static_cast<std::size_t>(i)] = 3.0f * pseudo(static_cast<int>(i));
            w[static_cast<std::size_t>(i)] = 1.0f + pseudo(static_cast<int>(i) + 17);
        }
        double ss = 0.0;
        for (float v : x) ss += double(v) * v;
        const double scale = 1.0 / std::sqrt(ss / double(n) + 1e-5);
        for (CpuIsa isa : levels()) {
            rowOps(isa).rmsNorm(x.data(), w.data(), out.data(), n, 1e-5f);
            for (std::size_t i = 0; i < x.size(); ++i) {
                const double ref = x[i] * scale * w[i];
                ASSERT_NEAR(out[i], ref, 1e-6 * std::abs(ref) + 1e-7) << cpuIsaName(isa) << " n=" << n << " i=" << i;
            }
        }
    }
}

TEST(CpuRowOps, SwigluMatchesDoubleReferenceIncludingExtremes) {
    // The extremes first, so the vector loops (not only the scalar tails) see them.
    std::vector<float> gate{0.0f, -0.0f, 1e-30f, -1e-30f, 87.0f, -87.0f, 88.5f, -88.5f,
                            100.0f, -100.0f, 1e30f, -1e30f, -87.9f, -88.1f, 86.0f, -60.0f};
    for (int i = 0; i < 1000; ++i) gate.push_back(20.0f * pseudo(i));
    std::vector<float> up(gate.size());
    for (std::size_t i = 0; i < up.size(); ++i) up[i] = 1.0f + pseudo(static_cast<int>(i) + 5);
    for (CpuIsa isa : levels()) {
        std::vector<float> g = gate;
        rowOps(isa).swiglu(g.data(), up.data(), static_cast<std::int64_t>(g.size()));
        for (std::size_t i = 0; i < g.size(); ++i) {
            const double x = gate[i];
            const double ref = x / (1.0 + std::exp(-x)) * up[i];
            ASSERT_TRUE(std::isfinite(g[i])) << cpuIsaName(isa) << " gate=" << x;
            ASSERT_NEAR(g[i], ref, 1e-6 * std::abs(ref) + 1e-35) << cpuIsaName(isa) << " gate=" << x;
        }
    }
}

TEST(CpuRowOps, SoftcapMatchesDoubleTanhAcrossTheBranchAndTheClamp) {
    // Around the polynomial/exponential switch at |x / cap| = 0.625, tiny values (where
    // 1 - 2 / (e^2x + 1) would cancel), the exp clamp and infinities.
    const float cap = 30.0f;
    std::vector<float> x{0.0f, -0.0f, 1e-20f, -1e-20f, 1e-4f, -1e-4f, 18.74f, 18.76f, -18.74f, -18.76f,
                         1e4f, -1e4f, 1e30f, -1e30f, INFINITY, -INFINITY};
    for (int i = 0; i < 2000; ++i) x.push_back(120.0f * pseudo(i));
    for (CpuIsa isa : levels()) {
        std::vector<float> y = x;
        rowOps(isa).softcap(y.data(), static_cast<std::int64_t>(y.size()), cap);
        for (std::size_t i = 0; i < y.size(); ++i) {
            const double ref = cap * std::tanh(double(x[i]) / cap);
            ASSERT_NEAR(y[i], ref, 1e-6 * std::abs(ref) + 1e-12)
                << cpuIsaName(isa) << " x=" << x[i];
            if (x[i] != 0.0f) {
                ASSERT_EQ(std::signbit(y[i]), std::signbit(x[i])) << cpuIsaName(isa) << " x=" << x[i];
            }
        }
    }
}
