// The continuous-batching step loop: schedule -> execute -> update, on its own thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/core/result.h"
#include "engine/metrics/scheduler_metrics_collector.h"
#include "engine/model/model_executor.h"
#include "engine/scheduling/batch_manager.h"
#include "engine/scheduling/capacity_manager.h"
#include "engine/scheduling/completion_detector.h"
#include "engine/scheduling/generation.h"
#include "engine/scheduling/request_queue.h"
#include "engine/scheduling/scheduler_clock.h"
#include "engine/scheduling/scheduler_trace_sink.h"

namespace batchscope::engine {

struct SchedulerConfiguration {
    std::int32_t stepRetries = 2;                      ///< retries of a failed step per request
    std::chrono::milliseconds idleWait{20};            ///< longest sleep while idle
    std::chrono::milliseconds maxQueueTime{0};         ///< 0 = unbounded; else Timeout when exceeded
    std::int32_t recentFinished = 512;                 ///< finished requests kept for snapshots
    std::int32_t snapshotQueued = 1000;                ///< queued requests listed per snapshot
    /// Where the scheduler reads the time; null = the steady clock. A virtual clock is meant
    /// for a scheduler driven by runOnce() (replay); the threaded loop's idle wait stays on the
    /// wall clock.
    std::shared_ptr<SchedulerClock> clock;
    static SchedulerConfiguration Default() { return {}; }
};

/// Runs the step loop on a dedicated thread. Public methods are thread-safe.
///
/// Threading: submit/cancel/setPriority/applySettings may be called from any thread; cancels,
/// priority changes and settings go through an inbox the loop drains before each step.
/// Sequences, the BatchManager and the KV manager are mutated only by the loop thread, under
/// m_stateMutex, which is released while the executor runs. RequestCallbacks are invoked on
/// the loop thread after the lock is released, so they may call cancel()/snapshot().
/// Guarantee: every submitted request gets exactly one onFinished callback — on stop() or
/// destruction the unfinished ones finish as Cancelled.
class ContinuousBatchScheduler {
public:
    ContinuousBatchScheduler(RequestQueue& queue, BatchManager& batchManager,
                             CompletionDetector& completionDetector, CapacityManager& capacityManager,
                             ModelExecutor& executor, SchedulerMetricsCollector& metrics,
                             const SchedulerConfiguration& config = {});
    ~ContinuousBatchScheduler();
    ContinuousBatchScheduler(const ContinuousBatchScheduler&) = delete;
    ContinuousBatchScheduler& operator=(const ContinuousBatchScheduler&) = delete;

    void start();
    /// Stops the loop and waits for it; unfinished requests finish as Cancelled.
    void stop();
    std::future<void> stopAsync();
    bool isRunning() const { return m_running.load(); }

    /// Queues a tokenized prompt. Errors: InvalidArgument, PromptTooLong, QueueFull.
    Result<RequestId> submit(std::vector<TokenId> promptTokens, const std::string& promptText,
                             const GenerationOptions& options, RequestCallbacks callbacks);
    bool cancel(RequestId id);
    bool setPriority(RequestId id, Priority priority);
    void applySettings(const SchedulerSettings& settings);
    SchedulerSettings settings() const;
    void resetStatistics();

    /// A snapshot built now by the caller: consistent with everything done before the call
    /// (tests, one-off CLI output). Describing the requests holds the state lock the engine
    /// thread needs, for a time bounded by snapshotQueued; periodic readers use
    /// latestSnapshot() instead.
    SchedulerSnapshot snapshot(std::int64_t afterStep = -1) const;
    /// The immutable snapshot the engine thread published at the end of a step (or while idle)
    /// after an earlier call asked for one; `steps` is empty (use stepsAfter). Costs the reader
    /// a shared_ptr copy under a small mutex, never the state lock, except the first call or
    /// when the loop is not running, which build one themselves. Never null. Any thread.
    std::shared_ptr<const SchedulerSnapshot> latestSnapshot() const;
    /// Step records with index > afterStep (the metrics collector's ring; not the state lock).
    std::vector<StepRecord> stepsAfter(std::int64_t afterStep) const { return m_metrics.stepsAfter(afterStep); }
    /// Longest prompt + generation a request may have (tokens).
    std::int32_t maxSequenceLength() const { return m_maxSequenceLength; }
    std::int64_t stepCount() const { return m_stepIndex.load(); }
    /// Called on the loop thread after every executed step (tests, live views).
    void setStepObserver(std::function<void(const StepRecord&)> observer);
    /// Drives one iteration of the loop from the caller's thread — commands, deadlines, one
    /// step — without waiting (replay on a virtual clock). Only while start() has not been
    /// called (or after stop()). Returns whether a step ran; `wakeAt` gets the end of a
    /// minBatchSize wait, if any. Request callbacks run on the calling thread.
    bool runOnce(std::optional<TimePoint>* wakeAt = nullptr);
    /// Attaches (or with null detaches) a trace recorder; it gets onSettings at once. Any thread.
    void setTraceSink(std::shared_ptr<SchedulerTraceSink> sink);
    /// The clock the scheduler reads (never null).
    const SchedulerClock& clock() const { return *m_clock; }
    /// Milliseconds from the scheduler's epoch to `t` (the unit of snapshots and traces).
    double msSinceEpoch(TimePoint t) const;
    /// Verifies the KV manager's invariants under the state lock (tests).
    std::optional<std::string> checkInvariants() const;
    KVCacheManager& kvCache() { return m_kv; }
    const ModelInfo& modelInfo() const { return m_modelInfo; }

private:
    struct Command {
        enum class Kind { Cancel, SetPriority, Settings, ResetStats } kind;
        RequestId id = kInvalidRequestId;
        Priority priority = Priority::Normal;
        SchedulerSettings settings;
    };
    using Notification = std::function<void()>;

