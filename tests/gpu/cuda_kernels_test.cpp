// SPDX-License-Identifier: GPL-3.0-or-later
// Each CUDA kernel against a plain CPU implementation on random inputs. Thresholds are on the
// normalised MSE (sum (a - b)^2 / sum b^2) and follow the output type: ~1e-7 for F16 rounding,
// ~1e-5 for BF16 (8-bit mantissa); exact where nothing is rounded.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/model/cpu/weight_types.h"
#include "gpu/cuda_buffer.h"
#include "gpu/cuda_check.h"
#include "gpu/kernels/kernels.h"
#include "gpu_test_util.h"

using namespace batchscope;
using gpu::ActType;
using gpu::DeviceBuffer;
namespace cpu = batchscope::engine::cpu;

namespace {

std::vector<float> randomVector(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

template <typename T>
DeviceBuffer upload(const std::vector<T>& v) {
    DeviceBuffer b(std::max<std::size_t>(1, v.size() * sizeof(T)));
    CUDA_CHECK(cudaMemcpy(b.get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
    return b;
}

template <typename T>
std::vector<T> download(const DeviceBuffer& b, std::size_t n) {
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> v(n);
    CUDA_CHECK(cudaMemcpy(v.data(), b.get(), n * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
}

// 2-byte values of `type` <-> float.
std::vector<std::uint16_t> toAct(ActType type, const std::vector<float>& v) {
    std::vector<std::uint16_t> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i)
        out[i] = type == ActType::F16 ? cpu::floatToHalf(v[i]) : cpu::floatToBf16(v[i]);
    return out;
}
std::vector<float> fromAct(ActType type, const std::vector<std::uint16_t>& v) {
    std::vector<float> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = type == ActType::F16 ? cpu::halfToFloat(v[i]) : cpu::bf16ToFloat(v[i]);
    return out;
}

double nmse(const std::vector<float>& got, const std::vector<double>& want) {
    double err = 0, mag = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        err += (got[i] - want[i]) * (got[i] - want[i]);
        mag += want[i] * want[i];
    }
    return err / std::max(mag, 1e-30);
}

double tolerance(ActType type) { return type == ActType::F16 ? 1e-6 : 3e-5; }
const char* name(ActType type) { return type == ActType::F16 ? "F16" : "BF16"; }
constexpr ActType kTypes[] = {ActType::F16, ActType::BF16};

}  // namespace

TEST(CudaKernels, EmbeddingGathersRowsExactly) {
    SKIP_WITHOUT_CUDA();
    const int vocab = 50, dim = 96;
    const std::vector<std::int32_t> tokens{3, 49, 0, 3, 17};
    for (ActType type : kTypes) {
        const auto table = toAct(type, randomVector(vocab * dim, 1));
        DeviceBuffer dTable = upload(table), dTokens = upload(tokens), dx(tokens.size() * dim * 4);
        gpu::launchEmbedding(type, dTable.get(), dTokens.as<std::int32_t>(), 5, dim, dx.as<float>(), nullptr);
        const auto x = download<float>(dx, tokens.size() * dim);
        const auto ref = fromAct(type, table);
        for (std::size_t t = 0; t < tokens.size(); ++t)
            for (int i = 0; i < dim; ++i)
                ASSERT_EQ(x[t * dim + i], ref[static_cast<std::size_t>(tokens[t]) * dim + i]) << name(type);
    }
}

TEST(CudaKernels, RmsNormMatchesCpu) {
    SKIP_WITHOUT_CUDA();
    const int rows = 5, dim = 300;
    const auto x = randomVector(rows * dim, 2, 3.0f), w = randomVector(dim, 3);
    std::vector<double> ref(x.size());
    for (int r = 0; r < rows; ++r) {
        double ss = 0;
        for (int i = 0; i < dim; ++i) ss += double(x[r * dim + i]) * x[r * dim + i];
        const double s = 1.0 / std::sqrt(ss / dim + 1e-5);
        for (int i = 0; i < dim; ++i) ref[r * dim + i] = x[r * dim + i] * s * w[i];
    }
    for (ActType type : kTypes) {
        DeviceBuffer dx = upload(x), dw = upload(w), dout(x.size() * 2);
        gpu::launchRmsNorm(type, dx.as<float>(), rows, dim, dw.as<float>(), 1e-5f, dout.get(), nullptr);
        EXPECT_LT(nmse(fromAct(type, download<std::uint16_t>(dout, x.size())), ref), tolerance(type)) << name(type);
    }
}

TEST(CudaKernels, RopeMatchesCpuNormMode) {
    SKIP_WITHOUT_CUDA();
    const int rows = 7, heads = 6, headDim = 16, ropeDim = 12, stride = heads * headDim + 10;
    const std::vector<std::int32_t> pos{0, 1, 5, 100, 1000, 2047, 4000};
    const auto qkv = randomVector(rows * stride, 4);
    std::vector<double> ref(qkv.begin(), qkv.end());
    for (int t = 0; t < rows; ++t)
        for (int h = 0; h < heads; ++h)
            for (int i = 0; i < ropeDim / 2; ++i) {
                const double theta = pos[t] * std::pow(10000.0, -2.0 * i / ropeDim);
                const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
                const std::size_t p = static_cast<std::size_t>(t * stride + h * headDim + 2 * i);
                ref[p] = qkv[p] * c - qkv[p + 1] * s;
                ref[p + 1] = qkv[p] * s + qkv[p + 1] * c;
            }
    DeviceBuffer d = upload(qkv), dpos = upload(pos);
    gpu::launchRope(d.as<float>(), rows, stride, heads, headDim, ropeDim, 10000.0f, dpos.as<std::int32_t>(), nullptr);
    const auto got = download<float>(d, qkv.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-5) << i;
}

TEST(CudaKernels, SwigluMatchesCpu) {
    SKIP_WITHOUT_CUDA();
    const int T = 3, ffn = 1000;
    const auto gu = randomVector(T * 2 * ffn, 5, 2.0f);
    std::vector<double> ref(T * ffn);
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < ffn; ++i) {
            const double g = gu[t * 2 * ffn + i];
            ref[t * ffn + i] = g / (1.0 + std::exp(-g)) * gu[t * 2 * ffn + ffn + i];
        }
    for (ActType type : kTypes) {
        DeviceBuffer d = upload(gu), dout(ref.size() * 2);
        gpu::launchSwiglu(type, d.as<float>(), T, ffn, dout.get(), nullptr);
        EXPECT_LT(nmse(fromAct(type, download<std::uint16_t>(dout, ref.size())), ref), tolerance(type)) << name(type);
    }
}

// More tokens than grid.y allows (65,535): the kernel must put tokens on grid.x.
TEST(CudaKernels, SwigluTakesMoreThan65535Tokens) {
    SKIP_WITHOUT_CUDA();
    const int T = 70000, ffn = 6;
    const auto gu = randomVector(T * 2 * ffn, 15, 2.0f);
    std::vector<double> ref(static_cast<std::size_t>(T) * ffn);
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < ffn; ++i) {
            const double g = gu[t * 2 * ffn + i];
            ref[t * ffn + i] = g / (1.0 + std::exp(-g)) * gu[t * 2 * ffn + ffn + i];
        }
    DeviceBuffer d = upload(gu), dout(ref.size() * 2);
    gpu::launchSwiglu(ActType::F16, d.as<float>(), T, ffn, dout.get(), nullptr);
    const auto got = fromAct(ActType::F16, download<std::uint16_t>(dout, ref.size()));
    EXPECT_LT(nmse(got, ref), tolerance(ActType::F16));
    // The last token's row too (an untouched row stays 0 and would fail here).
    for (int i = 0; i < ffn; ++i) EXPECT_NEAR(got[(T - 1) * ffn + i], ref[(T - 1) * ffn + i], 1e-2 + 1e-2 * std::fabs(ref[(T - 1) * ffn + i]));
}

TEST(CudaKernels, GatherRowsAndArgmaxAreExact) {
    SKIP_WITHOUT_CUDA();
    const int rows = 6, cols = 5000;
    auto logits = randomVector(rows * cols, 6);
    logits[1 * cols + 7] = logits[1 * cols + 4000] = 50.0f;  // tie: the lower index wins
    logits[2 * cols + 9] = NAN;                               // NaN never wins
    logits[2 * cols + 10] = 40.0f;
    std::fill(logits.begin() + 3 * cols, logits.begin() + 4 * cols, -INFINITY);
    const std::vector<std::int32_t> pick{5, 0, 2, 2};
    DeviceBuffer d = upload(logits), dpick = upload(pick), dg(pick.size() * cols * 4), dids(rows * 4);
    gpu::launchGatherRows(d.as<float>(), cols, dpick.as<std::int32_t>(), 4, dg.as<float>(), nullptr);
    gpu::launchArgmax(d.as<float>(), rows, cols, dids.as<std::int32_t>(), nullptr);
    const auto g = download<float>(dg, pick.size() * cols);
    for (std::size_t r = 0; r < pick.size(); ++r)
        for (int i = 0; i < cols; ++i)
            ASSERT_TRUE(std::memcmp(&g[r * cols + i], &logits[pick[r] * cols + i], 4) == 0);
    const auto ids = download<std::int32_t>(dids, rows);
    for (int r = 0; r < rows; ++r) {
        int best = 0;
        for (int i = 1; i < cols; ++i) {
            const float v = std::isnan(logits[r * cols + i]) ? -INFINITY : logits[r * cols + i];
            if (v > logits[r * cols + best]) best = i;
        }
        EXPECT_EQ(ids[r], best) << "row " << r;
    }
    EXPECT_EQ(ids[1], 7);
    EXPECT_EQ(ids[2], 10);
    EXPECT_EQ(ids[3], 0);
}

namespace {

// Sequences with shuffled block tables; every token of every sequence in one step (a mixed
// batch as far as the kernels are concerned: each token has its own position and table).
struct PagedCase {
    int heads = 4, kvHeads = 2, headDim = 0, blockSize = 0;
    std::vector<int> lengths;
    std::vector<std::int32_t> positions, tableOffset, tables;
    int numBlocks = 0, tokens = 0;

