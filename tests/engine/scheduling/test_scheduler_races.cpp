// Races between the submitting threads and the engine thread: threads hammer submit, cancel
// and setPriority (and fire stop tokens) while requests finish in their first step. Checks
// the publication order of ContinuousBatchScheduler::submit: a finished request leaves no
// live id behind (cancel/setPriority report false for it), every request finishes exactly
// once, and the stop-token hook is never written while the engine thread resets it. Meant to
// run under ThreadSanitizer too (the TSan stage of .ci/run builds and runs it).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <chrono>
#include <mutex>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "engine/model/simulated_executor.h"
#include "engine/scheduling/continuous_batch_scheduler.h"

using namespace batchscope::engine;

namespace {

constexpr int kSubmitters = 4;
constexpr int kPerSubmitter = 400;
constexpr int kTotal = kSubmitters * kPerSubmitter;

struct Stack {
    SimulatedExecutor sim{[] {
        SimulatedExecutorConfig c;
        c.eosProbability = 0;  // one token each (maxTokens 1): every request ends in its first step
        return c;
    }()};
    RequestQueue queue{RequestQueueConfig{kTotal}};
    KVCacheManager kv{KVCacheConfig{512, 16, true}};
    CapacityManager capacity;
    CompletionDetector completion{CompletionConfiguration{}, sim.tokenizer()};
    BatchManager batch{queue, kv, BatchConstraints{64, 1LL << 30, 2, 4096}};
    SchedulerMetricsCollector metrics;
    ContinuousBatchScheduler scheduler{queue, batch, completion, capacity, sim, metrics};
};

/// What the onFinished callbacks saw, per request id.
struct Outcomes {
    std::mutex mutex;
    std::vector<int> finishCount = std::vector<int>(kTotal + 1, 0);
    std::vector<FinishReason> reason = std::vector<FinishReason>(kTotal + 1, FinishReason::None);
    std::atomic<int> finished{0};
};

}  // namespace

namespace {
void hammerOnce(std::uint32_t seed) {
    Outcomes out;  // before the stack: its destructor finishes leftovers, calling back into `out`
    Stack st;
    // One stop source per submitter; a thread fires them while submissions go on, so some
    // requests register their stop hook on an already-stopped token and some see it fire
    // while the engine finishes them.
    std::vector<std::stop_source> stops(kSubmitters);
    std::vector<std::vector<RequestId>> ids(kSubmitters);
    std::atomic<bool> submitting{true};
    st.scheduler.start();

    std::vector<std::thread> threads;
    for (int t = 0; t < kSubmitters; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerSubmitter; ++i) {
                GenerationOptions o;
                o.maxTokens = 1;
                o.priority = Priority(i % 4);
                // Half the requests carry the shared token; after it fired, new ones get a fresh
                // source that is stopped before submission (the synchronous-callback path).
                std::stop_source fresh;
                if (i % 4 == 3) fresh.request_stop();
                if (i % 2 == 0) o.stopToken = stops[std::size_t(t)].get_token();
                else if (i % 4 == 3) o.stopToken = fresh.get_token();
                RequestCallbacks cb;
                cb.onFinished = [&out](const GenerationResult& r) {
                    std::lock_guard lock(out.mutex);
                    if (r.id > 0 && r.id <= kTotal) {
                        ++out.finishCount[std::size_t(r.id)];
                        out.reason[std::size_t(r.id)] = r.finishReason;
                    }
                    ++out.finished;
                };
                auto id = st.scheduler.submit({1, TokenId(2 + i % 50), TokenId(3 + t)}, "race", o, std::move(cb));
                ASSERT_TRUE(id.ok()) << id.error().message;
                ids[std::size_t(t)].push_back(id.value());
            }
        });
    }
    // Cancels and priority changes on ids that are queued, running, finishing or finished.
    for (int c = 0; c < 2; ++c) {
        threads.emplace_back([&, c] {
            std::mt19937 rng(seed + std::uint32_t(c));
            while (submitting.load()) {
                const RequestId id = RequestId(1 + rng() % kTotal);
                if (rng() % 2) st.scheduler.cancel(id);
                else st.scheduler.setPriority(id, Priority(rng() % 4));
            }
        });
    }
    threads.emplace_back([&] {
        for (int t = 0; t < kSubmitters; ++t) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            stops[std::size_t(t)].request_stop();
        }
    });
    for (int t = 0; t < kSubmitters; ++t) threads[std::size_t(t)].join();
    // Wait (bounded) for every request to finish while the engine still runs.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (out.finished.load() < kTotal && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    submitting = false;
    for (std::size_t t = kSubmitters; t < threads.size(); ++t) threads[t].join();
    ASSERT_EQ(out.finished.load(), kTotal) << "not every request finished within 120 s";

    // The engine still runs: a finished request must not look live to cancel/setPriority.
    int staleCancel = 0, stalePriority = 0;
    for (const auto& list : ids) {
        for (RequestId id : list) {
            staleCancel += st.scheduler.cancel(id) ? 1 : 0;
            stalePriority += st.scheduler.setPriority(id, Priority::High) ? 1 : 0;
        }
    }
    EXPECT_EQ(staleCancel, 0) << "cancel() reported success for finished requests";
    EXPECT_EQ(stalePriority, 0) << "setPriority() reported success for finished requests";
    st.scheduler.stop();

    std::lock_guard lock(out.mutex);
    int cancelled = 0;
    for (int id = 1; id <= kTotal; ++id) {
        EXPECT_EQ(out.finishCount[std::size_t(id)], 1) << "request " << id;
        const FinishReason r = out.reason[std::size_t(id)];
        EXPECT_TRUE(r == FinishReason::MaxTokens || r == FinishReason::Cancelled) << "request " << id;
        cancelled += r == FinishReason::Cancelled ? 1 : 0;
    }
    // Requests submitted with an already-stopped token are cancelled unless the engine ran
    // their single step first; at least some of the 400 of them must have been cancelled.
    EXPECT_GT(cancelled, 0);
    const RequestStatistics s = st.metrics.getRequestStatistics();
    EXPECT_EQ(s.submitted, kTotal);
    EXPECT_EQ(s.completed, kTotal);
    EXPECT_FALSE(st.scheduler.checkInvariants());
    EXPECT_EQ(st.kv.usedBlocks(), 0);
}
}  // namespace

// Several rounds: one round hit the old publication race under TSan about one time in three.
TEST(SchedulerRaces, SubmitCancelPriorityWhileRequestsFinish) {
    for (std::uint32_t round = 0; round < 6 && !HasFailure(); ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        hammerOnce(17 + 100 * round);
    }
}

TEST(SchedulerRaces, AlreadyStoppedTokenCancelsWhileLoopIsStopped) {
    // With no loop running nothing can finish the request first: a stop requested before
    // submission must still cancel it (the callback fires before the id is live).
    Stack st;
    std::stop_source stop;
    stop.request_stop();
    GenerationOptions o;
    o.maxTokens = 4;
    o.stopToken = stop.get_token();
    std::promise<GenerationResult> done;
    RequestCallbacks cb;
    cb.onFinished = [&done](const GenerationResult& r) { done.set_value(r); };
    auto id = st.scheduler.submit({1, 2, 3}, "stopped", o, std::move(cb));
    ASSERT_TRUE(id.ok());
    st.scheduler.start();
    auto f = done.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    const GenerationResult r = f.get();
    EXPECT_EQ(r.finishReason, FinishReason::Cancelled);
    EXPECT_EQ(r.usage.completionTokens, 0);
    EXPECT_FALSE(st.scheduler.cancel(id.value()));
    st.scheduler.stop();
}
