// Reads a recorded SQLite trace (trace_schema.h) into plain values, and turns it into the
// workload a replay re-runs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/core/types.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/trace/workload.h"

namespace batchscope::engine {

/// One request of a trace. Times are ms since the recording scheduler's epoch.
struct RecordedRequest {
    std::uint64_t id = 0;
    double arrivalMs = 0;
    std::int32_t promptTokens = 0, maxTokens = 0, priority = 1;
    std::string client;
    std::vector<std::uint64_t> prefixHashes;
    bool finished = false;           ///< the fields below are set
    double finishMs = 0;
    FinishReason finishReason = FinishReason::None;
    std::int32_t outputTokens = 0, cachedPromptTokens = 0, preemptions = 0;
    std::optional<double> firstScheduledMs, firstTokenMs;
    std::vector<std::pair<double, std::int32_t>> priorityChanges;   ///< (time ms, new priority)
};

/// One executed step, with the features the step-cost model uses.
struct RecordedStep {
    std::int64_t index = 0;
    double startMs = 0, durationMs = 0, scheduleUs = 0;
    std::int32_t prefillTokens = 0, decodeTokens = 0, sequences = 0, preempted = 0;
    std::int32_t kvUsed = 0, kvCached = 0, kvFree = 0;
    std::int32_t generatedTokens = 0, queueDepth = 0, tokenBudget = 0, maxBatchSize = 0;
    /// Sum over the step's sequences of new tokens x mean context they attend to
    /// (n * (start + (n + 1) / 2)): the attention work, in token pairs.
    double attendedContext = 0;
    bool failed = false;
};

/// How the recorded scheduler was configured (meta table and the first settings row).
struct RecordedSetup {
    SchedulerSettings settings;
    std::int32_t blockSize = 16, numKvBlocks = 0, maxSequenceLength = 0, minBatchSize = 1;
    std::int64_t minBatchWaitMs = 5;
    std::int32_t queueCapacity = 1024;
};

struct RecordedTrace {
    std::map<std::string, std::string> meta;
    RecordedSetup setup;
    std::vector<RecordedRequest> requests;   ///< by arrival
    std::vector<RecordedStep> steps;         ///< by index
};

/// Reads `path` (read-only; a trace still being written, or cut off by a kill, reads up to its
/// last commit). Errors: NotFound, InvalidFormat (not a trace, other schema version, bad rows).
Result<RecordedTrace> readTrace(const std::string& path);

/// A priority change to apply at a time during a replay.
struct WorkloadPriorityChange {
    std::size_t request = 0;   ///< index into the workload's requests
    double atSeconds = 0;      ///< since the workload's start
    std::int32_t priority = 1;
};

/// The recorded requests as a workload: arrivals, prompt lengths, prefix hash chains,
/// output lengths (finished ones: what they generated; cancelled ones: their max tokens, with
/// the cancel time), priorities and their changes. Requests unfinished when the trace ends
/// are left out (counted in `leftOut`). Times are relative to the first arrival.
struct ReplayWorkload {
    std::vector<WorkloadRequest> requests;
    std::vector<WorkloadPriorityChange> priorityChanges;
    std::int32_t leftOut = 0;
};
ReplayWorkload workloadFromTrace(const RecordedTrace& trace);

}  // namespace batchscope::engine
