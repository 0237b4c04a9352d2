// What-if replay: re-runs a workload through the real scheduler (ContinuousBatchScheduler,
// BatchManager, KVCacheManager, RequestQueue) on a virtual clock, each step costing what a
// StepCostModel predicts. No model, no sleeping.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/trace/step_cost_model.h"
#include "engine/trace/trace_reader.h"

namespace batchscope::engine {

/// p50/p90/p99 and mean of one latency, milliseconds; count = requests it covers.
struct LatencyPercentiles {
    std::int64_t count = 0;
    double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

/// How one request went (recorded or replayed). Times are ms; < 0 = did not happen.
struct RequestOutcome {
    double arrivalMs = 0, firstScheduledMs = -1, firstTokenMs = -1, finishMs = -1;
    std::int32_t promptTokens = 0, outputTokens = 0, cachedPromptTokens = 0, preemptions = 0;
    FinishReason finishReason = FinishReason::None;
};

/// The figures a what-if compares. TTFT: arrival -> first token; TPOT: (finish - first
/// token) / (output tokens - 1) for requests with >= 2 tokens; end-to-end: arrival -> finish
/// (cancelled and failed requests left out); queue: arrival -> first scheduled. Throughput:
/// generated tokens / (last finish - first arrival). Prefix hit rate: prompt tokens served
/// from the prefix cache / prompt tokens.
struct RunSummary {
    std::int64_t requests = 0, completed = 0, cancelled = 0, failed = 0;
    LatencyPercentiles ttft, tpot, endToEnd, queue;
    double durationSeconds = 0;
    double generatedTokensPerSecond = 0, requestsPerSecond = 0;
    std::int64_t generatedTokens = 0, preemptions = 0, steps = 0;
    double prefixHitRate = 0;
};

RunSummary summarizeOutcomes(const std::vector<RequestOutcome>& outcomes, std::int64_t steps);
/// The recorded run's finished requests as outcomes (in arrival order).
std::vector<RequestOutcome> traceOutcomes(const RecordedTrace& trace);
/// The recorded run's own figures (finished requests only, as the replay's workload).
RunSummary summarizeTrace(const RecordedTrace& trace);

/// The step features of a recorded step.
StepFeatures stepFeatures(const RecordedStep& step);
/// A recorded step's cost on the wall clock: the time to the next step's start when the engine
/// stayed busy (sequences still held KV blocks), else its execute() time plus the scheduler's
/// own time that step. Replay advances virtual time by the model of it, so virtual time runs
/// as the wall clock did.
double stepCycleMs(const RecordedTrace& trace, std::size_t index);
/// The cost model of a trace, fitted to stepCycleMs of every step that did not fail.
/// Errors: too few steps.
Result<StepCostModel> fitStepCostModel(const RecordedTrace& trace);

struct ReplayResult {
    RunSummary summary;
    std::vector<RequestOutcome> outcomes;   ///< in workload order
    std::int64_t rejected = 0;              ///< submissions the scheduler refused (e.g. prompt too long)
    double wallSeconds = 0;                 ///< how long the replay itself took
};

/// Replays `workload` under `setup` (the recorded one, or a what-if variant). `recordPath`,
/// when given, records the replay itself as a trace (on virtual time). `afterStep`, when given,
/// is called after every executed step with the engine (its clock at the step's end; tests
/// take snapshots there). Single-threaded: runs on the caller's thread. Errors:
/// InvalidArgument for an unusable setup; Internal when requests can never be scheduled
/// (e.g. paused).
class Engine;
Result<ReplayResult> replayWorkload(const ReplayWorkload& workload, const StepCostModel& cost,
                                    const RecordedSetup& setup, const std::string& recordPath = {},
                                    const std::function<void(Engine&)>& afterStep = {});

/// What one replayed step costs, in ms of virtual time: called once per step, on the replay's
/// thread, with the step's index (0, 1, ... in execution order), its start (ms since the
/// workload's start, i.e. its first arrival) and what it computes. A negative result counts as 0.
using StepCostFunction = std::function<double(std::int64_t stepIndex, double startMs, const StepFeatures& features)>;
/// replayWorkload with step costs from `cost` instead of a fitted model (e.g. the recorded
/// step times, to check the scheduler's side of a replay apart from the cost model's).
Result<ReplayResult> replayWorkload(const ReplayWorkload& workload, const StepCostFunction& cost,
                                    const RecordedSetup& setup, const std::string& recordPath = {},
                                    const std::function<void(Engine&)>& afterStep = {});

}  // namespace batchscope::engine
