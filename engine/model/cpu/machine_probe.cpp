// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/machine_probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#if defined(__x86_64__)
#include "engine/model/cpu/x86_simd.h"
#endif

namespace batchscope::engine::cpu {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kFmaIterations = 1 << 18;  // per chunk; 16 chains x 2 FLOP x width each

float sumScalar(const float* p, std::int64_t n) {
    float a[8] = {};
    for (std::int64_t i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) a[j] += p[i + j];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

// Returns FLOPs done.
double fmaScalar(std::int64_t iterations) {
    float acc[16];
    for (int j = 0; j < 16; ++j) acc[j] = static_cast<float>(j);
    for (std::int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < 16; ++j) acc[j] = acc[j] * 0.999f + 0.001f;
    float total = 0.0f;
    for (float a : acc) total += a;  // every chain is used
    volatile float sink = total;
    (void)sink;
    return 2.0 * 16 * static_cast<double>(iterations);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) float sumAvx2(const float* p, std::int64_t n) {
    __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
    for (std::int64_t i = 0; i + 32 <= n; i += 32) {
        a = _mm256_add_ps(a, _mm256_load_ps(p + i));
        b = _mm256_add_ps(b, _mm256_load_ps(p + i + 8));
        c = _mm256_add_ps(c, _mm256_load_ps(p + i + 16));
        d = _mm256_add_ps(d, _mm256_load_ps(p + i + 24));
    }
    alignas(32) float out[8];
    _mm256_store_ps(out, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    return out[0] + out[7];
}

// 16 independent chains hide the FMA latency (4 cycles x 2 pipes needs >= 8). The loop bodies
// are spelled out per width: a shared template would pass vector types through functions
// without the target ISA, which changes their ABI.
#define BATCHSCOPE_FMA_CHAINS(V, SET, FMA, ADD, WIDTH)                                         \
    V acc[16];                                                                                 \
    for (int j = 0; j < 16; ++j) acc[j] = SET(static_cast<float>(j));                          \
    const V m = SET(0.999f), c = SET(0.001f);                                                  \
    for (std::int64_t i = 0; i < iterations; ++i) {                                            \
        _Pragma("GCC unroll 16") for (int j = 0; j < 16; ++j) acc[j] = FMA(acc[j], m, c);      \
    }                                                                                          \
    for (int j = 1; j < 16; ++j) acc[0] = ADD(acc[0], acc[j]); /* every chain is used */       \
    float lanes[WIDTH];                                                                        \
    __builtin_memcpy(lanes, &acc[0], sizeof lanes);                                            \
    volatile float sink = lanes[0];                                                            \
    (void)sink;                                                                                \
    return 2.0 * 16 * (WIDTH) * static_cast<double>(iterations);

__attribute__((target("avx2,fma"))) double fmaAvx2(std::int64_t iterations) {
    BATCHSCOPE_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}
__attribute__((target("avx512f"))) double fmaAvx512(std::int64_t iterations) {
    BATCHSCOPE_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}
#endif

}  // namespace

MachineProbe::MachineProbe(ThreadPool& pool, CpuIsa isa, std::size_t bufferBytes)
    : m_pool(pool), m_isa(isa), m_buffer(bufferBytes / sizeof(float), 1.0f) {}

double MachineProbe::readBandwidthGBps(int passes) {
    const auto n = static_cast<std::int64_t>(m_buffer.size());
    constexpr std::int64_t kChunk = std::int64_t{1} << 20;  // floats per claimed chunk (4 MiB)
    const std::int64_t chunks = n / kChunk;
    std::atomic<float> sink{0.0f};
    double best = 0.0;
    for (int p = 0; p < std::max(1, passes); ++p) {
        const auto t0 = Clock::now();
        m_pool.parallelFor(chunks, 1, [&](std::int64_t c0, std::int64_t c1, int) {
            float s = 0.0f;
            for (std::int64_t c = c0; c < c1; ++c) {
                const float* p0 = m_buffer.data() + c * kChunk;
#if defined(__x86_64__)
                s += m_isa == CpuIsa::Scalar ? sumScalar(p0, kChunk) : sumAvx2(p0, kChunk);
#else
                s += sumScalar(p0, kChunk);
#endif
            }
            sink.store(s, std::memory_order_relaxed);
        });
        const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::max(best, static_cast<double>(chunks * kChunk) * sizeof(float) / sec / 1e9);
    }
    return best;
}

double MachineProbe::fmaPeakGflops(int passes) {
    // Several chunks per thread, claimed dynamically: a thread that is descheduled does fewer.
    const std::int64_t chunks = static_cast<std::int64_t>(m_pool.threadCount()) * 4;
    double best = 0.0;
    for (int p = 0; p < std::max(1, passes); ++p) {
        std::atomic<double> flops{0.0};
        const auto t0 = Clock::now();
        m_pool.parallelFor(chunks, 1, [&](std::int64_t c0, std::int64_t c1, int) {
            double f = 0.0;
            for (std::int64_t c = c0; c < c1; ++c) {
#if defined(__x86_64__)
                f += m_isa == CpuIsa::Avx512 ? fmaAvx512(kFmaIterations)
                     : m_isa == CpuIsa::Avx2 ? fmaAvx2(kFmaIterations)
                                             : fmaScalar(kFmaIterations);
#else
                f += fmaScalar(kFmaIterations);
#endif
            }
            double cur = flops.load();
            while (!flops.compare_exchange_weak(cur, cur + f)) {
            }
        });
        const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::max(best, flops.load() / sec / 1e9);
    }
    return best;
}

}  // namespace batchscope::engine::cpu
