// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

#include "engine/model/cpu/matmul_kernels.h"

#ifdef BATCHSCOPE_HAVE_BLAS
#include <cblas.h>
#endif

namespace batchscope::engine::cpu {

namespace {

constexpr std::int64_t kBlasPanelRows = 128;

bool isFloatLike(WeightType t) { return t == WeightType::F32 || t == WeightType::F16 || t == WeightType::BF16; }
bool needsQ8K(WeightType t) { return !isFloatLike(t) && quantTraits(t).activation == ActivationKind::Q8_K; }
bool needsQ8_0(WeightType t) { return !isFloatLike(t) && !needsQ8K(t); }

// BATCHSCOPE_BLAS_MIN_TOKENS overrides the measured policy (docs/cpu-runtime.md): -1 = never.
std::optional<std::int64_t> blasOverride() {
    if (const char* env = std::getenv("BATCHSCOPE_BLAS_MIN_TOKENS")) {
        try {
            return std::stoll(env);
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}

#ifdef BATCHSCOPE_HAVE_BLAS
// Measured with OPENBLAS_CORETYPE=Haswell (the deployment setting): our AVX-512 tiles beat
// sgemm at every T; with AVX2 our 4x2 tiles lose to it from T ~ 32 except for F16 (the panel
// conversion is scalar); scalar loops lose to it from small T.
bool blasWins(CpuIsa isa, WeightType type, std::int64_t tokens) {
    switch (isa) {
    case CpuIsa::Avx512: return false;
    // The K-type kernels (matmul_kquant_avx2.cpp) unpack each super-block once per 64 tokens
    // and use integer multiply-adds: no dequantised sgemm panels for them.
    case CpuIsa::Avx2: return type != WeightType::F16 && !detail::isKQuantKernelType(type) && tokens >= 32;
    case CpuIsa::Scalar: return tokens >= 8;
    }
    return false;
}
#endif

}  // namespace

void matmulRows(CpuIsa isa, const WeightMatrix& w, const float* x, const ActivationQ8* xq,
                std::int64_t tokens, float* y, std::int64_t ldy, std::int64_t n0, std::int64_t n1,
                const BlockQ8_K* xk) {
    const detail::KernelArgs args{&w, x, xq, xk, tokens, y, ldy};
    if (!detail::hasOwnKernels(w.type)) {
        detail::matmulRowsViaF32(isa, args, n0, n1);
        return;
    }
    switch (isa) {
    case CpuIsa::Avx512: detail::matmulRowsAvx512(args, n0, n1); return;
    case CpuIsa::Avx2: detail::matmulRowsAvx2(args, n0, n1); return;
    case CpuIsa::Scalar: detail::matmulRowsScalar(args, n0, n1); return;
    }
}

Matmul::Matmul(ThreadPool& pool, CpuIsa isa)
    : m_pool(pool), m_isa(isa), m_blasMinTokens(blasOverride().value_or(kMeasuredPolicy)),
      m_panels(static_cast<std::size_t>(pool.threadCount())) {
#ifdef BATCHSCOPE_HAVE_BLAS
    // Our pool parallelises over panels; OpenBLAS's own threads would oversubscribe.
    openblas_set_num_threads(1);
#endif
}

void Matmul::run(const WeightMatrix& w, const float* x, std::int64_t tokens, float* y) {
    const MatmulTarget t{&w, y};
    runMany(std::span<const MatmulTarget>(&t, 1), x, tokens);
}

void Matmul::runMany(std::span<const MatmulTarget> targets, const float* x, std::int64_t tokens) {
    if (tokens <= 0 || targets.empty()) return;
#ifdef BATCHSCOPE_HAVE_BLAS
    const bool blas = m_blasMinTokens == kMeasuredPolicy
                          ? blasWins(m_isa, targets.front().w->type, tokens)
                          : m_blasMinTokens >= 0 && tokens >= m_blasMinTokens;
    if (blas) {
        for (const auto& t : targets) runBlas(*t.w, x, tokens, t.y);
        return;
    }
#endif
    const std::int64_t K = targets.front().w->cols;
    std::int64_t totalRows = 0;
    bool anyQ8_0 = false, anyQ8K = false;
    for (const auto& t : targets) {
        totalRows += t.w->rows;
        anyQ8_0 = anyQ8_0 || needsQ8_0(t.w->type);
        anyQ8K = anyQ8K || needsQ8K(t.w->type);
    }
    const bool anyQuantised = anyQ8_0 || anyQ8K;
    // Activations are quantised once per call for all targets; over the pool when there are
    // many tokens (prefill), where the scalar quantisers would otherwise run on one thread.
    const ActivationQ8* xq = nullptr;
    const BlockQ8_K* xk = nullptr;
    if (anyQ8_0) m_xq.resize(static_cast<std::size_t>(tokens * (K / kQBlock)));
    if (anyQ8K) m_xk.resize(static_cast<std::size_t>(tokens * (K / kQK)));
    if (anyQ8_0) xq = m_xq.data();
    if (anyQ8K) xk = m_xk.data();
    const bool simd = m_isa >= CpuIsa::Avx2;  // the AVX2 quantisers: same bytes as the scalar ones
    const auto quantise = [&](std::int64_t t0, std::int64_t t1, int) {
        for (std::int64_t t = t0; t < t1; ++t) {
            if (anyQ8_0) (simd ? detail::quantizeActivationsAvx2 : quantizeActivations)(x + t * K, K, m_xq.data() + t * (K / kQBlock));
            if (anyQ8K) (simd ? detail::quantizeRowQ8KAvx2 : quantizeRowQ8K)(x + t * K, K, m_xk.data() + t * (K / kQK));
        }
    };
    if (anyQuantised) {
        if (tokens >= 16) {
            m_pool.parallelFor(tokens, 8, quantise);
        } else {
            quantise(0, tokens, 0);
        }
    }
    // Chunks of whole 4-row tiles; enough chunks per thread to balance a shared machine. The
    // packed AVX-512 path works in 32-row panels and prefetches the next panel of its chunk
    // while computing one, so it gets fewer, panel-aligned chunks.
    const bool packed = !anyQuantised && detail::usesPackedPath(m_isa, targets.front().w->type, tokens);
    const std::int64_t align = packed ? 32 : 4;
    const std::int64_t wanted = std::max<std::int64_t>(1, m_pool.threadCount() * (packed ? 4 : 8));
    std::int64_t grain = (totalRows + wanted - 1) / wanted;
    grain = std::max<std::int64_t>(packed ? 64 : 16, (grain + align - 1) / align * align);
    m_chunks.clear();
    for (const auto& t : targets)
        for (std::int64_t n = 0; n < t.w->rows; n += grain) m_chunks.push_back({&t, n, std::min(t.w->rows, n + grain)});
    const CpuIsa isa = m_isa;
    m_pool.parallelFor(static_cast<std::int64_t>(m_chunks.size()), 1, [&](std::int64_t c0, std::int64_t c1, int) {
        for (std::int64_t c = c0; c < c1; ++c) {
            const Chunk& ch = m_chunks[static_cast<std::size_t>(c)];
            matmulRows(isa, *ch.target->w, x, xq, tokens, ch.target->y, ch.target->w->rows, ch.n0, ch.n1, xk);
        }
    });
}

void Matmul::runBlas(const WeightMatrix& w, const float* x, std::int64_t tokens, float* y) {
#ifdef BATCHSCOPE_HAVE_BLAS
    const std::int64_t K = w.cols;
    const std::int64_t N = w.rows;
    m_pool.parallelFor(N, kBlasPanelRows, [&](std::int64_t r0, std::int64_t r1, int thread) {
        // The pool may hand out more than one panel (one thread, or a small matrix).
        for (std::int64_t n0 = r0; n0 < r1; n0 += kBlasPanelRows) {
            const std::int64_t n1 = std::min(r1, n0 + kBlasPanelRows);
            const float* panel;
            if (w.type == WeightType::F32) {
                panel = reinterpret_cast<const float*>(w.row(n0));
            } else {
                auto& buf = m_panels[static_cast<std::size_t>(thread)];
                buf.resize(static_cast<std::size_t>(kBlasPanelRows * K));
                const DequantizeRowFn dequantize = quantKernels(m_isa, w.type).dequantizeRow;
                for (std::int64_t n = n0; n < n1; ++n) dequantize(w.row(n), buf.data() + (n - n0) * K, K);
                panel = buf.data();
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(tokens),
                        static_cast<int>(n1 - n0), static_cast<int>(K), 1.0f, x, static_cast<int>(K), panel,
                        static_cast<int>(K), 0.0f, y + n0, static_cast<int>(N));
        }
    });
#else
    (void)w, (void)x, (void)tokens, (void)y;
#endif
}

}  // namespace batchscope::engine::cpu