    void loop();
    /// One loop iteration without the idle wait: commands, deadlines, one step, publication.
    bool iterate(std::vector<Notification>& notes, std::optional<TimePoint>& wakeAt);
    bool runOneStep(std::vector<Notification>& notes, std::optional<TimePoint>& wakeAt);
    void applyCommands(std::vector<Command>& commands, std::vector<Notification>& notes);
    void applySettingsLocked(const SchedulerSettings& settings);
    void expireDeadlines(TimePoint now, std::vector<Notification>& notes);
    // By value: callers often pass a reference into m_active, which this erases. A request
    // finishing with Error is counted here, once, under `errorKind` in the error statistics.
    void finishSequence(SequencePtr seq, FinishReason reason, const std::string& error,
                        std::vector<Notification>& notes, const char* errorKind = "request_failed");
    void applyStepResult(const ScheduleOutput& out, const StepResult& result, TimePoint stepStart,
                         std::vector<Notification>& notes, StepRecord& record);
    void handleStepFailure(const ScheduleOutput& out, const std::string& what, std::vector<Notification>& notes);
    void emitToken(const SequencePtr& seq, TokenId token, std::string delta, std::vector<Notification>& notes);
    void addEvent(Sequence& seq, RequestEvent::Kind kind, TimePoint at, std::int32_t tokens = 0);
    void cancelEverything();
    RequestSnapshot describe(const Sequence& seq, TimePoint now) const;
    /// Requests, KV and settings under the state lock; statistics (collector lock) after it.
    SchedulerSnapshot buildSnapshot(TimePoint now) const;
    /// Engine thread: builds and publishes a snapshot if a reader asked since the last one.
    void publishIfWanted();
    static void notify(std::vector<Notification>& notes);

    RequestQueue& m_queue;
    BatchManager& m_batch;
    KVCacheManager& m_kv;
    CompletionDetector& m_completion;
    CapacityManager& m_capacity;
    ModelExecutor& m_executor;
    SchedulerMetricsCollector& m_metrics;
    SchedulerConfiguration m_config;
    std::shared_ptr<SchedulerClock> m_clock;   // never null; set before m_epoch
    ModelInfo m_modelInfo;
    std::int32_t m_maxSequenceLength = 0;
    TimePoint m_epoch;

    mutable std::mutex m_stateMutex;   // sequences, batch manager, KV manager, m_active
    std::unordered_map<RequestId, SequencePtr> m_active;
    std::deque<SequencePtr> m_recentFinished;
    SchedulerSettings m_settings;      // guarded by m_stateMutex
    std::int32_t m_deadlines = 0;      // active requests with a deadline

    mutable std::mutex m_inboxMutex;   // m_inbox, m_live, m_stopRequested, m_pendingSettings
    std::condition_variable m_wake;
    std::vector<Command> m_inbox;
    std::unordered_set<RequestId> m_live;
    bool m_stopRequested = false;
    bool m_submitted = false;          // a submission arrived while the loop was idle
    SchedulerSettings m_pendingSettings;

    std::mutex m_lifecycleMutex;       // start/stop
    std::thread m_thread;
    std::atomic<bool> m_running{false};
    std::atomic<RequestId> m_nextId{1};
    std::atomic<std::int64_t> m_stepIndex{0};
    std::function<void(const StepRecord&)> m_stepObserver;
    std::shared_ptr<SchedulerTraceSink> m_traceSink;   // guarded by m_stateMutex

    mutable std::mutex m_publishedMutex;   // m_published (the pointer only)
    mutable std::shared_ptr<const SchedulerSnapshot> m_published;
    mutable std::atomic<bool> m_snapshotWanted{false};
};

}  // namespace batchscope::engine
