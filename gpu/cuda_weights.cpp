// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/cuda_weights.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "gpu/cuda_check.h"

namespace batchscope::gpu {

using engine::cpu::WeightMatrix;
using engine::cpu::WeightType;

namespace {

constexpr std::size_t kStagingBytes = std::size_t{32} << 20;

std::size_t matrixBytes(const WeightMatrix& m) { return static_cast<std::size_t>(m.rows * m.cols) * 2; }
std::size_t normBytes(const std::vector<float>& v) { return v.size() * sizeof(float); }

std::string gib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1u << 30));
    return buf;
}

ActType chooseType(const engine::cpu::LlamaWeights& w) {
    bool allBf16 = w.tokenEmbedding.type == WeightType::BF16 && w.output.type == WeightType::BF16;
    for (const auto& l : w.layers)
        for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down})
            allBf16 = allBf16 && m->type == WeightType::BF16;
    return allBf16 ? ActType::BF16 : ActType::F16;
}

// Carves the arena into 256-byte aligned pieces, in the order the upload fills them.
class Carver {
public:
    explicit Carver(char* base) : m_base(base) {}
    char* take(std::size_t bytes) {
        char* p = m_base + m_used;
        m_used += alignUp(bytes);
        return p;
    }
    std::size_t used() const { return m_used; }

private:
    char* m_base;
    std::size_t m_used = 0;
};

// Converts and copies matrices through a pinned staging buffer (rows of 2-byte elements).
class Uploader {
public:
    explicit Uploader(ActType type) : m_type(type) { m_staging.reserve(kStagingBytes); }

    void matrix(const WeightMatrix& m, char* dst) {
        const WeightType target = m_type == ActType::BF16 ? WeightType::BF16 : WeightType::F16;
        const std::size_t rowOut = static_cast<std::size_t>(m.cols) * 2;
        if (m.type == target) {  // already in the device format: copy straight from the mapping
            CUDA_CHECK(cudaMemcpy(dst, m.data, rowOut * static_cast<std::size_t>(m.rows), cudaMemcpyHostToDevice));
            return;
        }
        m_row.resize(static_cast<std::size_t>(m.cols));
        const std::int64_t chunkRows = std::max<std::int64_t>(1, static_cast<std::int64_t>(kStagingBytes / rowOut));
        for (std::int64_t r0 = 0; r0 < m.rows; r0 += chunkRows) {
            const std::int64_t r1 = std::min(m.rows, r0 + chunkRows);
            auto* out = m_staging.as<std::uint16_t>();
            for (std::int64_t r = r0; r < r1; ++r) {
                engine::cpu::dequantizeRow(m.type, m.row(r), m.cols, m_row.data());
                for (std::int64_t c = 0; c < m.cols; ++c)
                    *out++ = target == WeightType::BF16 ? engine::cpu::floatToBf16(m_row[static_cast<std::size_t>(c)])
                                                        : engine::cpu::floatToHalf(m_row[static_cast<std::size_t>(c)]);
            }
            CUDA_CHECK(cudaMemcpy(dst + static_cast<std::size_t>(r0) * rowOut, m_staging.as<void>(),
                                  static_cast<std::size_t>(r1 - r0) * rowOut, cudaMemcpyHostToDevice));
        }
    }

    static void norm(const std::vector<float>& v, char* dst) {
        CUDA_CHECK(cudaMemcpy(dst, v.data(), normBytes(v), cudaMemcpyHostToDevice));
    }

private:
    ActType m_type;
    PinnedBuffer m_staging;
    std::vector<float> m_row;
};

}  // namespace

std::uint64_t cudaWeightBytes(const engine::cpu::LlamaWeights& w) {
    std::uint64_t n = alignUp(matrixBytes(w.tokenEmbedding)) + alignUp(normBytes(w.outputNorm));
    if (!w.tiedOutput) n += alignUp(matrixBytes(w.output));
    for (const auto& l : w.layers) {
        n += alignUp(normBytes(l.attnNorm)) + alignUp(normBytes(l.ffnNorm));
        n += alignUp(matrixBytes(l.wq) + matrixBytes(l.wk) + matrixBytes(l.wv)) + alignUp(matrixBytes(l.wo));
        n += alignUp(matrixBytes(l.gate) + matrixBytes(l.up)) + alignUp(matrixBytes(l.down));
    }
    return n;
}

