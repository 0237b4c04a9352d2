// A small persistent thread pool for the CPU kernels (fork-join parallel loops).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace batchscope::engine::cpu {

/// Runs parallel loops on `threadCount` threads: the caller plus threadCount-1 workers that live
/// as long as the pool. Workers spin briefly between loops (a forward pass issues hundreds of
/// short loops per step, and waking a sleeping thread costs tens of microseconds), then sleep.
/// Threading: parallelFor() must be called from one thread at a time (the executor's thread);
/// it is not re-entrant (a loop body must not call parallelFor()).
class ThreadPool {
public:
    /// Called with [begin, end) of the chunk range and the index of the running thread
    /// (0 = caller, in [0, threadCount())).
    using Body = std::function<void(std::int64_t begin, std::int64_t end, int thread)>;

    explicit ThreadPool(int threadCount);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threadCount() const { return static_cast<int>(m_workers.size()) + 1; }

    /// Splits [0, count) into chunks of `grain` items handed out dynamically and runs `body`
    /// on them; returns when all are done. Runs inline when count <= grain or one thread.
    void parallelFor(std::int64_t count, std::int64_t grain, const Body& body);

private:
    void workerLoop(int index);
    void runChunks(int thread);

    std::vector<std::thread> m_workers;
    std::atomic<std::uint64_t> m_generation{0};
    std::atomic<int> m_busy{0};
    std::atomic<std::int64_t> m_next{0};
    std::atomic<bool> m_stop{false};
    const Body* m_body = nullptr;
    std::int64_t m_count = 0;
    std::int64_t m_grain = 1;
};

}  // namespace batchscope::engine::cpu
