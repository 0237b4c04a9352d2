// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BATCHSCOPE_PAUSE() _mm_pause()
#else
#define BATCHSCOPE_PAUSE() ((void)0)
#endif

namespace batchscope::engine::cpu {

namespace {
// Spinning before a worker sleeps on the generation counter (pause is ~10-140 cycles depending
// on the CPU: tens of microseconds, enough to bridge the gap between the loops of a step).
constexpr int kSpinIterations = 4000;
// The caller spins this long for the workers' last chunks, then yields its core: on a machine
// with more runnable threads than cores a descheduled worker must be let in to finish.
constexpr int kJoinSpinIterations = 2000;
}  // namespace

ThreadPool::ThreadPool(int threadCount) {
    const int n = std::max(1, threadCount);
    m_workers.reserve(static_cast<std::size_t>(n - 1));
    for (int i = 1; i < n; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    m_stop.store(true, std::memory_order_release);
    m_generation.fetch_add(1, std::memory_order_acq_rel);
    m_generation.notify_all();
    for (auto& t : m_workers) t.join();
}

void ThreadPool::runChunks(int thread) {
    for (;;) {
        const std::int64_t begin = m_next.fetch_add(m_grain, std::memory_order_relaxed);
        if (begin >= m_count) break;
        (*m_body)(begin, std::min(m_count, begin + m_grain), thread);
    }
}

void ThreadPool::workerLoop(int index) {
    std::uint64_t seen = 0;
    for (;;) {
        std::uint64_t gen = m_generation.load(std::memory_order_acquire);
        for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
            BATCHSCOPE_PAUSE();
            gen = m_generation.load(std::memory_order_acquire);
        }
        if (gen == seen) {
            m_generation.wait(seen, std::memory_order_acquire);
            continue;
        }
        seen = gen;
        if (m_stop.load(std::memory_order_acquire)) return;
        runChunks(index);
        m_busy.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::parallelFor(std::int64_t count, std::int64_t grain, const Body& body) {
    if (count <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    if (m_workers.empty() || count <= grain) {
        body(0, count, 0);
        return;
    }
    m_body = &body;
    m_count = count;
    m_grain = grain;
    m_next.store(0, std::memory_order_relaxed);
    m_busy.store(static_cast<int>(m_workers.size()), std::memory_order_relaxed);
    m_generation.fetch_add(1, std::memory_order_acq_rel);
    m_generation.notify_all();
    runChunks(0);
    for (int spin = 0; m_busy.load(std::memory_order_acquire) != 0; ++spin) {
        if (spin < kJoinSpinIterations) {
            BATCHSCOPE_PAUSE();
        } else {
            std::this_thread::yield();
        }
    }
    m_body = nullptr;
}

}  // namespace batchscope::engine::cpu
