// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "engine/model/cpu/matmul_kernels.h"

#ifdef BATCHSCOPE_HAVE_BLAS
#include <cblas.h>
#endif

namespace batchscope::engine::cpu {

namespace {

constexpr std::int64_t kBlasPanelRows = 128;

bool isQuantised(WeightType t) { return t == WeightType::Q8_0 || t == WeightType::Q4_0; }

std::int64_t defaultBlasMinTokens() {
#ifdef BATCHSCOPE_HAVE_BLAS
    if (const char* env = std::getenv("BATCHSCOPE_BLAS_MIN_TOKENS")) {
        try {
            return std::stoll(env);
        } catch (const std::exception&) {
        }
    }
    return 48;  // see docs/cpu-runtime.md: below this our own tiles win
#else
    return -1;
#endif
}

}  // namespace

void matmulRows(CpuIsa isa, const WeightMatrix& w, const float* x, const ActivationQ8* xq,
                std::int64_t tokens, float* y, std::int64_t ldy, std::int64_t n0, std::int64_t n1) {
    const detail::KernelArgs args{&w, x, xq, tokens, y, ldy};
    switch (isa) {
    case CpuIsa::Avx512: detail::matmulRowsAvx512(args, n0, n1); return;
    case CpuIsa::Avx2: detail::matmulRowsAvx2(args, n0, n1); return;
    case CpuIsa::Scalar: detail::matmulRowsScalar(args, n0, n1); return;
    }
}

Matmul::Matmul(ThreadPool& pool, CpuIsa isa)
    : m_pool(pool), m_isa(isa), m_blasMinTokens(defaultBlasMinTokens()),
      m_panels(static_cast<std::size_t>(pool.threadCount())) {
#ifdef BATCHSCOPE_HAVE_BLAS
    // Our pool parallelises over panels; OpenBLAS's own threads would oversubscribe.
    openblas_set_num_threads(1);
#endif
}

void Matmul::run(const WeightMatrix& w, const float* x, std::int64_t tokens, float* y) {
    if (tokens <= 0 || w.rows <= 0) return;
    if (m_blasMinTokens >= 0 && tokens >= m_blasMinTokens) {
        runBlas(w, x, tokens, y);
        return;
    }
    const ActivationQ8* xq = nullptr;
    if (isQuantised(w.type)) {
        const std::int64_t nb = w.cols / kQBlock;
        m_xq.resize(static_cast<std::size_t>(tokens * nb));
        for (std::int64_t t = 0; t < tokens; ++t) quantizeActivations(x + t * w.cols, w.cols, m_xq.data() + t * nb);
        xq = m_xq.data();
    }
    // Chunks of whole 4-row tiles; enough chunks per thread to balance a shared machine.
    const std::int64_t chunks = std::max<std::int64_t>(1, m_pool.threadCount() * 8);
    std::int64_t grain = (w.rows + chunks - 1) / chunks;
    grain = std::max<std::int64_t>(16, (grain + 3) / 4 * 4);
    const CpuIsa isa = m_isa;
    m_pool.parallelFor(w.rows, grain, [&](std::int64_t n0, std::int64_t n1, int) {
        matmulRows(isa, w, x, xq, tokens, y, w.rows, n0, n1);
    });
}

void Matmul::runBlas(const WeightMatrix& w, const float* x, std::int64_t tokens, float* y) {
#ifdef BATCHSCOPE_HAVE_BLAS
    const std::int64_t K = w.cols;
    const std::int64_t N = w.rows;
    m_pool.parallelFor(N, kBlasPanelRows, [&](std::int64_t n0, std::int64_t n1, int thread) {
        const float* panel;
        if (w.type == WeightType::F32) {
            panel = reinterpret_cast<const float*>(w.row(n0));
        } else {
            auto& buf = m_panels[static_cast<std::size_t>(thread)];
            buf.resize(static_cast<std::size_t>(kBlasPanelRows * K));
            for (std::int64_t n = n0; n < n1; ++n) dequantizeRow(w.type, w.row(n), K, buf.data() + (n - n0) * K);
            panel = buf.data();
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(tokens),
                    static_cast<int>(n1 - n0), static_cast<int>(K), 1.0f, x, static_cast<int>(K), panel,
                    static_cast<int>(K), 0.0f, y + n0, static_cast<int>(N));
    });
#else
    (void)w, (void)x, (void)tokens, (void)y;
#endif
}

}  // namespace batchscope::engine::cpu
