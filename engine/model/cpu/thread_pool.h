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
/// as long as the pool. Chunks are claimed dynamically and the caller waits only for chunks a
/// worker has actually claimed, never for a worker to wake up: on a machine with more runnable
/// threads than cores (a shared 2-core box) a descheduled worker then costs nothing, the caller
/// just runs more chunks itself. Workers spin briefly between loops (a forward pass issues
/// hundreds of short loops per step), then sleep.
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

    /// Splits [0, count) into chunks of `grain` items and runs `body` on them; returns when all
    /// are done. Runs inline when count <= grain or with one thread.
    void parallelFor(std::int64_t count, std::int64_t grain, const Body& body);

private:
    // Jobs alternate between two slots by generation parity, so a late worker reading the
    // previous job's slot never races with the caller filling the next one.
    struct Job {
        std::atomic<const Body*> body{nullptr};
        std::atomic<std::int64_t> count{0};
        std::atomic<std::int64_t> grain{1};
        std::atomic<std::int64_t> done{0};
    };
    static constexpr int kIndexBits = 40;

    void workerLoop(int index);
    void runChunks(std::uint64_t generation, int thread);

    std::vector<std::thread> m_workers;
    Job m_jobs[2];
    /// (generation << kIndexBits) | next unclaimed item of that generation's job.
    std::atomic<std::uint64_t> m_claim{0};
    std::atomic<std::uint64_t> m_generation{0};
    std::atomic<int> m_sleepers{0};
    std::atomic<bool> m_stop{false};
};

}  // namespace batchscope::engine::cpu
