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
// Spinning before a worker sleeps on the generation counter (tens of microseconds: enough to
// bridge the gap between the loops of a step).
constexpr int kSpinIterations = 4000;
// The caller spins this long for claimed chunks to finish, then yields its core so that a
// descheduled worker holding one can run.
constexpr int kJoinSpinIterations = 2000;
}  // namespace

ThreadPool::ThreadPool(int threadCount) {
    const int n = std::max(1, threadCount);
    m_workers.reserve(static_cast<std::size_t>(n - 1));
    for (int i = 1; i < n; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    m_stop.store(true, std::memory_order_seq_cst);
    m_generation.fetch_add(1, std::memory_order_seq_cst);
    m_generation.notify_all();
    for (auto& t : m_workers) t.join();
}

void ThreadPool::runChunks(std::uint64_t generation, int thread) {
    Job& job = m_jobs[generation & 1];
    const Body* body = job.body.load(std::memory_order_acquire);
    const std::int64_t count = job.count.load(std::memory_order_acquire);
    const std::int64_t grain = job.grain.load(std::memory_order_acquire);
    const std::uint64_t tag = generation << kIndexBits;
    std::uint64_t claim = m_claim.load(std::memory_order_acquire);
    for (;;) {
        // A claim succeeds only while this generation is current: a late worker whose reads
        // above saw a newer job's fields fails here and does nothing.
        if ((claim >> kIndexBits) != (generation & ((1ull << (64 - kIndexBits)) - 1))) return;
        const auto begin = static_cast<std::int64_t>(claim & ((1ull << kIndexBits) - 1));
        if (begin >= count) return;
        const std::int64_t end = std::min(count, begin + grain);
        if (!m_claim.compare_exchange_weak(claim, tag | static_cast<std::uint64_t>(end), std::memory_order_acq_rel))
            continue;
        (*body)(begin, end, thread);
        job.done.fetch_add(end - begin, std::memory_order_acq_rel);
        claim = m_claim.load(std::memory_order_acquire);
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
            m_sleepers.fetch_add(1, std::memory_order_seq_cst);
            m_generation.wait(seen, std::memory_order_seq_cst);
            m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
            continue;
        }
        seen = gen;
        if (m_stop.load(std::memory_order_acquire)) return;
        runChunks(gen, index);
    }
}

void ThreadPool::parallelFor(std::int64_t count, std::int64_t grain, const Body& body) {
    if (count <= 0) return;
    grain = std::max<std::int64_t>(1, grain);
    if (m_workers.empty() || count <= grain) {
        body(0, count, 0);
        return;
    }
    const std::uint64_t gen = m_generation.load(std::memory_order_relaxed) + 1;
    Job& job = m_jobs[gen & 1];
    job.body.store(&body, std::memory_order_relaxed);
    job.count.store(count, std::memory_order_relaxed);
    job.grain.store(grain, std::memory_order_relaxed);
    job.done.store(0, std::memory_order_relaxed);
    m_claim.store(gen << kIndexBits, std::memory_order_release);
    m_generation.store(gen, std::memory_order_seq_cst);
    if (m_sleepers.load(std::memory_order_seq_cst) > 0) m_generation.notify_all();
    runChunks(gen, 0);
    for (int spin = 0; job.done.load(std::memory_order_acquire) != count; ++spin) {
        if (spin < kJoinSpinIterations) {
            BATCHSCOPE_PAUSE();
        } else {
            std::this_thread::yield();
        }
    }
}

}  // namespace batchscope::engine::cpu