engine::Result<CudaWeights> uploadLlamaWeights(const engine::cpu::LlamaWeights& w, std::size_t reserveBytes,
                                               const std::function<void(double)>& progress, std::stop_token stop) {
    using engine::ErrorCode;
    CudaWeights cw;
    cw.config = w.config;
    cw.type = chooseType(w);
    cw.deviceBytes = cudaWeightBytes(w);
    std::size_t freeBytes = 0, totalBytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    if (cw.deviceBytes + reserveBytes > freeBytes)
        return engine::makeError(ErrorCode::Unsupported,
                                 "the model needs " + gib(cw.deviceBytes) + " of device memory for its weights (as " +
                                     (cw.type == ActType::BF16 ? "BF16" : "F16") + ") plus " + gib(reserveBytes) +
                                     " reserved, but only " + gib(freeBytes) + " of " + gib(totalBytes) + " are free");
    cw.arena = DeviceBuffer(cw.deviceBytes);
    Carver carve(cw.arena.as<char>());
    Uploader up(cw.type);
    const double steps = 2.0 + static_cast<double>(w.layers.size());
    auto cancelled = [&] { return stop.stop_requested(); };

    char* emb = carve.take(matrixBytes(w.tokenEmbedding));
    up.matrix(w.tokenEmbedding, emb);
    cw.embedding = emb;
    for (std::size_t i = 0; i < w.layers.size(); ++i) {
        if (cancelled()) return engine::makeError(ErrorCode::Cancelled, "model load cancelled");
        const auto& l = w.layers[i];
        CudaLayerWeights d;
        char* p = carve.take(normBytes(l.attnNorm));
        Uploader::norm(l.attnNorm, p);
        d.attnNorm = reinterpret_cast<const float*>(p);
        p = carve.take(normBytes(l.ffnNorm));
        Uploader::norm(l.ffnNorm, p);
        d.ffnNorm = reinterpret_cast<const float*>(p);
        p = carve.take(matrixBytes(l.wq) + matrixBytes(l.wk) + matrixBytes(l.wv));
        up.matrix(l.wq, p);
        up.matrix(l.wk, p + matrixBytes(l.wq));
        up.matrix(l.wv, p + matrixBytes(l.wq) + matrixBytes(l.wk));
        d.qkv = p;
        p = carve.take(matrixBytes(l.wo));
        up.matrix(l.wo, p);
        d.wo = p;
        p = carve.take(matrixBytes(l.gate) + matrixBytes(l.up));
        up.matrix(l.gate, p);
        up.matrix(l.up, p + matrixBytes(l.gate));
        d.gateUp = p;
        p = carve.take(matrixBytes(l.down));
        up.matrix(l.down, p);
        d.down = p;
        cw.layers.push_back(d);
        if (progress) progress((1.0 + static_cast<double>(i + 1)) / steps);
    }
    char* norm = carve.take(normBytes(w.outputNorm));
    Uploader::norm(w.outputNorm, norm);
    cw.outputNorm = reinterpret_cast<const float*>(norm);
    if (w.tiedOutput) {
        cw.output = cw.embedding;
    } else {
        char* out = carve.take(matrixBytes(w.output));
        up.matrix(w.output, out);
        cw.output = out;
    }
    if (carve.used() != cw.deviceBytes)
        throw CudaError("internal: weight arena size mismatch (" + std::to_string(carve.used()) + " vs " +
                        std::to_string(cw.deviceBytes) + ")");
    // The copies above run on the legacy default stream, which the executor's non-blocking
    // stream does not wait for, and a copy from pageable memory (the mapping) may return before
    // its DMA has finished: one device-wide sync, so the weights are complete on return.
    CUDA_CHECK(cudaDeviceSynchronize());
    if (progress) progress(1.0);
    return cw;
}

}  // namespace batchscope::gpu
