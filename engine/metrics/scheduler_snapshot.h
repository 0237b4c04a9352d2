// Immutable value types describing the scheduler's state at one moment, for the UI and the API.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/types.h"
#include "engine/model/model_info.h"

namespace batchscope::engine {

/// A latency distribution, milliseconds. count, sum, mean, min and max are exact; the
/// percentiles follow docs/metrics.md (interpolated between ranks) and, when they come from
/// the metrics collector's histograms, are within 1 % of the exact ones.
struct LatencySummary {
    std::int64_t count = 0;
    double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
    double min = 0, sum = 0;
};

struct RequestStatistics {
    std::int64_t submitted = 0;
    std::int64_t completed = 0;          ///< finished in any way
    double requestsPerSecond = 0;        ///< completed / (last finish - first submission)
    LatencySummary queueTime;            ///< submission -> first scheduled
    LatencySummary timeToFirstToken;
    LatencySummary timePerOutputToken;   ///< (finish - first token) / (tokens - 1)
    LatencySummary endToEnd;
    /// The same four over the last `windowSeconds` only (for live charts); all-time above.
    double windowSeconds = 0;
    LatencySummary recentQueueTime, recentTimeToFirstToken, recentTimePerOutputToken, recentEndToEnd;
    // Spec-compatible names: end-to-end latency percentiles (ms).
    double P50Latency() const { return endToEnd.p50; }
    double P95Latency() const { return endToEnd.p95; }
    double P99Latency() const { return endToEnd.p99; }
    std::int64_t promptTokens = 0;       ///< prompt tokens computed (prefix-cache hits excluded)
    std::int64_t generatedTokens = 0;
    std::map<FinishReason, std::int64_t> finishReasons;
};

struct BatchStatistics {
    std::int64_t steps = 0;
    std::int32_t maxBatchSize = 0;       ///< most sequences seen in one step
    double averageBatchSize = 0;         ///< sequences per step
    double averageUtilization = 0;       ///< 100 * sequences / configured maxBatchSize, mean
    double averageTokensPerStep = 0;
    double averageStepMs = 0;
    std::int64_t preemptions = 0;
};

struct KvStatistics {
    std::int32_t totalBlocks = 0;
    std::int32_t usedBlocks = 0;    ///< referenced by at least one running sequence
    std::int32_t cachedBlocks = 0;  ///< unreferenced, holding a reusable full prefix block
    std::int32_t freeBlocks = 0;    ///< unreferenced and empty
    std::int64_t prefixQueries = 0; ///< blocks looked up in the prefix cache
    std::int64_t prefixHits = 0;    ///< blocks found there
    std::int64_t evictions = 0;     ///< cached blocks reused for new content
    double prefixHitRate() const {
        return prefixQueries ? double(prefixHits) / double(prefixQueries) : 0.0;
    }
};

struct ErrorStatistics {
    std::int64_t totalErrors = 0;                  ///< failed step executions + failed requests
    std::int64_t failedSteps = 0;
    std::int64_t failedRequests = 0;
    std::map<std::string, std::int64_t> byKind;    ///< e.g. "step_exception", "sequence_error"
};

/// One executed step: which requests ran and how many tokens of each phase.
struct StepRecord {
    struct Entry {
        RequestId id = kInvalidRequestId;
        std::int32_t prefillTokens = 0;
        std::int32_t decodeTokens = 0;
        std::int32_t contextTokens = 0;   ///< tokens in its KV context after this step
    };
    std::int64_t index = 0;
    double startMs = 0;       ///< since the scheduler's epoch
    double durationMs = 0;    ///< execute() wall time
    double scheduleUs = 0;    ///< scheduler CPU time of this step outside execute()
    std::vector<Entry> entries;
    std::int32_t prefillTokens = 0;
    std::int32_t decodeTokens = 0;
    std::int32_t generatedTokens = 0;  ///< tokens sampled in this step
    std::int32_t kvUsedBlocks = 0, kvCachedBlocks = 0, kvFreeBlocks = 0;
    std::int32_t tokenBudget = 0;
    std::int32_t maxBatchSize = 0;
    std::int32_t queueDepth = 0;            ///< every queued request (requests lists a bounded prefix)
    std::int32_t preempted = 0;  ///< sequences preempted while scheduling this step
    bool failed = false;         ///< execute() threw
};

/// A request's life-cycle event, for the timeline (Gantt) view.
struct RequestEvent {
    enum class Kind : std::uint8_t { Queued, Scheduled, PrefillChunk, FirstToken, Preempted,
                                     Resumed, Finished };
    Kind kind = Kind::Queued;
    double timeMs = 0;          ///< since the scheduler's epoch
    std::int32_t tokens = 0;    ///< prefill chunk size for PrefillChunk
};

struct RequestSnapshot {
    RequestId id = kInvalidRequestId;
    RequestState state = RequestState::Queued;
    Priority priority = Priority::Normal;
    std::string promptPreview;          ///< first ~80 characters of the prompt
    std::int32_t promptTokens = 0;
    std::int32_t generatedTokens = 0;
    std::int32_t maxTokens = 0;
    std::int32_t cachedPromptTokens = 0;
    std::int32_t computedTokens = 0;    ///< tokens whose K/V are in the cache now
    double arrivalMs = 0;               ///< since the scheduler's epoch
    double queueMs = 0;                 ///< time waiting so far (or until first scheduled)
    std::optional<double> timeToFirstTokenMs;
    double tokensPerSecond = 0;
    FinishReason finishReason = FinishReason::None;
    WaitReason waitReason = WaitReason::None;   ///< queued: why (see WaitDetail); running: why it sat out the last step
    WaitDetail waitDetail;                      ///< the numbers behind waitReason
    std::string errorMessage;
    std::int32_t kvBlocks = 0;          ///< blocks in its block table now
    std::vector<RequestEvent> events;   ///< bounded (first/last events kept)
};

/// One KV block as the block map shows it.
struct KvBlockView {
    enum class State : std::uint8_t { Free, Cached, Owned };
    State state = State::Free;
    std::uint16_t refCount = 0;                  ///< sequences sharing it (> 1: prefix sharing)
    RequestId owner = kInvalidRequestId;         ///< first owner when Owned
};

/// Scheduler settings that can change while running.
struct SchedulerSettings {
    std::int32_t maxBatchSize = 32;       ///< sequences per step
    std::int32_t tokenBudget = 512;       ///< tokens (prefill + decode) per step
    QueuePolicy queuePolicy = QueuePolicy::Priority;
    /// Anti-starvation aging: a waiting request gains one priority level per this many ms;
    /// 0 disables aging (strict priority).
    std::int64_t agingIntervalMs = 2000;
    MemoryPolicy memoryPolicy = MemoryPolicy::Preempt;
    bool prefixCaching = true;
    bool paused = false;
};

struct SchedulerSnapshot {
    double timeMs = 0;                      ///< since the scheduler's epoch
    bool running = false;
    SchedulerSettings settings;
    std::int32_t queueDepth = 0;
    std::int32_t runningCount = 0;
    std::int32_t blockSize = 16;
    /// Running, then queued (in queue order, the first SchedulerConfiguration::snapshotQueued),
    /// then finished within the last 2 s (at most 256).
    std::vector<RequestSnapshot> requests;
    /// Steps after the index the caller gave, bounded (empty in published snapshots: see
    /// ContinuousBatchScheduler::stepsAfter).
    std::vector<StepRecord> steps;
    std::vector<KvBlockView> blocks;        ///< one per KV block
    KvStatistics kv;
    RequestStatistics requestStats;
    BatchStatistics batchStats;
    ErrorStatistics errorStats;
    /// Recent latency samples (ms) for histograms, bounded.
    std::vector<double> recentTtftMs, recentTpotMs, recentEndToEndMs;
    double promptTokensPerSecond = 0;       ///< over the last second
    double generatedTokensPerSecond = 0;    ///< over the last second
    ModelInfo model;
};

}  // namespace batchscope::engine