    PagedCase(int hd, int bs, std::vector<int> lens) : headDim(hd), blockSize(bs), lengths(std::move(lens)) {
        for (int len : lengths) numBlocks += (len + bs - 1) / bs;
        numBlocks += 3;  // unused blocks in the pool
        std::vector<std::int32_t> ids(static_cast<std::size_t>(numBlocks));
        std::iota(ids.begin(), ids.end(), 0);
        std::shuffle(ids.begin(), ids.end(), std::mt19937(11));
        std::size_t next = 0;
        for (int len : lengths) {
            const auto off = static_cast<std::int32_t>(tables.size());
            for (int b = 0; b < (len + bs - 1) / bs; ++b) tables.push_back(ids[next++]);
            for (int p = 0; p < len; ++p) positions.push_back(p), tableOffset.push_back(off);
        }
        tokens = static_cast<int>(positions.size());
    }
    int kvDim() const { return kvHeads * headDim; }
    int stride() const { return heads * headDim + 2 * kvDim(); }
    std::size_t slot(int t) const {
        const int p = positions[t];
        return (static_cast<std::size_t>(tables[tableOffset[t] + p / blockSize]) * blockSize + p % blockSize) * kvDim();
    }
};

void checkPagedAttention(const PagedCase& c, ActType type) {
    const auto qkv = randomVector(static_cast<std::size_t>(c.tokens) * c.stride(), 21);
    const std::size_t poolElems = static_cast<std::size_t>(c.numBlocks) * c.blockSize * c.kvDim();
    DeviceBuffer dqkv = upload(qkv), dpos = upload(c.positions), doff = upload(c.tableOffset), dtab = upload(c.tables);
    DeviceBuffer dk(poolElems * 2), dv(poolElems * 2), dout(static_cast<std::size_t>(c.tokens) * c.heads * c.headDim * 2);
    gpu::PagedKv kv;
    kv.k = dk.as<__half>();
    kv.v = dv.as<__half>();
    kv.positions = dpos.as<std::int32_t>();
    kv.tableOffset = doff.as<std::int32_t>();
    kv.blockTables = dtab.as<std::int32_t>();
    kv.blockSize = c.blockSize;
    kv.kvDim = c.kvDim();
    const int kOff = c.heads * c.headDim, vOff = kOff + c.kvDim();
    gpu::launchKvWrite(dqkv.as<float>(), c.tokens, c.stride(), kOff, vOff, kv, nullptr);
    gpu::AttentionArgs a;
    a.qkv = dqkv.as<float>();
    a.stride = c.stride();
    a.tokenCount = c.tokens;
    a.heads = c.heads;
    a.kvHeads = c.kvHeads;
    a.headDim = c.headDim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(c.headDim));
    a.kv = kv;
    a.out = dout.get();
    gpu::launchPagedAttention(type, a, nullptr);

