// Scheduler benchmarks on the simulated executor (`batchscope bench`): continuous vs static
// batching, scheduler overhead per step, prefix caching on/off. Not a test: it prints ratios
// measured in one process, medians of several repetitions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/metrics_load_bench.h"

namespace batchscope::engine {

struct BenchRun {
    std::string name;
    double seconds = 0;
    std::int32_t requests = 0;
    std::int64_t generatedTokens = 0;
    std::int64_t promptTokensComputed = 0;
    double requestsPerSecond = 0;
    double generatedTokensPerSecond = 0;
    LatencySummary timeToFirstToken, endToEnd, timePerOutputToken;
    double averageUtilization = 0;   ///< percent of maxBatchSize
    double medianScheduleUs = 0;     ///< scheduler CPU time per step outside execute()
    double p99ScheduleUs = 0;
    std::int64_t steps = 0;
    std::int64_t prefixHits = 0;
};

struct SchedulerBenchOptions {
    std::int32_t repetitions = 3;        ///< each scenario runs this often; medians reported
    std::int32_t maxBatchSize = 32;
    std::int32_t mixedRequests = 192;    ///< requests in the continuous-vs-static workload
    std::int32_t overheadSequences = 256;
    std::int32_t overheadSteps = 400;
    std::uint64_t seed = 7;
    bool quick = false;                  ///< smaller workloads (tests, CI smoke)
    bool metricsLoad = true;             ///< run the metrics-load comparison (runMetricsLoadBench)
    std::string recordPath;              ///< non-empty: record the first continuous run into this trace
};

struct SchedulerBenchReport {
    BenchRun continuous, staticBatching, overhead, prefixOn, prefixOff;
    double throughputRatio = 0;          ///< continuous / static generated tokens per second
    SimulatedExecutorConfig costModel;   ///< of the mixed workload
    std::int32_t maxBatchSize = 0;
    MetricsLoadReport metricsLoad;       ///< idle vs loaded collector (options.metricsLoad)
};

SchedulerBenchReport runSchedulerBench(const SchedulerBenchOptions& options);

/// Recording overhead: the mixed continuous-batching workload and the zero-cost decode
/// workload, each run with and without a trace being recorded, interleaved, `repetitions`
/// times; medians. ratio = recorded / unrecorded generated tokens per second (1.0 = free).
struct RecordingOverheadReport {
    BenchRun mixedPlain, mixedRecorded, decodePlain, decodeRecorded;
    double mixedRatio = 0, decodeRatio = 0;
    std::int32_t repetitions = 0;
};
RecordingOverheadReport runRecordingOverheadBench(std::int32_t repetitions, bool quick, const std::string& tracePath);

}  // namespace batchscope::engine