    // The pool holds every token's K and V, F16-rounded, at its block-table slot.
    const auto k = fromAct(ActType::F16, download<std::uint16_t>(dk, poolElems));
    const auto v = fromAct(ActType::F16, download<std::uint16_t>(dv, poolElems));
    for (int t = 0; t < c.tokens; ++t)
        for (int i = 0; i < c.kvDim(); ++i) {
            ASSERT_EQ(k[c.slot(t) + i], cpu::halfToFloat(cpu::floatToHalf(qkv[t * c.stride() + kOff + i])));
            ASSERT_EQ(v[c.slot(t) + i], cpu::halfToFloat(cpu::floatToHalf(qkv[t * c.stride() + vOff + i])));
        }
    // Reference attention in double over the rounded K/V; token t's sequence starts at t - pos.
    std::vector<double> ref(static_cast<std::size_t>(c.tokens) * c.heads * c.headDim);
    for (int t = 0; t < c.tokens; ++t)
        for (int h = 0; h < c.heads; ++h) {
            const int kvh = h / (c.heads / c.kvHeads), first = t - c.positions[t];
            std::vector<double> s(static_cast<std::size_t>(c.positions[t] + 1));
            for (int j = 0; j <= c.positions[t]; ++j) {
                double dot = 0;
                for (int d = 0; d < c.headDim; ++d)
                    dot += double(qkv[t * c.stride() + h * c.headDim + d]) * k[c.slot(first + j) + kvh * c.headDim + d];
                s[j] = dot / std::sqrt(double(c.headDim));
            }
            const double m = *std::max_element(s.begin(), s.end());
            double sum = 0;
            for (double& x : s) sum += (x = std::exp(x - m));
            for (int d = 0; d < c.headDim; ++d) {
                double o = 0;
                for (int j = 0; j <= c.positions[t]; ++j) o += s[j] * v[c.slot(first + j) + kvh * c.headDim + d];
                ref[(static_cast<std::size_t>(t) * c.heads + h) * c.headDim + d] = o / sum;
            }
        }
    const auto got = fromAct(type, download<std::uint16_t>(dout, ref.size()));
    EXPECT_LT(nmse(got, ref), tolerance(type) * 4) << name(type) << " headDim " << c.headDim;
}

}  // namespace

TEST(CudaKernels, KvWriteAndPagedAttentionMatchCpu) {
    SKIP_WITHOUT_CUDA();
    for (ActType type : kTypes) {
        checkPagedAttention(PagedCase(16, 5, {1, 37, 130}), type);   // odd block size, tiny head
        checkPagedAttention(PagedCase(128, 16, {300, 2, 64}), type); // Llama head size
        checkPagedAttention(PagedCase(256, 16, {70}), type);         // the largest head supported
    }
}

TEST(CudaKernels, PagedAttentionRejectsUnsupportedHeads) {
    SKIP_WITHOUT_CUDA();
    gpu::AttentionArgs a;
    a.tokenCount = 1;
    a.heads = 4;
    a.kvHeads = 4;
    a.headDim = 258;
    EXPECT_THROW(gpu::launchPagedAttention(ActType::F16, a, nullptr), gpu::CudaError);
}
